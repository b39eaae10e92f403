//! The one loop every engine runs; each mechanism supplies only its step (move up to n bytes).
//!
//! One call never finishes a large file: Linux moves at most `MAX_PER_CALL` bytes per call and
//! may return less at any time (read(2), sendfile(2), copy_file_range(2), splice(2): "may
//! transfer fewer bytes than requested"). Returning 0 is the only end of file, never `st_size`:
//! a source that shrank ends early there, one that grew is followed to its new end.

use super::failure::classify;
use super::{EngineError, MAX_PER_CALL, Span};
use crate::report::counters::{Call, Counters};
use rustix::io::Errno;

/// Why a step moved nothing.
pub(super) enum Fault {
    /// A signal interrupted the call (EINTR): the loop sees whether it asks to stop, and
    /// otherwise calls again.
    Again,
    /// The engine stops with this error.
    Stop(EngineError),
}

impl From<EngineError> for Fault {
    fn from(e: EngineError) -> Fault {
        Fault::Stop(e)
    }
}

/// One way of moving bytes from the source's current offset to the destination's.
pub(super) trait Mechanism {
    /// Moves up to `count` bytes (at least one is asked) and returns how many it moved: 0
    /// only at the source's end. `copied` moved before; until the first byte, an error may
    /// still be the kernel's refusal of this pair of files. Counts every call it makes.
    fn step(&mut self, count: usize, copied: u64, counters: &mut Counters) -> Result<usize, Fault>;
}

/// Runs `mechanism` until the source ends or the span is done; returns the bytes moved.
pub(super) fn pump(
    mut mechanism: impl Mechanism,
    span: Span,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    let span = Span {
        chunk: span.chunk.clamp(1, MAX_PER_CALL),
        ..span
    };
    let mut copied: u64 = 0;
    loop {
        // SIGINT, SIGTERM or SIGHUP: a large file stops within one call, not at its end.
        if crate::signals::pending().is_some() {
            return Err(EngineError::Interrupted);
        }
        let count = span.next(copied);
        if count == 0 {
            return Ok(copied);
        }
        match mechanism.step(count, copied, counters) {
            Ok(0) => return Ok(copied),
            Ok(n) => copied += n as u64,
            Err(Fault::Again) => {}
            Err(Fault::Stop(e)) => return Err(e),
        }
    }
}

/// A call that reads and writes at once (sendfile, copy_file_range): the kernel moves the
/// bytes. `make` makes the call for a count; `call` names it for the counters.
pub(super) struct Combined<F> {
    pub(super) call: Call,
    pub(super) make: F,
}

impl<F> Mechanism for Combined<F>
where
    F: FnMut(usize) -> rustix::io::Result<usize>,
{
    fn step(&mut self, count: usize, copied: u64, counters: &mut Counters) -> Result<usize, Fault> {
        match (self.make)(count) {
            Ok(n) => {
                counters.record(self.call, n);
                Ok(n)
            }
            Err(errno) => {
                // A failed call is still a system call made; strace counts it too.
                counters.record(self.call, 0);
                match errno {
                    Errno::INTR => Err(Fault::Again),
                    _ => Err(Fault::Stop(classify(errno, copied))),
                }
            }
        }
    }
}
