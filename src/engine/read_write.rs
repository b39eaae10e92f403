//! The read(2)/write(2) engine: every byte passes through a user-space buffer.

use super::pump::{Fault, Mechanism, pump};
use super::{EngineError, MAX_PER_CALL, Span};
use crate::report::counters::{Call, Counters};
use rustix::io::Errno;
use std::os::fd::BorrowedFd;

/// Copies `src` to `dst` through a buffer of `span.chunk` bytes until read returns 0 or the
/// span is done. Works on everything that can be read, pipes and /proc included; it is
/// `auto`'s last resort. With `span.hole_block`, all-zero blocks of that size are skipped with
/// lseek, so the caller must set the final length (ftruncate) to keep a trailing hole.
pub(crate) fn copy(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    span: Span,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    let mut read_write = ReadWrite {
        src,
        dst,
        buf: vec![0u8; span.chunk.clamp(1, MAX_PER_CALL)],
        hole_block: span.hole_block,
        skipped: 0,
        // GNU's lseek_copy deallocates every run of zeros it makes a hole, whatever the
        // --sparse mode (XFS's speculative preallocation left a copy 4,360 blocks where
        // GNU's took 520).
        punch: span.hole_block > 0,
    };
    let copied = pump(&mut read_write, span, counters)?;
    // The destination stands at the end of what was copied, zeros skipped last included.
    read_write.seek_over()?;
    Ok(copied)
}

struct ReadWrite<'a> {
    src: BorrowedFd<'a>,
    dst: BorrowedFd<'a>,
    buf: Vec<u8>,
    /// The size of the all-zero blocks skipped; 0: none are.
    hole_block: usize,
    /// Zeros skipped and not yet sought over: a run of them may go on in the next read, and
    /// one lseek then covers it all (GNU's sparse_copy seeks once per run, not per buffer).
    skipped: i64,
    /// The zeros skipped are deallocated too.
    punch: bool,
}

impl Mechanism for &mut ReadWrite<'_> {
    /// One read, then as many writes as it takes to store what it returned.
    fn step(&mut self, count: usize, _: u64, counters: &mut Counters) -> Result<usize, Fault> {
        let n = match rustix::io::read(self.src, &mut self.buf[..count]) {
            Ok(n) => n,
            Err(Errno::INTR) => return Err(Fault::Again),
            Err(errno) => return Err(EngineError::Read(errno).into()),
        };
        counters.record(Call::Read, n);
        if n == 0 {
            return Ok(0);
        }
        if self.hole_block > 0 {
            self.write_sparse(n, counters)?;
        } else {
            write_all(self.dst, &self.buf[..n], counters)?;
        }
        Ok(n)
    }
}

impl ReadWrite<'_> {
    /// Moves the destination's offset over the zeros skipped so far.
    fn seek_over(&mut self) -> Result<(), EngineError> {
        seek_over(self.dst, &mut self.skipped, self.punch)
    }

    /// Writes the first `n` bytes of the buffer, skipping its all-zero blocks of
    /// `hole_block` bytes instead of writing them.
    fn write_sparse(&mut self, n: usize, counters: &mut Counters) -> Result<(), EngineError> {
        let (data, block) = (&self.buf[..n], self.hole_block);
        let mut start = 0;
        while start < data.len() {
            let zero = all_zero(&data[start..(start + block).min(data.len())]);
            // Extend the run while blocks are of the same kind, to make few calls.
            let mut run_end = (start + block).min(data.len());
            while run_end < data.len() {
                let next = (run_end + block).min(data.len());
                if all_zero(&data[run_end..next]) != zero {
                    break;
                }
                run_end = next;
            }
            if zero {
                self.skipped += i64::try_from(run_end - start).unwrap_or(i64::MAX);
            } else {
                seek_over(self.dst, &mut self.skipped, self.punch)?;
                write_all(self.dst, &data[start..run_end], counters)?;
            }
            start = run_end;
        }
        Ok(())
    }
}

/// Moves `dst`'s offset over the `skipped` zeros (none left skipped then), and deallocates
/// them with `punch`.
fn seek_over(dst: BorrowedFd<'_>, skipped: &mut i64, punch: bool) -> Result<(), EngineError> {
    let skipped = std::mem::take(skipped);
    if skipped > 0 {
        let at = rustix::fs::SeekFrom::Current(skipped);
        let end = rustix::fs::seek(dst, at).map_err(EngineError::Write)?;
        if punch {
            let len = skipped.unsigned_abs();
            super::punch_hole(dst, end - len, len)?;
        }
    }
    Ok(())
}

/// Whether `data` is all zeros, looked at 256 bytes at a time (a loop the compiler makes
/// wide: a byte at a time, 1 GiB of zeros took 0.3 s of CPU, GNU's is_nul 0.01 s).
fn all_zero(data: &[u8]) -> bool {
    let word = |w: &[u8]| u64::from_ne_bytes(w.try_into().unwrap_or([0xff; 8]));
    let mut chunks = data.chunks_exact(256);
    chunks.all(|chunk| chunk.chunks_exact(8).fold(0, |acc, w| acc | word(w)) == 0)
        && chunks.remainder().iter().all(|b| *b == 0)
}

/// Writes all of `data`: write(2) may store less than asked (a signal, a nearly full disk), and
/// only the bytes it reports are in the file.
fn write_all(
    dst: BorrowedFd<'_>,
    mut data: &[u8],
    counters: &mut Counters,
) -> Result<(), EngineError> {
    while !data.is_empty() {
        match rustix::io::write(dst, data) {
            // A zero-byte write for a non-empty buffer makes no progress; GNU's full_write
            // reports it as a full device.
            Ok(0) => return Err(EngineError::Write(Errno::NOSPC)),
            Ok(n) => {
                counters.record(Call::Write, n);
                data = &data[n..];
            }
            // Only a FIFO, a device or a socket is interrupted: blocked there, a signal stops.
            Err(Errno::INTR) if crate::signals::pending().is_some() => {
                return Err(EngineError::Interrupted);
            }
            Err(Errno::INTR) => continue,
            Err(errno) => return Err(EngineError::Write(errno)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One byte set anywhere (in a whole 256-byte chunk, a word of it, or the tail) is seen.
    #[test]
    fn all_zero_sees_any_byte() {
        for len in [0, 1, 7, 8, 255, 256, 257, 4096, 4099] {
            let mut data = vec![0u8; len];
            assert!(all_zero(&data), "{len}");
            for at in 0..len {
                data[at] = 1;
                assert!(!all_zero(&data), "{len} {at}");
                data[at] = 0;
            }
        }
    }
}
