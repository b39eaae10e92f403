//! Extended attributes read whole: one value, or the list of names, however long.

use rustix::io::Errno;
use std::os::fd::BorrowedFd;

/// One extended attribute's value, of any length (its size asked first).
pub(crate) fn read_xattr(
    src: BorrowedFd<'_>,
    name: impl rustix::path::Arg + Copy,
) -> rustix::io::Result<Vec<u8>> {
    let size = rustix::fs::fgetxattr_query(src, name)?;
    let mut value = vec![0u8; size];
    let len = rustix::fs::fgetxattr(src, name, &mut value[..])?;
    value.truncate(len);
    Ok(value)
}

/// The names of `src`'s extended attributes, each ended by a NUL; none where the filesystem
/// has no xattrs, as in GNU cp.
pub(crate) fn list_xattrs(src: BorrowedFd<'_>) -> rustix::io::Result<Vec<u8>> {
    let unsupported = |e: Errno| e == Errno::NOTSUP || e == Errno::NODATA;
    let size = match rustix::fs::flistxattr_query(src) {
        Ok(size) => size,
        Err(e) if unsupported(e) => 0,
        Err(e) => return Err(e),
    };
    let mut names = vec![0u8; size];
    if size > 0 {
        match rustix::fs::flistxattr(src, &mut names[..]) {
            Ok(len) => names.truncate(len),
            Err(e) if unsupported(e) => names.clear(),
            Err(e) => return Err(e),
        }
    }
    Ok(names)
}
