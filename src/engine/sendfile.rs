//! The sendfile(2) engine: the kernel moves page-cache pages from source to destination.

use super::pump::{Combined, pump};
use super::{EngineError, Span};
use crate::report::counters::{Call, Counters};
use std::os::fd::BorrowedFd;

/// Copies `src` to `dst` from their current offsets with sendfile. Passing no offset makes the
/// kernel advance `src`'s file position, so a fallback after a refusal starts where we stand.
/// sendfile cannot read from a pipe or a socket (EINVAL), which `auto` turns into a fallback.
pub(crate) fn copy(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    span: Span,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    let call = Combined {
        call: Call::Sendfile,
        make: |count| rustix::fs::sendfile(dst, src, None, count),
    };
    pump(call, span, counters).map_err(|e| match e {
        EngineError::Transfer(errno) => side_of(src, errno),
        other => other,
    })
}

/// Which side a failed sendfile call failed on, which its error does not say (a full FAT
/// through FUSE says EPERM): GNU reads and writes, and words the side. The source is read
/// where the call stopped: a read error there is the call's ("error reading 'a'", with the
/// read's error), else the destination refused the bytes ("error writing 'b'").
fn side_of(src: BorrowedFd<'_>, errno: rustix::io::Errno) -> EngineError {
    let at = rustix::fs::seek(src, rustix::fs::SeekFrom::Current(0));
    match at.map(|at| super::has_byte_at(src, at)) {
        Ok(Err(read)) => read,
        _ => EngineError::Write(errno),
    }
}
