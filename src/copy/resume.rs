//! --resume: how much of an existing destination an interrupted copy left that can be kept.
//!
//! Every engine writes a file from its start to its end in order (a sparse copy seeks over
//! holes, which read back as the zeros the source holds there), and the attributes, the
//! preserved mtime among them, are set only after the last byte. So a destination that an
//! interrupted copy left is a prefix of its source, and one whose size (and preserved mtime)
//! equal the source's was finished. That is an assumption, as rsync's size and mtime check is:
//! a file changed since in the same place and kept its size is not noticed. `--resume=verify`
//! reads and compares everything kept instead.

use crate::engine::nocache::Rereads;
use crate::error::{Error, Op};
use crate::fs::newer::Resolutions;
use crate::fs::{At, file_type};
use crate::options::{Make, Method, Options, ReflinkMode, Resume};
use crate::report::counters::{Counters, Outcome};
use crate::report::stats::Summary;
use rustix::fs::{FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::cmp::Ordering;
use std::os::fd::{AsFd, BorrowedFd};

/// The most of a shorter destination's end that the quick check compares: the last block a
/// copy wrote, where an interrupted write or a full disk leaves its damage.
const TAIL: u64 = 1 << 20;

/// What is done with an existing regular destination under --resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// It holds the whole source: no data is written, the attributes are.
    Complete,
    /// It holds the source's first bytes, this many: the rest is copied after them.
    Continue(u64),
    /// Anything else: copied again from the start, as cp would.
    Restart,
}

/// How the destination is opened: made anew, an existing file emptied, or one whose data
/// --resume keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open {
    Create,
    Truncate,
    Keep,
}

impl Open {
    /// For a destination that `exists`, whose data is to be kept or not.
    pub(crate) fn new(exists: bool, keep: bool) -> Open {
        match (exists, keep) {
            (false, _) => Open::Create,
            (true, true) => Open::Keep,
            (true, false) => Open::Truncate,
        }
    }
}

/// What a destination found complete records: nothing moved.
pub(crate) fn nothing_moved(method: Method) -> Outcome {
    Outcome {
        bytes: 0,
        method,
        fallbacks: Vec::new(),
    }
}

