//! --nocache: a file copied in windows, each written back and dropped from the page cache
//! behind the copy, so a copy larger than memory does not evict the user's working set.
//!
//! The destination's pages of a finished window are written back (sync_file_range) and
//! dropped (posix_fadvise DONTNEED); the write-back of one window runs while the next is
//! copied. The source's pages are dropped only where they were not in the cache before the
//! copy read them: each window is looked at (mincore) before the window ahead of it is
//! copied, so that neither this copy's reads nor its readahead count as the user's cache.

use super::{EngineError, Transfer};
use crate::options::Method;
use crate::report::counters::{Counters, Outcome};
use rustix::fs::Advice;
use rustix::io::Errno;
use std::num::NonZeroU64;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// Bytes copied between two write-backs: large enough that the calls cost little, small
/// enough that little is dirty at a time (scripts/bench-cache, 8 GiB: 0.33 of the default).
const WINDOW: u64 = 16 << 20;

/// Copies as `engine::copy` does, window by window, dropping the pages behind the copy.
/// The last window's write-back is started, not waited for: the file goes to a [`Behind`].
pub(super) fn copy(
    transfer: &Transfer<'_>,
    method: Method,
    counters: &mut Counters,
) -> Result<Outcome, (Method, EngineError)> {
    let (Some(src_at), Some(dst_at)) = (tell(transfer.src), tell(transfer.dst)) else {
        // Pipes and sockets have no offsets and no pages of their own to drop.
        return super::copy_now(transfer, method, counters);
    };
    let page = page_size();
    // The windows' lengths do not depend on the size (a file may grow, /proc files say 0),
    // so the last one runs to the end of the file as a copy without --nocache does; only
    // the look at the source's pages is kept within its size: a small file costs one small
    // mincore, nothing past its end.
    let size =
        rustix::fs::fstat(transfer.src).map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0));
    // Windows end where the source's offset is a multiple of WINDOW: the page cache holds a
    // file in folios aligned to their size, and DONTNEED drops only those it covers whole.
    let window_at = |copied: u64| {
        let to_edge = WINDOW - (src_at + copied) % WINDOW;
        to_edge.min(transfer.limit.saturating_sub(copied))
    };
    let look =
        |at: u64, len: u64| Residency::of(transfer.src, at, len.min(size.saturating_sub(at)), page);
    let mut ahead = look(src_at, window_at(0));
    let mut behind: Option<(u64, u64)> = None;
    let mut total: Option<Outcome> = None;
    let mut method = method;
    loop {
        let copied = total.as_ref().map_or(0, |t| t.bytes);
        let len = window_at(copied);
        if len == 0 && total.is_some() {
            break;
        }
        if copied > 0 && crate::signals::stops(transfer.finishes, copied) {
            return Err((method, EngineError::Interrupted));
        }
        let window = Transfer {
            limit: len,
            // Where this window starts, from which its end is counted (Transfer::ends_short).
            from: src_at + copied,
            ..transfer.clone()
        };
        // The window after this one, looked at before this one's reads run ahead into it
        // (only when this one may be followed: a window not filled is the last).
        let next = look(src_at + copied + len, window_at(copied + len));
        let here = std::mem::replace(&mut ahead, next);
        let outcome = super::copy_now(&window, method, counters)?;
        let moved = outcome.bytes;
        // Once `auto` found a method that works, the other windows use it directly.
        method = outcome.method;
        match &mut total {
            Some(t) => t.bytes += moved,
            None => total = Some(outcome),
        }
        here.drop_fresh(transfer.src, src_at + copied, moved, page);
        let failed = |e| (method, EngineError::Write(e));
        start_writeback(transfer.dst, dst_at + copied, moved).map_err(failed)?;
        if moved < len || len == 0 {
            break;
        }
        // The window before this one has been writing back while this one was copied.
        if let Some((at, len)) = behind.replace((dst_at + copied, moved)) {
            drop_written(transfer.dst, at, len).map_err(failed)?;
        }
    }
    Ok(total.expect("one window is always copied"))
}

/// Which pages of a range of the source were in the page cache.
enum Residency {
    /// The range, from this page-aligned offset: one byte per page, bit 0 set when resident.
    Pages(u64, Vec<u8>),
    /// Not known (the file cannot be mapped): nothing of it is dropped.
    Unknown,
    /// An empty range.
    Empty,
}

impl Residency {
    fn of(fd: BorrowedFd<'_>, at: u64, len: u64, page: u64) -> Residency {
        if len == 0 {
            return Residency::Empty;
        }
        let start = at - at % page;
        let Ok(span) = usize::try_from(at + len - start) else {
            return Residency::Unknown;
        };
        let Ok(offset) = libc::off_t::try_from(start) else {
            return Residency::Unknown;
        };
        let mut pages = vec![0u8; span.div_ceil(page as usize)];
        // SAFETY: a fresh shared read-only mapping of `span` bytes, never read through,
        // only asked about (mincore) and unmapped before returning.
        let ok = unsafe {
            let map = libc::mmap(
                std::ptr::null_mut(),
                span,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset,
            );
            if map == libc::MAP_FAILED {
                return Residency::Unknown;
            }
            let ok = libc::mincore(map, span, pages.as_mut_ptr()) == 0;
            libc::munmap(map, span);
            ok
        };
        if ok {
            Residency::Pages(start, pages)
        } else {
            Residency::Unknown
        }
    }

