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

/// Runs `program -v` copying eight files into a new directory with its stdout a pipe whose
/// reader is gone, SIGPIPE ignored when `ignored`: (signal that ended it, exit code, stderr
/// with the program's name as `cp`, files copied).
fn into_a_closed_pipe(
    program: &std::path::Path,
    ignored: bool,
) -> (Option<i32>, Option<i32>, String, usize) {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let s = Scratch::new();
    let mut args = vec!["-v".to_string()];
    for i in 0..8 {
        s.write(format!("f{i}"), b"data\n");
        args.push(format!("f{i}"));
    }
    args.push("out/".into());
    s.mkdir("out");
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    drop(reader);
    let mut cmd = std::process::Command::new(program);
    cmd.args(&args)
        .current_dir(s.path())
        .env_clear()
        .env("LC_ALL", "C")
        .stdout(std::process::Stdio::from(writer))
        .stderr(std::process::Stdio::piped());
    // SAFETY: signal(2) only, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let disposition = if ignored {
                libc::SIG_IGN
            } else {
                libc::SIG_DFL
            };
            libc::signal(libc::SIGPIPE, disposition);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&*program.to_string_lossy(), "cp");
    let copied = std::fs::read_dir(s.join("out")).unwrap().count();
    (out.status.signal(), out.status.code(), stderr, copied)
}

/// SIGPIPE as cp meets it. Its -v lines go to a pipe in blocks (C stdio), so eight lines are
/// written once, at the end: with SIGPIPE ignored (`trap '' PIPE`) every file is copied and
/// the run ends with "write error: Broken pipe", status 1; otherwise every file is copied and
/// SIGPIPE ends it at that write. fastcp was killed after one file in both cases: it wrote
/// each line at once, and it set SIGPIPE to the default whatever its caller had ignored.
#[test]
fn a_closed_output_pipe_ends_the_copy_as_gnus() {
    for ignored in [true, false] {
        let gnu = into_a_closed_pipe(std::path::Path::new("/bin/cp"), ignored);
        let ours = into_a_closed_pipe(&util::fastcp_path(), ignored);
        assert_eq!(ours, gnu, "SIGPIPE ignored: {ignored}");
        assert_eq!(ours.3, 8, "SIGPIPE ignored: {ignored}");
    }
}

/// Regression: with -v into a pipe whose reader is gone, the write of a -v line raises SIGPIPE,
/// which kills cp there, before it opens that file's destination. fastcp caught it, then
/// truncated the destination before it stopped: an existing file was left empty (1 of 300,
/// where cp leaves every file whole, old or new). Now nothing is touched once a signal came.
#[test]
fn sigpipe_at_a_verbose_line_leaves_that_destination_whole() {
    // With -j4 another thread may be copying when the walk's -v line meets the pipe: that
    // file is finished, not cut short (1 to 3 files were left empty in 3 of 7 runs).
    for jobs in ["-j1", "-j4", "-j4", "-j4"] {
        sigpipe_leaves_every_destination_whole(jobs);
    }
}

fn sigpipe_leaves_every_destination_whole(jobs: &str) {
    use std::os::unix::process::ExitStatusExt;
    let s = Scratch::new();
    for i in 0..300 {
        s.write(format!("s/f{i:03}"), &[b'n'; 20_000]);
        s.write(format!("d/f{i:03}"), b"old precious\n");
    }
    let args = ["-rv", jobs, "s/.", "d"];
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    drop(reader);
    let status = std::process::Command::new(util::fastcp_path())
        .args(args)
        .current_dir(s.path())
        .env_clear()
        .stdout(std::process::Stdio::from(writer))
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{jobs}: {status:?}");
    for i in 0..300 {
        let got = s.read(format!("d/f{i:03}"));
        assert!(
            got == b"old precious\n" || got == [b'n'; 20_000],
            "{jobs}: d/f{i:03} is neither the old file nor the copy: {} bytes",
            got.len()
        );
    }
}

/// Runs fastcp with `args` in `dir`, its stdout a pipe whose reader is gone; the signal that
/// ended it, failing the test if it still runs after 10 s (killed then).
fn into_closed_pipe_within(dir: &std::path::Path, args: &[&str]) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    drop(reader);
    let mut child = std::process::Command::new(util::fastcp_path())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdout(std::process::Stdio::from(writer))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.signal();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: still running 10 s after its -v output met a closed pipe");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Regression: once a -v line met a closed pipe, fastcp no longer passed the SIGPIPE on to