/// Decides what to keep of `dst` (`dst_st`: the existing file cp's rules let this copy
/// overwrite) for the source open as `src`; `None` without --resume or such a file.
///
/// With times preserved, a destination of the source's size is complete when its mtime is
/// the source's as its filesystem keeps it (`resolutions`: -u's comparison, fs::newer): a
/// copy made with -p onto a filesystem of whole seconds holds the time cut.
pub(crate) fn decide(
    (src, src_st): (BorrowedFd<'_>, &Stat),
    (dst, dst_st): (At<'_>, Option<&Stat>),
    opts: &Options,
    resolutions: &mut Resolutions,
) -> Option<Found> {
    let how = opts.resume.filter(|_| !opts.attributes_only)?;
    let dst_st = dst_st?;
    let times_match = !opts.preserve.timestamps
        || resolutions.compare(dst, (dst_st, src_st), true) == Some(Ordering::Equal);
    let found = examine((src, src_st), (dst, dst_st), how, opts, times_match);
    Some(match found {
        Found::Continue(_) if clones(opts) => Found::Restart,
        found => found,
    })
}

/// Whether the data is moved by a clone (--reflink=always, --method=reflink), which replaces
/// the whole file: nothing to continue after.
fn clones(opts: &Options) -> bool {
    opts.reflink == ReflinkMode::Always || opts.method == Method::Reflink
}

/// Under -u (cp's rule keeps a destination not older than its source): whether `dst` is
/// nonetheless an unfinished copy of the source (`src`, not yet open) that --resume continues.
/// An interrupted copy leaves its destination newer than its source, so without this `-u
/// --resume` left it incomplete, silently. Continuing writes only after the bytes it has,
/// which match the source's (the last block, or all with =verify): nothing in it is lost.
/// Anything else not older -- complete, longer, other bytes -- is left as cp -u leaves it,
/// and so is every destination that this copy would not continue in place: one that
/// --remove-destination removes or --backup renames (the copy then starts anew, and the
/// quick check vouched only for the last block), or -l and -s, which copy no data. Here,
/// where cp would keep the file, the whole of it is compared with the source whatever
/// --resume asked (a newer file the user edited near its start kept its last block). An
/// empty one is continued, that is copied whole: an interrupted copy leaves the files its
/// threads had just created empty, and continuing loses nothing an empty file holds.
pub(crate) fn unfinished(
    (src, src_st): (At<'_>, &Stat),
    dst: At<'_>,
    dst_st: &Stat,
    opts: &Options,
) -> bool {
    let in_place = opts.make == Make::Copy
        && !opts.overwrite.remove_destination
        && opts.overwrite.backup.is_none();
    if opts.resume.is_none() || !in_place || file_type(src_st) != FileType::RegularFile {
        return false;
    }
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    let Ok(fd) = rustix::fs::openat(src.dir, src.name, flags, Mode::empty()) else {
        return false;
    };
    // The file looked at, not one put in its place since.
    let same = rustix::fs::fstat(&fd).is_ok_and(|st| crate::fs::id(&st) == crate::fs::id(src_st));
    // Only a shorter file is continued: whether a whole one is complete does not matter.
    same && !clones(opts)
        && matches!(
            examine(
                (fd.as_fd(), src_st),
                (dst, dst_st),
                Resume::Verify,
                opts,
                false
            ),
            Found::Continue(_)
        )
}

/// What `dst` holds of the source; `times_match`: the mtimes agree, or times are not
/// preserved (a file of the source's size is then complete).
fn examine(
    (src, src_st): (BorrowedFd<'_>, &Stat),
    (dst, dst_st): (At<'_>, &Stat),
    how: Resume,
    opts: &Options,
    times_match: bool,
) -> Found {
    let regular = |st: &Stat| file_type(st) == FileType::RegularFile;
    if !regular(src_st) || !regular(dst_st) {
        return Found::Restart;
    }
    let size = u64::try_from(src_st.st_size).unwrap_or(0);
    let have = u64::try_from(dst_st.st_size).unwrap_or(u64::MAX);
    let from = match how {
        Resume::Verify => 0,
        Resume::Quick if have == size => have,
        Resume::Quick => have.saturating_sub(TAIL),
    };
    // A source that reads past its size (/proc and /sys files say 0, a file that grew) is
    // not held whole by a destination of that size.
    let ends = || read_full(src, &mut [0u8; 1], size) == Some(0);
    let found = if have == size && times_match && ends() {
        Found::Complete
    } else if have < size {
        Found::Continue(have)
    } else {
        return Found::Restart;
    };
    // The destination is read through its own descriptor: it is opened for writing only.
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    let Ok(fd) = rustix::fs::openat(dst.dir, dst.name, flags, Mode::empty()) else {
        return Found::Restart;
    };
    // Under --nocache what these reads bring into the page cache is dropped behind them.
    let mut rereads = Rereads::new(opts.nocache, src, from);
    let same = same_bytes((src, fd.as_fd()), from, have, rereads.as_mut());
    if let Some(rereads) = rereads {
        rereads.finish(src, fd.as_fd());
    }
    if same { found } else { Found::Restart }
}

/// Whether `a` and `b` hold the same bytes from `from` to `to`; no when either cannot be read
/// or ends early.
fn same_bytes(
    (a, b): (BorrowedFd<'_>, BorrowedFd<'_>),
    from: u64,
    to: u64,
    mut rereads: Option<&mut Rereads>,
) -> bool {
    const CHUNK: usize = 256 * 1024;
    let (mut x, mut y) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let mut at = from;
    while at < to {
        let want = usize::try_from(to - at).map_or(CHUNK, |left| left.min(CHUNK));
        let (Some(n), Some(m)) = (
            read_full(a, &mut x[..want], at),
            read_full(b, &mut y[..want], at),
        ) else {
            return false;
        };
        if let Some(rereads) = rereads.as_deref_mut() {
            rereads.read(a, b, at + want as u64);
        }
        if n != want || m != want || x[..n] != y[..m] {
            return false;
        }
        at += want as u64;
    }
    true
}

/// Fills `buf` from `at` on, short only at the end of the file; `None` on an error.
fn read_full(fd: BorrowedFd<'_>, buf: &mut [u8], at: u64) -> Option<usize> {
    let mut done = 0;
    while done < buf.len() {
        match rustix::io::pread(fd, &mut buf[done..], at + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
    Some(done)
}

/// Puts both files' offsets where a continued copy starts; returns that offset (0 when the
/// copy starts at the beginning).
pub(crate) fn skip_to(
    found: Option<Found>,
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    shown: &std::path::Path,
) -> Result<u64, Error> {
    let Some(Found::Continue(at)) = found else {
        return Ok(0);
    };
    let to = rustix::fs::SeekFrom::Start(at);
    rustix::fs::seek(src, to).map_err(|e| Error::io(Op::Write, shown, e))?;
    rustix::fs::seek(dst, to).map_err(|e| Error::io(Op::Write, shown, e))?;
    Ok(at)
}

/// Tells the progress display what `found` keeps, before the rest is copied: the display's
/// total (tally.rs) is every source's size, sized before the destinations are looked at, so
/// kept bytes count as done (as rsync's --info=progress2 counts matched data) and a resumed
/// copy starts at the percentage it had reached. Taking them out of the total instead would
/// need the destinations read first, and would make the total shrink as the copy goes on.
pub(crate) fn show_kept(counters: &mut Counters, found: Option<Found>, src_st: &Stat) {
    match found {
        Some(Found::Complete) => counters.kept(u64::try_from(src_st.st_size).unwrap_or(0), 1),
        Some(Found::Continue(at)) => counters.kept(at, 0),
        _ => {}
    }
}

/// Counts what --resume did with a finished file (`written`: the bytes this run wrote).
/// Returns whether the file is also counted as a copy (a complete one moved nothing).
pub(crate) fn count(
    summary: &mut Summary,
    found: Option<Found>,
    src_st: &Stat,
    written: u64,
) -> bool {
    let r = &mut summary.resumed;
    let size = u64::try_from(src_st.st_size).unwrap_or(0);
    match found {
        None => {}
        Some(Found::Complete) => {
            r.complete_files += 1;
            r.complete_bytes += size;
            summary.files += 1;
            return false;
        }
        Some(Found::Continue(at)) => {
            r.continued_files += 1;
            r.continued_bytes += at;
        }
        Some(Found::Restart) => {
            r.recopied_files += 1;
            r.recopied_bytes += written;
        }
    }
    true
}
