//! The copy engines: one module per mechanism behind one signature, the entry point that
//! turns the user's `--method` into one, and `auto`'s fallback order (auto.rs).
//!
//! Every engine moves bytes from the current offset of `src` to the current offset of `dst`
//! until the source reports end of file. None of them trusts `st_size` alone: /proc and /sys
//! files report 0 or 4096 and hold other amounts, and a file may shrink or grow while it is
//! copied (Transfer::ends_short says when a call that stops short at the size is the end).

mod auto;
pub(crate) mod copy_file_range;
mod failure;
pub(crate) mod nocache;
mod pump;
pub(crate) mod read_write;
pub(crate) mod reflink;
pub(crate) mod reserve;
pub(crate) mod sendfile;
pub(crate) mod sparse;
pub(crate) mod splice;

use crate::options::Method;
use crate::report::counters::{Counters, Fallback, Outcome, Reason};
use rustix::io::Errno;
use std::os::fd::BorrowedFd;

pub(crate) use failure::EngineError;

/// The largest count Linux moves in one read, write, sendfile or copy_file_range call
/// (`MAX_RW_COUNT`, INT_MAX rounded down to a page).
pub(crate) const MAX_PER_CALL: usize = 0x7fff_f000;

/// The read-write buffer GNU cp starts from (coreutils' IO_BUFSIZE).
const DEFAULT_BUFSIZE: u64 = 128 * 1024;

/// A mechanism that moves bytes: what `--method` names, or what `auto` picks in turn. Each
/// has its module below, all with one signature; `auto` and `reflink` are not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    ReadWrite,
    Sendfile,
    CopyFileRange,
    Splice,
}

impl From<Engine> for Method {
    /// The method that names the engine on the command line and in reports.
    fn from(engine: Engine) -> Method {
        match engine {
            Engine::ReadWrite => Method::ReadWrite,
            Engine::Sendfile => Method::Sendfile,
            Engine::CopyFileRange => Method::CopyFileRange,
            Engine::Splice => Method::Splice,
        }
    }
}

/// One file's data transfer: the open files and the sizing hints.
#[derive(Clone)]
pub(crate) struct Transfer<'a> {
    pub(crate) src: BorrowedFd<'a>,
    pub(crate) dst: BorrowedFd<'a>,
    /// `--bufsize`, when given.
    pub(crate) bufsize: Option<usize>,
    /// The source's `st_blksize`.
    pub(crate) blksize: u64,
    /// The destination's, asked only when a buffer is sized from it (read-write without
    /// --bufsize): the in-kernel methods never need it, and it costs an fstat per file.
    pub(crate) dst_blksize: std::cell::OnceCell<u64>,
    /// Stop after this many bytes (one data extent of a sparse file); `u64::MAX` for all.
    pub(crate) limit: u64,
    /// Seek over all-zero blocks instead of writing them (read-write under --sparse=always).
    pub(crate) zeros_to_holes: bool,
    /// The source is a regular file. Another (a device, a FIFO) is read by `auto` as GNU
    /// reads it: sendfile is not tried, since even refused it marks the source accessed (a
    /// character device's atime changed where GNU's copy leaves it).
    pub(crate) src_regular: bool,
    /// Deallocate the holes between the source's extents and after the last one too
    /// (--sparse=always), as GNU's create_hole does: a filesystem may have allocated them
    /// ahead of the writes (XFS's speculative preallocation). Runs of zeros made holes are
    /// always deallocated (read_write.rs).
    pub(crate) punch_holes: bool,
    /// Whether `auto` may use copy_file_range, which shares extents on btrfs and XFS as a
    /// clone would (false under --reflink=never, as GNU cp).
    pub(crate) may_share: bool,
    /// copy_file_range already failed with EXDEV between these two filesystems: `auto`
    /// records the same fallback without making the call again.
    pub(crate) cross_device: bool,
    /// Fallbacks are shown (--debug, --stats): the one known in advance is recorded too.
    pub(crate) shown: bool,
    /// Drop the pages behind the copy from the page cache (--nocache).
    pub(crate) nocache: bool,
    /// Where both files are positioned when the copy starts: 0, or where --resume continues.
    pub(crate) from: u64,
    /// The source's size, when it is a regular file on a filesystem where a call that moves
    /// less than asked stops only at end of file (fs::magic::short_means_end), copied into a
    /// regular file: such a call that ends exactly at this offset is the end, and the call
    /// that would return 0 is not made (one system call less per file of a tree). `None`:
    /// only 0 is the end.
    pub(crate) ends_short: Option<u64>,
    /// A regular file that says it has data copied into a regular file: the copy ends, so a
    /// signal need not cut it short (`signals::stops`).
    pub(crate) finishes: bool,
}

