//! Usage errors and warnings: the messages about the command line rather than a file, each
//! worded as GNU cp (or getopt, argmatch) words it.

use crate::error::quote::{locale_quote, quote};
use std::fmt;
use std::path::PathBuf;

/// A command line that cannot be run; GNU follows these with its `Try ... --help` hint.
#[derive(Debug)]
pub(crate) enum Misuse {
    MissingOperand,
    MissingDestination(PathBuf),
    ExtraOperand(PathBuf),
    ParentsNeedDirectory,
    CompareOneJob,
    /// --resume with --atomic: an interrupted --atomic copy leaves nothing to continue.
    ResumeWithAtomic,
    /// A --compare setting (its long name) given without --compare.
    NeedsCompare(&'static str),
    /// An option --compare cannot honour (it replaces DEST on every run).
    NotWithCompare(&'static str),
    /// --compare copies one regular file again and again: SOURCE is not one (its st_mode).
    CompareSource(PathBuf, u32),
    /// --compare --to-socket with other than one operand.
    SocketOneSource,
    /// A --methods entry that cannot write to a socket.
    NotToSocket(&'static str),
    /// `-j`: the text given, and the most threads allowed.
    Jobs(String, usize),
    Bufsize(String),
    Runs(String),
    /// An argument argmatch refused (see [`BadArgument`]).
    Argument(BadArgument),
    /// clap's own message, for what getopt's rules leave to it.
    Parser(String),
}

/// An option argument that names none of the choices, or several (GNU's argmatch_die).
#[derive(Debug)]
pub(crate) struct BadArgument {
    pub(crate) ambiguous: bool,
    /// The argument as given: its bytes, which need not be UTF-8.
    pub(crate) value: Vec<u8>,
    pub(crate) option: String,
    /// The valid arguments, synonyms grouped on one line.
    pub(crate) valid: Vec<Vec<&'static str>>,
}

/// Something the user should know that does not stop the copy or change the exit status.
#[derive(Debug)]
pub(crate) enum Warning {
    SourceTwice(PathBuf),
    SourceDirectoryTwice(PathBuf),
}

fn lq(text: &str) -> String {
    locale_quote(text.as_bytes())
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Misuse::MissingOperand => f.write_str("missing file operand"),
            Misuse::MissingDestination(only) => write!(
                f,
                "missing destination file operand after {}",
                quote(only.as_os_str())
            ),
            Misuse::ExtraOperand(extra) => write!(f, "extra operand {}", quote(extra.as_os_str())),
            Misuse::ParentsNeedDirectory => {
                f.write_str("with --parents, the destination must be a directory")
            }
            Misuse::CompareOneJob => f.write_str("--compare takes exactly one SOURCE and one DEST"),
            Misuse::ResumeWithAtomic => f.write_str(
                "--resume cannot be used with --atomic: an interrupted --atomic copy removes \
                 its temporary file and leaves the destination as it was, so there is nothing \
                 to continue",
            ),
            Misuse::NeedsCompare(option) => write!(f, "{option} works only with --compare"),
            Misuse::NotWithCompare(option) => write!(f, "{option} cannot be used with --compare"),
            Misuse::CompareSource(src, mode) => write!(
                f,
                "--compare copies one regular file: {} is a {}",
                quote(src.as_os_str()),
                super::kind_name(*mode)
            ),
            Misuse::SocketOneSource => {
                f.write_str("--compare --to-socket takes exactly one SOURCE and no DEST")
            }
            Misuse::NotToSocket(method) => {
                write!(f, "--to-socket: {method} cannot write to a socket")
            }
            Misuse::Jobs(text, most) => {
                write!(f, "invalid number of jobs: {} (1 to {most})", lq(text))
            }
            Misuse::Bufsize(text) => write!(f, "invalid buffer size: {}", lq(text)),
            Misuse::Runs(text) => write!(f, "invalid number of runs: {}", lq(text)),
            Misuse::Argument(bad) => bad.fmt(f),
            Misuse::Parser(text) => f.write_str(text),
        }
    }
}

impl BadArgument {
    /// The same error, naming what was given in `raw` (the option's whole argument, checked
    /// as UTF-8 with invalid bytes replaced): the piece of it (a list is split at commas) that
    /// reads as the value named, so that bytes that are not UTF-8 are shown as given.
    pub(crate) fn naming_given(mut self, raw: &[u8]) -> BadArgument {
        let lossy = |piece: &[u8]| String::from_utf8_lossy(piece).into_owned().into_bytes();
        if let Some(piece) = std::iter::once(raw)
            .chain(raw.split(|&b| b == b','))
            .find(|piece| lossy(piece) == self.value)
        {
            self.value = piece.to_vec();
        }
        self
    }
}

impl fmt::Display for BadArgument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problem = if self.ambiguous {
            "ambiguous"
        } else {
            "invalid"
        };
        write!(
            f,
            "{problem} argument {} for {}\nValid arguments are:",
            locale_quote(&self.value),
            lq(&self.option)
        )?;
        for synonyms in &self.valid {
            let names: Vec<String> = synonyms.iter().map(|name| lq(name)).collect();
            write!(f, "\n  - {}", names.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::SourceTwice(src) => write!(
                f,
                "source file {} specified more than once",
                quote(src.as_os_str())
            ),
            Warning::SourceDirectoryTwice(src) => write!(
                f,
                "source directory {} specified more than once",
                quote(src.as_os_str())
            ),
        }
    }
}
