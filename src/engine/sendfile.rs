//! The sendfile(2) engine: the kernel moves page-cache pages from source to destination.

use super::pump::{Fault, Mechanism, combined, pump};
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
    pump(Sendfile { src, dst }, span, counters)
}

struct Sendfile<'a> {
    src: BorrowedFd<'a>,
    dst: BorrowedFd<'a>,
}

impl Mechanism for Sendfile<'_> {
    fn step(&mut self, count: usize, copied: u64, counters: &mut Counters) -> Result<usize, Fault> {
        let result = rustix::fs::sendfile(self.dst, self.src, None, count);
        combined(Call::Sendfile, result, copied, counters)
    }
}