/// What one engine run may move: bytes per call, bytes in all, and whether zeros become holes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    /// The count one call asks for (splice: the size of pipe to ask for).
    pub(crate) chunk: usize,
    /// Stop after this many bytes.
    pub(crate) limit: u64,
    /// Seek over all-zero blocks of this many bytes instead of writing them (read-write
    /// only); 0: write every byte.
    pub(crate) hole_block: usize,
    /// A call that moves less than it asked and brings the bytes moved to exactly this many is
    /// the source's end (Transfer::ends_short, counted from where this run starts). Exactly:
    /// a source that grew or shrank since its size was asked is followed to the call that
    /// returns 0, and so is a call cut short by something else (a full disk at the grown part).
    pub(crate) short_end_at: Option<u64>,
    /// The copy ends (Transfer::finishes).
    pub(crate) finishes: bool,
}

impl Span {
    /// The count to ask of the next call, after `copied` bytes.
    fn next(&self, copied: u64) -> usize {
        let left = self.limit.saturating_sub(copied);
        usize::try_from(left).map_or(self.chunk, |left| left.min(self.chunk))
    }
}

impl Transfer<'_> {
    /// The count one call of `engine` asks for.
    fn chunk(&self, engine: Engine) -> usize {
        match (self.bufsize, engine) {
            (Some(size), _) => size,
            // A file the smallest buffer holds whole is read in one call whatever the
            // destination's block size: not asked (an fstat per file of a tree).
            (None, Engine::ReadWrite)
                if self
                    .ends_short
                    .is_some_and(|size| size - self.from.min(size) < DEFAULT_BUFSIZE) =>
            {
                default_bufsize(self.blksize)
            }
            (None, Engine::ReadWrite) => default_bufsize(self.blksize.max(self.dst_blksize())),
            // The pipe's size: splice moves at most what the pipe holds.
            (None, Engine::Splice) => splice::DEFAULT_PIPE,
            (None, _) => MAX_PER_CALL,
        }
    }

    /// Runs one engine to the end of the source (or of the span), as a chosen --method
    /// asks: each call as large as the method allows, which is what is being measured.
    fn run(&self, engine: Engine, counters: &mut Counters) -> Result<u64, EngineError> {
        self.run_within(engine, counters, usize::MAX)
    }

    /// Runs one engine for `auto`: without --bufsize, no call moves more than a progress
    /// display can wait for (a copy_file_range call may otherwise move 2 GiB at once).
    fn run_auto(&self, engine: Engine, counters: &mut Counters) -> Result<u64, EngineError> {
        let most = counters.largest_call();
        self.run_within(engine, counters, most)
    }

    fn run_within(
        &self,
        engine: Engine,
        counters: &mut Counters,
        most: usize,
    ) -> Result<u64, EngineError> {
        let mut chunk = self.chunk(engine);
        if self.bufsize.is_none() {
            chunk = chunk.min(most);
        }
        // splice's short count may be the pipe's room, not the source's end; copy_file_range's
        // may be a clone's (XFS, btrfs) cut at a block boundary mid-file, when the count asked
        // is not a multiple of the block size (REMAP_FILE_CAN_SHORTEN).
        //
        // copy_file_range also clamps the count to the size the source had when the call
        // began, so its short end says nothing of bytes appended while it ran: trusted only
        // for a call short enough (`CLAMPED_AT_MOST` at most) that this window is no longer
        // than the call GNU makes to find the end (a log appended to during a 1 MB copy lost
        // its appended bytes).
        let ends_short = self.ends_short.map(|size| size.saturating_sub(self.from));
        let short_end_at = match engine {
            Engine::Splice => None,
            Engine::CopyFileRange
                if !whole_blocks(chunk, self.blksize)
                    || ends_short.is_some_and(|left| left > CLAMPED_AT_MOST) =>
            {
                None
            }
            _ => ends_short,
        };
        let span = Span {
            chunk,
            limit: self.limit,
            hole_block: if self.zeros_to_holes {
                self.hole_block()
            } else {
                0
            },
            short_end_at,
            finishes: self.finishes,
        };
        match engine {
            Engine::CopyFileRange => copy_file_range::copy(self.src, self.dst, span, counters),
            Engine::Sendfile => sendfile::copy(self.src, self.dst, span, counters),
            Engine::Splice => splice::copy(self.src, self.dst, span, counters),
            Engine::ReadWrite => read_write::copy(self.src, self.dst, span, counters),
        }
    }

    /// The destination's `st_blksize`, asked once.
    pub(crate) fn dst_blksize(&self) -> u64 {
        *self.dst_blksize.get_or_init(|| {
            rustix::fs::fstat(self.dst).map_or(0, |st| u64::try_from(st.st_blksize).unwrap_or(0))
        })
    }

    /// The size of the all-zero blocks made holes: the destination's block size, as GNU's
    /// hole_size (ST_BLKSIZE: 512 where the filesystem says 0 or something absurd).
    fn hole_block(&self) -> usize {
        match usize::try_from(self.dst_blksize()) {
            Ok(size) if size > 0 && size <= usize::MAX / 8 + 1 => size,
            _ => 512,
        }
    }

    /// Whether the source has a byte at its current offset, asked without moving it. `None`
    /// when it cannot be asked (pipes and sockets have no offsets).
    fn source_has_data(&self) -> Option<bool> {
        let at = rustix::fs::seek(self.src, rustix::fs::SeekFrom::Current(0)).ok()?;
        pread_byte(self.src, at).ok().map(|n| n > 0)
    }
}

