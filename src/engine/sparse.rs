//! Holes: copying only the data extents of a sparse file (SEEK_DATA/SEEK_HOLE), and turning
//! runs of zeros into holes as well, under `--sparse=always` and (as GNU 9.1) for a source
//! that has holes.

use crate::engine::{self, EngineError, Transfer};
use crate::options::Method;
use crate::options::Sparse;
use crate::report::counters::{Counters, Outcome};
use rustix::fs::{FileType, SeekFrom, Stat};
use rustix::io::Errno;
use std::os::fd::BorrowedFd;

/// How a file's data is laid out in its copy, as GNU's --debug names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Every byte written: "sparse detection: no".
    Dense,
    /// Only data extents copied: "SEEK_HOLE".
    Extents,
    /// Zero runs skipped too: "SEEK_HOLE + zeros".
    ExtentsAndZeros,
}

impl Layout {
    pub(crate) fn debug_name(self) -> &'static str {
        match self {
            Layout::Dense => "no",
            Layout::Extents => "SEEK_HOLE",
            Layout::ExtentsAndZeros => "SEEK_HOLE + zeros",
        }
    }
}

/// GNU's test for a file worth scanning for holes: fewer 512-byte blocks allocated than
/// whole ones in its size (integer division, as GNU's: a 4,196-byte file in 8 blocks is not).
pub(crate) fn probably_sparse(st: &Stat) -> bool {
    st.st_blocks < st.st_size / 512
}

/// The layout to use for copying `src_st` under `mode` with `method` into `dst` (`created`:
/// this copy made it, so it is a regular file without asking).
///
/// Holes are made only in a regular file, as GNU's copy_reg decides `make_holes` from the
/// destination's S_ISREG: a pipe, a FIFO or a character device cannot seek (ESPIPE) or be
/// truncated (EINVAL), and a block device can seek but then keeps its old bytes where the
/// source has holes. Every other destination gets every byte, zeros included.
pub(crate) fn layout(
    src_st: &Stat,
    mode: Sparse,
    method: Method,
    dst: BorrowedFd<'_>,
    created: bool,
) -> Layout {
    let layout = source_layout(src_st, mode, method);
    if layout == Layout::Dense || created || holes_possible(dst) {
        layout
    } else {
        Layout::Dense
    }
}

/// Whether `dst` is a regular file, the only kind of file a hole can be left in. When it
/// cannot be asked, no: writing the zeros is right for every kind of file.
fn holes_possible(dst: BorrowedFd<'_>) -> bool {
    rustix::fs::fstat(dst).is_ok_and(|st| FileType::from_raw_mode(st.st_mode).is_file())
}

/// The layout the source calls for, into a regular file.
fn source_layout(src_st: &Stat, mode: Sparse, method: Method) -> Layout {
    let regular = FileType::from_raw_mode(src_st.st_mode) == FileType::RegularFile;
    match mode {
        _ if !regular => Layout::Dense,
        Sparse::Never => Layout::Dense,
        Sparse::Always if engine::auto::sees_zeros(method) => Layout::ExtentsAndZeros,
        Sparse::Always => Layout::Extents,
        // A file with holes already: GNU 9.1 turns its runs of zeros into holes as well (its
        // lseek_copy hands each extent to sparse_copy with the hole size whenever it makes
        // holes), reading the extents rather than offloading them. So a disk image whose
        // written zeros sit beside a hole takes no more room in the copy, and a source whose
        // filesystem cannot tell holes (SEEK_DATA says all of it is data: FUSE without lseek)
        // still gets its holes.
        Sparse::Auto if probably_sparse(src_st) && engine::auto::sees_zeros(method) => {
            Layout::ExtentsAndZeros
        }
        Sparse::Auto if probably_sparse(src_st) => Layout::Extents,
        Sparse::Auto => Layout::Dense,
    }
}

/// Copies the data extents of the source one by one, leaving the holes between them as holes,
/// and sets the destination's length at the end (a file may end in a hole). Returns `None`
/// when the filesystem cannot tell data from holes, so the caller copies densely.
pub(crate) fn copy_extents(
    transfer: &Transfer<'_>,
    method: Method,
    zeros: bool,
    counters: &mut Counters,
) -> Option<Result<Outcome, (Method, EngineError)>> {
    let src = transfer.src;
    let dst = transfer.dst;
    let io = |e: Errno| (method, EngineError::Read(e));
    // From where both files are: 0, or where --resume continues a copy.
    let start = transfer.from;
    let mut pos = start;
    let mut method = if zeros { Method::ReadWrite } else { method };
    let mut total = Outcome {
        bytes: 0,
        method,
        fallbacks: Vec::new(),
    };
    loop {
        // Each extent is a copy of its own: a signal is looked at between them too.
        if pos > start && crate::signals::stops(transfer.finishes, pos - start) {
            return Some(Err((method, EngineError::Interrupted)));
        }
        let data = match rustix::fs::seek(src, SeekFrom::Data(pos)) {
            Ok(data) => data,
            // No data at all in a file that says it is empty: /proc and /sys files say so and
            // have content, which only reading finds (the caller then copies densely).
            Err(Errno::NXIO) if pos == 0 && says_empty(src) => return None,
            // No data after `pos`: the rest of the file is a hole.
            Err(Errno::NXIO) => break,
            Err(Errno::INVAL | Errno::OPNOTSUPP) if pos == start => return None,
            Err(e) => return Some(Err(io(e))),
        };
        let hole = match rustix::fs::seek(src, SeekFrom::Hole(data)) {
            Ok(hole) => hole,
            Err(e) => return Some(Err(io(e))),
        };
        if let Err(e) = rustix::fs::seek(src, SeekFrom::Start(data)) {
            return Some(Err(io(e)));
        }
        if let Err(e) = rustix::fs::seek(dst, SeekFrom::Start(data)) {
            return Some(Err((method, EngineError::Write(e))));
        }
        if transfer.punch_holes
            && let Err(e) = engine::punch_hole(dst, pos, data - pos)
        {
            return Some(Err((method, e)));
        }
        let extent = Transfer {
            limit: hole - data,
            zeros_to_holes: zeros,
            // An extent ends where it is asked to: no call is made past it.
            ends_short: None,
            ..transfer.clone()
        };
        let outcome = match engine::copy(&extent, method, counters) {
            Ok(outcome) => outcome,
            Err(e) => return Some(Err(e)),
        };
        // Once `auto` found a method that works, the other extents use it directly.
        method = outcome.method;
        total.method = outcome.method;
        total.bytes += outcome.bytes;
        total.fallbacks.extend(outcome.fallbacks);
        pos = data + outcome.bytes;
        if outcome.bytes < hole - data {
            // The source shrank while it was copied: it ends here.
            return Some(
                set_length(dst, pos)
                    .map(|()| total)
                    .map_err(|e| (method, e)),
            );
        }
    }
    let finished = finish(transfer, pos, zeros, counters).map(|more| {
        total.bytes += more;
        total
    });
    Some(finished.map_err(|e| (method, e)))
}

