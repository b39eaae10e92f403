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
    pump(call, span, counters)
}
