//! The one loop every engine runs; each mechanism supplies only its step (move up to n bytes).
//!
//! One call never finishes a large file: Linux moves at most `MAX_PER_CALL` bytes per call and
//! may return less at any time (read(2), sendfile(2), copy_file_range(2), splice(2): "may
//! transfer fewer bytes than requested"). Returning 0 is the end of file, never `st_size`: a
//! source that shrank ends early there, one that grew is followed to its new end. The one
//! other end is a call that moved less than it asked and ended exactly at `st_size`, on a
//! filesystem where that happens only at end of file (`Span::short_end_at`).

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
        // A signal: a large file stops within a call or two, not at its end.
        if crate::signals::stops(span.finishes, copied) {
            return Err(EngineError::Interrupted);
        }
        let count = span.next(copied);
        if count == 0 {
            return Ok(copied);
        }
        match mechanism.step(count, copied, counters) {
            Ok(0) => return Ok(copied),
            Ok(n) => {
                copied += n as u64;
                if n < count && span.short_end_at == Some(copied) {
                    return Ok(copied);
                }
            }
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
                    // GNU words a failed copy_file_range as the call's ("error copying 'a'
                    // to 'b'"), a full disk included; it has no sendfile.
                    _ => Err(Fault::Stop(match classify(errno, copied) {
                        EngineError::Write(e) if self.call == Call::CopyFileRange => {
                            EngineError::Transfer(e)
                        }
                        other => other,
                    })),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source of `size` bytes that moves at most `most` per call (less than asked, mid-file,
    /// as NFS may) and counts the calls made.
    struct Source {
        size: u64,
        at: u64,
        most: usize,
        calls: usize,
    }

    impl Mechanism for &mut Source {
        fn step(&mut self, count: usize, _: u64, _: &mut Counters) -> Result<usize, Fault> {
            self.calls += 1;
            let left = usize::try_from(self.size - self.at).unwrap();
            let n = count.min(self.most).min(left);
            self.at += n as u64;
            Ok(n)
        }
    }

    fn run(size: u64, most: usize, short_end_at: Option<u64>) -> (u64, usize) {
        let mut source = Source {
            size,
            at: 0,
            most,
            calls: 0,
        };
        let span = Span {
            chunk: 1 << 20,
            limit: u64::MAX,
            hole_block: 0,
            short_end_at,
            finishes: false,
        };
        let copied = pump(&mut source, span, &mut Counters::default()).unwrap();
        (copied, source.calls)
    }

    #[test]
    fn a_short_call_at_the_size_ends_the_copy_only_where_that_is_trusted() {
        // Where a short call is the end: the call that would say 0 is not made.
        assert_eq!(run(4096, usize::MAX, Some(4096)), (4096, 1));
        // Elsewhere the end is 0 only.
        assert_eq!(run(4096, usize::MAX, None), (4096, 2));
    }

    #[test]
    fn a_short_call_before_the_size_is_not_the_end() {
        // 1,000 bytes at a time: every call is short, and only the one that reaches the size
        // (the file did not shrink) ends the copy.
        assert_eq!(run(4096, 1000, Some(4096)), (4096, 5));
        // A file that grew past the size it said: followed to the call that returns 0.
        assert_eq!(run(10_000, usize::MAX, Some(4096)), (10_000, 2));
        assert_eq!(run(3 << 20, usize::MAX, Some(4096)), (3 << 20, 4));
        // Cut short past its size (a pipe's room, a clone's block, a full disk): not the end.
        assert_eq!(run(10_000, 8192, Some(4096)), (10_000, 3));
        // One that shrank ends at the 0 it returns.
        assert_eq!(run(3000, usize::MAX, Some(4096)), (3000, 2));
    }
}
