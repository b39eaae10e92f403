//! The one error type: every failure names what was being done and the path, in GNU cp's words.

mod bad_option;
pub(crate) mod misuse;
pub(crate) mod quote;

pub(crate) use bad_option::BadOption;

use crate::error::misuse::Misuse;
use crate::error::quote::{quote, quotef};
use rustix::io::Errno;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// What was being done to a path when the system said no; each prints as GNU cp words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Stat,
    OpenRead,
    Fstat,
    CreateRegular,
    Read,
    Write,
    /// Setting the length of a copy that ends in a hole (copy.c's words).
    Extend,
    /// Writing a hole's zeros (copy.c's lseek_copy words it so, the name quoted by quotef).
    WriteZeros,
    /// Punching a hole in a copy under --sparse=always (copy.c's words).
    Deallocate,
    Close,
    Target,
    TargetDirectory,
    Access,
    CreateDirectory,
    /// Making a parent directory under --parents (cp.c words it so, copy.c otherwise).
    MakeDirectory,
    /// Stat of a --parents leading directory (cp.c's make_dir_parents_private).
    GetAttributes,
    /// Making a new --parents directory writable for its contents (cp.c).
    SetPermissions,
    CreateSymlink,
    CreateFifo,
    CreateSpecial,
    ReadLink,
    Remove,
    Backup,
    Unbackup,
    PreserveOwnership,
    /// The same for a symlink: copy.c names it unquoted there.
    PreserveLinkOwnership,
    /// The words of cp.c's re_protect (--parents), also for xattrs not copied.
    PreservePermissions,
    /// Copying an ACL or the mode (gnulib's copy_acl words it so, and quotes as the locale
    /// does).
    CopyAcl,
    /// The words of cp.c's re_protect (--parents).
    PreserveTimes,
    /// copy.c's words for the times of a file copied.
    SetTimes,
    /// set_owner's words for an existing destination it could not narrow before a chown.
    ClearPermissions,
    /// copy.c's words for the bits held back at creation, given back (or a mode restored).
    RestorePermissions,
    /// gnulib's set_acl (the default mode under --no-preserve=mode), quoted as copy_acl.
    SetAcl,
}

impl Op {
    /// What failed on `path`, quoted as GNU quotes it there: gnulib's copy_acl with quote(),
    /// as the locale does (‘x’ in UTF-8); everything else as quoteaf.
    fn message(self, path: &Path) -> String {
        let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
        match self {
            Op::CopyAcl | Op::SetAcl => self.describe(&quote::locale_quote(bytes)),
            Op::WriteZeros => format!("{}: write failed", quotef(path)),
            Op::PreserveLinkOwnership => self.describe(&path.to_string_lossy()),
            _ => self.describe(&q(path)),
        }
    }

    fn describe(self, path: &str) -> String {
        match self {
            Op::Stat => format!("cannot stat {path}"),
            Op::OpenRead => format!("cannot open {path} for reading"),
            Op::Fstat => format!("cannot fstat {path}"),
            Op::CreateRegular => format!("cannot create regular file {path}"),
            Op::Read => format!("error reading {path}"),
            Op::Write => format!("error writing {path}"),
            Op::Extend => format!("failed to extend {path}"),
            Op::WriteZeros => format!("{path}: write failed"),
            Op::Deallocate => format!("error deallocating {path}"),
            Op::Close => format!("failed to close {path}"),
            Op::Target => format!("target {path}"),
            Op::TargetDirectory => format!("target directory {path}"),
            Op::Access => format!("cannot access {path}"),
            Op::CreateDirectory => format!("cannot create directory {path}"),
            Op::MakeDirectory => format!("cannot make directory {path}"),
            Op::GetAttributes => format!("failed to get attributes of {path}"),
            Op::SetPermissions => format!("setting permissions for {path}"),
            Op::CreateSymlink => format!("cannot create symbolic link {path}"),
            Op::CreateFifo => format!("cannot create fifo {path}"),
            Op::CreateSpecial => format!("cannot create special file {path}"),
            Op::ReadLink => format!("cannot read symbolic link {path}"),
            Op::Remove => format!("cannot remove {path}"),
            Op::Backup => format!("cannot backup {path}"),
            Op::Unbackup => format!("cannot un-backup {path}"),
            Op::PreserveOwnership | Op::PreserveLinkOwnership => {
                format!("failed to preserve ownership for {path}")
            }
            Op::PreservePermissions => format!("failed to preserve permissions for {path}"),
            Op::CopyAcl => format!("preserving permissions for {path}"),
            Op::PreserveTimes => format!("failed to preserve times for {path}"),
            Op::SetTimes => format!("preserving times for {path}"),
            Op::ClearPermissions => format!("clearing permissions for {path}"),
            Op::RestorePermissions => format!("preserving permissions for {path}"),
            Op::SetAcl => format!("setting permissions for {path}"),
        }
    }
}

