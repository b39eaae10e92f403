//! SIGINT, SIGTERM, SIGHUP and the other signals that end a process by default without a
//! fault (GNU sort's list of signals to clean up after): noted by a handler, acted on by the
//! copy loops.
//!
//! The handler only stores the signal number (and whether copies under way stop). It is installed without SA_RESTART, so a call
//! blocked in the kernel (open of a FIFO without a writer, a long sendfile or copy_file_range,
//! whose splice loop checks for signals) returns at once with EINTR or a short count; the loops
//! then stop, the caller cleans up, and `reraise` ends the process by the same signal, so the
//! shell sees 130 or 143 as it expects. sigaction has no rustix wrapper: this goes through libc.
//!
//! One signal is told apart: a SIGPIPE the kernel raised for one of fastcp's own writes (see
//! `stops_copies`), after which copies under way are finished rather than cut short.

use crate::options::MAX_JOBS;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static PENDING: AtomicI32 = AtomicI32::new(0);

/// Whether the copies under way stop: set by every signal but a SIGPIPE fastcp raised itself.
static STOPS_COPIES: AtomicBool = AtomicBool::new(false);

/// Every signal whose default action ends the process, but for faults (SIGSEGV, SIGBUS...)
/// and SIGKILL: ended by any of them, an --atomic copy left its temporary files behind.
const SIGNALS: [libc::c_int; 12] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGVTALRM,
    libc::SIGPROF,
];

/// The threads copying at once (-j N: the walk and N-1 others), by kernel thread id; 0 is a
/// free slot. A signal reaches one thread of the process; the handler passes it on to the
/// others, so a long call blocked in any of them returns at once too. One slot per thread -j
/// may start: a thread without one would finish its file before it noticed the signal.
static COPYING: [AtomicI32; MAX_JOBS] = [const { AtomicI32::new(0) }; MAX_JOBS];

extern "C" fn note(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: getpid is async-signal-safe; the kernel passes a valid siginfo (SA_SIGINFO).
    let own_pipe = signal == libc::SIGPIPE && unsafe { raised_here(info) };
    let _ = PENDING.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    if own_pipe || STOPS_COPIES.swap(true, Ordering::SeqCst) {
        return;
    }
    // SAFETY: getpid, gettid and tgkill are async-signal-safe system calls. A thread that
    // ended meanwhile makes tgkill fail with ESRCH, which is ignored.
    unsafe {
        let (pid, me) = (libc::getpid(), libc::gettid());
        for slot in &COPYING {
            let tid = slot.load(Ordering::SeqCst);
            if tid != 0 && tid != me {
                libc::syscall(libc::SYS_tgkill, pid, tid, signal);
            }
        }
    }
}

/// Whether the kernel sent this signal for a write of this process (to a pipe or socket with
/// no reader: si_code SI_USER, from this process's own pid), not another process's kill.
///
/// # Safety
/// `info` is the siginfo the kernel passed to an SA_SIGINFO handler.
unsafe fn raised_here(info: *const libc::siginfo_t) -> bool {
    // SAFETY: the caller passes the kernel's siginfo; si_pid is valid for SI_USER.
    unsafe {
        !info.is_null() && (*info).si_code == libc::SI_USER && (*info).si_pid() == libc::getpid()
    }
}

/// Marks the calling thread as one that copies, to be interrupted with the others.
pub(crate) fn register_thread() {
    // SAFETY: gettid cannot fail.
    let me = unsafe { libc::gettid() };
    for slot in &COPYING {
        if slot
            .compare_exchange(0, me, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

/// Undoes `register_thread` before the thread ends.
pub(crate) fn unregister_thread() {
    // SAFETY: gettid cannot fail.
    let me = unsafe { libc::gettid() };
    for slot in &COPYING {
        let _ = slot.compare_exchange(me, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Installs the handlers (once, before copying).
pub(crate) fn install() {
    for signal in SIGNALS {
        // SAFETY: a zeroed sigaction with a handler that only stores to an atomic, which is
        // async-signal-safe; no SA_RESTART, so blocked calls return EINTR.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction =
                note as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
                    as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            // Keep a signal the user ignored (nohup) ignored.
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut old);
            if old.sa_sigaction != libc::SIG_IGN {
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    }
}

/// Blocks the handled signals in the calling thread, so they go to a thread that copies
/// (whose blocked calls they must interrupt) rather than to one that only waits for it.
pub(crate) fn block_here() {
    // SAFETY: building a signal set and changing this thread's mask are plain libc calls.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in SIGNALS {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Whether a copy under way stops now. Any signal stops it but a SIGPIPE that one of fastcp's
/// own writes raised: a -v line written to a closed pipe, which kills cp in that write, before
/// it opens the next file. A file another thread is copying meanwhile is then finished (cut
/// short, an existing destination would be lost); no other file is started, as `pending` says.
/// A SIGPIPE sent by another process (kill -PIPE) stops copies as SIGTERM does.
pub(crate) fn stops_copies() -> bool {
    STOPS_COPIES.load(Ordering::SeqCst)
}

/// The first signal received, if any: no file is started once one came.
pub(crate) fn pending() -> Option<i32> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Ends the process by `signal` with its default action, as if it had never been caught.
pub(crate) fn reraise(signal: i32) -> ! {
    // SAFETY: restoring the default action and raising the signal are plain libc calls.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    // Not reached for the fatal signals handled here; exit as a shell would report it.
    std::process::exit(128 + signal)
}
