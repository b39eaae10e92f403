//! Directory descriptors within the process's limit (RLIMIT_NOFILE): how many copying threads,
//! queued files and open directory levels a copy may have, and how a directory whose
//! descriptors were closed is found again, verified by device and inode.
//!
//! A tree can be deeper than the limit allows descriptors: the walk keeps only its `window`
//! deepest levels open, and opens a level again when it comes back to it: through `..` from
//! the child it leaves (as fts does), or, when `..` is not that directory (a directory reached
//! through a followed symlink, a tree moved meanwhile), name by name from the nearest open
//! ancestor. Every reopened directory must still be the one first opened; no path longer
//! than one name is ever used, so depth has no PATH_MAX limit.

use crate::error::{Error, Op};
use crate::fs::handle::Handle;
use crate::fs::{Id, id};
use crate::options::Method;
use crate::options::Options;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A directory's two descriptors: its source (none when it could not be listed) and its copy.
pub(crate) struct DirFds {
    pub(crate) src: Option<OwnedFd>,
    pub(crate) dst: DstDir,
}

/// A destination directory's descriptor: opened for reading, or, where its user may not read
/// it (mode 0300, 0100, 000 of its own), opened O_PATH, as GNU opens a target directory: a
/// copy into it needs only the search (and write) permission that each entry's own system
/// call checks, and GNU copies into such a directory. Its attributes are then set by name.
pub(crate) struct DstDir {
    fd: OwnedFd,
    path_only: bool,
}