/// its other threads, so the walk stayed blocked opening a FIFO of the tree (--copy-contents)
/// that has no writer: it hung in half the runs at -j4, where cp dies in that write.
#[test]
fn sigpipe_from_verbose_output_does_not_hang_on_a_fifo() {
    let s = Scratch::new();
    // On a tmpfs a directory is read in the order its entries were made: three threads are
    // busy with the large files while the walk queues the small ones and opens the FIFO; the
    // -v lines of the small files then meet the closed pipe.
    let Some(fs) = util::Mounted::tmpfs_on(s.mkdir("mnt"), "512m") else {
        return;
    };
    let long = "a_long_name_that_fills_the_verbose_output_quickly";
    let mut names: Vec<String> = (0..3).map(|i| format!("big{i}")).collect();
    names.extend((0..150).map(|i| format!("{long}_a{i:03}")));
    names.push("zfifo".into());
    names.extend((0..150).map(|i| format!("{long}_b{i:03}")));
    names.extend((3..6).map(|i| format!("big{i}")));
    std::fs::create_dir(fs.path("s")).unwrap();
    for (i, name) in names.iter().enumerate() {
        let path = fs.path("s").join(name);
        if name == "zfifo" {
            util::mkfifo(&path, 0o644);
        } else if name.starts_with("big") {
            std::fs::write(&path, util::pattern(30 << 20, i as u64)).unwrap();
        } else {
            std::fs::write(&path, b"small\n").unwrap();
        }
    }
    for jobs in ["-j4", "-j8", "-j4", "-j8"] {
        let _ = std::fs::remove_dir_all(fs.path("d"));
        let by = into_closed_pipe_within(&fs.mount, &["-rv", "--copy-contents", jobs, "s", "d"]);
        assert_eq!(by, Some(libc::SIGPIPE), "{jobs}");
    }
}

/// Regression: after a -v line met a closed pipe, the unfinished destination directory was
/// still given the source's mode and times, so a partial copy looked complete; cp, ended by
/// that write, leaves it as it made it (mode 700 under -a, its mtime the time of the copy).
#[test]
fn a_copy_ended_by_sigpipe_leaves_its_directory_as_made() {
    use std::os::unix::fs::MetadataExt;
    let outcome = |program: &std::path::Path, jobs: &str| {
        let s = Scratch::new();
        for i in 0..300 {
            s.write(format!("s/f{i:03}"), b"data\n");
        }
        let old = filetime::FileTime::from_unix_time(978_307_200, 0);
        filetime::set_file_mtime(s.join("s"), old).unwrap();
        let (reader, writer) = rustix::pipe::pipe().unwrap();
        drop(reader);
        let mut args = vec!["-av", "s", "d"];
        if program != std::path::Path::new("/bin/cp") {
            args.push(jobs);
        }
        let status = std::process::Command::new(program)
            .args(&args)
            .current_dir(s.path())
            .env_clear()
            .stdout(std::process::Stdio::from(writer))
            .status()
            .unwrap();
        let meta = std::fs::metadata(s.join("d")).unwrap();
        (
            status.code(),
            meta.mode() & 0o7777,
            meta.mtime() == 978_307_200,
        )
    };
    let gnu = outcome(std::path::Path::new("/bin/cp"), "");
    assert!(!gnu.2, "cp gave the partial copy the source's mtime");
    for jobs in ["-j1", "-j4"] {
        assert_eq!(outcome(&util::fastcp_path(), jobs), gnu, "{jobs}");
    }
}

/// Regression: SIGTERM from another process stopped every copying thread at once, each in the
/// middle of its file, so with -j8 up to 8 existing destinations were left empty where cp,
/// one file at a time, leaves at most one. A file under 1 MiB is now finished first (a few
/// milliseconds); the test asserts that every small destination is old or new.
#[test]
fn sigterm_during_a_parallel_copy_cuts_no_small_file_short() {
    use std::os::unix::process::ExitStatusExt;
    let s = Scratch::new();
    for i in 0..4u64 {
        s.write(format!("s/big{i}"), &util::pattern(16 << 20, i));
    }
    let new = |i: usize| {
        format!("new contents of f{i:03}\n")
            .repeat(400)
            .into_bytes()
    };
    for i in 0..300 {
        s.write(format!("s/f{i:03}"), &new(i));
    }
    for delay in [10, 30, 60, 100] {
        for i in 0..300 {
            s.write(format!("d/f{i:03}"), b"old precious\n");
        }
        let child = std::process::Command::new(util::fastcp_path())
            .args(["-r", "-j8", "s/.", "d"])
            .current_dir(s.path())
            .env_clear()
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_child(&child),
            rustix::process::Signal::TERM,
        );
        let status = child.wait_with_output().unwrap().status;
        assert!(
            status.signal() == Some(libc::SIGTERM) || status.success(),
            "{status:?}"
        );
        for i in 0..300 {
            let got = s.read(format!("d/f{i:03}"));
            assert!(
                got == b"old precious\n" || got == new(i),
                "after {delay} ms: d/f{i:03} is neither old nor new: {} bytes",
                got.len()
            );
        }
    }
}

