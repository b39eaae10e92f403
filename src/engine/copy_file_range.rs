//! The copy_file_range(2) engine: the filesystem copies, shares (reflink) or splices extents.

use super::pump::{Combined, pump};
use super::{EngineError, Span};
use crate::report::counters::{Call, Counters};
use std::os::fd::BorrowedFd;

/// Copies `src` to `dst` from their current file positions with copy_file_range. Linux refuses
/// pairs it cannot serve (EXDEV across some filesystems, EINVAL for non-regular files, ENOSYS
/// on old kernels, EOPNOTSUPP), and `auto` turns those into a fallback.
pub(crate) fn copy(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    span: Span,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    let call = Combined {
        call: Call::CopyFileRange,
        make: |count| rustix::fs::copy_file_range(src, None, dst, None, count),
    };
    pump(call, span, counters)
}

/// Asks the kernel, without moving a byte (a count of 0), whether it would refuse this pair of
/// files; the refusal's errno. An explicit `--method=copy-file-range` asks before an existing
/// destination is truncated: the refusal (EXDEV between most filesystems) is then the only
/// outcome, and the user keeps the file.
pub(crate) fn refused(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> Option<rustix::io::Errno> {
    match rustix::fs::copy_file_range(src, None, dst, None, 0) {
        Err(errno) if super::failure::means_unsupported(errno) => Some(errno),
        _ => None,
    }
}
