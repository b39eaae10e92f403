//! Parallel tree copies (`-j N`): one thread walks the tree, N-1 more copy its regular files.
//!
//! The walking thread does everything that decides or must happen in order: it reads the
//! directories, creates the destination directories, stats, asks the `-i` questions, makes the
//! backups and the hard links, and opens the source of each regular file (so a source that
//! cannot be read is reported in walk order, as GNU cp would). What it hands out is the open
//! source and the decided destination: create, fill, close, attributes, and the rename under
//! --atomic. Creating is the costliest step of a small file, so it goes to the copying threads,
//! which keeps the walk from being the bottleneck (measured: the walk thread took 58% of the
//! samples while it also created the files, 50% since). When the queue is full the walk copies
//! the file itself, which bounds the memory and keeps every thread busy. A directory's own
//! attributes wait for everything below it: each task holds its directory's [`DirGuard`], and
//! each guard its parent's; the last one to let go applies the attributes, so directory times
//! are still set after their contents, as in a sequential copy.

use crate::copy::{At, Session};
use crate::error::Error;
use crate::metadata::Birth;
use crate::options::{Options, Preserve};
use crate::overwrite::Prepared;
use crate::report::{self, Summary};
use rustix::fs::Stat;
use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// Tasks waiting per copying thread: enough to keep them busy while the walker stats. (128
/// kept the walk further ahead, in another directory than the copying threads, and spent 5%
/// less CPU on the directory lock both take to create files, but no less time: rotated A/B,
/// 8 rounds on 20,000 files, 278 against 271 ms.)
const QUEUED_PER_THREAD: usize = 16;
/// Each waiting task holds its source open: the queue takes at most a quarter of the
/// descriptors this process may open, and never more than this.
const QUEUED_AT_MOST: usize = 128;

/// A directory being filled: its two descriptors, and what to do when it is complete.
pub(crate) struct DirGuard {
    pub(crate) src: Option<OwnedFd>,
    pub(crate) dst: OwnedFd,
    /// The destination directory's filesystem (st_dev).
    pub(crate) dst_dev: u64,
    /// What files created in the destination directory are born with, learnt when first
    /// needed (attributes to preserve).
    birth: OnceLock<Birth>,
    finish: Option<Finish>,
    /// Kept alive until this directory is finished, so the parent finishes after it.
    _parent: Option<Arc<DirGuard>>,
    /// Where a failure to finish counts when a copying thread finishes the directory.
    failures: Option<Arc<AtomicU64>>,
}

/// The attributes a directory gets once its contents are in place.
pub(crate) struct Finish {
    pub(crate) src_st: Stat,
    pub(crate) shown: PathBuf,
    /// The mode to restore when the directory was created wider (u+rwx) to be filled.
    pub(crate) restore: Option<u32>,
    pub(crate) preserve: Preserve,
}

impl DirGuard {
    pub(crate) fn new(
        src: Option<OwnedFd>,
        (dst, dst_dev): (OwnedFd, u64),
        finish: Finish,
        parent: Option<Arc<DirGuard>>,
        pool: Option<&Pool>,
    ) -> DirGuard {
        DirGuard {
            src,
            dst,
            dst_dev,
            birth: OnceLock::new(),
            finish: Some(finish),
            _parent: parent,
            failures: pool.map(|p| Arc::clone(&p.dir_failures)),
        }
    }

    /// What files created in the destination directory are born with.
    pub(crate) fn birth(&self) -> Birth {
        *self.birth.get_or_init(|| Birth::of(self.dst.as_fd()))
    }

    /// Finishes the directory now, when nothing else holds it (always so when copying one by
    /// one); otherwise the last holder finishes it.
    pub(crate) fn finish_if_last(guard: Arc<DirGuard>) -> Result<(), Error> {
        match Arc::try_unwrap(guard) {
            Ok(mut guard) => match guard.finish.take() {
                Some(finish) => crate::walk::finish_dir(&guard, &finish),
                None => Ok(()),
            },
            Err(_) => Ok(()),
        }
    }
}

impl Drop for DirGuard {
    fn drop(&mut self) {
        if let Some(finish) = self.finish.take()
            && let Err(e) = crate::walk::finish_dir(self, &finish)
        {
            if let Some(failures) = &self.failures {
                failures.fetch_add(1, Ordering::Relaxed);
            }
            if crate::signals::pending().is_none() {
                report::error(&e);
            }
        }
    }
}

