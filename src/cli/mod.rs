//! Defines fastcp's command line: the only module that knows about clap.

mod completions;
pub(crate) mod generate;
pub(crate) mod getopt;
mod settings;
mod table;

use crate::cli::getopt::{Found, Getopt};
use crate::error::misuse::Misuse;
use crate::error::{Error, Refusal};
use crate::options::Options;
use crate::report;
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser};
use std::ffi::OsString;
use std::path::PathBuf;
use table::{LONGS, SHORTS};

/// Copy SOURCE to DEST, or multiple SOURCE(s) to DIRECTORY, choosing how the kernel moves the
/// bytes: copy_file_range, sendfile, splice or read/write.
#[derive(Parser, Debug)]
#[command(
    name = "fastcp",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    max_term_width = 80,
    after_help = "METHOD is auto (copy_file_range, then sendfile, then read-write, falling back only \
while nothing has been copied), read-write, sendfile, copy-file-range or splice. SIZE takes the \
suffixes \
K, M, G (powers of 1024), KiB, MiB, GiB, and KB, MB, GB (powers of 1000)."
)]
pub(crate) struct Cli {
    /// Copy all SOURCE arguments into DIRECTORY
    #[arg(
        short = 't',
        long = "target-directory",
        value_name = "DIRECTORY",
        allow_hyphen_values = true,
        help_heading = "Where to copy"
    )]
    target_directory: Option<OsString>,

    /// Treat DEST as a normal file
    #[arg(
        short = 'T',
        long = "no-target-directory",
        help_heading = "Where to copy"
    )]
    no_target_directory: bool,

    /// Same as -dR --preserve=all
    #[arg(short = 'a', long, help_heading = "What to copy")]
    archive: bool,

    /// Same as --no-dereference --preserve=links
    #[arg(short = 'd', help_heading = "What to copy")]
    no_deref_preserve_links: bool,

    /// Always follow symbolic links in SOURCE
    #[arg(short = 'L', long, help_heading = "What to copy")]
    dereference: bool,

    /// Never follow symbolic links in SOURCE
    #[arg(short = 'P', long, help_heading = "What to copy")]
    no_dereference: bool,

    /// Follow command-line symbolic links in SOURCE
    #[arg(short = 'H', help_heading = "What to copy")]
    deref_command_line: bool,

    /// Copy directories recursively
    #[arg(
        short = 'R',
        visible_short_alias = 'r',
        long,
        help_heading = "What to copy"
    )]
    recursive: bool,

    /// Hard link files instead of copying
    #[arg(short = 'l', long, help_heading = "What to copy")]
    link: bool,

    /// Make symbolic links instead of copying
    #[arg(short = 's', long, help_heading = "What to copy")]
    symbolic_link: bool,

    /// Use full source file name under DIRECTORY
    #[arg(long, help_heading = "Where to copy")]
    parents: bool,

    /// Remove any trailing slashes from each SOURCE argument
    #[arg(long, help_heading = "Where to copy")]
    strip_trailing_slashes: bool,

    /// Follow existing symlinks to directories in the destination
    #[arg(long, help_heading = "Where to copy")]
    keep_directory_symlink: bool,

    /// Don't copy the file data, just the attributes
    #[arg(long, help_heading = "Attributes")]
    attributes_only: bool,

    /// Copy contents of special files when recursive
    #[arg(long, help_heading = "What to copy")]
    copy_contents: bool,

    /// Stay on this file system
    #[arg(short = 'x', long, help_heading = "What to copy")]
    one_file_system: bool,

    /// Same as --preserve=mode,ownership,timestamps
    #[arg(short = 'p', help_heading = "Attributes")]
    preserve_default: bool,

    /// Preserve the attributes in LIST (default: mode,ownership,timestamps); also links,
    /// context, xattr, all
    #[arg(
        long,
        value_name = "LIST",
        num_args = 0..=1,
        default_missing_value = "mode,ownership,timestamps",
        require_equals = true,
        action = clap::ArgAction::Append,
        help_heading = "Attributes"
    )]
    preserve: Vec<String>,

    /// Don't preserve the attributes in LIST
    #[arg(long, value_name = "LIST", action = clap::ArgAction::Append, help_heading = "Attributes")]
    no_preserve: Vec<String>,

    /// If an existing destination file cannot be opened, remove it and try again
    #[arg(short = 'f', long, help_heading = "Existing destinations")]
    force: bool,

    /// Prompt before overwrite (overrides a previous -n)
    #[arg(short = 'i', long, help_heading = "Existing destinations")]
    interactive: bool,

    /// Do not overwrite an existing file (overrides a previous -i)
    #[arg(short = 'n', long, help_heading = "Existing destinations")]
    no_clobber: bool,

    /// Copy only when SOURCE is newer than DEST or DEST is missing (WHEN: older, all, none)
    #[arg(
        short = 'u',
        long,
        value_name = "WHEN",
        num_args = 0..=1,
        default_missing_value = "older",
        require_equals = true,
        help_heading = "Existing destinations"
    )]
    update: Option<String>,

    /// Remove each existing destination file before opening it
    #[arg(long, help_heading = "Existing destinations")]
    remove_destination: bool,

    /// Make a backup of each existing destination file (CONTROL: none, simple, existing,
    /// numbered)
    #[arg(
        long,
        value_name = "CONTROL",
        num_args = 0..=1,
        default_missing_value = "",
        require_equals = true,
        help_heading = "Existing destinations"
    )]
    backup: Option<OsString>,

    /// Like --backup but does not accept an argument
    #[arg(short = 'b', help_heading = "Existing destinations")]
    backup_default: bool,

    /// Override the usual backup suffix
    #[arg(
        short = 'S',
        long,
        value_name = "SUFFIX",
        allow_hyphen_values = true,
        help_heading = "Existing destinations"
    )]
    suffix: Option<OsString>,

    /// Write each file under a temporary name and rename it into place when complete
    #[arg(long, help_heading = "Safety")]
    atomic: bool,

    /// Finish an interrupted copy, keeping what destinations hold of their sources; HOW:
    /// quick (the same size, and mtime with -p, is complete; a shorter one's last block is
    /// compared) or verify (all they hold)
    #[arg(long, value_name = "HOW", num_args = 0..=1, require_equals = true)]
    #[arg(default_missing_value = "quick", help_heading = "Safety")]
    resume: Option<String>,

    /// Sync each file's data (and new directory entries) to disk before reporting it done
    #[arg(long, help_heading = "Safety")]
    fsync: bool,

    /// Read each copy back and compare it with its source
    #[arg(long, help_heading = "Safety")]
    verify: bool,

    /// Write back and drop from the page cache what a copy brings in, behind it (pages the
    /// source had cached before stay)
    #[arg(long, help_heading = "How to copy")]
    nocache: bool,

    /// Explain what is being done
    #[arg(short = 'v', long, help_heading = "Seeing what happens")]
    verbose: bool,

    /// How to move the data: auto, read-write, sendfile, copy-file-range, splice
    #[arg(
        long,
        value_name = "METHOD",
        default_value = "auto",
        allow_hyphen_values = true,
        help_heading = "How to copy"
    )]
    method: String,

    /// Keep holes of sparse files (auto), also make holes of zero runs (always), or write
    /// every byte (never)
    #[arg(long, value_name = "WHEN", help_heading = "How to copy")]
    sparse: Option<String>,

    /// Clone files (FICLONE) where the filesystem can: auto (when no --method is chosen),
    /// always (or fail), never
    #[arg(
        long,
        value_name = "WHEN",
        num_args = 0..=1,
        default_missing_value = "always",
        require_equals = true,
        help_heading = "How to copy"
    )]
    reflink: Option<String>,

    /// Buffer size for read-write, pipe size for splice; bytes per call for sendfile and
    /// copy-file-range
    #[arg(
        long,
        value_name = "SIZE",
        allow_hyphen_values = true,
        help_heading = "How to copy"
    )]
    bufsize: Option<String>,

    /// Copy up to N files of a tree at once [default: the number of CPUs; 1: one by one]
    #[arg(
        short = 'j',
        long,
        value_name = "N",
        allow_hyphen_values = true,
        help_heading = "How to copy"
    )]
    jobs: Option<String>,

    /// Show a progress line on stderr: auto (the default: on a terminal, after 1 s), always
    /// (also into a pipe or a log, a line every 5 s; what --progress alone means), never
    #[arg(
        long,
        value_name = "WHEN",
        num_args = 0..=1,
        default_missing_value = "always",
        require_equals = true,
        help_heading = "Seeing what happens"
    )]
    progress: Option<String>,

    /// Print what the copy did when it ends: FORMAT is text (the default) or json (one
    /// line, the last on stderr); --stats=FORMAT:FILE appends it to FILE instead
    #[arg(
        long,
        value_name = "FORMAT",
        num_args = 0..=1,
        default_missing_value = "text",
        require_equals = true,
        help_heading = "Seeing what happens"
    )]
    stats: Option<OsString>,

    /// Explain how each file is copied (GNU cp's --debug lines, plus the method)
    #[arg(long, help_heading = "Seeing what happens")]
    debug: bool,

    /// Copy SOURCE to DEST with each method and print a table of times and costs (or JSON
    /// with --stats=json)
    #[arg(long, help_heading = "Comparing methods")]
    compare: bool,

    /// Methods to compare, comma-separated [default:
    /// read-write,sendfile,copy-file-range,splice]
    #[arg(long, value_name = "LIST", help_heading = "Comparing methods")]
    methods: Option<String>,

    /// Read-write buffer sizes to compare [default: 2K,4K,8K,16K,32K,128K; no 128K with
    /// --to-socket]
    #[arg(long, value_name = "LIST", help_heading = "Comparing methods")]
    bufsizes: Option<String>,

    /// Runs of each method and size [default: 5]
    #[arg(long, value_name = "N", help_heading = "Comparing methods")]
    runs: Option<String>,

    /// Evict SOURCE from the page cache before each run (DEST is new each run)
    #[arg(long, help_heading = "Comparing methods")]
    cold: bool,

    /// Send SOURCE over a loopback TCP connection instead of copying it (no DEST), with and
    /// without TCP_CORK; copy-file-range cannot
    #[arg(long, help_heading = "Comparing methods")]
    to_socket: bool,

    /// Display this help and exit
    #[arg(long, action = clap::ArgAction::Help, help_heading = "Other")]
    help: Option<bool>,

    /// Output version information and exit
    #[arg(long, action = clap::ArgAction::Version, help_heading = "Other")]
    version: Option<bool>,

    /// Print the man page (roff) and exit: fastcp --generate-man > fastcp.1
    #[arg(long, help_heading = "Other")]
    generate_man: bool,

    /// Print SHELL's completion script and exit; SHELL is bash, zsh, fish, elvish or
    /// powershell
    #[arg(long, value_name = "SHELL", help_heading = "Other")]
    completions: Option<String>,

    #[arg(value_name = "SOURCE DEST", hide = true)]
    operands: Vec<OsString>,
}

