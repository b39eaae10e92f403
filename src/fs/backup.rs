//! Backup names (GNU's find_backup_file_name): `name~`, the -S suffix, or the next `name.~N~`.

use super::{At, dir_and_base};
use crate::options::Backup;
use rustix::fs::{Mode, OFlags};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The number of the next free `name.~N~`, and whether any numbered backup exists already.
/// A directory that cannot be listed shows none: the rename then must not replace one.
fn numbered(dst: At<'_>) -> (u64, bool) {
    let (parent, name) = dir_and_base(dst.name);
    let name = name.to_vec();
    let mut highest = 0u64;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let dir_fd = rustix::fs::openat(dst.dir, parent, flags, Mode::empty()).ok();
    if let Some(fd) = dir_fd
        && let Ok(mut dir) = rustix::fs::Dir::read_from(&fd)
    {
        let mut prefix = name.clone();
        prefix.extend_from_slice(b".~");
        while let Some(Ok(entry)) = dir.read() {
            let entry_name = entry.file_name().to_bytes();
            if let Some(rest) = entry_name.strip_prefix(prefix.as_slice())
                && let Some(digits) = rest.strip_suffix(b"~")
                && !digits.is_empty()
                && digits.iter().all(u8::is_ascii_digit)
                && let Ok(n) = std::str::from_utf8(digits).unwrap_or("0").parse::<u64>()
            {
                highest = highest.max(n);
            }
        }
    }
    (highest + 1, highest > 0)
}

/// `base.~n~`.
fn numbered_name(base: &[u8], n: u64) -> OsString {
    let mut name = base.to_vec();
    name.extend_from_slice(format!(".~{n}~").as_bytes());
    OsString::from_vec(name)
}

/// The simple backup name of `dst` (`name~`, or the -S suffix), beside it.
pub(crate) fn simple_name(dst: &Path, suffix: &std::ffi::OsStr) -> OsString {
    let mut name = OsStr::from_bytes(dir_and_base(dst).1).to_os_string();
    name.push(suffix);
    name
}

/// `path` with its last component replaced by `name`, as GNU spells a backup's name: the
/// directory as the user named it (`l/./f` is backed up as `l/./f~`).
pub(crate) fn beside(path: &Path, name: &OsString) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    let end = bytes.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let start = bytes[..end]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    let mut out = bytes[..start].to_vec();
    out.extend_from_slice(name.as_bytes());
    PathBuf::from(OsString::from_vec(out))
}

/// A name to back a file up under.
#[derive(Debug, PartialEq)]
pub(crate) struct BackupName {
    pub(crate) name: OsString,
    /// Its number, for a numbered name (`name.~N~`): one that must not replace a file of
    /// that name, but take the next number.
    pub(crate) number: Option<u64>,
}

impl BackupName {
    /// The next numbered name after this one, for the file `base`.
    pub(crate) fn next(&self, base: &[u8]) -> Option<BackupName> {
        let n = self.number?.checked_add(1)?;
        Some(BackupName {
            name: numbered_name(base, n),
            number: Some(n),
        })
    }
}

/// The name `dst` is backed up under, in its directory (GNU's find_backup_file_name).
pub(crate) fn backup_name(dst: At<'_>, kind: Backup, suffix: &std::ffi::OsStr) -> BackupName {
    let base = dir_and_base(dst.name).1;
    let simple = |name| BackupName { name, number: None };
    let numbered_one = |n| BackupName {
        name: numbered_name(base, n),
        number: Some(n),
    };
    match (kind, numbered(dst)) {
        (Backup::Simple, _) => simple(simple_name(dst.name, suffix)),
        (Backup::Numbered | Backup::Existing, (n, true)) => numbered_one(n),
        (Backup::Numbered, (n, false)) => {
            let name = numbered_name(base, n);
            match fit(&name, base) {
                Some(cut) => simple(cut),
                None => numbered_one(n),
            }
        }
        (Backup::Existing, (_, false)) => {
            let name = simple_name(dst.name, suffix);
            simple(fit(&name, base).unwrap_or(name))
        }
    }
}

/// A first backup name too long for the directory is cut to fit, as gnulib's
/// check_extension does for the names it makes up (not for --backup=simple): the file's own
/// name shortened, then `~`. It allows one byte less than NAME_MAX (255 here).
/// None when it fits as it is.
fn fit(name: &OsStr, base: &[u8]) -> Option<OsString> {
    const MOST: usize = 254;
    if name.len() <= MOST {
        return None;
    }
    let mut cut = base[..base.len().min(MOST - 1)].to_vec();
    cut.push(b'~');
    Some(OsString::from_vec(cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_named_beside_the_name_as_spelled() {
        let beside = |p: &str| beside(Path::new(p), &"n~".into());
        assert_eq!(beside("l/./f"), Path::new("l/./n~"));
        assert_eq!(beside("a//f"), Path::new("a//n~"));
        assert_eq!(beside("/f"), Path::new("/n~"));
        assert_eq!(beside("f"), Path::new("n~"));
    }
}
