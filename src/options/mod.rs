//! Validated, clap-free settings: what the rest of fastcp reads instead of the command line.

use crate::error::misuse::{BadArgument, Misuse};
use crate::error::{Error, Refusal};

mod compare;
mod method;
mod overwrite;
mod preserve;

pub(crate) use compare::{Compare, RawCompare};
pub(crate) use method::Method;
pub(crate) use overwrite::{Backup, Overwrite, RawOverwrite, Update};
pub(crate) use preserve::{AttributeEvent, Preserve, XattrErrors};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The format of `--stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatsFormat {
    Text,
    Json,
}

/// When symbolic links among the sources are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deref {
    /// `-P`: copy symlinks as symlinks.
    Never,
    /// `-H`: follow symlinks named on the command line only.
    CommandLine,
    /// `-L`: follow every symlink.
    Always,
}

/// `--sparse`: when holes are kept or made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sparse {
    /// Keep the holes of sources that have some (the default).
    Auto,
    /// Keep holes and turn runs of zeros into holes too.
    Always,
    /// Write every byte.
    Never,
}

/// -l, -s, --parents and the other switches that change what a copy is, as given.
pub(crate) struct RawLinks {
    pub(crate) hard: bool,
    pub(crate) symbolic: bool,
    pub(crate) parents: bool,
    pub(crate) strip_trailing_slashes: bool,
    pub(crate) keep_directory_symlink: bool,
    pub(crate) attributes_only: bool,
}

/// --atomic, --fsync, --verify, --nocache, --resume.
pub(crate) struct Safety {
    pub(crate) atomic: bool,
    pub(crate) resume: Option<String>,
    pub(crate) fsync: bool,
    pub(crate) verify: bool,
    pub(crate) nocache: bool,
}

/// What a "copy" of a non-directory makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Make {
    /// A copy of the data.
    Copy,
    /// A hard link to the source (-l).
    HardLink,
    /// A symbolic link to the source (-s).
    Symlink,
}

impl Make {
    /// What -l and -s ask for.
    fn of(links: &RawLinks) -> Make {
        if links.hard {
            Make::HardLink
        } else if links.symbolic {
            Make::Symlink
        } else {
            Make::Copy
        }
    }
}

/// `--reflink`: when files are cloned (FICLONE) instead of copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReflinkMode {
    /// Clone when the filesystem can and no --method was chosen (the default, as GNU cp 9).
    Auto,
    /// Clone or fail.
    Always,
    Never,
}

/// The command line's values before validation, as cli.rs hands them over.
pub(crate) struct Raw {
    pub(crate) links: RawLinks,
    pub(crate) safety: Safety,
    pub(crate) sparse: Option<String>,
    pub(crate) reflink: Option<String>,
    pub(crate) overwrite: RawOverwrite,
    pub(crate) recursive: bool,
    pub(crate) deref: Option<Deref>,
    pub(crate) attributes: Vec<AttributeEvent>,
    pub(crate) verbose: bool,
    pub(crate) one_file_system: bool,
    pub(crate) copy_contents: bool,
    pub(crate) target_directory: Option<PathBuf>,
    pub(crate) no_target_directory: bool,
    pub(crate) method: String,
    pub(crate) bufsize: Option<String>,
    pub(crate) jobs: Option<String>,
    pub(crate) progress: Option<String>,
    pub(crate) stats: Option<std::ffi::OsString>,
    pub(crate) debug: bool,
    pub(crate) compare: RawCompare,
    pub(crate) operands: Vec<PathBuf>,
}

/// Everything a copy run needs to know.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Copy directories and their contents (`-r`, `-R`, `-a`).
    pub(crate) recursive: bool,
    /// Which symlinks are followed (`-L`, `-P`, `-H`; default `-P` with `-r`, else `-L`).
    pub(crate) deref: Deref,
    /// Attributes to keep (`-p`, `-a`, `--preserve`, `--no-preserve`).
    pub(crate) preserve: Preserve,
    /// What to do with existing destinations.
    pub(crate) overwrite: Overwrite,
    /// When holes are kept or made (`--sparse`).
    pub(crate) sparse: Sparse,
    /// When files are cloned (`--reflink`).
    pub(crate) reflink: ReflinkMode,
    /// Copies, hard links or symlinks (-l, -s).
    pub(crate) make: Make,
    /// Sources keep their path under the target directory (--parents).
    pub(crate) parents: bool,
    /// Sources copied into a directory lose their trailing slashes (--strip-trailing-slashes;
    /// GNU leaves the operands of a plain SOURCE DEST copy as they are).
    pub(crate) strip_trailing_slashes: bool,
    /// Existing symlinks to directories in the destination are followed.
    pub(crate) keep_directory_symlink: bool,
    /// Only the attributes, no data (--attributes-only).
    pub(crate) attributes_only: bool,
    /// Write under a temporary name, rename into place when complete (--atomic).
    pub(crate) atomic: bool,
    /// fdatasync each file and fsync directories of new entries (--fsync).
    pub(crate) fsync: bool,
    /// Read each copy back and compare (--verify).
    pub(crate) verify: bool,
    /// Drop the pages a copy brought into the page cache behind it (--nocache).
    pub(crate) nocache: bool,
    /// Finish what an interrupted copy left (--resume[=verify]).
    pub(crate) resume: Option<Resume>,
    /// Print each copy as `'src' -> 'dst'` (`-v`).
    pub(crate) verbose: bool,
    /// Do not descend into directories on other filesystems (`-x`).
    pub(crate) one_file_system: bool,
    /// Read special files as data even when recursive (`--copy-contents`).
    pub(crate) copy_contents: bool,
    /// How file data is moved (`--method`).
    pub(crate) method: Method,
    /// Buffer size for read-write and count per call for the in-kernel methods (`--bufsize`).
    pub(crate) bufsize: Option<usize>,
    /// Files of a tree copied at once (`-j`); 1 copies one by one on one thread.
    pub(crate) jobs: usize,
    /// Copy every operand into this directory (`-t`).
    pub(crate) target_directory: Option<PathBuf>,
    /// Treat the last operand as a file even when it is a directory (`-T`).
    pub(crate) no_target_directory: bool,
    /// When to draw a progress bar (`--progress`).
    pub(crate) progress: ProgressMode,
    /// Print a summary after the copy (`--stats`).
    pub(crate) stats: Option<StatsFormat>,
    /// Where the summary goes instead of stderr (`--stats=FORMAT:FILE`).
    pub(crate) stats_file: Option<PathBuf>,
    /// Print GNU's per-file debug lines and the method (`--debug`).
    pub(crate) debug: bool,
    /// Compare the methods instead of copying once (`--compare`).
    pub(crate) compare: Option<Compare>,
    /// The file operands, sources and destination, in command-line order.
    pub(crate) operands: Vec<PathBuf>,
}

impl Options {
    /// Settles the options once all are read, refusing what GNU cp refuses after its option
    /// loop, in its order; each argument was checked when read (`check_argument`).
    pub(crate) fn new(raw: Raw) -> Result<Options, Error> {
        let links = raw.links;
        if links.hard && links.symbolic {
            return Err(Error::Refused(Refusal::HardAndSymbolicLinks));
        }
        let backups = raw.overwrite.backup.is_some() || raw.overwrite.suffix.is_some();
        if backups && raw.overwrite.ask == Some(false) {
            return Err(Error::Refused(Refusal::BackupAndNoClobber));
        }
        let reflink = raw
            .reflink
            .as_deref()
            .map_or(Ok(ReflinkMode::Auto), reflink_arg)?;
        let sparse = raw.sparse.as_deref().map_or(Ok(Sparse::Auto), sparse_arg)?;
        if reflink == ReflinkMode::Always && sparse != Sparse::Auto {
            return Err(Error::Refused(Refusal::ReflinkNeedsSparseAuto));
        }
        let overwrite = Overwrite::new(raw.overwrite)?;
        let preserve = Preserve::from_events(&raw.attributes)?;
        if preserve.context {
            return Err(Error::Refused(Refusal::PreserveContext));
        }
        let jobs = match raw.jobs.as_deref() {
            // -v and --debug lines come in GNU's order unless -j asks for speed instead.
            None if raw.verbose || raw.debug => 1,
            None => std::thread::available_parallelism().map_or(1, usize::from),
            Some(text) => jobs_arg(text)?,
        };
        let (stats, stats_file) = stats_option(raw.stats.as_deref())?;
        let make = Make::of(&links);
        // GNU: -r copies symlinks as symlinks, unless hard links are made (cp.c).
        let deref = raw
            .deref
            .unwrap_or(if raw.recursive && make != Make::HardLink {
                Deref::Never
            } else {
                Deref::Always
            });
        Options {
            recursive: raw.recursive,
            deref,
            preserve,
            overwrite,
            reflink,
            sparse,
            verbose: raw.verbose || raw.debug,
            one_file_system: raw.one_file_system,
            copy_contents: raw.copy_contents,
            method: argmatch(&raw.method, "--method", &METHODS)?,
            bufsize: raw.bufsize.as_deref().map(size_arg).transpose()?,
            jobs,
            target_directory: raw.target_directory,
            no_target_directory: raw.no_target_directory,
            progress: raw
                .progress
                .as_deref()
                .map_or(Ok(ProgressMode::Auto), progress_arg)?,
            stats,
            stats_file,
            debug: raw.debug,
            compare: Compare::new(raw.compare)?,
            operands: raw.operands,
            strip_trailing_slashes: links.strip_trailing_slashes,
            make,
            parents: links.parents,
            keep_directory_symlink: links.keep_directory_symlink,
            attributes_only: links.attributes_only,
            atomic: raw.safety.atomic,
            fsync: raw.safety.fsync,
            verify: raw.safety.verify,
            nocache: raw.safety.nocache,
            resume: raw.safety.resume.as_deref().map(resume_arg).transpose()?,
        }
        .refuse_with_compare()
    }

    /// `--compare` writes DEST anew on every run and never asks, keeps, backs up or links
    /// it: an option that says otherwise is refused, not silently ignored.
    fn refuse_with_compare(self) -> Result<Options, Error> {
        if self.atomic && self.resume.is_some() {
            return Err(Error::Usage(Misuse::ResumeWithAtomic));
        }
        if self.compare.is_none() {
            return Ok(self);
        }
        let ow = &self.overwrite;
        let conflicts = [
            ("-i", ow.ask == Some(true)),
            ("-n", ow.ask == Some(false)),
            ("-u", ow.update != Update::All),
            ("--backup", ow.backup.is_some()),
            ("-l", self.make == Make::HardLink),
            ("-s", self.make == Make::Symlink),
            ("--attributes-only", self.attributes_only),
            ("--parents", self.parents),
            ("--atomic", self.atomic),
            ("--resume", self.resume.is_some()),
        ];
        match conflicts.iter().find(|(_, given)| *given) {
            Some((option, _)) => Err(Error::Usage(Misuse::NotWithCompare(option))),
            None => Ok(self),
        }
    }
}

/// Checks the argument of option `key` (its long name) when getopt meets it, as GNU cp's
/// XARGMATCH does inside its option loop: the first bad argument on the line is reported, and
/// no option after it is read. --backup's type is checked after the loop, as GNU does.
pub(crate) fn check_argument(key: &str, value: &str) -> Result<(), Error> {
    match key {
        "sparse" => sparse_arg(value).map(drop),
        "reflink" => reflink_arg(value).map(drop),
        "update" => overwrite::update_arg(value).map(drop),
        "preserve" => Preserve::check(value, true),
        "no-preserve" => Preserve::check(value, false),
        "method" => argmatch(value, "--method", &METHODS).map(drop),
        "bufsize" => size_arg(value).map(drop),
        "jobs" => jobs_arg(value).map(drop),
        "progress" => progress_arg(value).map(drop),
        "stats" => stats_arg(std::ffi::OsStr::new(value)).map(drop),
        "resume" => resume_arg(value).map(drop),
        "methods" | "bufsizes" | "runs" => compare::check_argument(key, value),
        _ => Ok(()),
    }
}

/// The words an enumerated option takes, by its long name, in argmatch's order: what the
/// completions offer (argmatch also takes their unambiguous prefixes).
pub(crate) fn words(key: &str) -> Option<Vec<&'static str>> {
    fn names<T>(choices: &[(&'static str, T)]) -> Vec<&'static str> {
        choices.iter().map(|(name, _)| *name).collect()
    }
    Some(match key {
        "sparse" => names(&SPARSE),
        "reflink" => names(&REFLINK),
        "update" => names(&overwrite::UPDATE),
        "backup" => names(&overwrite::BACKUP_CONTROLS),
        "method" => names(&METHODS),
        "progress" => names(&PROGRESS),
        "stats" => names(&STATS),
        "resume" => names(&RESUME),
        _ => return None,
    })
}

/// How `--resume` trusts what a destination already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Its size and (with preserved timestamps) mtime, and its last written block.
    Quick,
    /// Its whole existing prefix, read and compared with the source.
    Verify,
}

const RESUME: [(&str, Resume); 2] = [("quick", Resume::Quick), ("verify", Resume::Verify)];

fn resume_arg(value: &str) -> Result<Resume, Error> {
    argmatch(value, "--resume", &RESUME)
}

const SPARSE: [(&str, Sparse); 3] = [
    ("never", Sparse::Never),
    ("auto", Sparse::Auto),
    ("always", Sparse::Always),
];

fn sparse_arg(value: &str) -> Result<Sparse, Error> {
    argmatch(value, "--sparse", &SPARSE)
}

const REFLINK: [(&str, ReflinkMode); 3] = [
    ("auto", ReflinkMode::Auto),
    ("always", ReflinkMode::Always),
    ("never", ReflinkMode::Never),
];

fn reflink_arg(value: &str) -> Result<ReflinkMode, Error> {
    argmatch(value, "--reflink", &REFLINK)
}

const PROGRESS: [(&str, ProgressMode); 3] = [
    ("auto", ProgressMode::Auto),
    ("always", ProgressMode::Always),
    ("never", ProgressMode::Never),
];

fn progress_arg(value: &str) -> Result<ProgressMode, Error> {
    argmatch(value, "--progress", &PROGRESS)
}

const STATS: [(&str, StatsFormat); 2] = [("text", StatsFormat::Text), ("json", StatsFormat::Json)];

/// `--stats`, when given: its format and file.
fn stats_option(
    value: Option<&std::ffi::OsStr>,
) -> Result<(Option<StatsFormat>, Option<PathBuf>), Error> {
    let stats = value.map(stats_arg).transpose()?;
    Ok(stats.map_or((None, None), |(f, file)| (Some(f), file)))
}

/// `--stats=FORMAT[:FILE]`: the format, and the file that gets the summary instead of stderr.
fn stats_arg(value: &std::ffi::OsStr) -> Result<(StatsFormat, Option<PathBuf>), Error> {
    use std::os::unix::ffi::OsStrExt;
    let choices = STATS;
    let bytes = value.as_bytes();
    let Some(colon) = bytes.iter().position(|&b| b == b':') else {
        return Ok((
            argmatch(&value.to_string_lossy(), "--stats", &choices)?,
            None,
        ));
    };
    let format = argmatch(
        &String::from_utf8_lossy(&bytes[..colon]),
        "--stats",
        &choices,
    )?;
    let file = &bytes[colon + 1..];
    if file.is_empty() {
        // `json:` names no file: refused as the whole word, which is no format either.
        argmatch(&value.to_string_lossy(), "--stats", &choices)?;
    }
    Ok((
        format,
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(file))),
    ))
}

/// The names `--method` takes.
pub(super) const METHODS: [(&str, Method); 5] = [
    ("auto", Method::Auto),
    ("read-write", Method::ReadWrite),
    ("sendfile", Method::Sendfile),
    ("copy-file-range", Method::CopyFileRange),
    ("splice", Method::Splice),
];

/// The most threads `-j` starts: beyond this, more threads only contend for the same disk.
/// signals.rs keeps one slot per thread.
pub(crate) const MAX_JOBS: usize = 256;

fn jobs_arg(text: &str) -> Result<usize, Error> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_JOBS).contains(&n) => Ok(n),
        _ => Err(Error::Usage(Misuse::Jobs(text.to_string(), MAX_JOBS))),
    }
}

pub(super) fn size_arg(text: &str) -> Result<usize, Error> {
    parse_size(text).ok_or_else(|| Error::Usage(Misuse::Bufsize(text.to_string())))
}

/// Matches an option argument as GNU's argmatch does: an exact name, or an unambiguous prefix
/// (the empty string is a prefix of every name).
pub(crate) fn argmatch<T: Copy + PartialEq>(
    value: &str,
    option: &str,
    choices: &[(&'static str, T)],
) -> Result<T, Error> {
    if let Some((_, v)) = choices.iter().find(|(name, _)| *name == value) {
        return Ok(*v);
    }
    let matches: Vec<_> = choices
        .iter()
        .filter(|(name, _)| name.starts_with(value))
        .collect();
    // A prefix of several synonyms (`n` for none and nil...) is ambiguous only when they mean
    // different things.
    if let Some((_, first)) = matches.first()
        && matches.iter().all(|(_, v)| v == first)
    {
        return Ok(*first);
    }
    Err(bad_argument(
        !matches.is_empty(),
        value.as_bytes(),
        option,
        choices,
    ))
}

/// `argmatch` for an argument that need not be UTF-8: one that is not names no choice (they
/// are all ASCII), and GNU's message shows its bytes as given (`'\377'`).
pub(crate) fn argmatch_os<T: Copy + PartialEq>(
    value: &OsStr,
    option: &str,
    choices: &[(&'static str, T)],
) -> Result<T, Error> {
    match value.to_str() {
        Some(text) => argmatch(text, option, choices),
        None => Err(bad_argument(false, value.as_bytes(), option, choices)),
    }
}

/// GNU's argmatch_die: `value` names none of `choices` (or several, `ambiguous`).
fn bad_argument<T: Copy + PartialEq>(
    ambiguous: bool,
    value: &[u8],
    option: &str,
    choices: &[(&'static str, T)],
) -> Error {
    // Synonyms share a line, as GNU's argmatch_valid prints them.
    let mut valid: Vec<(T, Vec<&'static str>)> = Vec::new();
    for (name, v) in choices {
        match valid.last_mut() {
            Some((last, names)) if last == v => names.push(name),
            _ => valid.push((*v, vec![*name])),
        }
    }
    Error::Usage(Misuse::Argument(BadArgument {
        ambiguous,
        value: value.to_vec(),
        option: option.to_string(),
        valid: valid.into_iter().map(|(_, names)| names).collect(),
    }))
}

/// Parses a byte count: digits with an optional K/M/G/T (or KiB...) suffix for powers of 1024,
/// or KB/MB/GB/TB for powers of 1000. Zero, negative or oversized values are refused.
pub(crate) fn parse_size(text: &str) -> Option<usize> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    let number: u64 = digits.parse().ok()?;
    let exponent = |c: char| "KMGT".find(c.to_ascii_uppercase()).map(|i| i as u32 + 1);
    let multiplier: u64 = match suffix.as_bytes() {
        [] | [b'B'] => 1,
        [c] => 1024u64.pow(exponent(*c as char)?),
        [c, b'i', b'B'] => 1024u64.pow(exponent(*c as char)?),
        [c, b'B'] => 1000u64.pow(exponent(*c as char)?),
        _ => return None,
    };
    let bytes = number.checked_mul(multiplier)?;
    if bytes == 0 {
        return None;
    }
    usize::try_from(bytes).ok()
}

/// When to draw (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// Only when stderr is a terminal.
    Auto,
    /// Even when stderr is a pipe or a file (one plain line a second).
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_suffixes() {
        assert_eq!(parse_size("1"), Some(1));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("8K"), Some(8192));
        assert_eq!(parse_size("8k"), Some(8192));
        assert_eq!(parse_size("8KiB"), Some(8192));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("1KB"), Some(1000));
        assert_eq!(parse_size("1MB"), Some(1_000_000));
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bad in [
            "0",
            "-1",
            "",
            "x",
            "1X",
            "1.5K",
            "1KiBB",
            "0K",
            "99999999999999999999",
            "16777216T",
        ] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn jobs_are_counted_from_one() {
        assert_eq!(jobs_arg("1").unwrap(), 1);
        assert_eq!(jobs_arg("8").unwrap(), 8);
        for bad in ["0", "-1", "", "x", "1.5", "257", "99999999999999999999999"] {
            assert!(jobs_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn argmatch_takes_unique_prefixes() {
        let choices = [("read-write", 1), ("sendfile", 2), ("copy-file-range", 3)];
        assert_eq!(argmatch("send", "--method", &choices).unwrap(), 2);
        assert!(argmatch("x", "--method", &choices).is_err());
    }
}
