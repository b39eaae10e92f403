//! The file whose attributes a copy sets: through its descriptor, or by name for a directory
//! opened O_PATH (one its user may not read), as GNU sets a directory's attributes by path.
//!
//! fchmod, futimens, fchown and the f*xattr calls refuse an O_PATH descriptor (EBADF); its
//! `/proc/self/fd` name reaches the same inode without a second lookup of the user's path,
//! so a directory renamed or replaced meanwhile is not the one changed. fstat works on both.

use rustix::fs::{Gid, Mode, Stat, Timestamps, Uid, XattrFlags};
use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::PathBuf;

/// A destination to set attributes on.
#[derive(Clone, Copy)]
pub(crate) struct Handle<'a> {
    fd: BorrowedFd<'a>,
    /// `fd` is an O_PATH descriptor: its attributes are set through its /proc name.
    by_name: bool,
}

impl<'a> From<BorrowedFd<'a>> for Handle<'a> {
    fn from(fd: BorrowedFd<'a>) -> Handle<'a> {
        Handle { fd, by_name: false }
    }
}

impl<'a> Handle<'a> {
    /// The O_PATH descriptor `fd`, whose attributes are set by name.
    pub(crate) fn path_only(fd: BorrowedFd<'a>) -> Handle<'a> {
        Handle { fd, by_name: true }
    }

    /// The descriptor, for calls that take an O_PATH one too (fstat, fstatfs, *at calls).
    pub(crate) fn fd(&self) -> BorrowedFd<'a> {
        self.fd
    }

    /// The name through which an O_PATH descriptor's inode is reached.
    fn name(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }

    pub(crate) fn stat(&self) -> rustix::io::Result<Stat> {
        rustix::fs::fstat(self.fd)
    }

    pub(crate) fn chmod(&self, mode: Mode) -> rustix::io::Result<()> {
        if self.by_name {
            return rustix::fs::chmod(self.name(), mode);
        }
        rustix::fs::fchmod(self.fd, mode)
    }

    pub(crate) fn chown(&self, owner: Option<Uid>, group: Option<Gid>) -> rustix::io::Result<()> {
        if self.by_name {
            return rustix::fs::chown(self.name(), owner, group);
        }
        rustix::fs::fchown(self.fd, owner, group)
    }

    pub(crate) fn set_times(&self, times: &Timestamps) -> rustix::io::Result<()> {
        if self.by_name {
            let cwd = rustix::fs::CWD.as_fd();
            return rustix::fs::utimensat(cwd, self.name(), times, rustix::fs::AtFlags::empty());
        }
        rustix::fs::futimens(self.fd, times)
    }

    /// The size of the xattr `name`'s value (whether it exists).
    pub(crate) fn xattr_size(&self, name: &str) -> rustix::io::Result<usize> {
        if self.by_name {
            return rustix::fs::getxattr_query(self.name(), name);
        }
        rustix::fs::fgetxattr_query(self.fd, name)
    }

    /// The xattr `name`'s value, of any length.
    pub(crate) fn xattr(&self, name: &str) -> rustix::io::Result<Vec<u8>> {
        if !self.by_name {
            return crate::fs::xattr::read_xattr(self.fd, name);
        }
        let mut value = vec![0u8; rustix::fs::getxattr_query(self.name(), name)?];
        let len = rustix::fs::getxattr(self.name(), name, &mut value[..])?;
        value.truncate(len);
        Ok(value)
    }

    pub(crate) fn set_xattr(&self, name: &OsStr, value: &[u8]) -> rustix::io::Result<()> {
        if self.by_name {
            return rustix::fs::setxattr(self.name(), name, value, XattrFlags::empty());
        }
        rustix::fs::fsetxattr(self.fd, name, value, XattrFlags::empty())
    }

    pub(crate) fn remove_xattr(&self, name: &OsStr) -> rustix::io::Result<()> {
        if self.by_name {
            return rustix::fs::removexattr(self.name(), name);
        }
        rustix::fs::fremovexattr(self.fd, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::{OFlags, Timespec};

    /// Every attribute call reaches a directory opened O_PATH, which the f* calls refuse.
    #[test]
    fn a_path_only_directory_takes_its_attributes_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let fd =
            rustix::fs::open(dir.path(), OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        assert!(rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o700)).is_err());
        let handle = Handle::path_only(fd.as_fd());
        handle.chmod(Mode::from_raw_mode(0o711)).unwrap();
        let when = Timespec {
            tv_sec: 1_000_000_000,
            tv_nsec: 5,
        };
        let times = Timestamps {
            last_access: when,
            last_modification: when,
        };
        handle.set_times(&times).unwrap();
        handle.chown(None, None).unwrap();
        let st = handle.stat().unwrap();
        assert_eq!(st.st_mode & 0o7777, 0o711);
        assert_eq!((st.st_mtime, st.st_mtime_nsec), (1_000_000_000, 5));
        match handle.set_xattr(OsStr::new("user.k"), b"v") {
            Ok(()) => {
                assert_eq!(handle.xattr_size("user.k").unwrap(), 1);
                handle.remove_xattr(OsStr::new("user.k")).unwrap();
            }
            Err(e) => assert_eq!(e, rustix::io::Errno::NOTSUP),
        }
    }
}
