//! Generates the man page and shell completions from the clap definition (`--generate-man`,
//! `--completions SHELL`, and `--generate DIR` for packagers).

use crate::error::{Error, Op};
use clap::ValueHint;
use clap::builder::PossibleValuesParser;
use clap_complete::Shell;
use clap_mangen::roff::{Roff, bold, italic, roman};
use std::path::Path;

/// The man page sections clap does not know: how the methods work, what --stats prints, exit
/// status, examples and related pages. One entry per section: title, then paragraphs, each a
/// list of (style, text) runs where style is 'R' roman, 'B' bold or 'I' italic; a paragraph
/// opening with 'T' is an entry of an indented list (.TP), that run its bold tag.
type Paragraph = &'static [(char, &'static str)];

const SECTIONS: &[(&str, &[Paragraph])] = &[
    (
        "BACKUPS",
        &[
            &[
                ('R', "The backup suffix is '~', unless set with "),
                ('B', "--suffix"),
                (
                    'R',
                    " or SIMPLE_BACKUP_SUFFIX. The version control method may be selected via the ",
                ),
                ('B', "--backup"),
                (
                    'R',
                    " option or through the VERSION_CONTROL environment variable. Here are the values:",
                ),
            ],
            &[
                ('T', "none, off"),
                ('R', "never make backups (even if "),
                ('B', "--backup"),
                ('R', " is given)"),
            ],
            &[('T', "numbered, t"), ('R', "make numbered backups")],
            &[
                ('T', "existing, nil"),
                (
                    'R',
                    "numbered if numbered backups exist, simple otherwise (the default)",
                ),
            ],
            &[('T', "simple, never"), ('R', "always make simple backups")],
            &[(
                'R',
                "Any unambiguous abbreviation is accepted, as with every word an option takes (--sparse=al, --backup=nu).",
            )],
        ],
    ),
    (
        "METHODS",
        &[
            &[
                ('B', "copy-file-range"),
                (
                    'R',
                    " calls copy_file_range(2) in a loop until it returns 0. The filesystem copies, shares (reflinks) or splices the data itself; nothing passes through user space. Linux refuses some pairs of files (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP...).",
                ),
            ],
            &[
                ('B', "sendfile"),
                (
                    'R',
                    " calls sendfile(2) in a loop until it returns 0. The kernel moves page-cache pages from the source to the destination. It cannot read from a pipe or a socket, and some /proc files refuse it.",
                ),
            ],
            &[
                ('B', "splice"),
                (
                    'R',
                    " moves the data through a pipe with splice(2): file to pipe, then pipe to file, two calls per chunk, the pages passed by reference. The pipe is enlarged with fcntl(F_SETPIPE_SZ) to ",
                ),
                ('I', "SIZE"),
                (
                    'R',
                    " (default 512 KiB; sizes over pipe-max-size, usually 1 MiB, need CAP_SYS_RESOURCE, and the pipe keeps its default 64 KiB when refused). This is what sendfile and copy_file_range do inside the kernel on filesystems without their own copy, through a hidden 64 KiB pipe. auto never chooses splice: on ext4 the larger pipe measured 11-15% faster on a 1 GiB file but 1.8 to 4.7 times slower on 2 and 4 GiB files. Each copying thread keeps its pipe from file to file.",
                ),
            ],
            &[
                ('B', "read-write"),
                ('R', " reads into a buffer of "),
                ('I', "SIZE"),
                (
                    'R',
                    " bytes (default: 128 KiB or the larger block size of the two files, rounded up to a power of two, as GNU cp) and writes it out, handling short writes. It works on everything that can be read.",
                ),
            ],
            &[(
                'R',
                "One sendfile or copy_file_range call moves at most 0x7ffff000 (2,147,479,552) bytes and may move less; a copy is always a loop, never one call. While a progress line may be drawn, auto asks at most 64 MiB of one call (without --bufsize), so that the line moves; a chosen --method keeps its largest calls, which are what it measures. No method trusts the size stat(2) reports: /proc and /sys files report 0 or 4096 and hold other amounts. A source that shrinks ends the copy at its new end; one that grows is copied until end of file. The end of file is a call that moves nothing, or, on ext2/3/4, XFS, btrfs, tmpfs and f2fs (which stop a call short only there), a call into a regular file that moves less than it asked and ends exactly at the size stat(2) reported (for copy_file_range, which moves no more than the size the file had when the call began, only a call of 128 KiB or less): a small file then costs one call, not two. Before a dense copy of 1 MiB or more onto ext4, the destination's blocks are reserved with fallocate(2) (FALLOC_FL_KEEP_SIZE, so the size does not change), which measured about 25% faster; what the copy did not fill is given back.",
            )],
            &[
                ('B', "--nocache"),
                (
                    'R',
                    " copies each file in windows of 16 MiB: behind the copy, the destination's pages are written back (sync_file_range(2)) and dropped from the page cache (posix_fadvise(2) DONTNEED), the write-back of one window running while the next is copied, and the source's pages are dropped where they were not cached before the copy read them (mincore(2), asked before the copy reaches them): a copy larger than memory does not evict the working set of everything else. Pages of the source that were cached before stay cached. A clone shares blocks and reads nothing, so it needs none of this. Without --nocache the page cache is left to the kernel, which is the fastest.",
                ),
            ],
            &[
                ('R', "Before any method, "),
                ('B', "--reflink"),
                ('R', "=auto (the default, when no "),
                ('B', "--method"),
                (
                    'R',
                    " is given) or =always tries ioctl(FICLONE), which shares the source's extents on btrfs and XFS; ",
                ),
                ('B', "--sparse"),
                (
                    'R',
                    "=auto copies only the data extents of a sparse source (SEEK_DATA/SEEK_HOLE) with whichever method is chosen, and =always also turns runs of zeros into holes while reading through a buffer.",
                ),
            ],
            &[
                ('B', "auto"),
                (
                    'R',
                    " (the default) tries copy-file-range, then sendfile, then read-write. It moves to the next method only while nothing has been copied, and only when the kernel says the method does not serve this pair of files (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EPERM, EACCES, ETXTBSY, EBADF), or when a method reports end of file at once for a source that has data (as copy_file_range did for /proc files on older kernels). Any other error is reported. An explicit ",
                ),
                ('B', "--method"),
                (
                    'R',
                    " never switches: when the kernel refuses it, that file fails with a message naming the method and the kernel's reason.",
                ),
            ],
        ],
    ),
    (
        "PARALLEL COPIES",
        &[&[
            ('B', "-j"),
            (
                'R',
                " N (default: the number of CPUs) copies up to N files of a tree at once. One thread walks the tree in GNU cp's order: it reads directories, creates the destination directories, asks the ",
            ),
            ('B', "-i"),
            (
                'R',
                " questions, makes backups and hard links, and opens each source file, so unreadable sources are reported in GNU's order; the other threads create the destination files, move the data and apply the attributes. A directory gets its times and mode only after everything below it is complete. With ",
            ),
            ('B', "-v"),
            ('R', " or "),
            ('B', "--debug"),
            ('R', " and no "),
            ('B', "-j"),
            (
                'R',
                ", files are copied one at a time so the lines come in GNU's order; with an explicit ",
            ),
            ('B', "-j"),
            ('R', " they come whole, in the order the copies finish. "),
            ('B', "-j1"),
            ('R', " copies one file at a time on one thread."),
        ]],
    ),
    (
        "ATTRIBUTES",
        &[
            &[
                ('R', "As in GNU cp, preserving "),
                ('B', "mode"),
                (
                    'R',
                    " copies the access ACL (and a directory's default ACL) with the permission bits, and a copy gets the source's ACLs or none: one inherited from the destination directory's default ACL is removed. A new directory keeps the setgid bit it inherits from its parent unless the source has set-id bits of its own; without ",
                ),
                ('B', "--preserve=mode"),
                (
                    'R',
                    ", group and other write bits are withheld while a new directory is filled and added back (less the umask) after its contents.",
                ),
            ],
            &[(
                'R',
                "What a new file is born with is not set again: on ext2/3/4, XFS, btrfs and tmpfs a file is its creator's (the group the directory's when that is setgid), and without a default ACL its bits are the ones asked for less the umask. fastcp learns this once per destination directory (fstat, fstatfs and the default ACL) where GNU cp makes an fstat per file, and then skips the chown and chmod of a file that needs neither: two journal transactions per file on ext4 under -a.",
            )],
        ],
    ),
    (
        "ATOMIC COPIES",
        &[
            &[
                ('B', "--atomic"),
                (
                    'R',
                    " writes each regular file under a temporary name beside the file it replaces (.NAME.fastcp-PID-N, NAME shortened so the whole fits 255 bytes; another name is tried when that one exists) and renames it onto that file only once its data and attributes are complete (and synced, with ",
                ),
                ('B', "--fsync"),
                (
                    'R',
                    "): whoever opens the destination gets the old file or the new one, whole. On any failure, and on SIGINT, SIGTERM, SIGHUP or another signal that ends a process by default (see EXIT STATUS), the temporary file is removed and the destination is left as it was. A new name is never renamed over a file someone else created there meanwhile (RENAME_NOREPLACE): the copy fails with \"File exists\", as cp's exclusive create does.",
                ),
            ],
            &[(
                'R',
                "Otherwise the result is what cp without --atomic gives. A destination that is a symbolic link is written through: the file at the end of the chain of links is replaced (the temporary file goes beside it) and the links stay links; a dangling link is refused as cp refuses it. A destination that is not a regular file (a device node, a FIFO, a socket) is written in place, as cp writes it: there is no file to replace. A destination the user could not open for writing is refused with cp's message (\"cannot create regular file 'x': Permission denied\"), and with -f replaced by a new file, as cp -f unlinks and recreates it.",
            )],
            &[(
                'R',
                "The replaced file's owner, group, permission bits, ACL, extended attributes and inode flags (chattr A, c, C, d, S) are given to the new file before it is renamed, as a file written in place keeps them; the source's, where -p or --preserve asks for them, then go over them as over a file written in place. None of what writing itself would remove is carried over: set-user-ID (and set-group-ID with group execute) for a user other than root, file capabilities (security.capability) for everyone; nor IMA/EVM data, which describe the old contents. Where what writing in place would keep cannot be kept (another user's file, whose owner only root can give; an attribute that cannot be read or set), or no file can be created beside it (a directory the user may not write to), the file fails with \"cannot replace 'x' with --atomic: ...\" and is left as it was: --atomic never silently gives up atomicity or an attribute. Copy such a file without --atomic to write it in place.",
            )],
            &[(
                'R',
                "A destination with other hard links is replaced, not rewritten: the rename gives its name a new file, and the other names keep the old data, as with --remove-destination. This is deliberate. Writing in place instead would give up atomicity, without a word, for any file that happens to have a second name, which the user cannot see in the command; and trees of hard-linked snapshots (cp -al, rsync --link-dest) rely on a replaced file not rewriting the data the other snapshots share. rsync, install and sed -i replace files the same way. Where cp unlinks the destination before copying (--remove-destination; other hard links to it under -a or --preserve=links), --atomic leaves it until the copy is complete and renames the new file over it: the result is the same, and a copy that fails leaves the old file.",
            )],
        ],
    ),
    (
        "RESUMING A COPY",
        &[&[
            ('B', "--resume"),
            (
                'R',
                " finishes a copy that was interrupted. cp's rules (-n, -u, -i, --backup) decide first, as without it, with one exception: an interrupted copy leaves its destination newer than its source, so -u continues a destination that is not older when it is shorter than the source and holds the source's first bytes (all of it compared with the source, whatever --resume asked; an empty one counts), which loses nothing it holds; -u leaves any other destination that is not older, and -n every existing one, untouched. Then a regular destination of the source's size (and mtime, when timestamps are preserved) is taken as complete and not written; a shorter one whose last written block (up to 1 MiB before its end) equals the source's bytes there is continued from its end; anything else is copied again from the start. Attributes, directories and links are finished as by a plain copy. The quick check is an assumption, as rsync's size and mtime check is: a destination changed in place without changing its size is not noticed. --resume=verify reads and compares all a destination holds before keeping it. --resume cannot be used with --atomic: an interrupted --atomic copy removes its temporary file, so there is nothing to continue.",
            ),
        ]],
    ),
    (
        "STATISTICS",
        &[&[
            ('B', "--stats=json"),
            (
                'R',
                " prints one JSON object on one line, the last of standard error (or a line appended to FILE with --stats=json:FILE: FILE is opened, and created if need be, before the copy starts, and never emptied, so each run adds one line and a FILE that is also a source or a destination loses nothing; --stats=text:FILE likewise), with these keys: ",
            ),
            ('B', "files"),
            ('R', " (copies that finished), "),
            ('B', "failures"),
            ('R', ", "),
            ('B', "bytes"),
            ('R', ", "),
            ('B', "elapsed_seconds"),
            ('R', ", "),
            ('B', "bytes_per_second"),
            ('R', ", "),
            ('B', "user_seconds"),
            ('R', " and "),
            ('B', "system_seconds"),
            ('R', " (CPU time of the process, getrusage(2)), "),
            ('B', "peak_rss_kib"),
            ('R', ", "),
            ('B', "methods"),
            (
                'R',
                " (for each source class: regular, fifo, character-device, block-device or socket, the number of files each method finished), ",
            ),
            ('B', "fallbacks"),
            ('R', " (a list of {from, to, reason, files}) and "),
            ('B', "syscalls"),
            (
                'R',
                ": for each of read, write, sendfile, copy_file_range, ficlone and splice (both directions, file to pipe and pipe to file), the number of ",
            ),
            ('B', "calls"),
            (
                'R',
                " (failed ones and the final one that returns 0 included), ",
            ),
            ('B', "data_calls"),
            ('R', " (calls that moved data), "),
            ('B', "bytes"),
            ('R', ", and the largest ("),
            ('B', "max"),
            ('R', ") and smallest non-zero ("),
            ('B', "min"),
            ('R', ") count one call moved; "),
            ('B', "resume"),
            (
                'R',
                ": complete_files, complete_bytes, continued_files, continued_bytes (kept, not sent again), recopied_files, recopied_bytes (all 0 without --resume). The keys are stable.",
            ),
        ]],
    ),
    (
        "EXIT STATUS",
        &[
            &[(
                'R',
                "0 when every file was copied; 1 when anything failed, usage errors included, as GNU cp. A failure on one source is reported and the remaining sources are still copied.",
            )],
            &[
                (
                    'R',
                    "SIGINT, SIGTERM, SIGHUP and every other signal that ends a process by default (SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF; not faults, not SIGKILL) stop the copy within a fraction of a second (long sendfile and copy_file_range calls return early; a file being copied is taken up to 1 MiB further, so that a small one is finished rather than left cut short), start no other file, leave unfinished directories as made, remove an ",
                ),
                ('B', "--atomic"),
                (
                    'R',
                    " temporary file, and end fastcp by the same signal, so a shell reports 130, 143, 129 and so on. SIGKILL cannot be handled: it leaves the temporary file. A SIGPIPE raised by fastcp's own output (a -v line written to a closed pipe) ends it as it ends cp in that write, but a file another thread is already copying is finished first, so no destination is left cut short.",
                ),
            ],
        ],
    ),
    (
        "ENVIRONMENT",
        &[
            &[
                ('T', "VERSION_CONTROL"),
                ('R', "The backup type of "),
                ('B', "-b"),
                ('R', ", "),
                ('B', "--backup"),
                ('R', " without a value and "),
                ('B', "-S"),
                ('R', " alone (see BACKUPS; default: existing)."),
            ],
            &[
                ('T', "SIMPLE_BACKUP_SUFFIX"),
                ('R', "The backup suffix when "),
                ('B', "-S"),
                ('R', " is not given (default: ~)."),
            ],
            &[
                ('T', "POSIXLY_CORRECT"),
                (
                    'R',
                    "Set, whatever its value: options end at the first operand (as getopt_long has it), and a destination that is a dangling symbolic link is written through, creating its target, as GNU cp does.",
                ),
            ],
            &[
                ('T', "LC_ALL, LC_CTYPE, LANG"),
                (
                    'R',
                    "In a UTF-8 locale, messages quote option arguments with curly quotes and print file names of UTF-8 characters as they are; the messages are in English.",
                ),
            ],
        ],
    ),
    (
        "EXAMPLES",
        &[
            &[
                ('T', "fastcp --compare big.iso /tmp/big.iso"),
                (
                    'R',
                    "Copies big.iso with every method, five runs each, verifies every copy and prints median, minimum and maximum wall time, throughput and each method's ratio to the fastest, then what a run cost the copying thread (getrusage RUSAGE_THREAD, medians): user and system time, CPU % ((user+system)/elapsed), system calls, the most bytes one call moved (sendfile and copy_file_range stop at 2,147,479,552), voluntary and involuntary context switches and page faults, the columns of time -v. A status line on stderr shows the run under way (none with --progress=never). ",
                ),
                ('B', "--cold"),
                (
                    'R',
                    " evicts the source from the page cache before each run. Every run removes DEST and writes it anew, so DEST must be a new name or a regular file; anything else (a device node, a FIFO, a symbolic link, a directory) is refused before anything is written.",
                ),
            ],
            &[
                ('T', "fastcp --compare --to-socket big.iso"),
                (
                    'R',
                    "Sends big.iso over a loopback TCP connection to a receiver thread that counts and discards the bytes, as a file server would: read-write through 2, 4, 8, 16 and 32 KiB buffers, sendfile, and splice through a pipe, each without and with TCP_CORK; a run whose bytes sent or received differ from the file's size is an error. The time runs until the receiver has the last byte; the costs are the sending thread's. With ",
                ),
                ('B', "--stats=json"),
                (
                    'R',
                    ", either comparison prints one JSON object on stdout instead of the table: source, size, target (file or socket), runs, cold, measured (thread), and rows, each with method, bufsize (bytes, null for none), cork (null for a file), bytes, seconds {median, min, max}, bytes_per_second, ratio, user_seconds, system_seconds, cpu_percent, syscalls, max_bytes_per_call, voluntary_switches, involuntary_switches, minor_faults and major_faults.",
                ),
            ],
            &[
                (
                    'T',
                    "time fastcp --method read-write --bufsize 8K big.iso copy",
                ),
                ('R', "Against "),
                ('B', "time fastcp --method sendfile big.iso copy"),
                ('R', ": the classic comparison under time(1)."),
            ],
            &[
                ('T', "strace -c -f fastcp --method sendfile big.iso copy"),
                ('R', "Counts the system calls."),
            ],
            &[
                ('T', "fastcp --stats=json -t backup/ *.log"),
                ('R', "Copies the logs and reports what was done as JSON."),
            ],
            &[
                ('T', "ln -s \"$(command -v fastcp)\" ~/bin/cp"),
                (
                    'R',
                    "A cp that is fastcp: it names itself cp in every message and in --help.",
                ),
            ],
        ],
    ),
    (
        "SEE ALSO",
        &[&[
            ('B', "cp"),
            ('R', "(1), "),
            ('B', "sendfile"),
            ('R', "(2), "),
            ('B', "copy_file_range"),
            ('R', "(2), "),
            ('B', "splice"),
            ('R', "(2)"),
        ]],
    ),
];

