//! Turns operands into copy jobs: `-t`/`-T`, the directory rule for the last operand, and the
//! usage errors GNU cp gives before copying anything.

use crate::error::misuse::Misuse;
use crate::error::{Error, Op};
use crate::fs::At;
use crate::fs::backup::{backup_name, beside};
use crate::options::Options;
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// One source and the path it is copied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub(crate) src: PathBuf,
    pub(crate) dst: PathBuf,
    /// The target directory the source is copied into (GNU's dst_dirfd), as named: `dst`
    /// is built from it, and its name's `.` components matter (`t/s/.` goes through a
    /// symlink t/s), so it is kept rather than taken back from `dst`.
    pub(crate) into: Option<PathBuf>,
    /// The destination's name in `into` (its last component; under --parents the source's
    /// path): what is made there, from the directory opened once (GNU's dst_relname).
    pub(crate) name: PathBuf,
    /// --parents: the source's own path is recreated in `into`.
    pub(crate) parents: bool,
}

/// The jobs of a run, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) jobs: Vec<Job>,
    /// Sources go into a directory: a source named twice is copied once (GNU's warning).
    pub(crate) into_directory: bool,
    /// `cp -f --backup f f` copies f to its backup name instead, with no backup made.
    pub(crate) backups_off: bool,
}

/// Whether `path` names a directory, following symlinks, or the error `stat` gave.
fn directory(path: &Path) -> Result<bool, Errno> {
    rustix::fs::stat(path).map(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir())
}

/// `path` without trailing slashes (but `/` stays `/`).
fn strip_trailing_slashes(path: &Path) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    match bytes.iter().rposition(|&b| b != b'/') {
        Some(end) => PathBuf::from(OsStr::from_bytes(&bytes[..=end])),
        None if bytes.is_empty() => PathBuf::new(),
        None => PathBuf::from("/"),
    }
}

fn into(dir: &Path, sources: &[PathBuf], opts: &Options) -> Plan {
    Plan {
        jobs: sources
            .iter()
            .map(|src| {
                let stripped;
                let src = if opts.strip_trailing_slashes {
                    stripped = strip_trailing_slashes(src);
                    &stripped
                } else {
                    src
                };
                if opts.parents {
                    // GNU keeps the whole name, leading and trailing slashes dropped: /a/b/ goes
                    // to dir/a/b (a trailing slash would make the destination's lstat follow
                    // a symlink there, and the copy go wherever it points).
                    let bytes = src.as_os_str().as_bytes();
                    let start = bytes.iter().position(|&b| b != b'/').unwrap_or(bytes.len());
                    let end = bytes
                        .iter()
                        .rposition(|&b| b != b'/')
                        .map_or(start, |e| e + 1);
                    let bytes = &bytes[..end.max(start)];
                    let name = OsStr::from_bytes(&bytes[start..]);
                    Job {
                        src: src.clone(),
                        dst: crate::fs::concat(dir, name),
                        into: Some(dir.to_path_buf()),
                        name: PathBuf::from(name),
                        parents: true,
                    }
                } else {
                    // `cp -r src/.. dir` copies into dir itself, never into dir/..: into
                    // dir/. (GNU skips the first dot).
                    // `/` has no last component: the name is empty (see copy_operand).
                    let base = match OsStr::from_bytes(crate::fs::dir_and_base(src).1) {
                        name if name == ".." => OsStr::new("."),
                        name => name,
                    };
                    Job {
                        src: src.clone(),
                        dst: crate::fs::concat(dir, base),
                        into: Some(dir.to_path_buf()),
                        name: PathBuf::from(base),
                        parents: false,
                    }
                }
            })
            .collect(),
        into_directory: true,
        backups_off: false,
    }
}

fn single(src: &Path, dst: &Path) -> Plan {
    Plan {
        jobs: vec![Job {
            src: src.to_path_buf(),
            dst: dst.to_path_buf(),
            into: None,
            name: dst.to_path_buf(),
            parents: false,
        }],
        into_directory: false,
        backups_off: false,
    }
}