/// What the command line asks for.
pub(crate) enum Request {
    /// Copy files.
    Copy(Options),
    /// Print this text to stdout and exit 0 (--help, --version).
    Print(String),
    /// Write generated files (man page, completions) into a directory.
    Generate(PathBuf),
}

/// Parses the arguments as GNU cp does: getopt_long reads them one option at a time, and each
/// option's argument is checked when met (GNU's XARGMATCH), so the first error on the line is
/// the one reported. What was read is then handed to clap in a canonical form, each option by
/// its full name and `--` before the operands, for clap to fill `Cli`.
pub(crate) fn parse(args: Vec<OsString>) -> Result<Request, Error> {
    let mut args = args.into_iter();
    let program = args.next().unwrap_or_else(|| "fastcp".into());
    // glibc stops at the first operand when POSIXLY_CORRECT is set, whatever its value.
    let permute = std::env::var_os("POSIXLY_CORRECT").is_none();
    let mut getopt = Getopt::new(LONGS, SHORTS, args.collect(), permute);
    let mut canonical = vec![program];
    let mut target = false;
    for found in getopt.by_ref() {
        let found = found.map_err(Error::BadOption)?;
        match found.key {
            "help" => return Ok(Request::Print(help(&canonical[0].to_string_lossy()))),
            "generate-man" => return Ok(Request::Print(generate::man_page())),
            "completions" => {
                let shell = generate::shell(&found.value.unwrap_or_default().to_string_lossy())?;
                return Ok(Request::Print(generate::completions(shell)));
            }
            "version" => return Ok(Request::Print(command().render_version())),
            "target-directory" if target => {
                return Err(Error::Refused(Refusal::MultipleTargetDirectories));
            }
            "target-directory" => target = true,
            // GNU cp on a kernel without SELinux ignores -Z and --context, and says so when
            // given a context; fastcp sets no context anywhere.
            "context" if found.value.is_some() => {
                report::warn(&Refusal::IgnoringContext);
            }
            _ => {}
        }
        if let Some(value) = &found.value {
            crate::options::check_argument(found.key, &value.to_string_lossy()).map_err(
                |e| match e {
                    Error::Usage(Misuse::Argument(bad)) => Error::Usage(Misuse::Argument(
                        bad.naming_given(std::os::unix::ffi::OsStrExt::as_bytes(value.as_os_str())),
                    )),
                    other => other,
                },
            )?;
        }
        canonical.extend(canonical_form(found));
    }
    canonical.push("--".into());
    canonical.extend(getopt.operands());
    let matches = command()
        .try_get_matches_from(canonical)
        .map_err(clap_error)?;
    let cli = Cli::from_arg_matches(&matches).map_err(clap_error)?;
    if let Some(dir) = matches.get_one::<PathBuf>("generate") {
        return Ok(Request::Generate(dir.clone()));
    }
    Ok(Request::Copy(settings::options(cli, &matches)?))
}

