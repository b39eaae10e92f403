//! Names as GNU spells and compares them: dir_name and last_component, file_name_concat, and
//! same_name, whether two names are one directory entry.

use crate::fs::{At, id};
use rustix::fs::AtFlags;
use rustix::fs::Stat;
use std::ffi::OsStr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

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

/// Whether two paths name the same directory entry: the same last component in the same
/// directory (GNU's same_name), however the directory is spelled. A directory reached through
/// a symlink is not the same: GNU looks at the names' directories without following a final
/// symlink (`d/lx/sub`, lx a link to x, is not `d/x/sub`: copying d into d/lx/sub is then
/// GNU's "will not create hard link" for that entry, and the rest is copied), but `d/lx/.`
/// goes through it. A destination name is looked at from the directory it is copied into,
/// when there is one (`(path, target)`), which is followed: `cp -r d d/lx` meets d/x/d, the
/// same entry as d/lx/d.
pub(crate) fn same_name(a: (&Path, Option<&Path>), b: (&Path, Option<&Path>)) -> bool {
    if dir_and_base(a.0).1 != dir_and_base(b.0).1 {
        return false;
    }
    match (directory_of(a), directory_of(b)) {
        (Some(x), Some(y)) => id(&x) == id(&y),
        _ => false,
    }
}

/// `same_name` with every symlink in the two directories followed, each name looked up from
/// the directory it is named in (`At::dir`: the current one for a path).
pub(crate) fn same_name_followed(a: At<'_>, b: At<'_>) -> bool {
    let ((a_dir, a_base), (b_dir, b_base)) = (dir_and_base(a.name), dir_and_base(b.name));
    let directory = |at: At<'_>, dir: &Path| {
        rustix::fs::statat(at.dir, dir, AtFlags::empty()).map(|st| id(&st))
    };
    a_base == b_base
        && matches!((directory(a, a_dir), directory(b, b_dir)), (Ok(x), Ok(y)) if x == y)
}

/// The status of the directory `path` is named in, its last component not followed, but the
/// `target` directory it lies below followed (GNU's fstatat from dst_dirfd).
pub(crate) fn directory_of((path, target): (&Path, Option<&Path>)) -> Option<Stat> {
    if let Some(target) = target
        && let Some(below) = below(path, target)
    {
        return match dir_and_base(below).0 {
            d if d == Path::new(".") => rustix::fs::stat(target).ok(),
            d => rustix::fs::lstat(concat(target, d.as_os_str())).ok(),
        };
    }
    rustix::fs::lstat(dir_and_base(path).0).ok()
}

/// `path` as named from `target`, the directory it was built in (target, a slash, the rest):
/// compared as bytes, since Path::strip_prefix drops `.` components.
fn below<'a>(path: &'a Path, target: &Path) -> Option<&'a Path> {
    // As `concat` joined them: the target's trailing slashes made one.
    let target = one_trailing_slash(target.as_os_str().as_bytes());
    let rest = path.as_os_str().as_bytes().strip_prefix(target)?;
    let rest = if target.ends_with(b"/") {
        rest
    } else {
        rest.strip_prefix(b"/")?
    };
    let start = rest.iter().position(|&b| b != b'/')?;
    Some(Path::new(OsStr::from_bytes(&rest[start..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_as_gnu_dir_name_and_last_component() {
        let base = |p: &str| dir_and_base(Path::new(p)).1.to_vec();
        assert_eq!(base("a/b/"), b"b");
        assert_eq!(base("a//b//"), b"b");
        assert_eq!(base("b"), b"b");
        assert_eq!(base("a/."), b".");
        assert_eq!(base("/"), b"");
        let dir = |p: &str| dir_and_base(Path::new(p)).0.to_path_buf();
        assert_eq!(dir("t/s/./x"), Path::new("t/s/."));
        assert_eq!(dir("//x"), Path::new("/"));
        assert_eq!(dir("x"), Path::new("."));
    }
}