    /// Drops the pages of `at..at + len` that were not resident when looked at: the ones
    /// this copy brought in. Runs of such pages are dropped with one call each, to the end of
    /// their last page (DONTNEED keeps a page that the range covers in part).
    fn drop_fresh(&self, fd: BorrowedFd<'_>, at: u64, len: u64, page: u64) {
        let Residency::Pages(start, pages) = self else {
            return;
        };
        // Not past what was looked at (a file that grew since).
        let end = ((at + len).div_ceil(page) * page).min(start + pages.len() as u64 * page);
        let first = usize::try_from(at.saturating_sub(*start) / page).unwrap_or(usize::MAX);
        let mut run: Option<u64> = None;
        for (i, &state) in pages.iter().enumerate().skip(first) {
            let offset = start + i as u64 * page;
            if offset >= end {
                break;
            }
            match (state & 1 == 0, run) {
                (true, None) => run = Some(offset),
                (false, Some(from)) => {
                    advise_dontneed(fd, from, offset - from);
                    run = None;
                }
                _ => {}
            }
        }
        if let Some(from) = run {
            advise_dontneed(fd, from, end.saturating_sub(from));
        }
    }
}

/// Reads that compare a source with its copy (--verify, --resume=verify) under --nocache:
/// they leave the page cache as the copy does. The source's pages are looked at (mincore)
/// before any of them is read, so that readahead does not make the reads' own pages look
/// like the user's, and only the ones that were not cached are dropped; the destination's
/// are dropped all. Drops cover whole windows, as the copy's do: the page cache holds a file
/// in folios of up to several MiB, aligned to their size, and DONTNEED drops only a folio
/// that its range covers whole.
pub(crate) struct Rereads {
    before: Residency,
    /// Dropped up to here.
    done: u64,
}

impl Rereads {
    /// Under --nocache (`nocache`), before `src` is read from `from` on.
    pub(crate) fn new(nocache: bool, src: BorrowedFd<'_>, from: u64) -> Option<Rereads> {
        if !nocache {
            return None;
        }
        let size = rustix::fs::fstat(src).map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0));
        let len = size.saturating_sub(from);
        // No readahead while comparing (the reads are large and in order anyway): readahead
        // still in flight when its pages are dropped fills them after, past the last read,
        // where the copy that follows then takes them for the user's (CI saw 10% of a source
        // left cached). Back to normal in `finish`, for the copy.
        let _ = rustix::fs::fadvise(src, 0, None, Advice::Random);
        Some(Rereads {
            before: Residency::of(src, from, len, page_size()),
            done: from,
        })
    }

    /// After both files were read up to `end`: drops the whole windows read.
    pub(crate) fn read(&mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>, end: u64) {
        self.drop_to(src, dst, end - end % WINDOW);
    }

    /// After the last read: drops the rest, readahead past the last read included.
    pub(crate) fn finish(mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>) {
        self.drop_to(src, dst, u64::MAX / 2);
        let _ = rustix::fs::fadvise(src, 0, None, Advice::Normal);
    }

    fn drop_to(&mut self, src: BorrowedFd<'_>, dst: BorrowedFd<'_>, end: u64) {
        if end <= self.done {
            return;
        }
        let from = self.done - self.done % page_size();
        self.before.drop_fresh(src, from, end - from, page_size());
        // Up to the end of the file when `end` is past it.
        let len = if end == u64::MAX / 2 { 0 } else { end - from };
        let _ = rustix::fs::fadvise(dst, from, NonZeroU64::new(len), Advice::DontNeed);
        self.done = end;
    }
}

/// Descriptors a [`Behind`] holds open at most, each a destination still writing back.
pub(crate) const HELD: usize = 8;

/// Destinations written under --nocache whose pages are not dropped yet: each file's
/// write-back is started when its data is copied, and it is waited for and dropped only once
/// [`HELD`] files or a window's worth of bytes are pending, oldest first. Waiting for each
/// file as it ends made a tree of small files wait for the disk once per file, as --fsync
/// does (5,000 files of 2 KB: 14 times slower); the oldest of several files has usually
/// finished writing when it is waited for. So at most about two windows of a thread's copies
/// are in the page cache at a time, for the price of a few descriptors (dirfd.rs counts them).
pub(crate) struct Behind {
    /// Under --nocache only.
    on: bool,
    /// Files held at most (fewer under a low limit on descriptors).
    held: usize,
    files: std::collections::VecDeque<(OwnedFd, u64)>,
    bytes: u64,
}

