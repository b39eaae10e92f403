//! SIGINT, SIGTERM, SIGHUP and the other signals that end a process by default without a
//! fault (GNU sort's list of signals to clean up after): noted by a handler, acted on by the
//! copy loops.
//!
//! The handler only stores the signal number (and where it came from). It is installed
//! without SA_RESTART, so a call blocked in the kernel (open of a FIFO without a writer, a long
//! sendfile or copy_file_range, whose splice loop checks for signals) returns at once with
//! EINTR or a short count; the loops then stop, the caller cleans up, and `reraise` ends the
//! process by the same signal, so the shell sees 130 or 143 as it expects. sigaction has no
//! rustix wrapper: this goes through libc.
//!
//! A copy of a regular file already under way is not always cut short (see `stops`): after a
//! SIGPIPE the kernel raised for one of fastcp's own writes it is finished, after any other
//! signal it goes on for at most 1 MiB.

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
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let (code, from) = unsafe { origin(info) };
    // SAFETY: getpid is async-signal-safe.
    let pid = unsafe { libc::getpid() };
    if code == libc::SI_TKILL && from == pid {
        // Passed on by this handler from another thread: the call it interrupted was the point.
        return;
    }
    let own_pipe = signal == libc::SIGPIPE && code == libc::SI_USER && from == pid;
    let first = PENDING
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    let newly_stops = !own_pipe && !STOPS_COPIES.swap(true, Ordering::SeqCst);
    if first || newly_stops {
        pass_on(pid, signal);
    }
}

/// Sends `signal` to every other copying thread, so that a call blocked there (the open of
/// a FIFO, a read from one, a long sendfile) returns at once.
fn pass_on(pid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: gettid and tgkill are async-signal-safe system calls. A thread that ended
    // meanwhile makes tgkill fail with ESRCH, which is ignored.
    unsafe {
        let me = libc::gettid();
        for slot in &COPYING {
            let tid = slot.load(Ordering::SeqCst);
            if tid != 0 && tid != me {
                libc::syscall(libc::SYS_tgkill, pid, tid, signal);
            }
        }
    }
}

/// Where a signal came from: its si_code, and the process that sent it (for SI_USER, a
/// kill(2), or the kernel for a write to a pipe or socket with no reader, which names the
/// writing process; for SI_TKILL, tgkill(2)).
///
/// # Safety
/// `info` is the siginfo the kernel passed to an SA_SIGINFO handler.
unsafe fn origin(info: *const libc::siginfo_t) -> (libc::c_int, libc::pid_t) {
    if info.is_null() {
        return (0, 0);
    }
    // SAFETY: the caller passes the kernel's siginfo; si_pid is read for every code, and is
    // only compared for the codes that set it.
    unsafe { ((*info).si_code, (*info).si_pid()) }
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
    mask_here(libc::SIG_BLOCK);
}

/// Undoes `block_here` once the copying threads are done.
pub(crate) fn unblock_here() {
    mask_here(libc::SIG_UNBLOCK);
}

fn mask_here(how: libc::c_int) {
    // SAFETY: building a signal set and changing this thread's mask are plain libc calls.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in SIGNALS {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// What a regular file's copy still moves after a signal from another process (SIGINT,
/// SIGTERM...) before it stops: its file is then usually finished (a few milliseconds), where
/// each copying thread stopping at once would leave up to -j files cut short (cp, one at a
/// time, leaves at most one), and a large file still stops within about this much.
const FINISHED_UNDER: u64 = 1 << 20;

/// Whether a copy under way stops now, having moved `copied` bytes; `finishes`: it ends (a
/// regular file that says it has data, into a regular file: engine::Transfer::finishes). Any
/// other copy (from or into a FIFO, a device, a socket, a /proc file) stops at once. One that
/// ends is finished after a SIGPIPE that fastcp's own write raised (a -v line written to a closed
/// pipe kills cp in that write, before it opens the next file: cut short, the file another
/// thread is copying would be lost), and after any other signal goes on to `FINISHED_UNDER`
/// bytes. No other file is started once a signal came (`pending`).
pub(crate) fn stops(finishes: bool, copied: u64) -> bool {
    match pending() {
        None => false,
        Some(_) if !finishes => true,
        Some(_) => STOPS_COPIES.load(Ordering::SeqCst) && copied >= FINISHED_UNDER,
    }
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