impl DstDir {
    /// Opens the directory `name` below `dir`; a final symlink is followed only with `follow`.
    pub(crate) fn open(dir: BorrowedFd<'_>, name: &Path, follow: bool) -> rustix::io::Result<Self> {
        match open_dir(dir, name, follow) {
            Ok(fd) => Ok(DstDir {
                fd,
                path_only: false,
            }),
            Err(Errno::ACCESS) => {
                let mut flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
                if !follow {
                    flags |= OFlags::NOFOLLOW;
                }
                let fd = rustix::fs::openat(dir, name, flags, Mode::empty())?;
                Ok(DstDir {
                    fd,
                    path_only: true,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The directory, to set its attributes.
    pub(crate) fn handle(&self) -> Handle<'_> {
        if self.path_only {
            Handle::path_only(self.fd.as_fd())
        } else {
            Handle::from(self.fd.as_fd())
        }
    }
}

impl AsFd for DstDir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Opens a directory relative to `dir`; a final symlink is followed only with `follow`.
pub(crate) fn open_dir(
    dir: BorrowedFd<'_>,
    name: &Path,
    follow: bool,
) -> rustix::io::Result<OwnedFd> {
    let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    rustix::fs::openat(dir, name, flags, Mode::empty())
}

/// A directory's name as messages show it, kept as one name per level (a deep tree's paths
/// would take memory in the square of its depth): source and destination differ only at
/// the top of the walk.
pub(crate) enum Shown {
    Top { src: PathBuf, dst: PathBuf },
    Below { up: Arc<Shown>, name: Box<OsStr> },
}

impl Shown {
    /// The source directory's path.
    pub(crate) fn src(&self) -> PathBuf {
        self.path(true)
    }

    /// The destination directory's path.
    pub(crate) fn dst(&self) -> PathBuf {
        self.path(false)
    }

    /// The last component inside the tree (none at the top).
    pub(crate) fn name(&self) -> Option<&OsStr> {
        match self {
            Shown::Top { .. } => None,
            Shown::Below { name, .. } => Some(name),
        }
    }

    /// The path of this directory, given the path of its entry `name` (a file or a
    /// directory in it): cut back, not pieced together again.
    pub(crate) fn path_above(&self, entry: &Path, name: &OsStr) -> PathBuf {
        match self {
            // The top is spelled as the user did (`d/` stays `d/`).
            Shown::Top { dst, .. } => dst.clone(),
            // Below the top no path ends with a slash: the entry's adds one, and its name.
            Shown::Below { .. } => {
                let bytes = entry.as_os_str().as_bytes();
                let len = bytes.len().saturating_sub(name.len() + 1);
                PathBuf::from(OsStr::from_bytes(&bytes[..len]))
            }
        }
    }

    fn path(&self, src: bool) -> PathBuf {
        let mut names = Vec::new();
        let mut at = self;
        let top = loop {
            match at {
                Shown::Below { up, name } => {
                    names.push(&**name);
                    at = up;
                }
                Shown::Top { src: s, dst: d } => break if src { s } else { d },
            }
        };
        let len = top.as_os_str().len() + names.iter().map(|n| n.len() + 1).sum::<usize>();
        let mut bytes = Vec::with_capacity(len);
        bytes.extend_from_slice(crate::fs::one_trailing_slash(top.as_os_str().as_bytes()));
        for name in names.iter().rev() {
            // As fs::concat: a slash unless the path ends with one already.
            if !bytes.ends_with(b"/") {
                bytes.push(b'/');
            }
            bytes.extend_from_slice(name.as_bytes());
        }
        PathBuf::from(OsString::from_vec(bytes))
    }
}

/// What a directory below the top must be when opened again: whether each side was reached
/// through a symlink, and each side's device and inode.
#[derive(Clone, Copy)]
pub(crate) struct Place {
    /// Source and destination were opened following a final symlink.
    pub(crate) follow: (bool, bool),
    /// Source and destination identities.
    pub(crate) ids: (Id, Id),
}

/// Checks the directory just opened again (`opened`) is the directory `want`; `shown` for
/// messages.
fn reopened<F: AsFd>(
    opened: rustix::io::Result<F>,
    want: Id,
    shown: impl Fn() -> PathBuf,
) -> Result<F, Error> {
    let fd = opened.map_err(|e| Error::io(Op::Access, shown(), e))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| Error::io(Op::Fstat, shown(), e))?;
    if id(&st) != want {
        return Err(Error::Replaced(shown()));
    }
    Ok(fd)
}

impl Place {
    /// Opens the directory `shown` again below its parent's descriptors.
    pub(crate) fn open_below(&self, parent: &DirFds, shown: &Shown) -> Result<DirFds, Error> {
        let Some(name) = shown.name().map(Path::new) else {
            return Err(Error::Replaced(shown.dst()));
        };
        let Some(parent_src) = &parent.src else {
            return Err(Error::Replaced(shown.src()));
        };
        let (src_follow, dst_follow) = self.follow;
        let src = open_dir(parent_src.as_fd(), name, src_follow);
        let src = reopened(src, self.ids.0, || shown.src())?;
        let dst = DstDir::open(parent.dst.as_fd(), name, dst_follow);
        let dst = reopened(dst, self.ids.1, || shown.dst())?;
        Ok(DirFds {
            src: Some(src),
            dst,
        })
    }

    /// Opens the directory again as the parent (`..`) of `child`: `None` when `..` is not
    /// this directory on either side (a child reached through a symlink, or moved).
    pub(crate) fn open_above(&self, child: &DirFds) -> Option<DirFds> {
        let up = Path::new("..");
        let src = open_dir(child.src.as_ref()?.as_fd(), up, false);
        let src = reopened(src, self.ids.0, PathBuf::new).ok()?;
        let dst = DstDir::open(child.dst.as_fd(), up, false);
        let dst = reopened(dst, self.ids.1, PathBuf::new).ok()?;
        Some(DirFds {
            src: Some(src),
            dst,
        })
    }
}

/// Descriptors kept for standard input, output and error, the top directory of the walk (2,
/// kept open throughout), the walk's next level while it is opened (2), the file the walk
/// opens before it knows who copies it, and a backup's directory listing (2).
const RESERVED: usize = 10;
/// Descriptors one copying thread may hold: source, destination, one more (--verify reads
/// the copy back, --fsync opens its directory), its file's directory (2), or while it
/// finishes directories, two levels of them (4) and one opened between them.
const PER_THREAD: usize = 5;
/// A splice pipe, kept by each copying thread between files.
const PIPE: usize = 2;
/// Descriptors one queued file may hold: its source, and its directory (2) when the walk
/// has closed that level meanwhile.
const PER_TASK: usize = 3;
/// Tasks waiting per copying thread. Enough that the walk is mostly in another directory
/// than the copying threads: when the queue is full the walk creates the file itself, and
/// two threads creating in one directory queue on its lock, spinning (a million empty files
/// in directories of 500 on ext4, -j2: a queue of 32 spent 23% of the CPU in
/// rwsem_spin_on_owner, 18.7 s wall and 33.9 s system; a queue of 256, 13.4 s and 23.5 s;
/// 1,024, 13.9 s and 23.7 s; cpz 14.5 s and 25.4 s). On 20,000 files in directories of 100
/// the three sizes measured alike within the noise (0.30-0.37 s); the smaller queue holds
/// fewer sources open, and a queued source is copied as it was when opened.
const QUEUED_PER_THREAD: usize = 128;
/// Queued files at most, whatever the limit.
const QUEUED_AT_MOST: usize = 256;
/// The soft limit on descriptors is raised to the hard one up to this (as Go's runtime does),
/// so that a common soft limit of 1,024 does not cut the queue short.
const RAISE_TO_AT_MOST: u64 = 1 << 16;
/// Directory levels the walk keeps open at most: deeper trees reopen a level (one openat and
/// one fstat per side) when the walk comes back to it.
const WINDOW_AT_MOST: usize = 64;
/// What the walk needs at the least: a queue of two files and two open levels.
const LEAST: usize = 2 * PER_TASK + 2 * 2;

/// How a copy shares out the descriptors it may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Threads that copy files, the walking one included (fewer than `-j` asks when the limit
    /// is too low for that many).
    pub(crate) threads: usize,
    /// Files that may wait for a copying thread, each holding its source open.
    pub(crate) queue: usize,
    /// Directory levels the walk keeps open.
    pub(crate) window: usize,
}

/// How many descriptors this process may have open (RLIMIT_NOFILE's soft limit), after
/// raising the soft limit toward the hard one (at most RAISE_TO_AT_MOST): nothing else here
/// depends on the soft limit, and no child process inherits it (fastcp starts none).
fn descriptors() -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let want = limit
        .maximum
        .map_or(RAISE_TO_AT_MOST, |hard| hard.min(RAISE_TO_AT_MOST));
    if limit.current.is_some_and(|soft| soft < want) {
        let raised = rustix::process::Rlimit {
            current: Some(want),
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            limit.current = Some(want);
        }
    }
    limit
        .current
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// Finished --nocache destinations a thread may keep open until their pages are dropped
/// (engine/nocache.rs `Behind`): none under a limit so low that the walk needs every
/// descriptor (at 12, `-a --nocache` of a deep tree failed with "Too many open files").
pub(crate) fn may_hold() -> usize {
    if descriptors() >= 256 {
        crate::engine::nocache::HELD
    } else {
        0
    }
}

/// Grows this process's table of descriptors, before the copying threads start, to hold all
/// a parallel copy with `opts` may open. Linux grows it as descriptors are opened (64, 128,
/// 256, 512 places...), and while several threads share it each growth waits for an RCU
/// grace period (expand_fdtable's synchronize_rcu) and the other threads wait for the growth:
/// 12-15 ms each at the start of a tree copy here, 4% of a 20,000-file copy. Growing it once
/// at the start costs one wait at most, and none while there is one thread.
pub(crate) fn grow_table(opts: &Options) {
    let budget = Budget::new(opts);
    if !opts.recursive || budget.threads < 2 {
        return;
    }
    let most = budget.most_open(per_thread(opts));
    let Ok(root) = rustix::fs::open("/", OFlags::PATH | OFlags::CLOEXEC, Mode::empty()) else {
        return;
    };
    // The lowest free descriptor from `most - 1` on: the table grows to hold it. Closed at
    // once; the table keeps its size.
    if let Ok(high) = i32::try_from(most.saturating_sub(1)) {
        let _ = rustix::io::fcntl_dupfd_cloexec(&root, high);
    }
}

/// Descriptors one copying thread may hold with `opts`.
fn per_thread(opts: &Options) -> usize {
    PER_THREAD
        + if opts.method == Method::Splice {
            PIPE
        } else {
            0
        }
        + if opts.nocache { may_hold() } else { 0 }
}

impl Budget {
    /// The budget of a copy with `opts` under the current limit.
    pub(crate) fn new(opts: &Options) -> Budget {
        let jobs = if opts.recursive { opts.jobs.max(1) } else { 1 };
        Budget::share(descriptors(), jobs, per_thread(opts))
    }

    /// The most descriptors a copy under this budget holds at once, `per_thread` each thread.
    fn most_open(&self, per_thread: usize) -> usize {
        RESERVED + self.threads * per_thread + self.queue * PER_TASK + self.window * 2
    }

    /// Shares `limit` descriptors among at most `jobs` threads needing `per_thread` each,
    /// the queue (at most half of what is left) and the walk's window (the rest).
    fn share(limit: usize, jobs: usize, per_thread: usize) -> Budget {
        let spare = limit.saturating_sub(RESERVED);
        let mut threads = jobs;
        while threads > 1 && spare < threads * per_thread + LEAST {
            threads -= 1;
        }
        let rest = spare.saturating_sub(threads * per_thread);
        let queue = if threads > 1 {
            (threads * QUEUED_PER_THREAD)
                .min(QUEUED_AT_MOST)
                .min(rest / 2 / PER_TASK)
                .max(1)
        } else {
            0
        };
        let window = (rest.saturating_sub(queue * PER_TASK) / 2).clamp(1, WINDOW_AT_MOST);
        Budget {
            threads,
            queue,
            window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything the budget hands out fits in the limit, for limits from tiny to large.
    #[test]
    fn the_budget_fits_the_limit() {
        for limit in [16, 20, 32, 64, 100, 256, 1024, 4096, 1 << 20] {
            for jobs in [1, 2, 4, 16, 256] {
                let b = Budget::share(limit, jobs, PER_THREAD + PIPE);
                let used = b.most_open(PER_THREAD + PIPE);
                assert!(used <= limit || b.threads == 1, "{limit} {jobs} {b:?}");
                assert!(b.threads >= 1 && b.threads <= jobs && b.window >= 1);
                assert_eq!(b.queue == 0, b.threads == 1, "{limit} {jobs} {b:?}");
            }
        }
    }

    /// A soft limit below the hard one is raised (up to RAISE_TO_AT_MOST) before sharing.
    #[test]
    fn the_soft_limit_is_raised_toward_the_hard_one() {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let was = getrlimit(Resource::Nofile);
        let hard = was.maximum.unwrap_or(u64::MAX);
        if hard <= 256 {
            return;
        }
        let low = Rlimit {
            current: Some(256),
            maximum: was.maximum,
        };
        setrlimit(Resource::Nofile, low).unwrap();
        let seen = descriptors() as u64;
        assert_eq!(seen, hard.min(RAISE_TO_AT_MOST));
        assert_eq!(getrlimit(Resource::Nofile).current, Some(seen));
    }

    #[test]
    fn ordinary_limits_keep_the_usual_queue_and_threads() {
        let b = Budget::share(1024, 2, PER_THREAD);
        assert_eq!(
            b,
            Budget {
                threads: 2,
                queue: 167,
                window: WINDOW_AT_MOST
            }
        );
        let b = Budget::share(20_000, 2, PER_THREAD);
        assert_eq!((b.threads, b.queue), (2, QUEUED_AT_MOST));
        // Half of what the threads leave of a limit of 1,024, a file's three descriptors each.
        let b = Budget::share(1024, 16, PER_THREAD);
        assert_eq!((b.threads, b.queue), (16, 155));
        // The test suite's low limit: two threads, a short queue.
        let b = Budget::share(32, 4, PER_THREAD);
        assert_eq!((b.threads, b.queue), (2, 2));
    }
}