/// A regular file to copy, its destination decided.
pub(crate) struct Task {
    pub(crate) dir: Arc<DirGuard>,
    /// The source as shown; its last component is the entry's name in `dir`.
    pub(crate) src_path: PathBuf,
    pub(crate) dst_path: PathBuf,
    pub(crate) src_st: Stat,
    /// The source, opened (and checked) by the walk.
    pub(crate) src_fd: OwnedFd,
    /// What the walk decided about the destination.
    pub(crate) prepared: Prepared,
}

struct Queue {
    tasks: VecDeque<Task>,
    closed: bool,
    /// Copying threads asleep, waiting for tasks.
    sleeping: usize,
}

/// Tasks that gather before a sleeping thread is woken: waking one costs two futex calls,
/// which per file would cost as much as a small file's copy.
const WAKE_AT: usize = 8;

/// The tasks waiting for a copying thread.
pub(crate) struct Pool {
    queue: Mutex<Queue>,
    ready: Condvar,
    capacity: usize,
    /// Directories that failed to finish on a copying thread.
    dir_failures: Arc<AtomicU64>,
}

/// How many descriptors this process may have open (RLIMIT_NOFILE's soft limit).
fn descriptors() -> usize {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

impl Pool {
    pub(crate) fn new(threads: usize) -> Pool {
        Pool {
            queue: Mutex::new(Queue {
                tasks: VecDeque::new(),
                closed: false,
                sleeping: 0,
            }),
            ready: Condvar::new(),
            capacity: (threads * QUEUED_PER_THREAD)
                .min(QUEUED_AT_MOST)
                .min(descriptors() / 4)
                .max(1),
            dir_failures: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Queues `task`, or gives it back when the queue is full: the caller copies it.
    pub(crate) fn submit(&self, task: Task) -> Option<Task> {
        let Ok(mut queue) = self.queue.lock() else {
            return Some(task);
        };
        if queue.tasks.len() >= self.capacity {
            return Some(task);
        }
        queue.tasks.push_back(task);
        let wake = queue.sleeping > 0 && queue.tasks.len() >= WAKE_AT;
        drop(queue);
        if wake {
            self.ready.notify_one();
        }
        None
    }

    /// The next task, waiting for one; `None` once the walk is over and the queue empty.
    fn next(&self) -> Option<Task> {
        let mut queue = self.queue.lock().ok()?;
        loop {
            if let Some(task) = queue.tasks.pop_front() {
                return Some(task);
            }
            if queue.closed {
                return None;
            }
            queue.sleeping += 1;
            queue = self.ready.wait(queue).ok()?;
            queue.sleeping -= 1;
        }
    }

    /// Ends the walk: the copying threads finish what is queued and stop.
    pub(crate) fn close(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.closed = true;
        }
        self.ready.notify_all();
    }

    /// Directories whose attributes failed on a copying thread.
    pub(crate) fn dir_failures(&self) -> u64 {
        self.dir_failures.load(Ordering::Relaxed)
    }
}

/// A copying thread: takes tasks until the walk is over, and returns what it counted.
pub(crate) fn work<'a>(
    pool: &'a Pool,
    opts: &'a Options,
    counters: crate::engine::Counters,
) -> Summary {
    crate::signals::register_thread();
    let mut session = Session::new(opts, counters);
    drain(pool, &mut session);
    crate::signals::unregister_thread();
    session.summary
}

/// Copies queued files until the walk is over and the queue empty.
pub(crate) fn drain<'a>(pool: &'a Pool, session: &mut Session<'a>) {
    while let Some(task) = pool.next() {
        // After a signal the queue is only emptied: dropping a task still lets its
        // directory finish.
        if crate::signals::pending().is_none() {
            session.run_task(task);
        }
    }
}

impl<'a> Session<'a> {
    /// Copies one queued file (on whichever thread takes it).
    pub(crate) fn run_task(&mut self, task: Task) {
        let Some(src_dir) = task.dir.src.as_ref() else {
            return;
        };
        // The entry's name ends its path (the walk joined them), so it needs no copy of its own.
        let Some(name) = task.src_path.file_name().map(Path::new) else {
            return;
        };
        let src = At {
            dir: src_dir.as_fd(),
            name,
            shown: &task.src_path,
        };
        let dst = At {
            dir: task.dir.dst.as_fd(),
            name,
            shown: &task.dst_path,
        };
        self.dst_dev = Some(task.dir.dst_dev);
        self.birth = self.wants_birth().then(|| task.dir.birth());
        let backup = task.prepared.backup.clone();
        if let Err(e) = self.write_to(src, &task.src_st, dst, task.src_fd, task.prepared) {
            self.fail(&e);
            self.restore_backup(dst, backup.as_deref());
        }
    }
}
