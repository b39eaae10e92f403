//! The clone "engine": FICLONE shares the source's extents with the destination (btrfs, XFS
//! with reflink=1, bcachefs), so nothing is copied at all until either file is written.

use super::EngineError;
use crate::report::counters::{Call, Counters};
use rustix::io::Errno;
use std::os::fd::BorrowedFd;

/// Makes `dst` share all of `src`'s data with one ioctl(FICLONE). Filesystems without
/// reflinks, or two different filesystems, refuse (EOPNOTSUPP, EXDEV, EINVAL, ENOTTY), and
/// the caller copies instead. Returns the bytes now shared: the source's size.
pub(crate) fn clone(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    match rustix::fs::ioctl_ficlone(dst, src) {
        Ok(()) => {
            // Asked only now: most filesystems refuse, and this runs for every file.
            let size = rustix::fs::fstat(src)
                .map(|st| u64::try_from(st.st_size).unwrap_or(0))
                .map_err(EngineError::Read)?;
            counters.record(Call::Ficlone, usize::try_from(size).unwrap_or(usize::MAX));
            Ok(size)
        }
        Err(e) => {
            counters.record(Call::Ficlone, 0);
            Err(match e {
                Errno::NOSPC | Errno::DQUOT => EngineError::Write(e),
                _ => EngineError::Unsupported(e),
            })
        }
    }
}
