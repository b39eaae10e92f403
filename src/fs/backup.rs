//! Backup names (GNU's find_backup_file_name): `name~`, the -S suffix, or the next `name.~N~`.

use super::{At, concat};
use crate::options::Backup;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The next free `name.~N~`, and whether any numbered backup exists already.
fn numbered(dst: At<'_>) -> (OsString, bool) {
    let name = dst
        .name
        .file_name()
        .map(|n| n.as_bytes())
        .unwrap_or_default()
        .to_vec();
    let parent = dst.name.parent().filter(|p| !p.as_os_str().is_empty());
    let mut highest = 0u64;
    let dir_fd = match parent {
        Some(p) => rustix::fs::openat(
            dst.dir,
            p,
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .ok(),
        None => rustix::fs::openat(
            dst.dir,
            ".",
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .ok(),
    };
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
    let mut name = dst.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    name
}

/// `name` in the directory of `path`.
pub(crate) fn beside(path: &Path, name: &OsString) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => concat(parent, name),
        _ => PathBuf::from(name),
    }
}

/// The last component of a name, trailing slashes ignored (GNU's last_component).
pub(crate) fn last_component(path: &Path) -> &[u8] {
    let bytes = path.as_os_str().as_bytes();
    let end = bytes.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
    let start = bytes[..end]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    &bytes[start..end]
}

/// The name `dst` is backed up under, in its directory (GNU's find_backup_file_name).
pub(crate) fn backup_name(dst: At<'_>, kind: Backup, suffix: &std::ffi::OsStr) -> OsString {
    let base = dst
        .name
        .file_name()
        .map(|n| n.as_bytes())
        .unwrap_or_default();
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
