//! The queue between the walking thread and the copying threads of a parallel tree copy:
//! regular files whose destination is decided, and which files pending tasks use.

use crate::copy::dirfd::{Budget, DirFds};
use crate::copy::entry::Prepared;
use crate::copy::guard::DirGuard;
use crate::fs::ids::NumMap;
use crate::fs::{Id, id};
use rustix::fs::Stat;
use std::collections::VecDeque;
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// A regular file to copy, its destination decided.
pub(crate) struct Task {
    pub(crate) dir: Arc<DirGuard>,
    /// Its directory's descriptors, kept open until the file is copied.
    pub(crate) fds: Arc<DirFds>,
    /// The source and destination as shown, in one allocation (see `Shown`).
    pub(crate) shown: Shown,
    pub(crate) src_st: Stat,
    /// The source, opened (and checked) by the walk.
    pub(crate) src_fd: OwnedFd,
    /// What the walk decided about the destination.
    pub(crate) prepared: Prepared,
}

/// A queued file's two paths, one after the other in one buffer: the queue hands a copying
/// thread one allocation per file instead of two. Each path ends with the entry's name.
pub(crate) struct Shown {
    bytes: Vec<u8>,
    /// Where the destination's path begins.
    split: usize,
    name_len: usize,
}

impl Shown {
    pub(crate) fn new(src: &Path, dst: &Path, name: &OsStr) -> Shown {
        let (src, dst) = (src.as_os_str().as_bytes(), dst.as_os_str().as_bytes());
        let mut bytes = Vec::with_capacity(src.len() + dst.len());
        bytes.extend_from_slice(src);
        bytes.extend_from_slice(dst);
        Shown {
            bytes,
            split: src.len(),
            name_len: name.len(),
        }
    }

    pub(crate) fn src(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.bytes[..self.split]))
    }

    pub(crate) fn dst(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.bytes[self.split..]))
    }

    /// The entry's name in its directory: the end of either path.
    pub(crate) fn name(&self) -> &OsStr {
        let cut = self
            .bytes
            .len()
            .saturating_sub(self.name_len)
            .max(self.split);
        OsStr::from_bytes(&self.bytes[cut..])
    }
}

impl Task {
    /// The files it uses: the source it reads, and the existing file it overwrites.
    pub(crate) fn files(&self) -> Files {
        [
            Some(id(&self.src_st)),
            self.prepared.existing.as_ref().map(id),
        ]
    }
}

struct Queue {
    tasks: VecDeque<Task>,
    closed: bool,
    /// Copying threads asleep, waiting for tasks.
    sleeping: usize,
    /// Tasks queued or being copied.
    pending: usize,
    /// The files pending tasks read or overwrite, with how many tasks use each.
    busy: NumMap<Id, usize>,
}

impl Queue {
    /// Counts a task as done (its directory released too).
    fn done(&mut self, files: Files) {
        self.pending -= 1;
        for file in files.into_iter().flatten() {
            if let Some(count) = self.busy.get_mut(&file) {
                *count -= 1;
                if *count == 0 {
                    self.busy.remove(&file);
                }
            }
        }
    }
}

/// The files a task uses: its source, and the existing file it overwrites, if any.
pub(crate) type Files = [Option<Id>; 2];

/// A task taken is reported done with the files it used, when its thread asks for the next.
pub(crate) type Done = Option<Files>;

/// Tasks that gather before a sleeping thread is woken: waking one costs two futex calls,
/// which per file would cost as much as a small file's copy.
const WAKE_AT: usize = 8;

/// The tasks waiting for a copying thread.
pub(crate) struct Pool {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Signalled when no task is pending.
    idle: Condvar,
    capacity: usize,
    /// Directories that failed to finish on a copying thread.
    dir_failures: Arc<AtomicU64>,
}

impl Pool {
    pub(crate) fn new(budget: &Budget) -> Pool {
        Pool {
            queue: Mutex::new(Queue {
                tasks: VecDeque::new(),
                closed: false,
                sleeping: 0,
                pending: 0,
                busy: NumMap::default(),
            }),
            ready: Condvar::new(),
            idle: Condvar::new(),
            capacity: budget.queue.max(1),
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
        for file in task.files().into_iter().flatten() {
            *queue.busy.entry(file).or_insert(0) += 1;
        }
        queue.pending += 1;
        queue.tasks.push_back(task);
        let wake = queue.sleeping > 0 && queue.tasks.len() >= WAKE_AT.min(self.capacity);
        drop(queue);
        if wake {
            self.ready.notify_one();
        }
        None
    }

    /// Whether a pending task reads or overwrites the existing file `file`.
    pub(crate) fn busy(&self, file: Id) -> bool {
        self.queue
            .lock()
            .is_ok_and(|queue| queue.busy.contains_key(&file))
    }

    /// The next task, waiting for one, after counting the last one (`done`); `None` once
    /// the walk is over and the queue empty.
    pub(crate) fn next(&self, done: Done) -> Option<Task> {
        let mut queue = self.queue.lock().ok()?;
        if let Some(overwrote) = done {
            queue.done(overwrote);
            if queue.pending == 0 {
                self.idle.notify_all();
            }
        }
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

    /// Waits until every task queued so far is copied and its directories finished, copying
    /// what is still queued on this thread meanwhile: what comes next sees them complete.
    pub(crate) fn settle(&self, mut run: impl FnMut(Task)) {
        let mut done: Done = None;
        loop {
            let Ok(mut queue) = self.queue.lock() else {
                return;
            };
            if let Some(overwrote) = done.take() {
                queue.done(overwrote);
            }
            if let Some(task) = queue.tasks.pop_front() {
                drop(queue);
                done = Some(task.files());
                run(task);
                continue;
            }
            while queue.pending > 0 {
                match self.idle.wait(queue) {
                    Ok(q) => queue = q,
                    Err(_) => return,
                }
            }
            return;
        }
    }

    /// Ends the walk: the copying threads finish what is queued and stop.
    pub(crate) fn close(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.closed = true;
        }
        self.ready.notify_all();
    }

    /// Where directories that fail to finish on a copying thread are counted.
    pub(crate) fn failure_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.dir_failures)
    }

    /// Directories whose attributes failed on a copying thread.
    pub(crate) fn dir_failures(&self) -> u64 {
        self.dir_failures.load(Ordering::Relaxed)
    }
}
