//! Filesystems by their statfs(2) magic number, and what fastcp may assume of each.

use std::os::fd::BorrowedFd;

pub(crate) const EXT4: u64 = 0xEF53;
pub(crate) const XFS: u64 = 0x5846_5342;
pub(crate) const BTRFS: u64 = 0x9123_683E;
pub(crate) const TMPFS: u64 = 0x0102_1994;
pub(crate) const F2FS: u64 = 0xF2F5_2010;

/// The magic number of the filesystem `fd` is on, or `None` when it cannot be asked.
pub(crate) fn of(fd: BorrowedFd<'_>) -> Option<u64> {
    #[allow(clippy::unnecessary_cast)] // f_type's width differs between targets
    rustix::fs::fstatfs(fd).ok().map(|fs| fs.f_type as u64)
}

/// Whether a read, sendfile or copy_file_range from a regular file on this filesystem that
/// moves less than it asked ends only where the file ends. These read through the page cache,
/// which stops a transfer short at end of file and nowhere else (a fatal signal aside: the
/// process is gone then), and a clone they make for copy_file_range is cut short only at end
/// of file too, when the count asked reaches past it. Not so on NFS, CIFS, FUSE or ceph,
/// whose servers may answer any count with less, mid-file; nor on overlayfs, which passes
/// the call on to a filesystem not known here.
pub(crate) fn short_means_end(magic: u64) -> bool {
    [EXT4, XFS, BTRFS, TMPFS, F2FS].contains(&magic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_transfers_are_trusted_on_local_filesystems_only() {
        for local in [EXT4, XFS, BTRFS, TMPFS, F2FS] {
            assert!(short_means_end(local));
        }
        // NFS, SMB2, FUSE, ceph, overlayfs, procfs, sysfs.
        for other in [
            0x6969,
            0xFE53_4D42,
            0x6573_5546,
            0x00C3_6400,
            0x794C_7630,
            0x9FA0,
            0x6265_6572,
        ] {
            assert!(!short_means_end(other));
        }
    }
}
