//! Backup names (GNU's find_backup_file_name): `name~`, the -S suffix, or the next `name.~N~`.

use super::{At, dir_and_base};
use crate::options::Backup;
use rustix::fs::{Mode, OFlags};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The next free `name.~N~`, and whether any numbered backup exists already.
fn numbered(dst: At<'_>) -> (OsString, bool) {
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
    let mut backup = name;
    backup.extend_from_slice(format!(".~{}~", highest + 1).as_bytes());
    (OsString::from_vec(backup), highest > 0)
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

/// The name `dst` is backed up under, in its directory (GNU's find_backup_file_name).
pub(crate) fn backup_name(dst: At<'_>, kind: Backup, suffix: &std::ffi::OsStr) -> OsString {
    let base = dir_and_base(dst.name).1;
    match kind {
        Backup::Simple => simple_name(dst.name, suffix),
        Backup::Numbered => match numbered(dst) {
            (name, true) => name,
            (name, false) => fit(name, base),
        },
        Backup::Existing => match numbered(dst) {
            (name, true) => name,
            (_, false) => fit(simple_name(dst.name, suffix), base),
        },
    }
}

/// A first backup name too long for the directory is cut to fit, as gnulib's
/// check_extension does for the names it makes up (not for --backup=simple): the file's own
/// name shortened, then `~`. It allows one byte less than NAME_MAX (255 here).
fn fit(name: OsString, base: &[u8]) -> OsString {
    const MOST: usize = 254;
    if name.len() <= MOST {
        return name;
    }
    let mut cut = base[..base.len().min(MOST - 1)].to_vec();
    cut.push(b'~');
    OsString::from_vec(cut)
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