/// Ends a copy whose extents are copied up to `pos`: reads on where the source holds more
/// (`past_the_size`), then gives the destination the source's length, which may end in a hole
/// (the source may have grown since it was examined: its end is where it ends now). Returns
/// the bytes read on.
fn finish(
    transfer: &Transfer<'_>,
    pos: u64,
    zeros: bool,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    let more = past_the_size(transfer, pos, zeros, counters)?;
    let size = rustix::fs::fstat(transfer.src)
        .map_err(EngineError::Read)?
        .st_size;
    let end = u64::try_from(size).unwrap_or(0).max(pos + more);
    set_length(transfer.dst, end)?;
    if transfer.punch_holes {
        engine::punch_hole(transfer.dst, pos + more, end - (pos + more))?;
    }
    Ok(more)
}

/// After the last extent (at `pos`), a source whose short end is not trusted (engine::read_on)
/// that still has data past its size holds more than its extents said: a FUSE file opened
/// direct_io says its extents end at its size. It is read on to its end, as GNU's read loop
/// reads it (zeros made holes with `zeros`). A trailing hole before the size is a hole, not
/// read (overlayfs: an 8 GiB file's hole read whole took 11.5 s). Returns the bytes copied.
fn past_the_size(
    transfer: &Transfer<'_>,
    pos: u64,
    zeros: bool,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    if transfer.ends_short.is_some() {
        return Ok(0);
    }
    let size = rustix::fs::fstat(transfer.src)
        .map_err(EngineError::Read)?
        .st_size;
    if pos < u64::try_from(size).unwrap_or(0) || !engine::has_byte_at(transfer.src, pos)? {
        return Ok(0);
    }
    rustix::fs::seek(transfer.src, SeekFrom::Start(pos)).map_err(EngineError::Read)?;
    rustix::fs::seek(transfer.dst, SeekFrom::Start(pos)).map_err(EngineError::Write)?;
    let rest = Transfer {
        limit: u64::MAX,
        zeros_to_holes: zeros,
        from: pos,
        ..transfer.clone()
    };
    rest.run(engine::Engine::ReadWrite, counters)
}

/// The error of a dense copy of a file with holes that failed writing, as GNU words it: its
/// lseek_copy writes a hole's zeros apart from the data (--sparse=never, or a destination
/// that is not a regular file), and says "write failed" where those between two extents
/// fail, "failed to extend" where those after the last one do. Which it was is told by
/// where the destination's offset stands (every engine writes at it); a failure in the data
/// is left as it was (GNU copies the extents with copy_file_range, or reads and writes).
pub(crate) fn dense_failure(transfer: &Transfer<'_>, src_st: &Stat, e: EngineError) -> EngineError {
    // A call that reads and writes at once (copy_file_range) fails on the writing side too
    // where the source is a hole, which reads nothing but zeros.
    let (EngineError::Write(errno) | EngineError::Transfer(errno)) = e else {
        return e;
    };
    let regular = FileType::from_raw_mode(src_st.st_mode) == FileType::RegularFile;
    if !regular || !probably_sparse(src_st) {
        return e;
    }
    let Ok(pos) = rustix::fs::seek(transfer.dst, SeekFrom::Current(0)) else {
        return e;
    };
    match rustix::fs::seek(transfer.src, SeekFrom::Data(pos)) {
        Ok(data) if data > pos => EngineError::WriteZeros(errno),
        Err(Errno::NXIO) => EngineError::Extend(errno),
        _ => e,
    }
}

/// Whether the file reports a size of 0 (or cannot be asked).
fn says_empty(fd: BorrowedFd<'_>) -> bool {
    rustix::fs::fstat(fd).map_or(true, |st| st.st_size == 0)
}

/// Gives `dst` the length `len`, where it has another: a copy whose last data extent ends the
/// file has it already, and GNU then makes no call (a filesystem may refuse ftruncate, as a
/// FAT one through FUSE does).
fn set_length(dst: BorrowedFd<'_>, len: u64) -> Result<(), EngineError> {
    let now = rustix::fs::fstat(dst).map_err(EngineError::Extend)?;
    if u64::try_from(now.st_size).ok() == Some(len) {
        return Ok(());
    }
    rustix::fs::ftruncate(dst, len).map_err(EngineError::Extend)
}
