//! The read(2)/write(2) engine: every byte passes through a user-space buffer.

use super::{Call, Counters, EngineError, MAX_PER_CALL};
use rustix::io::Errno;
use std::os::fd::BorrowedFd;

/// Copies `src` to `dst` through a buffer of `bufsize` bytes until read returns 0. Works on
/// everything that can be read, pipes and /proc included; it is `auto`'s last resort.
pub(crate) fn copy(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    bufsize: usize,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    let mut buf = vec![0u8; bufsize.clamp(1, MAX_PER_CALL)];
    let mut copied: u64 = 0;
    loop {
        let n = match rustix::io::read(src, &mut buf[..]) {
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(errno) => return Err(EngineError::Read(errno)),
        };
        counters.record(Call::Read, n);
        if n == 0 {
            return Ok(copied);
        }
        write_all(dst, &buf[..n], counters)?;
        copied += n as u64;
    }
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
            Err(Errno::INTR) => continue,
            Err(errno) => return Err(EngineError::Write(errno)),
        }
    }
    Ok(())
}
