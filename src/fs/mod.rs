//! Small filesystem helpers every layer uses: a file named inside an open directory (`At`),
//! identities, file types, name joins, and backup names.

pub(crate) mod backup;
pub(crate) mod ids;
pub(crate) mod magic;

use rustix::fs::{AtFlags, FileType, Stat};
use std::ffi::{OsStr, OsString};
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

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

impl At<'_> {
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

/// A name's directory and last component as GNU's dir_name and last_component see them
/// (trailing slashes ignored; `a/.` ends in `.`, and `t/s/./x` is in `t/s/.`, which goes
/// through a symlink t/s where `t/s` would not). Path::parent and Path::file_name drop `.`
/// components, and so decide otherwise for a name spelled through a symlink.
pub(crate) fn dir_and_base(path: &Path) -> (&Path, &[u8]) {
    let bytes = path.as_os_str().as_bytes();
    let end = bytes.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let trimmed = &bytes[..end];
    match trimmed.iter().rposition(|&b| b == b'/') {
        Some(slash) => {
            let dir_end = trimmed[..slash]
                .iter()
                .rposition(|&b| b != b'/')
                .map_or(1, |i| i + 1);
            let dir = Path::new(OsStr::from_bytes(&trimmed[..dir_end]));
            (dir, &trimmed[slash + 1..])
        }
        None => (Path::new("."), trimmed),
    }
}

/// `path` with its trailing slashes made one, as GNU's file_name_concat drops them before
/// it adds its own: `d//` is `d/`. A path of slashes only (a root) is kept whole.
pub(crate) fn one_trailing_slash(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b != b'/') {
        Some(last) if last + 2 < path.len() => &path[..last + 2],
        _ => path,
    }
}

/// `path` without its trailing slashes, so that lstat looks at a final symlink itself (with
/// a slash the kernel follows it). A path of slashes only (a root) is kept whole.
pub(crate) fn without_trailing_slashes(path: &Path) -> &Path {
    let bytes = path.as_os_str().as_bytes();
    match bytes.iter().rposition(|&b| b != b'/') {
        Some(last) => Path::new(OsStr::from_bytes(&bytes[..=last])),
        None => path,
    }
}

/// `dir/name` with the slashes the user gave, as GNU's file_name_concat: `d/` + `f` and
/// `d//` + `f` are `d/f`, `/` + `f` is `/f`.
pub(crate) fn concat(dir: &Path, name: &OsStr) -> PathBuf {
    let dir = one_trailing_slash(dir.as_os_str().as_bytes());
    // One allocation of the final size, per name of a tree walk.
    let mut bytes = Vec::with_capacity(dir.len() + 1 + name.len());
    bytes.extend_from_slice(dir);
    if !bytes.ends_with(b"/") {
        bytes.push(b'/');
    }
    bytes.extend_from_slice(name.as_bytes());
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}