/// Checks a target directory named by `-t` or by the last of several operands.
fn check_target(op: Op, dir: &Path) -> Result<(), Error> {
    match directory(dir) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::io(op, dir, Errno::NOTDIR)),
        Err(errno) => Err(Error::io(op, dir, errno)),
    }
}

/// Decides what goes where, in GNU cp's order of checks.
pub(crate) fn plan(opts: &Options) -> Result<Plan, Error> {
    let operands = &opts.operands;
    // GNU's do_copy counts the operands first (one with -t, else two), then refuses -t
    // with -T: `cp -T -t d` is a missing operand.
    match (operands.as_slice(), &opts.target_directory) {
        ([], _) => return Err(Error::Usage(Misuse::MissingOperand)),
        ([only], None) => return Err(Error::Usage(Misuse::MissingDestination(only.clone()))),
        (_, Some(_)) if opts.no_target_directory => return Err(Error::CombineTargets),
        _ => {}
    }
    if let Some(dir) = &opts.target_directory {
        check_target(Op::TargetDirectory, dir)?;
        return Ok(into(dir, operands, opts));
    }
    let [sources @ .., last] = operands.as_slice() else {
        unreachable!("two operands at least, counted above");
    };
    if opts.no_target_directory {
        if let [_, _, extra, ..] = operands.as_slice() {
            return Err(Error::Usage(Misuse::ExtraOperand(extra.clone())));
        }
        // GNU's do_copy: without a target directory, --parents is a usage error (after an extra operand).
        if opts.parents {
            return Err(Error::Usage(Misuse::ParentsNeedDirectory));
        }
        return Ok(
            onto_itself(opts, &sources[0], last).unwrap_or_else(|| single(&sources[0], last))
        );
    }
    if sources.len() > 1 {
        check_target(Op::Target, last)?;
        return Ok(into(last, sources, opts));
    }
    match directory(last) {
        Ok(true) => Ok(into(last, sources, opts)),
        // GNU's do_copy: only a copy of one file onto a name that is not a directory is
        // refused for --parents; with more operands the target's own error comes first.
        _ if opts.parents => Err(Error::Usage(Misuse::ParentsNeedDirectory)),
        _ => Ok(onto_itself(opts, &sources[0], last).unwrap_or_else(|| single(&sources[0], last))),
    }
}

/// GNU turns `cp --force --backup f f` (one name, an existing regular file) into a copy of f
/// to the name its backup would have, with no backup made (cp.c, do_copy).
fn onto_itself(opts: &Options, src: &Path, dst: &Path) -> Option<Plan> {
    let kind = opts.overwrite.backup?;
    let regular = rustix::fs::stat(dst)
        .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_file());
    if !opts.overwrite.force || src.as_os_str() != dst.as_os_str() || !regular {
        return None;
    }
    let at = At::cwd(dst);
    let mut backup = backup_name(at, kind, &opts.overwrite.suffix);
    // The backup is a copy made onto its name: a numbered one must not land on a backup
    // the directory's listing did not show (one its user may not read), which GNU 9.1
    // overwrites.
    while backup.number.is_some() && rustix::fs::lstat(beside(dst, &backup.name)).is_ok() {
        match backup.next(crate::fs::dir_and_base(dst).1) {
            Some(next) => backup = next,
            None => break,
        }
    }
    let name = beside(dst, &backup.name);
    let mut plan = single(src, &name);
    plan.backups_off = true;
    Some(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_the_users_slashes() {
        assert_eq!(
            crate::fs::concat(Path::new("d"), OsStr::new("a")),
            Path::new("d/a")
        );
        assert_eq!(
            crate::fs::concat(Path::new("d/"), OsStr::new("a")),
            Path::new("d/a")
        );
        // GNU's file_name_concat: trailing slashes become one; a root stays as it is.
        for (dir, joined) in [
            ("d//", "d/a"),
            ("./d/.//", "./d/./a"),
            ("/", "/a"),
            ("//", "//a"),
        ] {
            assert_eq!(
                crate::fs::concat(Path::new(dir), OsStr::new("a")),
                Path::new(joined)
            );
        }
    }
}