/// Runs `program` with `args` in a fresh directory holding `sm/` (20 small files), with its
/// stdout a pipe whose reader is gone, or closed when `closed`: (signal that ended it, exit
/// code, stderr with the program's name as `cp`).
fn with_stdout_gone(
    program: &std::path::Path,
    args: &[&str],
    closed: bool,
) -> (Option<i32>, Option<i32>, String) {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let s = Scratch::new();
    for i in 0..20 {
        s.write(format!("sm/f{i}"), b"data\n");
    }
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    drop(reader);
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .current_dir(s.path())
        .env_clear()
        .env("LC_ALL", "C")
        .stdout(std::process::Stdio::from(writer))
        .stderr(std::process::Stdio::piped());
    if closed {
        // SAFETY: close(2) only, between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::close(1);
                Ok(())
            });
        }
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&*program.to_string_lossy(), "cp");
    (out.status.signal(), out.status.code(), stderr)
}

/// Regression: `cp -rv a b | true` (the reader gone before the end) ends cp by SIGPIPE at its
/// last write; fastcp wrote its last -v lines on a thread that had the signals blocked, so it
/// ended with "write error: Broken pipe", status 1. And with stdout closed (`>&-`), cp's -v
/// output fails with "write error: Bad file descriptor", status 1, where fastcp, which puts
/// /dev/null there, said nothing and exited 0.
#[test]
fn verbose_output_to_a_gone_or_closed_stdout_ends_as_gnus() {
    let gnu = std::path::Path::new("/bin/cp");
    for (args, closed) in [
        (&["-rv", "sm", "o"][..], false),
        (&["-av", "sm", "o"], false),
        (&["-v", "sm/f1", "o"], false),
        (&["-v", "sm/f1", "o"], true),
        (&["-rv", "sm", "o"], true),
        (&["sm/f1", "o"], true),
    ] {
        let ours = with_stdout_gone(&util::fastcp_path(), args, closed);
        assert_eq!(
            ours,
            with_stdout_gone(gnu, args, closed),
            "{args:?} closed: {closed}"
        );
    }
}

/// Regression: cp ends with status 1 when a write to stderr failed (closed, or a full
/// device), even when it only asked a -i question or warned; fastcp exited 0.
#[test]
fn a_failed_write_to_stderr_fails_the_run_as_gnus() {
    use std::os::unix::process::CommandExt;
    let run = |program: &std::path::Path, args: &[&str], full: bool| {
        let s = Scratch::new();
        s.write("a", b"a\n");
        s.write("d/a", b"old\n");
        let mut cmd = std::process::Command::new(program);
        cmd.args(args)
            .current_dir(s.path())
            .env_clear()
            .stdin(std::process::Stdio::piped());
        if full {
            let node = s.char_device("full", 1, 7);
            cmd.stderr(std::fs::OpenOptions::new().write(true).open(node).unwrap());
        } else {
            // SAFETY: close(2) only, between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    libc::close(2);
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(b"n\n");
        (child.wait().unwrap().code(), s.read("d/a"))
    };
    for args in [&["-i", "a", "d"][..], &["a", "a", "d"], &["a", "d/b"]] {
        for full in [false, true] {
            let gnu = run(std::path::Path::new("/bin/cp"), args, full);
            let ours = run(&util::fastcp_path(), args, full);
            assert_eq!(ours, gnu, "{args:?} full: {full}");
        }
    }
}

/// Regression: with stdout a full device, a -v line and then an error (`cp -v a nonexist/x`),
/// GNU's error() flushes stdout first, so its exit says only "write error" (close_stream
/// clears errno when the failure was earlier); fastcp added ": No space left on device".
#[test]
fn write_error_gives_a_reason_only_when_the_last_write_failed_as_gnus() {
    let run = |program: &std::path::Path, args: &[&str]| {
        let s = Scratch::new();
        s.write("a", b"a\n");
        let full = s.char_device("full", 1, 7);
        let out = std::process::Command::new(program)
            .args(args)
            .current_dir(s.path())
            .env_clear()
            .env("LC_ALL", "C")
            .stdout(std::fs::OpenOptions::new().write(true).open(full).unwrap())
            .output()
            .unwrap();
        let stderr =
            String::from_utf8_lossy(&out.stderr).replace(&*program.to_string_lossy(), "cp");
        (out.status.code(), stderr)
    };
    for args in [&["-v", "a", "nonexist/x"][..], &["-v", "a", "b"]] {
        let gnu = run(std::path::Path::new("/bin/cp"), args);
        assert_eq!(run(&util::fastcp_path(), args), gnu, "{args:?}");
    }
}