fn render_sections() -> String {
    let mut roff = Roff::new();
    for (title, paragraphs) in SECTIONS {
        roff.control("SH", [*title]);
        for (i, runs) in paragraphs.iter().enumerate() {
            let runs = match runs.split_first() {
                Some((('T', tag), rest)) => {
                    roff.control("TP", []);
                    roff.text([bold(*tag)]);
                    rest
                }
                _ if i > 0 => {
                    roff.control("PP", []);
                    runs
                }
                _ => runs,
            };
            let inlines: Vec<_> = runs
                .iter()
                .map(|(style, text)| match style {
                    'B' => bold(*text),
                    'I' => italic(*text),
                    _ => roman(*text),
                })
                .collect();
            roff.text(inlines);
        }
    }
    roff.render()
}

/// NAME: what `man -k` and whatis(1) show.
fn name_section() -> String {
    let mut roff = Roff::new();
    roff.control("SH", ["NAME"]);
    roff.text([roman(
        "fastcp - copy files, choosing how the kernel moves the bytes",
    )]);
    roff.render()
}

/// OPTIONS, one subsection per help heading (clap_mangen gives each heading a section of its
/// own, and "Attributes" would then sit beside our ATTRIBUTES).
fn options_section(man: &clap_mangen::Man) -> String {
    let mut out = Vec::new();
    let _ = man.render_options_section(&mut out);
    let cmd = documented();
    let mut headings: Vec<&str> = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(h) = arg.get_help_heading()
            && !headings.contains(&h)
        {
            headings.push(h);
        }
    }
    let mut headings = headings.into_iter().peekable();
    let mut text = String::from(".SH OPTIONS\n");
    for line in String::from_utf8_lossy(&out).lines() {
        // clap_mangen titles the headings' sections in order, in capitals.
        match headings.next_if(|_| line.starts_with(".SH ")) {
            Some(heading) => text.push_str(&format!(".SS \"{heading}\"")),
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

/// The man page: our NAME, clap's synopsis, description and options, our sections, the
/// version.
pub(crate) fn man_page() -> String {
    // --help's text names the words already.
    let cmd = documented().mut_args(|a| match a.get_action().takes_values() {
        true => a.hide_possible_values(true),
        false => a,
    });
    let man = clap_mangen::Man::new(cmd);
    let mut out = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    out.extend_from_slice(name_section().as_bytes());
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    out.extend_from_slice(options_section(&man).as_bytes());
    out.extend_from_slice(render_sections().as_bytes());
    let _ = man.render_version_section(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The shells `--completions` knows, as argmatch matches them, and the file each one's script
/// is checked in as.
const SHELLS: [(&str, Shell); 5] = [
    ("bash", Shell::Bash),
    ("zsh", Shell::Zsh),
    ("fish", Shell::Fish),
    ("elvish", Shell::Elvish),
    ("powershell", Shell::PowerShell),
];

/// `--completions SHELL`'s argument, matched as GNU's argmatch matches words.
pub(crate) fn shell(value: &str) -> Result<Shell, Error> {
    crate::options::argmatch(value, "--completions", &SHELLS)
}

/// The command the completions and the man page describe: the visible options, each
/// enumerated one with its words (parsing leaves them to argmatch, which also takes
/// abbreviations) and each option's kind of value.
fn documented() -> clap::Command {
    let shells: Vec<&str> = SHELLS.iter().map(|(name, _)| *name).collect();
    crate::cli::visible().mut_args(|arg| {
        let Some(long) = arg.get_long() else {
            return arg;
        };
        let words =
            crate::options::words(long).or_else(|| (long == "completions").then(|| shells.clone()));
        let hint = match long {
            "target-directory" => ValueHint::DirPath,
            _ => ValueHint::Other,
        };
        match words {
            Some(words) => arg.value_parser(PossibleValuesParser::new(words)),
            None if arg.get_num_args().is_some_and(|n| n.takes_values())
                || arg.get_action().takes_values() =>
            {
                arg.value_hint(hint)
            }
            None => arg,
        }
    })
}

/// A shell's completion script.
pub(crate) fn completions(shell: Shell) -> String {
    let mut buf = Vec::new();
    let mut cmd = documented();
    match shell {
        Shell::Bash => buf = crate::cli::completions::bash(&cmd).into_bytes(),
        Shell::Zsh => buf = crate::cli::completions::zsh(&mut cmd).into_bytes(),
        Shell::Fish => buf = crate::cli::completions::fish(&mut cmd).into_bytes(),
        Shell::Elvish => buf = crate::cli::completions::elvish(&cmd).into_bytes(),
        Shell::PowerShell => buf = crate::cli::completions::powershell(&cmd).into_bytes(),
        _ => clap_complete::generate(shell, &mut cmd, "fastcp", &mut buf),
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// The generated files: relative path and contents.
pub(crate) fn files() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("man/fastcp.1".to_string(), man_page().into_bytes())];
    for (shell, name) in [
        (Shell::Bash, "fastcp.bash"),
        (Shell::Zsh, "_fastcp"),
        (Shell::Fish, "fastcp.fish"),
        (Shell::Elvish, "fastcp.elv"),
        (Shell::PowerShell, "_fastcp.ps1"),
    ] {
        out.push((
            format!("completions/{name}"),
            completions(shell).into_bytes(),
        ));
    }
    out
}

/// Writes every generated file below `dir`.
pub(crate) fn write_all(dir: &Path) -> Result<(), Error> {
    for (rel, contents) in files() {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(&path, e))?;
        }
        std::fs::write(&path, contents).map_err(|e| io(&path, e))?;
    }
    Ok(())
}

fn io(path: &Path, e: std::io::Error) -> Error {
    let errno = rustix::io::Errno::from_io_error(&e).unwrap_or(rustix::io::Errno::IO);
    Error::io(Op::CreateRegular, path, errno)
}