/// What --atomic could not do for the file it was to replace, which is then left as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Keep {
    Create,
    Rename,
    Owner,
    Flags,
    Xattrs,
    Xattr(OsString),
    Mode,
}

impl Keep {
    fn describe(&self) -> String {
        match self {
            Keep::Create => "creating a temporary file beside it".into(),
            Keep::Rename => "renaming the temporary file onto it".into(),
            Keep::Owner => "keeping its owner and group".into(),
            Keep::Flags => "keeping its file attributes (chattr)".into(),
            Keep::Xattrs => "keeping its extended attributes".into(),
            Keep::Xattr(name) => format!("keeping its extended attribute {}", quote(name)),
            Keep::Mode => "keeping its permissions".into(),
        }
    }
}

/// A file type as GNU's file_type() names it, for messages.
fn kind_name(mode: u32) -> &'static str {
    match mode & 0o170000 {
        0o100000 => "regular file",
        0o040000 => "directory",
        0o120000 => "symbolic link",
        0o010000 => "fifo",
        0o140000 => "socket",
        0o020000 => "character special file",
        0o060000 => "block special file",
        _ => "weird file",
    }
}

/// Everything that can go wrong, with the paths involved.
#[derive(Debug)]
pub(crate) enum Error {
    /// A system call on `path` failed.
    Io { op: Op, path: PathBuf, errno: Errno },
    /// Source and destination are one file; copying would truncate the source.
    SameFile { src: PathBuf, dst: PathBuf },
    /// A directory given without `-r`.
    OmitDirectory(PathBuf),
    /// The destination is a directory and the source is not.
    OverwriteDirectory(PathBuf),
    /// The destination is a symlink to nothing; GNU refuses to create its target.
    DanglingSymlink(PathBuf),
    /// Two sources of this run map to one destination.
    JustCreated { dst: PathBuf, src: PathBuf },
    /// The backup of the destination would be made by renaming over the source.
    BackupDestroysSource { dst: PathBuf, src: PathBuf },
    /// A command-line source would be written through a symlink this run created.
    ThroughJustCreated { src: PathBuf, dst: PathBuf },
    /// A second path to a directory already copied, which would need a hard link to it.
    HardLinkToDirectory { dst: PathBuf, dir: PathBuf },
    /// -s with a relative source, making the link outside the current directory.
    RelativeSymlink(PathBuf),
    /// A directory source over an existing non-directory.
    OverwriteNonDirectory { dst: PathBuf, src: PathBuf },
    /// A directory met again inside its own copy (GNU names the top-level pair).
    IntoItself { src: PathBuf, dst: PathBuf },
    /// A second name of an already copied file could not be linked to its copy.
    HardLink {
        dst: PathBuf,
        target: PathBuf,
        errno: Errno,
    },
    /// -s could not make the symbolic link.
    SymbolicLink {
        dst: PathBuf,
        target: PathBuf,
        errno: Errno,
    },
    /// --reflink=always, and the filesystem cannot clone.
    CloneFailed {
        dst: PathBuf,
        src: PathBuf,
        errno: Errno,
    },
    /// A call that reads and writes at once (sendfile, copy_file_range) failed.
    Copying {
        src: PathBuf,
        dst: PathBuf,
        errno: Errno,
    },
    /// --verify or --compare read back a copy that differs from its source at byte `at`.
    VerifyFailed { src: PathBuf, dst: PathBuf, at: u64 },
    /// The source changed identity between stat and open.
    Replaced(PathBuf),
    /// An explicitly chosen method was refused by the kernel for this file.
    MethodRefused {
        method: &'static str,
        src: PathBuf,
        dst: PathBuf,
        reason: MethodRefusal,
    },
    /// --atomic could not replace `dst` as writing in place would have (see [`Keep`]).
    Atomic {
        dst: PathBuf,
        keep: Keep,
        errno: Errno,
    },
    /// --compare writes only to a new name or a regular file; `dst` is neither (its st_mode).
    CompareTarget { dst: PathBuf, mode: u32 },
    /// A signal asked the copy to stop; nothing is printed for it.
    Interrupted,
    /// A failure GNU reports with no message (see metadata::narrow_before_chown).
    Unreported,
    /// A bad command line; GNU adds the `Try '... --help'` line.
    Usage(Misuse),
    /// -t and -T together.
    CombineTargets,
    /// Following symlinks, a directory met itself below itself.
    CyclicSymlink(PathBuf),
    /// --parents: a directory of the source's path is something else in the destination.
    ParentNotDirectory(PathBuf),
    /// --compare: one method could not copy the file.
    CompareFailed { method: &'static str, src: PathBuf },
    /// --compare --to-socket: a transfer's byte counts disagree with the source's size.
    CompareBytes {
        method: String,
        src: PathBuf,
        size: u64,
        sent: u64,
        received: u64,
    },
    /// A bug: a panic, reported in one line.
    Internal(String),
    /// An option getopt_long(3) refuses.
    BadOption(BadOption),
    /// Options GNU cp refuses, alone or together.
    Refused(Refusal),
    /// Standard output could not be written (reported at exit, as gnulib's close_stdout): the
    /// reason is the last write's, or none when only an earlier write failed (C stdio's
    /// fclose then succeeds and close_stream clears errno).
    StdoutWrite(Option<Errno>),
}

/// Why an explicit --method could not copy a file.
#[derive(Debug)]
pub(crate) enum MethodRefusal {
    /// The kernel refused the method for this pair of files.
    Kernel(Errno),
    /// The method (named) copied nothing from a source that has data.
    CopiedNothing(&'static str),
}

impl fmt::Display for MethodRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodRefusal::Kernel(errno) => f.write_str(&strerror(*errno)),
            MethodRefusal::CopiedNothing(method) => {
                write!(f, "{method} copied nothing, but the file has data")
            }
        }
    }
}