/// The most a copy_file_range call may move and still be taken as the end when it stops
/// short at the source's size (see `run_within`).
const CLAMPED_AT_MOST: u64 = 128 << 10;

/// Whether every call of `chunk` bytes (as the loop clamps it) asks whole blocks of `blksize`.
fn whole_blocks(chunk: usize, blksize: u64) -> bool {
    let asked = chunk.clamp(1, MAX_PER_CALL) as u64;
    blksize > 0 && asked.is_multiple_of(blksize)
}

/// GNU's read-write buffer: 128 KiB or the larger block size, rounded up to a power of two.
pub(crate) fn default_bufsize(blksize: u64) -> usize {
    // Some filesystems report absurd st_blksize values; 8 MiB bounds the buffer as GNU's
    // io_blksize bounds it against overflow.
    let size = DEFAULT_BUFSIZE.max(blksize).min(8 << 20);
    size.next_power_of_two() as usize
}

/// Copies the data of one file with `method`: the one place the user's choice becomes an
/// engine. `auto` tries engines in turn (auto.rs); a chosen engine never switches, and its
/// refusal is the caller's error.
pub(crate) fn copy(
    transfer: &Transfer<'_>,
    method: Method,
    counters: &mut Counters,
) -> Result<Outcome, (Method, EngineError)> {
    if transfer.nocache && method != Method::Reflink {
        return nocache::copy(transfer, method, counters);
    }
    copy_now(transfer, method, counters)
}

/// `copy` for a source whose status said `size` (a regular file). One that says it is empty
/// and has no byte at its start is done with that one pread: a copy would make a call that
/// moves nothing, then ask where the source stands and whether it has a byte there (auto.rs),
/// three calls where this makes one, for every empty file of a tree. One that says 0 but
/// has data (/proc, /sys) is copied.
pub(crate) fn copy_sized(
    transfer: &Transfer<'_>,
    size: Option<u64>,
    method: Method,
    counters: &mut Counters,
) -> Result<Outcome, (Method, EngineError)> {
    let whole = transfer.from == 0 && transfer.limit == u64::MAX;
    if size == Some(0) && whole && method != Method::Reflink {
        let mut byte = [0u8; 1];
        if matches!(rustix::io::pread(transfer.src, &mut byte, 0), Ok(0)) {
            // Counted as the all-hole file of a sparse copy is: under the method asked for,
            // which made no call, and with no fallback, none having been tried.
            return Ok(Outcome {
                bytes: 0,
                method,
                fallbacks: Vec::new(),
            });
        }
    }
    copy(transfer, method, counters)
}

