//! Attributes after the data: owner, permission bits, timestamps and extended attributes, in
//! the order GNU cp applies them (owner first, since chown clears setuid bits; times last, since
//! every other change touches ctime and a directory's contents touch its mtime).

use crate::error::{Error, Op};
use crate::options::{Preserve, XattrErrors};
use rustix::fs::{AtFlags, Gid, Mode, Stat, Timestamps, Uid};
use rustix::io::Errno;
use std::os::fd::BorrowedFd;
use std::path::Path;

/// Permission bits chmod can set, setuid/setgid/sticky included.
pub(crate) const MODE_BITS: u32 = 0o7777;

/// The process umask, read once (reading it means setting it, so it is put back at once).
pub(crate) fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let old = rustix::process::umask(Mode::empty());
        rustix::process::umask(old);
        old.as_raw_mode()
    })
}

/// Group and other bits held back at creation while the owner is still root's: set once the
/// chown is done.
pub(crate) fn held_back(preserve: &Preserve, bits: u32) -> u32 {
    if preserve.ownership { bits & 0o077 } else { 0 }
}

/// Whether this process may give files away (root, or CAP_CHOWN in practice).
fn privileged() -> bool {
    rustix::process::geteuid().is_root()
}

/// The source's access and modification times, to the nanosecond.
pub(crate) fn times(st: &Stat) -> Timestamps {
    Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: st.st_atime,
            tv_nsec: i64::try_from(st.st_atime_nsec).unwrap_or(0),
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: st.st_mtime,
            tv_nsec: i64::try_from(st.st_mtime_nsec).unwrap_or(0),
        },
    }
}

/// Gives `fd` the source's owner and group. Returns whether it worked: an unprivileged user
/// may not give files away, and GNU cp then keeps quiet (EPERM/EINVAL) and drops setuid bits.
fn chown(fd: BorrowedFd<'_>, src: &Stat, shown: &Path) -> Result<bool, Error> {
    let owner = Some(Uid::from_raw(src.st_uid));
    let group = Some(Gid::from_raw(src.st_gid));
    match rustix::fs::fchown(fd, owner, group) {
        Ok(()) => Ok(true),
        Err(e) if (e == Errno::PERM || e == Errno::INVAL) && !privileged() => {
            // Keep at least the group, which a member may set.
            let _ = rustix::fs::fchown(fd, None, group);
            Ok(false)
        }
        Err(e) => Err(Error::io(Op::PreserveOwnership, shown, e)),
    }
}

/// Applies the preserved attributes of `src` to the open destination `fd`. `created_mode` is
/// the mode to restore when permissions are not preserved but were widened for filling a
/// directory.
pub(crate) fn apply(
    fd: BorrowedFd<'_>,
    src_fd: Option<BorrowedFd<'_>>,
    src: &Stat,
    preserve: &Preserve,
    shown: &Path,
) -> Result<(), Error> {
    let mut owned = true;
    if preserve.ownership {
        owned = chown(fd, src, shown)?;
    }
    if preserve.xattr
        && let Some(src_fd) = src_fd
        && let Err(e) = copy_xattrs(src_fd, fd, shown)
    {
        match preserve.xattr_errors {
            XattrErrors::Fail => return Err(e),
            XattrErrors::Report => crate::report::error(&e),
            XattrErrors::Silent => {}
        }
    }
    if preserve.mode {
        let mut mode = src.st_mode & MODE_BITS;
        if !owned {
            mode &= !0o6000;
        }
        rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))
            .map_err(|e| Error::io(Op::PreservePermissions, shown, e))?;
    }
    if preserve.timestamps {
        rustix::fs::futimens(fd, &times(src))
            .map_err(|e| Error::io(Op::PreserveTimes, shown, e))?;
    }
    Ok(())
}

/// Applies owner and times to a symlink itself (`-a`): symlinks have no mode of their own.
pub(crate) fn apply_symlink(
    dir: BorrowedFd<'_>,
    name: &Path,
    src: &Stat,
    preserve: &Preserve,
    shown: &Path,
) -> Result<(), Error> {
    if preserve.ownership {
        let owner = Some(Uid::from_raw(src.st_uid));
        let group = Some(Gid::from_raw(src.st_gid));
        match rustix::fs::chownat(dir, name, owner, group, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(()) => {}
            Err(Errno::PERM | Errno::INVAL) if !privileged() => {}
            Err(e) => return Err(Error::io(Op::PreserveOwnership, shown, e)),
        }
    }
    if preserve.timestamps {
        rustix::fs::utimensat(dir, name, &times(src), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| Error::io(Op::PreserveTimes, shown, e))?;
    }
    Ok(())
}

/// Copies every extended attribute (ACLs are stored as ones). A filesystem without xattrs is
/// not an error, as in GNU cp.
fn copy_xattrs(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, shown: &Path) -> Result<(), Error> {
    let unsupported = |e: Errno| e == Errno::NOTSUP || e == Errno::NODATA;
    let size = match rustix::fs::flistxattr_query(src) {
        Ok(0) => return Ok(()),
        Ok(size) => size,
        Err(e) if unsupported(e) => return Ok(()),
        Err(e) => return Err(Error::io(Op::PreservePermissions, shown, e)),
    };
    let mut names = vec![0u8; size];
    let len = match rustix::fs::flistxattr(src, &mut names[..]) {
        Ok(len) => len,
        Err(e) if unsupported(e) => return Ok(()),
        Err(e) => return Err(Error::io(Op::PreservePermissions, shown, e)),
    };
    for name in names[..len].split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::ffi::OsStr::new(std::str::from_utf8(name).unwrap_or_default());
        if name.is_empty() {
            continue;
        }
        let Ok(vsize) = rustix::fs::fgetxattr_query(src, name) else {
            continue;
        };
        let mut value = vec![0u8; vsize];
        let Ok(vlen) = rustix::fs::fgetxattr(src, name, &mut value[..]) else {
            continue;
        };
        match rustix::fs::fsetxattr(dst, name, &value[..vlen], rustix::fs::XattrFlags::empty()) {
            Ok(()) => {}
            Err(e) if unsupported(e) => return Ok(()),
            Err(e) => return Err(Error::io(Op::PreservePermissions, shown, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    /// Errors after the data are reported, never swallowed: an fd that cannot be changed
    /// (O_PATH) makes each attribute step fail with its own message.
    #[test]
    fn attribute_failures_are_errors() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let st = rustix::fs::stat(file.path()).unwrap();
        let fd = rustix::fs::open(file.path(), rustix::fs::OFlags::PATH, Mode::empty()).unwrap();
        let cases = [
            (
                Preserve {
                    mode: true,
                    ..Preserve::default()
                },
                "failed to preserve permissions for",
            ),
            (
                Preserve {
                    timestamps: true,
                    ..Preserve::default()
                },
                "failed to preserve times for",
            ),
            (
                Preserve {
                    ownership: true,
                    ..Preserve::default()
                },
                "failed to preserve ownership for",
            ),
        ];
        for (preserve, message) in cases {
            let err = apply(fd.as_fd(), None, &st, &preserve, Path::new("x")).unwrap_err();
            assert!(err.to_string().starts_with(message), "{err}");
        }
    }
}