/// An option as clap reads it: its full long name with `=` before any value, or its letter when
/// it has no long name. `--backup` without a value is `-b`: it changes no backup type given
/// before, where clap would replace it.
fn canonical_form(found: Found) -> Option<OsString> {
    let key = found.key;
    match (key, found.value) {
        ("context" | "-Z", _) => None,
        ("backup", None) => Some("-b".into()),
        (_, None) if key.starts_with('-') => Some(key.into()),
        (_, None) => Some(format!("--{key}").into()),
        (_, Some(value)) => {
            let mut word = OsString::from(format!("--{key}="));
            word.push(value);
            Some(word)
        }
    }
}

/// clap sees only canonical words that getopt accepted; what it still refuses is a value
/// that is not UTF-8 where a text is needed.
fn clap_error(e: clap::Error) -> Error {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    Error::Usage(Misuse::Parser(
        first.trim_start_matches("error: ").to_string(),
    ))
}

/// The usage lines under the name fastcp was invoked by: argv[0] as given, as GNU cp prints it
/// (`./cp --help` says `Usage: ./cp ...`) and as the messages name it.
fn usage(name: &str) -> String {
    format!(
        "{name} [OPTION]... [-T] SOURCE DEST\n       {name} [OPTION]... SOURCE... DIRECTORY\n       \
         {name} [OPTION]... -t DIRECTORY SOURCE..."
    )
}

