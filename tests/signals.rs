//! SIGINT and SIGTERM stop a large copy within a fraction of a second with every method, and
//! fastcp then dies by that signal (the shell's 130/143). A FIFO that never gets a writer does
//! not make fastcp unkillable.

mod util;

use std::time::Duration;
use util::{Scratch, spawn_fastcp, stop};

per_method!(signals_stop_the_copy_promptly, |method| {
    let s = Scratch::new();
    // 3 GiB of holes read as zeros (--sparse=never): seconds of work for every method.
    let src = s.holes("big", 3 << 30);
    for signal in [rustix::process::Signal::INT, rustix::process::Signal::TERM] {
        let dst = s.join("copy");
        let method_arg = format!("--method={method}");
        let child = spawn_fastcp([
            std::ffi::OsStr::new(&method_arg),
            std::ffi::OsStr::new("--sparse=never"),
            src.as_os_str(),
            dst.as_os_str(),
        ]);
        let (took, by) = stop(child, signal, Duration::from_millis(200));
        assert_eq!(
            by,
            Some(signal.as_raw()),
            "{method}: not ended by the signal"
        );
        assert!(
            took < Duration::from_millis(900),
            "{method}: took {took:?} to stop"
        );
        let _ = std::fs::remove_file(&dst);
    }
});

/// Regression (seen in peers): fastcp blocked opening a FIFO that never gets a writer must
/// still die at once by SIGINT/SIGTERM.
#[test]
fn fifo_without_writer_is_killable() {
    let s = Scratch::new();
    let fifo = s.fifo("fifo");
    for signal in [rustix::process::Signal::INT, rustix::process::Signal::TERM] {
        let out = s.join("out");
        let child = spawn_fastcp([fifo.as_os_str(), out.as_os_str()]);
        let (took, by) = stop(child, signal, Duration::from_millis(200));
        assert_eq!(by, Some(signal.as_raw()));
        assert!(took < Duration::from_millis(500), "took {took:?}");
    }
}

// In a parallel tree copy the signal reaches one thread; every copying thread must stop,
// even one deep inside a single long sendfile or copy_file_range call.
per_method!(
    signals_stop_every_thread_of_a_parallel_copy,
    [sendfile, copy_file_range],
    |method| {
        let s = Scratch::new();
        let tree = s.join("tree");
        std::fs::create_dir(&tree).unwrap();
        for name in ["a", "b", "c"] {
            s.holes(format!("tree/{name}"), 3 << 30);
        }
        let dst = s.join("copy");
        let method_arg = format!("--method={method}");
        let child = spawn_fastcp([
            std::ffi::OsStr::new("-r"),
            std::ffi::OsStr::new("-j3"),
            std::ffi::OsStr::new(&method_arg),
            std::ffi::OsStr::new("--sparse=never"),
            tree.as_os_str(),
            dst.as_os_str(),
        ]);
        let (took, by) = stop(
            child,
            rustix::process::Signal::INT,
            Duration::from_millis(300),
        );
        assert_eq!(by, Some(libc_sigint()), "{method}: not ended by SIGINT");
        assert!(
            took < Duration::from_millis(900),
            "{method}: took {took:?} to stop"
        );
        let _ = std::fs::remove_dir_all(&dst);
    }
);

fn libc_sigint() -> i32 {
    rustix::process::Signal::INT.as_raw()
}

/// A signal while fastcp waits to open an existing FIFO destination (no reader yet) with -f:
/// the interrupted open was taken for a destination that cannot be opened, removed, and
/// replaced by a regular file (found by an adversarial test). The FIFO must stay.
#[test]
fn signal_during_a_blocked_open_keeps_the_fifo() {
    for extra in [&[][..], &["--atomic"]] {
        let s = util::Scratch::new();
        std::fs::write(s.join("s"), b"data\n").unwrap();
        let fifo = s.fifo("fifo");
        let mut child = std::process::Command::new(util::fastcp_path())
            .args(extra)
            .args(["-f", "s", "fifo"])
            .current_dir(s.path())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        rustix::process::kill_process(
            rustix::process::Pid::from_child(&child),
            rustix::process::Signal::INT,
        )
        .unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{extra:?}");
        let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(
            std::os::unix::fs::FileTypeExt::is_fifo(&kind),
            "{extra:?}: {kind:?}"
        );
    }
}