impl Behind {
    /// One that holds up to `held` files (at most [`HELD`]) under --nocache (`on`), and none
    /// otherwise; with 0, each file is waited for and dropped as it ends.
    pub(crate) fn new(on: bool, held: usize) -> Behind {
        Behind {
            on,
            held: held.min(HELD),
            files: std::collections::VecDeque::new(),
            bytes: 0,
        }
    }

    /// Takes a finished destination, copied from a source of `src_st` (whose size counts
    /// as the bytes pending); waits for and drops the oldest pending ones beyond the limits.
    pub(crate) fn add(&mut self, dst: BorrowedFd<'_>, src_st: &rustix::fs::Stat) {
        if !self.on {
            return;
        }
        // Only a regular file has pages to drop. A FIFO or a device held open would keep
        // its reader from seeing the end of the data: one reading the FIFOs in turn waited
        // for ever, and so did the copy, waiting for it to open the next one.
        let regular = rustix::fs::fstat(dst)
            .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_file());
        if !regular {
            return;
        }
        let bytes = src_st.st_size.unsigned_abs();
        if self.held == 0 {
            drop_file(dst);
            return;
        }
        let Ok(fd) = rustix::io::fcntl_dupfd_cloexec(dst, 0) else {
            // No descriptor to spare: this one is dropped now.
            drop_file(dst);
            return;
        };
        self.files.push_back((fd, bytes));
        self.bytes += bytes;
        while self.files.len() > self.held || (self.bytes > WINDOW && self.files.len() > 1) {
            self.drop_oldest();
        }
    }

    fn drop_oldest(&mut self) {
        if let Some((fd, bytes)) = self.files.pop_front() {
            drop_file(fd.as_fd());
            self.bytes -= bytes;
        }
    }
}

impl Drop for Behind {
    /// The last files of a run are dropped too before it ends.
    fn drop(&mut self) {
        while !self.files.is_empty() {
            self.drop_oldest();
        }
    }
}

/// Waits for the whole of a destination to be written, then drops its pages.
fn drop_file(fd: BorrowedFd<'_>) {
    let all = libc::SYNC_FILE_RANGE_WAIT_BEFORE
        | libc::SYNC_FILE_RANGE_WRITE
        | libc::SYNC_FILE_RANGE_WAIT_AFTER;
    // SAFETY: plain system calls on a borrowed, open descriptor; 0, 0 is the whole file.
    unsafe {
        libc::sync_file_range(fd.as_raw_fd(), 0, 0, all);
        libc::posix_fadvise(fd.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}

/// Starts writing back `at..at + len` of the destination without waiting for it.
fn start_writeback(fd: BorrowedFd<'_>, at: u64, len: u64) -> Result<(), Errno> {
    sync_range(fd, at, len, libc::SYNC_FILE_RANGE_WRITE)
}

/// Waits for `at..at + len` of the destination to be on disk, then drops its pages (clean
/// pages only can be dropped).
fn drop_written(fd: BorrowedFd<'_>, at: u64, len: u64) -> Result<(), Errno> {
    let all = libc::SYNC_FILE_RANGE_WAIT_BEFORE
        | libc::SYNC_FILE_RANGE_WRITE
        | libc::SYNC_FILE_RANGE_WAIT_AFTER;
    sync_range(fd, at, len, all)?;
    advise_dontneed(fd, at, len);
    Ok(())
}

/// sync_file_range(2). A write-back that failed (EIO, ENOSPC, EDQUOT) is the copy's write
/// error: the kernel reports it once per open file, so a later fsync or close would say
/// nothing, and --fsync would report a copy whose data never reached the disk. A call that
/// does not apply to this file (a pipe, a filesystem without it) is no failure: its pages
/// stay, as without --nocache.
fn sync_range(fd: BorrowedFd<'_>, at: u64, len: u64, flags: libc::c_uint) -> Result<(), Errno> {
    let (Ok(at), Ok(len)) = (libc::off64_t::try_from(at), libc::off64_t::try_from(len)) else {
        return Ok(());
    };
    if len == 0 {
        return Ok(());
    }
    // SAFETY: plain system call on a borrowed, open descriptor.
    if unsafe { libc::sync_file_range(fd.as_raw_fd(), at, len, flags) } == 0 {
        return Ok(());
    }
    match Errno::from_raw_os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)) {
        Errno::SPIPE | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP => Ok(()),
        e => Err(e),
    }
}

/// posix_fadvise(DONTNEED); ignored where it does not apply (/proc files, pipes).
fn advise_dontneed(fd: BorrowedFd<'_>, at: u64, len: u64) {
    if len == 0 {
        return;
    }
    let len = std::num::NonZeroU64::new(len);
    let _ = rustix::fs::fadvise(fd, at, len, rustix::fs::Advice::DontNeed);
}

fn tell(fd: BorrowedFd<'_>) -> Option<u64> {
    rustix::fs::seek(fd, rustix::fs::SeekFrom::Current(0)).ok()
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
}