/// Options GNU cp refuses once it has read them, in its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `-t` given twice.
    MultipleTargetDirectories,
    /// `-l` with `-s`.
    HardAndSymbolicLinks,
    /// A backup (`-b`, `--backup`, `-S`) with `-n`.
    BackupAndNoClobber,
    /// `--reflink=always` with `--sparse` other than auto.
    ReflinkNeedsSparseAuto,
    /// `--preserve=context` on a system without SELinux.
    PreserveContext,
    /// `--context=CTX` on a system without SELinux: a warning, the copy goes on.
    IgnoringContext,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::MultipleTargetDirectories => "multiple target directories specified",
            Refusal::HardAndSymbolicLinks => "cannot make both hard and symbolic links",
            Refusal::BackupAndNoClobber => {
                "options --backup and --no-clobber are mutually exclusive"
            }
            Refusal::ReflinkNeedsSparseAuto => "--reflink can be used only with --sparse=auto",
            Refusal::PreserveContext => {
                "cannot preserve security context without an SELinux-enabled kernel"
            }
            Refusal::IgnoringContext => "ignoring --context; it requires an SELinux-enabled kernel",
        })
    }
}

impl Error {
    pub(crate) fn io(op: Op, path: impl AsRef<Path>, errno: Errno) -> Error {
        Error::Io {
            op,
            path: path.as_ref().to_path_buf(),
            errno,
        }
    }

