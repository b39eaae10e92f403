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
use std::os::fd::{AsRawFd, BorrowedFd};

/// Bytes copied between two write-backs: large enough that the calls cost little, small
/// enough that little is dirty at a time (scripts/bench-cache, 8 GiB: 0.33 of the default).
const WINDOW: u64 = 16 << 20;

/// Copies as `engine::copy` does, window by window, dropping the pages behind the copy.
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
    let window_at = |copied: u64| WINDOW.min(transfer.limit.saturating_sub(copied));
    let mut ahead = Residency::of(transfer.src, src_at, window_at(0), page);
    let mut behind: Option<(u64, u64)> = None;
    let mut total: Option<Outcome> = None;
    let mut method = method;
    loop {
        let copied = total.as_ref().map_or(0, |t| t.bytes);
        let len = window_at(copied);
        if len == 0 && total.is_some() {
            break;
        }
        // The window after this one, looked at before this one's reads run ahead into it.
        let here = std::mem::replace(
            &mut ahead,
            Residency::of(
                transfer.src,
                src_at + copied + len,
                window_at(copied + len),
                page,
            ),
        );
        let window = Transfer {
            limit: len,
            ..transfer.clone()
        };
        let outcome = super::copy_now(&window, method, counters)?;
        let moved = outcome.bytes;
        // Once `auto` found a method that works, the other windows use it directly.
        method = outcome.method;
        match &mut total {
            Some(t) => t.bytes += moved,
            None => total = Some(outcome),
        }
        here.drop_fresh(transfer.src, src_at + copied, moved, page);
        start_writeback(transfer.dst, dst_at + copied, moved);
        if let Some((at, len)) = behind.replace((dst_at + copied, moved)) {
            drop_written(transfer.dst, at, len);
        }
        if moved < len || len == 0 {
            break;
        }
    }
    if let Some((at, len)) = behind {
        drop_written(transfer.dst, at, len);
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
    /// this copy brought in. Runs of such pages are dropped with one call each.
    fn drop_fresh(&self, fd: BorrowedFd<'_>, at: u64, len: u64, page: u64) {
        let Residency::Pages(start, pages) = self else {
            return;
        };
        let end = at + len;
        let mut run: Option<u64> = None;
        for (i, &state) in pages.iter().enumerate() {
            let offset = start + i as u64 * page;
            let fresh = state & 1 == 0 && offset < end;
            match (fresh, run) {
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

/// Starts writing back `at..at + len` of the destination without waiting for it.
fn start_writeback(fd: BorrowedFd<'_>, at: u64, len: u64) {
    sync_range(fd, at, len, libc::SYNC_FILE_RANGE_WRITE);
}

/// Waits for `at..at + len` of the destination to be on disk, then drops its pages (clean
/// pages only can be dropped).
fn drop_written(fd: BorrowedFd<'_>, at: u64, len: u64) {
    let all = libc::SYNC_FILE_RANGE_WAIT_BEFORE
        | libc::SYNC_FILE_RANGE_WRITE
        | libc::SYNC_FILE_RANGE_WAIT_AFTER;
    sync_range(fd, at, len, all);
    advise_dontneed(fd, at, len);
}

/// sync_file_range(2); a failure (a file that has no pages to write) is no copy's failure:
/// the pages stay, as without --nocache.
fn sync_range(fd: BorrowedFd<'_>, at: u64, len: u64, flags: libc::c_uint) {
    let (Ok(at), Ok(len)) = (libc::off64_t::try_from(at), libc::off64_t::try_from(len)) else {
        return;
    };
    if len == 0 {
        return;
    }
    // SAFETY: plain system call on a borrowed, open descriptor.
    unsafe { libc::sync_file_range(fd.as_raw_fd(), at, len, flags) };
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