/// --help's text, its usage lines under the invoked name.
fn help(name: &str) -> String {
    command()
        .override_usage(usage(name))
        .render_help()
        .to_string()
}

/// The clap command and the reader of the canonical words: what users see (`visible`) and the
/// hidden `--generate DIR` for packagers.
pub(crate) fn command() -> clap::Command {
    visible().arg(
        Arg::new("generate")
            .long("generate")
            .value_name("DIR")
            .value_parser(clap::value_parser!(PathBuf))
            .hide(true)
            .help("Write the man page and shell completions into DIR (for packagers)"),
    )
}

/// The options users see: the help text, the man page and the completions (which would offer
/// hidden options). Every option may be given again, the last one winning, as with getopt.
pub(crate) fn visible() -> clap::Command {
    Cli::command()
        .override_usage(usage("fastcp"))
        .args_override_self(true)
        .arg(
            Arg::new("selinux_default")
                .short('Z')
                .action(ArgAction::SetTrue)
                .help("Set the SELinux context of each copy to the default: ignored, as GNU cp does on a kernel without SELinux")
                .help_heading("Attributes"),
        )
        .arg(
            Arg::new("context")
                .long("context")
                .value_name("CTX")
                .num_args(0..=1)
                .require_equals(true)
                .help("Like -Z, or set the SELinux or SMACK context to CTX: ignored with a warning, as GNU cp does on a kernel without SELinux")
                .help_heading("Attributes"),
        )
}