/// `copy` in one go, the page cache left to the kernel.
fn copy_now(
    transfer: &Transfer<'_>,
    method: Method,
    counters: &mut Counters,
) -> Result<Outcome, (Method, EngineError)> {
    let result = match method {
        Method::Auto => {
            let mut outcome = auto::copy(transfer, counters)?;
            read_on(transfer, &mut outcome, counters)?;
            return Ok(outcome);
        }
        Method::Reflink => reflink::clone(transfer.src, transfer.dst, counters),
        Method::ReadWrite => transfer.run(Engine::ReadWrite, counters),
        Method::Sendfile => transfer.run(Engine::Sendfile, counters),
        Method::CopyFileRange => transfer.run(Engine::CopyFileRange, counters),
        Method::Splice => transfer.run(Engine::Splice, counters),
    };
    let bytes = result.map_err(|e| (method, e))?;
    // read-write's 0 is the source's end; an in-kernel call's 0 from a source that has data
    // (copy_file_range on /proc files, kernels 5.3-5.18) means it did not work.
    if bytes == 0 && method != Method::ReadWrite && transfer.source_has_data() == Some(true) {
        return Err((method, EngineError::NoProgress));
    }
    let mut outcome = finished(bytes, method, Vec::new());
    if method != Method::Reflink {
        read_on(transfer, &mut outcome, counters)?;
    }
    Ok(outcome)
}

/// An in-kernel method ends where the page cache ends the source: at the size it says. GNU
/// reads to the end, and a read may go on past that size: a FUSE file opened direct_io
/// whose daemon has more than it said, or a file that grew behind a stale cached size (a
/// network filesystem). Where a short end is not trusted (Transfer::ends_short is None), a
/// source that still has a byte where the method stopped is read on to its end (one pread
/// per file there, none on the local filesystems).
fn read_on(
    transfer: &Transfer<'_>,
    outcome: &mut Outcome,
    counters: &mut Counters,
) -> Result<(), (Method, EngineError)> {
    let kernel = outcome.method != Method::ReadWrite;
    if !kernel || transfer.ends_short.is_some() || outcome.bytes >= transfer.limit {
        return Ok(());
    }
    let at = rustix::fs::seek(transfer.src, rustix::fs::SeekFrom::Current(0));
    let has_data = match at {
        Ok(at) => has_byte_at(transfer.src, at).map_err(|e| (outcome.method, e))?,
        Err(_) => false,
    };
    if !has_data {
        return Ok(());
    }
    let rest = Transfer {
        limit: transfer.limit - outcome.bytes,
        from: transfer.from + outcome.bytes,
        ..transfer.clone()
    };
    let more = rest
        .run(Engine::ReadWrite, counters)
        .map_err(|e| (Method::ReadWrite, e))?;
    outcome.bytes += more;
    outcome.fallbacks.push(Fallback {
        from: outcome.method,
        to: Method::ReadWrite,
        reason: Reason::EndedEarly,
    });
    Ok(())
}

/// Deallocates `len` bytes of `dst` from `at`, which the copy leaves a hole, as GNU's
/// punch_hole does (FALLOC_FL_PUNCH_HOLE, the size kept); a filesystem that cannot is left as
/// it is.
pub(crate) fn punch_hole(dst: BorrowedFd<'_>, at: u64, len: u64) -> Result<(), EngineError> {
    use rustix::fs::FallocateFlags;
    if len == 0 {
        return Ok(());
    }
    let flags = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
    match rustix::fs::fallocate(dst, flags, at, len) {
        Ok(()) | Err(Errno::OPNOTSUPP | Errno::NOSYS) => Ok(()),
        Err(e) => Err(EngineError::Deallocate(e)),
    }
}

