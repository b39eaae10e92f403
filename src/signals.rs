//! SIGINT, SIGTERM and SIGHUP: noted by a handler, acted on by the copy loops.
//!
//! The handler only stores the signal number. It is installed without SA_RESTART, so a call
//! blocked in the kernel (open of a FIFO without a writer, a long sendfile or copy_file_range,
//! whose splice loop checks for signals) returns at once with EINTR or a short count; the loops
//! then stop, the caller cleans up, and `reraise` ends the process by the same signal, so the
//! shell sees 130 or 143 as it expects. sigaction has no rustix wrapper: this goes through libc.

use std::sync::atomic::{AtomicI32, Ordering};

static PENDING: AtomicI32 = AtomicI32::new(0);

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

extern "C" fn note(signal: libc::c_int) {
    PENDING.store(signal, Ordering::SeqCst);
}

/// Installs the handlers (once, before copying).
pub(crate) fn install() {
    for signal in SIGNALS {
        // SAFETY: a zeroed sigaction with a handler that only stores to an atomic, which is
        // async-signal-safe; no SA_RESTART, so blocked calls return EINTR.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note as extern "C" fn(libc::c_int) as usize;
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

/// The signal received, if any.
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