    /// The message as bytes: an option getopt refuses is printed as typed, which need not
    /// be UTF-8; every other message is the text.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        match self {
            Error::BadOption(bad) => bad.to_bytes(),
            other => other.to_string().into_bytes(),
        }
    }

    /// Whether GNU follows this message with `Try 'cp --help' for more information.`
    pub(crate) fn wants_usage_hint(&self) -> bool {
        match self {
            Error::Usage(_) | Error::BadOption(_) => true,
            Error::Refused(r) => matches!(
                r,
                Refusal::HardAndSymbolicLinks
                    | Refusal::BackupAndNoClobber
                    | Refusal::ReflinkNeedsSparseAuto
            ),
            _ => false,
        }
    }
}

/// The C library's text for an errno, without Rust's `(os error N)` suffix.
pub(crate) fn strerror(errno: Errno) -> String {
    let text = std::io::Error::from_raw_os_error(errno.raw_os_error()).to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn q(path: &Path) -> String {
    quote(path.as_os_str())
}

/// The errno a failure carries, for callers that look past the message.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { errno, .. }
            | Error::HardLink { errno, .. }
            | Error::SymbolicLink { errno, .. }
            | Error::CloneFailed { errno, .. }
            | Error::Copying { errno, .. }
            | Error::Atomic { errno, .. }
            | Error::StdoutWrite(Some(errno))
            | Error::MethodRefused {
                reason: MethodRefusal::Kernel(errno),
                ..
            } => Some(errno),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SameFile { .. }
            | Error::OmitDirectory(_)
            | Error::OverwriteDirectory(_)
            | Error::DanglingSymlink(_)
            | Error::JustCreated { .. }
            | Error::BackupDestroysSource { .. }
            | Error::ThroughJustCreated { .. }
            | Error::HardLinkToDirectory { .. }
            | Error::RelativeSymlink(_)
            | Error::OverwriteNonDirectory { .. }
            | Error::IntoItself { .. }
            | Error::Replaced(_)
            | Error::CyclicSymlink(_)
            | Error::ParentNotDirectory(_) => self.fmt_decision(f),
            Error::Io { .. }
            | Error::HardLink { .. }
            | Error::SymbolicLink { .. }
            | Error::CloneFailed { .. }
            | Error::Copying { .. }
            | Error::VerifyFailed { .. }
            | Error::MethodRefused { .. }
            | Error::Atomic { .. }
            | Error::CompareTarget { .. }
            | Error::CompareFailed { .. }
            | Error::CompareBytes { .. } => self.fmt_system(f),
            Error::Interrupted => f.write_str("interrupted"),
            Error::Unreported => Ok(()),
            Error::Usage(misuse) => misuse.fmt(f),
            Error::CombineTargets => {
                f.write_str("cannot combine --target-directory (-t) and --no-target-directory (-T)")
            }
            Error::Internal(what) => write!(f, "internal error, please report it: {what}"),
            Error::BadOption(bad) => bad.fmt(f),
            Error::Refused(refusal) => refusal.fmt(f),
            Error::StdoutWrite(Some(errno)) => write!(f, "write error: {}", strerror(*errno)),
            Error::StdoutWrite(None) => write!(f, "write error"),
        }
    }
}