/// Whether `src` has a byte at `at` (one pread). A regular file's read error there is a read
/// error, as GNU's read loop would meet it ("error reading"); files that cannot be read so
/// (pipes, devices, /proc files opened non-seekable: ESPIPE, EINVAL) have none.
pub(crate) fn has_byte_at(src: BorrowedFd<'_>, at: u64) -> Result<bool, EngineError> {
    match pread_byte(src, at) {
        Ok(n) => Ok(n > 0),
        Err(Errno::SPIPE | Errno::INVAL) => Ok(false),
        Err(e) => {
            let regular = rustix::fs::fstat(src)
                .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_file());
            if regular {
                Err(EngineError::Read(e))
            } else {
                Ok(false)
            }
        }
    }
}

/// Reads one byte of `src` at `at` without moving its offset (again when interrupted);
/// returns how many were read: 0 at its end.
fn pread_byte(src: BorrowedFd<'_>, at: u64) -> rustix::io::Result<usize> {
    let mut byte = [0u8; 1];
    loop {
        match rustix::io::pread(src, &mut byte, at) {
            Err(Errno::INTR) => continue,
            other => return other,
        }
    }
}

fn finished(bytes: u64, method: impl Into<Method>, fallbacks: Vec<Fallback>) -> Outcome {
    Outcome {
        bytes,
        method: method.into(),
        fallbacks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};
    use std::os::fd::AsFd;

    fn transfer<'a>(src: &'a std::fs::File, dst: &'a std::fs::File) -> Transfer<'a> {
        Transfer {
            src: src.as_fd(),
            dst: dst.as_fd(),
            bufsize: None,
            blksize: 4096,
            dst_blksize: std::cell::OnceCell::new(),
            limit: u64::MAX,
            zeros_to_holes: false,
            src_regular: true,
            punch_holes: false,
            may_share: true,
            cross_device: false,
            shown: true,
            nocache: false,
            from: 0,
            ends_short: None,
            finishes: true,
        }
    }

    /// A source positioned at its end, with data before: an in-kernel call returns 0 at once,
    /// and the probe (at the current offset) agrees there is nothing more to copy.
    #[test]
    fn explicit_method_at_end_of_file_is_done() {
        for method in [Method::CopyFileRange, Method::Sendfile] {
            let mut src = tempfile::NamedTempFile::new().unwrap();
            src.write_all(b"data before").unwrap();
            let mut file = src.reopen().unwrap();
            file.seek(SeekFrom::End(0)).unwrap();
            let dst = tempfile::NamedTempFile::new().unwrap();
            let outcome = copy(
                &transfer(&file, dst.as_file()),
                method,
                &mut Counters::default(),
            );
            assert_eq!(outcome.map(|o| o.bytes), Ok(0));
        }
    }

    #[test]
    fn empty_file_is_empty_under_auto_without_fallback() {
        let src = tempfile::NamedTempFile::new().unwrap();
        let dst = tempfile::NamedTempFile::new().unwrap();
        let transfer = transfer(src.as_file(), dst.as_file());
        let outcome = copy(&transfer, Method::Auto, &mut Counters::default()).unwrap();
        assert_eq!(outcome.bytes, 0);
        assert_eq!(outcome.method, Method::CopyFileRange);
        assert!(outcome.fallbacks.is_empty());
    }

    #[test]
    fn default_bufsize_follows_gnu() {
        assert_eq!(default_bufsize(4096), 128 * 1024);
        assert_eq!(default_bufsize(0), 128 * 1024);
        assert_eq!(default_bufsize(1 << 20), 1 << 20);
        assert_eq!(default_bufsize(300_000), 512 * 1024);
    }

    #[test]
    fn a_clone_is_trusted_to_end_short_only_when_asked_whole_blocks() {
        assert!(whole_blocks(MAX_PER_CALL, 4096));
        assert!(whole_blocks(64 << 20, 65536));
        // 0x7ffff000 is not a multiple of 64 KiB, nor 5,000 of 4 KiB.
        assert!(!whole_blocks(MAX_PER_CALL, 65536));
        assert!(!whole_blocks(5000, 4096));
        // The loop clamps a larger count to MAX_PER_CALL.
        assert!(!whole_blocks(4 << 30, 65536));
        assert!(!whole_blocks(4096, 0));
    }
}
