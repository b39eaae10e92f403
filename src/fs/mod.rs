//! Small filesystem helpers every layer uses: a file named inside an open directory (`At`),
//! identities, file types, name joins, and backup names.

pub(crate) mod backup;
pub(crate) mod handle;
pub(crate) mod ids;
pub(crate) mod magic;
pub(crate) mod names;
pub(crate) mod newer;
pub(crate) mod xattr;

pub(crate) use names::{concat, dir_and_base, one_trailing_slash, without_trailing_slashes};

use rustix::fs::{AtFlags, FileType, RenameFlags, Stat};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A file's identity: device and inode.
pub(crate) type Id = (u64, u64);

pub(crate) fn id(st: &Stat) -> Id {
    (st.st_dev, st.st_ino)
}

pub(crate) fn file_type(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode)
}

/// A file to work on: a name inside an open directory (the current directory for command-line
/// operands), and the whole path shown in messages.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) dir: BorrowedFd<'a>,
    pub(crate) name: &'a Path,
    pub(crate) shown: &'a Path,
}

impl<'a> At<'a> {
    /// `path` named from the current directory, as a command-line operand is.
    pub(crate) fn cwd(path: &'a Path) -> At<'a> {
        At {
            dir: rustix::fs::CWD,
            name: path,
            shown: path,
        }
    }

    /// `stat`, following a final symlink or not.
    pub(crate) fn stat(&self, follow: bool) -> rustix::io::Result<Stat> {
        let flags = if follow {
            AtFlags::empty()
        } else {
            AtFlags::SYMLINK_NOFOLLOW
        };
        rustix::fs::statat(self.dir, self.name, flags)
    }
}

/// A name as GNU's file-set compares them (gnulib's same_name): the file, its last
/// component, and its directory as `lstat` sees that (`l/x`, l a symlink to s, is another
/// name than `s/x`; `s/./x` is the same).
pub(crate) type NameKey = (Id, OsString, Option<Id>);

pub(crate) fn name_key(path: &Path, st: &Stat) -> NameKey {
    let (dir, base) = dir_and_base(path);
    let dir_id = rustix::fs::lstat(dir).ok().map(|st| id(&st));
    (id(st), OsStr::from_bytes(base).to_os_string(), dir_id)
}

/// A destination as GNU's dest_info finds it again: the file and its name as spelled
/// (relative to the target: every operand's destination is the target joined with it).
/// GNU's table hashes the whole name string, so `d/a/./f` (from `--parents a/./f`) is
/// another name than `d/a/f`, though same_name would call them one.
pub(crate) type DestKey = (Id, OsString);

pub(crate) fn dest_key(path: &Path, st: &Stat) -> DestKey {
    (id(st), path.as_os_str().to_os_string())
}

/// Renames onto a name that is free: a file there (created meanwhile, or not seen in a
/// directory that could not be listed) is someone else's and stays, as an exclusive create
/// would refuse (EEXIST). Where the filesystem has no RENAME_NOREPLACE (EINVAL: NFS, some
/// FUSE), it is looked for just before.
pub(crate) fn rename_new(dir: BorrowedFd<'_>, from: &Path, to: &Path) -> rustix::io::Result<()> {
    match rustix::fs::renameat_with(dir, from, dir, to, RenameFlags::NOREPLACE) {
        Err(Errno::INVAL) => match rustix::fs::statat(dir, to, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => Err(Errno::EXIST),
            Err(Errno::NOENT) => rustix::fs::renameat(dir, from, dir, to),
            Err(e) => Err(e),
        },
        result => result,
    }
}