impl Error {
    /// GNU cp's refusals: what it decided not to do, and why.
    fn fmt_decision(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SameFile { src, dst } => {
                write!(f, "{} and {} are the same file", q(src), q(dst))
            }
            Error::OmitDirectory(p) => write!(f, "-r not specified; omitting directory {}", q(p)),
            Error::OverwriteDirectory(p) => {
                write!(f, "cannot overwrite directory {} with non-directory", q(p))
            }
            Error::DanglingSymlink(p) => {
                write!(f, "not writing through dangling symlink {}", q(p))
            }
            Error::JustCreated { dst, src } => write!(
                f,
                "will not overwrite just-created {} with {}",
                q(dst),
                q(src)
            ),
            Error::BackupDestroysSource { dst, src } => write!(
                f,
                "backing up {} might destroy source;  {} not copied",
                q(dst),
                q(src)
            ),
            Error::ThroughJustCreated { src, dst } => write!(
                f,
                "will not copy {} through just-created symlink {}",
                q(src),
                q(dst)
            ),
            Error::HardLinkToDirectory { dst, dir } => write!(
                f,
                "will not create hard link {} to directory {}",
                q(dst),
                q(dir)
            ),
            Error::RelativeSymlink(dst) => write!(
                f,
                "{}: can make relative symbolic links only in current directory",
                quotef(dst)
            ),
            Error::OverwriteNonDirectory { dst, src } => write!(
                f,
                "cannot overwrite non-directory {} with directory {}",
                q(dst),
                q(src)
            ),
            Error::IntoItself { src, dst } => write!(
                f,
                "cannot copy a directory, {}, into itself, {}",
                q(src),
                q(dst)
            ),
            Error::Replaced(p) => write!(
                f,
                "skipping file {}, as it was replaced while being copied",
                q(p)
            ),
            Error::CyclicSymlink(src) => write!(f, "cannot copy cyclic symbolic link {}", q(src)),
            Error::ParentNotDirectory(dir) => {
                write!(f, "{} exists but is not a directory", q(dir))
            }
            _ => Ok(()),
        }
    }

    /// What the system refused, with its errno, and the failures of fastcp's own modes.
    fn fmt_system(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, errno } => {
                write!(f, "{}: {}", op.message(path), strerror(*errno))
            }
            Error::HardLink { dst, target, errno } => write!(
                f,
                "cannot create hard link {} to {}: {}",
                q(dst),
                q(target),
                strerror(*errno)
            ),
            Error::SymbolicLink { dst, target, errno } => write!(
                f,
                "cannot create symbolic link {} to {}: {}",
                q(dst),
                q(target),
                strerror(*errno)
            ),
            Error::CloneFailed { dst, src, errno } => write!(
                f,
                "failed to clone {} from {}: {}",
                q(dst),
                q(src),
                strerror(*errno)
            ),
            Error::Copying { src, dst, errno } => write!(
                f,
                "error copying {} to {}: {}",
                q(src),
                q(dst),
                strerror(*errno)
            ),
            Error::VerifyFailed { src, dst, at } => write!(
                f,
                "verification failed: {} differs from {} at byte {at}",
                q(dst),
                q(src)
            ),
            Error::MethodRefused {
                method,
                src,
                dst,
                reason,
            } => write!(
                f,
                "cannot copy {} to {} with --method={method}: {reason}",
                q(src),
                q(dst)
            ),
            Error::Atomic { dst, keep, errno } => write!(
                f,
                "cannot replace {} with --atomic: {}: {}",
                q(dst),
                keep.describe(),
                strerror(*errno)
            ),
            Error::CompareTarget { dst, mode } => write!(
                f,
                "--compare writes only to a new name or a regular file: {} is a {}",
                q(dst),
                kind_name(*mode)
            ),
            Error::CompareFailed { method, src } => {
                write!(f, "{method} could not copy {}", q(src))
            }
            Error::CompareBytes {
                method,
                src,
                size,
                sent,
                received,
            } => write!(
                f,
                "{method}: {} has {size} bytes, but {sent} were sent and {received} received",
                q(src)
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_has_no_rust_suffix() {
        assert_eq!(strerror(Errno::NOENT), "No such file or directory");
        assert_eq!(strerror(Errno::NOSPC), "No space left on device");
    }

    #[test]
    fn io_error_names_operation_and_path() {
        let e = Error::io(Op::OpenRead, "a b", Errno::ACCESS);
        assert_eq!(
            e.to_string(),
            "cannot open 'a b' for reading: Permission denied"
        );
    }
}
