//! `--compare` and the settings that only it reads (--methods, --bufsizes, --runs, --cold,
//! --to-socket): validated here, refused without --compare.

use super::{METHODS, Method, argmatch, size_arg};
use crate::error::Error;
use crate::error::misuse::Misuse;

/// `--compare` and its settings, unvalidated.
#[derive(Default)]
pub(crate) struct RawCompare {
    /// --compare itself was given.
    pub(crate) enabled: bool,
    pub(crate) methods: Option<String>,
    pub(crate) bufsizes: Option<String>,
    pub(crate) runs: Option<String>,
    pub(crate) cold: bool,
    pub(crate) to_socket: bool,
}

/// What `--compare` measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Compare {
    /// Methods to run, in table order (never `auto`).
    pub(crate) methods: Vec<Method>,
    /// Buffer sizes for the read-write rows.
    pub(crate) bufsizes: Vec<usize>,
    /// Runs per row.
    pub(crate) runs: usize,
    /// Evict the files from the page cache before each run.
    pub(crate) cold: bool,
    /// Send SOURCE over a loopback TCP connection instead of copying it to DEST.
    pub(crate) to_socket: bool,
}

/// The read-write buffer sizes of the seed write-ups' servers, in KiB; file copies add 128.
const SOCKET_BUFSIZES: [usize; 5] = [2, 4, 8, 16, 32];

impl Compare {
    /// The settings, or `None` without --compare; a setting given without it is a usage
    /// error (`--methods` is one letter from `--method`, and was silently ignored).
    pub(crate) fn new(raw: RawCompare) -> Result<Option<Compare>, Error> {
        if !raw.enabled {
            let given = [
                ("--methods", raw.methods.is_some()),
                ("--bufsizes", raw.bufsizes.is_some()),
                ("--runs", raw.runs.is_some()),
                ("--cold", raw.cold),
                ("--to-socket", raw.to_socket),
            ];
            return match given.iter().find(|(_, given)| *given) {
                Some((option, _)) => Err(Error::Usage(Misuse::NeedsCompare(option))),
                None => Ok(None),
            };
        }
        let methods = match raw.methods.as_deref() {
            None if raw.to_socket => vec![Method::ReadWrite, Method::Sendfile, Method::Splice],
            None => vec![
                Method::ReadWrite,
                Method::Sendfile,
                Method::CopyFileRange,
                Method::Splice,
            ],
            Some(list) => methods_arg(list)?,
        };
        // copy_file_range(2) writes only to files: "EINVAL ... fd_out refers to a socket".
        if raw.to_socket && methods.contains(&Method::CopyFileRange) {
            return Err(Error::Usage(Misuse::NotToSocket(
                Method::CopyFileRange.name(),
            )));
        }
        let bufsizes = match raw.bufsizes.as_deref() {
            None if raw.to_socket => SOCKET_BUFSIZES.iter().map(|k| k * 1024).collect(),
            None => SOCKET_BUFSIZES
                .iter()
                .chain(&[128])
                .map(|k| k * 1024)
                .collect(),
            Some(list) => bufsizes_arg(list)?,
        };
        Ok(Some(Compare {
            methods,
            bufsizes,
            runs: raw.runs.as_deref().map_or(Ok(5), runs_arg)?,
            cold: raw.cold,
            to_socket: raw.to_socket,
        }))
    }
}

/// Checks a --compare setting's argument when getopt meets it (see `super::check_argument`).
pub(super) fn check_argument(key: &str, value: &str) -> Result<(), Error> {
    match key {
        "methods" => methods_arg(value).map(drop),
        "bufsizes" => bufsizes_arg(value).map(drop),
        "runs" => runs_arg(value).map(drop),
        _ => Ok(()),
    }
}

fn methods_arg(list: &str) -> Result<Vec<Method>, Error> {
    list.split(',')
        .map(|m| argmatch(m, "--methods", &METHODS[1..]))
        .collect()
}

fn bufsizes_arg(list: &str) -> Result<Vec<usize>, Error> {
    list.split(',').map(size_arg).collect()
}

fn runs_arg(text: &str) -> Result<usize, Error> {
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| Error::Usage(Misuse::Runs(text.to_string())))
}
