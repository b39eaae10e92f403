//! Backup names (GNU's find_backup_file_name): `name~`, the -S suffix, or the next `name.~N~`.

use super::{At, dir_and_base};
use crate::options::Backup;
use rustix::fs::{Mode, OFlags};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// A backup's number as GNU's numbered_backup reads it: decimal digits of any length, the
/// first not 0 (`f.~01~` is no numbered backup), compared and counted as a string, so no
/// number is too large (`f.~99999999999999999999~` is followed by `...~100000000000000000000~`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Number(Vec<u8>);

impl Number {
    fn parse(digits: &[u8]) -> Option<Number> {
        let first = *digits.first()?;
        ((b'1'..=b'9').contains(&first) && digits.iter().all(u8::is_ascii_digit))
            .then(|| Number(digits.to_vec()))
    }

    /// This number plus one.
    fn next(&self) -> Number {
        let mut digits = self.0.clone();
        for digit in digits.iter_mut().rev() {
            if *digit == b'9' {
                *digit = b'0';
            } else {
                *digit += 1;
                return Number(digits);
            }
        }
        digits.insert(0, b'1');
        Number(digits)
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> std::cmp::Ordering {
        (self.0.len(), &self.0).cmp(&(other.0.len(), &other.0))
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The number of the next `name.~N~` (one more than the highest there), and whether any
/// numbered backup exists already. A directory that cannot be listed shows none: the rename
/// then must not replace one.
fn numbered(dst: At<'_>) -> (Number, bool) {
    let (parent, name) = dir_and_base(dst.name);
    let mut highest: Option<Number> = None;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let dir_fd = rustix::fs::openat(dst.dir, parent, flags, Mode::empty()).ok();
    if let Some(fd) = dir_fd
        && let Ok(mut dir) = rustix::fs::Dir::read_from(&fd)
    {
        let mut prefix = name.to_vec();
        prefix.extend_from_slice(b".~");
        while let Some(Ok(entry)) = dir.read() {
            let entry_name = entry.file_name().to_bytes();
            if let Some(rest) = entry_name.strip_prefix(prefix.as_slice())
                && let Some(digits) = rest.strip_suffix(b"~")
                && let Some(n) = Number::parse(digits)
                && highest.as_ref().is_none_or(|h| n > *h)
            {
                highest = Some(n);
            }
        }
    }
    match highest {
        Some(n) => (n.next(), true),
        None => (Number(b"1".to_vec()), false),
    }
}

/// `base.~n~`.
fn numbered_name(base: &[u8], n: &Number) -> OsString {
    let mut name = base.to_vec();
    name.extend_from_slice(b".~");
    name.extend_from_slice(&n.0);
    name.push(b'~');
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
    pub(crate) number: Option<Number>,
}

impl BackupName {
    /// The next numbered name after this one, for the file `base`.
    pub(crate) fn next(&self, base: &[u8]) -> Option<BackupName> {
        let n = self.number.as_ref()?.next();
        Some(BackupName {
            name: numbered_name(base, &n),
            number: Some(n),
        })
    }
}

/// The name `dst` is backed up under, in its directory (GNU's find_backup_file_name).
pub(crate) fn backup_name(dst: At<'_>, kind: Backup, suffix: &std::ffi::OsStr) -> BackupName {
    let base = dir_and_base(dst.name).1;
    let simple = |name| BackupName { name, number: None };
    let numbered_one = |n| BackupName {
        name: numbered_name(base, &n),
        number: Some(n),
    };
    match (kind, numbered(dst)) {
        (Backup::Simple, _) => simple(simple_name(dst.name, suffix)),
        (Backup::Numbered | Backup::Existing, (n, true)) => numbered_one(n),
        (Backup::Numbered, (n, false)) => {
            let name = numbered_name(base, &n);
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

    /// Numbers count as GNU's do: as strings, so no size overflows.
    #[test]
    fn backup_numbers_count_without_limit() {
        let next = |digits: &str| Number::parse(digits.as_bytes()).map(|n| n.next().0);
        assert_eq!(next("1"), Some(b"2".to_vec()));
        assert_eq!(next("19"), Some(b"20".to_vec()));
        assert_eq!(next("999"), Some(b"1000".to_vec()));
        let big = "18446744073709551615";
        assert_eq!(next(big), Some(b"18446744073709551616".to_vec()));
        assert_eq!(next("01"), None);
        assert_eq!(next("0"), None);
        assert_eq!(next(""), None);
        assert_eq!(next("1a"), None);
        let n = |d: &str| Number::parse(d.as_bytes()).unwrap();
        assert!(n("10") > n("9"));
        assert!(n("100000000000000000000") > n("99999999999999999999"));
        assert!(n("21") > n("12"));
    }

    #[test]
    fn a_backup_is_named_beside_the_name_as_spelled() {
        let beside = |p: &str| beside(Path::new(p), &"n~".into());
        assert_eq!(beside("l/./f"), Path::new("l/./n~"));
        assert_eq!(beside("a//f"), Path::new("a//n~"));
        assert_eq!(beside("/f"), Path::new("/n~"));
        assert_eq!(beside("f"), Path::new("n~"));
    }
}
