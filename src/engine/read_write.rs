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
    let read_write = ReadWrite {
        src,
        dst,
        buf: vec![0u8; span.chunk.clamp(1, MAX_PER_CALL)],
        hole_block: span.hole_block,
    };
    pump(read_write, span, counters)
}

struct ReadWrite<'a> {
    src: BorrowedFd<'a>,
    dst: BorrowedFd<'a>,
    buf: Vec<u8>,
    /// The size of the all-zero blocks skipped; 0: none are.
    hole_block: usize,
}

impl Mechanism for ReadWrite<'_> {
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
            write_sparse(self.dst, &self.buf[..n], self.hole_block, counters)?;
        } else {
            write_all(self.dst, &self.buf[..n], counters)?;
        }
        Ok(n)
    }
}

/// Writes `data`, seeking over its all-zero blocks of `block` bytes instead of writing them.
fn write_sparse(
    dst: BorrowedFd<'_>,
    data: &[u8],
    block: usize,
    counters: &mut Counters,
) -> Result<(), EngineError> {
    let mut start = 0;
    while start < data.len() {
        let end = (start + block).min(data.len());
        let zero = data[start..end].iter().all(|b| *b == 0);
        // Extend the run while blocks are of the same kind, to make few calls.
        let mut run_end = end;
        while run_end < data.len() {
            let next = (run_end + block).min(data.len());
            if data[run_end..next].iter().all(|b| *b == 0) != zero {
                break;
            }
            run_end = next;
        }
        if zero {
            let skip = i64::try_from(run_end - start).unwrap_or(i64::MAX);
            rustix::fs::seek(dst, rustix::fs::SeekFrom::Current(skip))
                .map_err(EngineError::Write)?;
        } else {
            write_all(dst, &data[start..run_end], counters)?;
        }
        start = run_end;
    }
    Ok(())
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
