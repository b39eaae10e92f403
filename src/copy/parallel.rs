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
//!
//! A decision must see every earlier copy that could reach the same destination complete, as
//! in a sequential copy: the walk waits for the queue to empty ([`Pool::settle`]) between
//! command-line operands (two sources can merge into one directory), before it writes into a
//! destination directory it has entered before (through a kept directory symlink or a bind
//! mount), and before it overwrites a file a queued task is overwriting (a hard link or a
//! symlink in the destination gives one file two names).
//!
//! Guards hold no descriptors of their own: a queued task holds its directory's
//! ([`DirFds`]), and a directory whose descriptors were all closed is opened again to be
//! finished (see dirfd.rs), so no number of directories waiting to be finished holds more.

use crate::copy::dirfd::Budget;
use crate::copy::queue::{Done, Pool};
use crate::copy::session::Session;
use crate::copy::walk::inside;
use crate::fs::At;
use crate::options::Options;
use crate::plan::Plan;
use crate::report::counters::Counters;
use crate::report::stats::Summary;

/// A copying thread: takes tasks until the walk is over, and returns what it counted.
pub(crate) fn work<'a>(pool: &'a Pool, opts: &'a Options, counters: Counters) -> Summary {
    crate::signals::register_thread();
    let mut session = Session::new(opts, counters);
    drain(pool, &mut session);
    crate::signals::unregister_thread();
    session.summary
}

/// Copies queued files until the walk is over and the queue empty.
pub(crate) fn drain<'a>(pool: &'a Pool, session: &mut Session<'a>) {
    let mut done: Done = None;
    while let Some(task) = pool.next(done) {
        done = Some(task.files());
        session.run_task(task);
    }
}

/// Copies every job of the plan, one file at a time, or for a recursive copy with `-j N`,
/// with N threads (fewer when the limit on open files is too low for N, see dirfd.rs). Returns
/// what was counted on all of them.
pub(crate) fn copy_all(options: &Options, plan: &Plan, counters: Counters) -> Summary {
    let jobs = |session: &mut Session<'_>| {
        for job in &plan.jobs {
            if crate::signals::pending().is_some() {
                break;
            }
            session.copy(job, plan.into_directory);
            // Two operands can reach one destination (`a/x b/x d/`, `--parents a/b a/b/c`):
            // the next one starts when this one's files are all copied, as one by one.
            session.settle();
        }
    };
    let budget = Budget::new(options);
    if !options.recursive || budget.threads < 2 || reads_what_it_writes(plan) {
        let mut session = Session::new(options, counters);
        jobs(&mut session);
        return session.summary;
    }
    one_heap();
    let pool = Pool::new(&budget);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (1..budget.threads)
            .filter_map(|_| {
                let counters = counters.sibling();
                let pool = &pool;
                std::thread::Builder::new()
                    .name("copy".into())
                    .spawn_scoped(scope, move || work(pool, options, counters))
                    .ok()
            })
            .collect();
        crate::signals::register_thread();
        let mut session = Session::new(options, counters);
        session.pool = Some(&pool);
        jobs(&mut session);
        pool.close();
        // What is still queued is shared with the other threads.
        drain(&pool, &mut session);
        crate::signals::unregister_thread();
        let mut summary = session.summary;
        for worker in workers {
            if let Ok(theirs) = worker.join() {
                summary.merge(theirs);
            }
        }
        summary.failures += pool.dir_failures();
        summary
    })
}

/// Whether one operand of several is a directory that holds the target, or lies in it: a
/// later operand then reads what an earlier one wrote (`cp -r d/. t t`), in the order its
/// entries were made, which copying threads change (a file made after a directory made after
/// it in walk order takes another place in inode order: GNU's copy, read in that order, met
/// the file before the directory that ended it). Such a run copies one file at a time.
fn reads_what_it_writes(plan: &Plan) -> bool {
    let Some(target) = plan.jobs.first().and_then(|job| job.into.as_deref()) else {
        return false;
    };
    let Ok(target_st) = rustix::fs::stat(target) else {
        return false;
    };
    plan.jobs.len() > 1
        && plan.jobs.iter().any(|job| {
            let Ok(st) = rustix::fs::stat(&job.src) else {
                return false;
            };
            crate::fs::file_type(&st) == rustix::fs::FileType::Directory
                && (inside(At::cwd(target), &st) || inside(At::cwd(&job.src), &target_st))
        })
}

/// Keeps the copying threads on the main thread's heap. glibc gives each new thread its own
/// heap (arena) at its first allocation; the threads allocate little (a path, an error), and
/// the extra arenas measured 220 KiB of peak memory in a tree copy.
fn one_heap() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets a malloc tuning parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
