//! `--compare`: its settings refused without it, its sources refused before anything is
//! written, the socket experiment's byte counts, the JSON table, and the status line.

mod util;

use serde_json::Value;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use util::{Scratch, fastcp, fastcp_path, normalize, pattern};

/// 3 MiB and an odd few bytes: no buffer size divides it.
const SIZE: usize = (3 << 20) + 7;

fn run(args: &[&std::ffi::OsStr]) -> Output {
    fastcp().args(args).output().unwrap()
}

/// The usage error GNU's style gives: the message, then the --help hint, exit status 1.
fn assert_usage(out: &Output, message: &str) {
    let program = fastcp_path().display().to_string();
    assert_eq!(out.status.code(), Some(1), "{message}");
    assert_eq!(
        normalize(&out.stderr, &program),
        format!("cp: {message}\nTry 'cp --help' for more information.\n")
    );
    assert!(out.stdout.is_empty());
}

/// Regression: `--methods read-write` (one letter from --method) was silently ignored
/// without --compare; so were the other settings only --compare reads.
#[test]
fn compare_settings_without_compare_are_usage_errors() {
    let s = Scratch::new();
    let src = s.write("src", b"data");
    for (given, named) in [
        ("--methods=read-write", "--methods"),
        ("--bufsizes=4K", "--bufsizes"),
        ("--runs=2", "--runs"),
        ("--cold", "--cold"),
        ("--col", "--cold"),
        ("--to-socket", "--to-socket"),
    ] {
        let out = run(&[given.as_ref(), src.as_os_str(), s.join("dst").as_os_str()]);
        assert_usage(&out, &format!("{named} works only with --compare"));
        assert!(!s.join("dst").exists(), "{given} copied");
    }
}

/// Regression: `--compare -r DIR DEST` copied the whole tree, then failed. A source that
/// is not a regular file is one usage error, with nothing written.
#[test]
fn compare_refuses_what_is_not_one_regular_file_before_writing() {
    let s = Scratch::new();
    s.mkdir("dir");
    s.write("dir/inner", b"inner");
    let fifo = s.fifo("fifo");
    let dst = s.join("dst");
    let out = run(&[
        "--compare".as_ref(),
        "-r".as_ref(),
        s.join("dir").as_os_str(),
        dst.as_os_str(),
    ]);
    let dir = s.join("dir");
    assert_usage(
        &out,
        &format!(
            "--compare copies one regular file: '{}' is a directory",
            dir.display()
        ),
    );
    let out = run(&["--compare".as_ref(), fifo.as_os_str(), dst.as_os_str()]);
    assert_usage(
        &out,
        &format!(
            "--compare copies one regular file: '{}' is a fifo",
            fifo.display()
        ),
    );
    assert!(!dst.exists());
    // Two sources into a directory, and a source that does not exist.
    let a = s.write("a", b"a");
    let b = s.write("b", b"b");
    let into = s.mkdir("into");
    let out = run(&[
        "--compare".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        into.as_os_str(),
    ]);
    assert_usage(&out, "--compare takes exactly one SOURCE and one DEST");
    assert_eq!(std::fs::read_dir(&into).unwrap().count(), 0);
    let missing = s.join("missing");
    let out = run(&["--compare".as_ref(), missing.as_os_str(), dst.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file or directory"));
    assert!(!dst.exists());
}

#[test]
fn to_socket_takes_one_source_and_no_file_method() {
    let s = Scratch::new();
    let src = s.write("src", b"data");
    let dst = s.join("dst");
    let socket = ["--compare", "--to-socket"].map(std::ffi::OsStr::new);
    let out = run(&[&socket[..], &[src.as_os_str(), dst.as_os_str()]].concat());
    assert_usage(
        &out,
        "--compare --to-socket takes exactly one SOURCE and no DEST",
    );
    assert!(!dst.exists());
    assert_usage(
        &run(&socket),
        "--compare --to-socket takes exactly one SOURCE and no DEST",
    );
    let cfr = "--methods=sendfile,copy-file-range".as_ref();
    let out = run(&[&socket[..], &[cfr, src.as_os_str()]].concat());
    assert_usage(
        &out,
        "--to-socket: copy-file-range cannot write to a socket",
    );
}

/// The JSON table: one object on stdout, its rows in table order.
fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Every row has every field, of its type; the times are ordered.
fn check_row_schema(row: &Value) {
    for key in [
        "bytes",
        "syscalls",
        "max_bytes_per_call",
        "voluntary_switches",
        "involuntary_switches",
        "minor_faults",
        "major_faults",
    ] {
        assert!(row[key].is_u64(), "{key}: {row}");
    }
    for key in [
        "bytes_per_second",
        "ratio",
        "user_seconds",
        "system_seconds",
        "cpu_percent",
    ] {
        assert!(row[key].as_f64().is_some_and(|v| v >= 0.0), "{key}: {row}");
    }
    let t = &row["seconds"];
    let (min, median, max) = (t["min"].as_f64(), t["median"].as_f64(), t["max"].as_f64());
    assert!(min <= median && median <= max && min.is_some(), "{row}");
    assert!(row["method"].is_string(), "{row}");
    assert!(row["ratio"].as_f64().unwrap() >= 1.0, "{row}");
}

#[test]
fn to_socket_sends_every_byte_with_every_method_with_and_without_cork() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(SIZE, 9));
    let args = ["--compare", "--to-socket", "--runs=1", "--stats=json"];
    let mut cmd = fastcp();
    let out = cmd.args(args).arg(&src).output().unwrap();
    let table = json(&out);
    assert_eq!(table["target"], "socket");
    assert_eq!(table["size"], SIZE as u64);
    assert_eq!(table["runs"], 1);
    assert_eq!(table["measured"], "thread");
    let rows = table["rows"].as_array().unwrap();
    let mut expected = Vec::new();
    for size in [2, 4, 8, 16, 32] {
        expected.push(("read-write", Value::from(size * 1024)));
    }
    expected.push(("sendfile", Value::Null));
    expected.push(("splice", Value::from(512 * 1024)));
    assert_eq!(rows.len(), expected.len() * 2, "{table}");
    for (pair, (method, bufsize)) in rows.chunks(2).zip(expected) {
        for (row, cork) in pair.iter().zip([false, true]) {
            check_row_schema(row);
            assert_eq!(row["method"], method, "{row}");
            assert_eq!(row["bufsize"], bufsize, "{row}");
            assert_eq!(row["cork"], cork, "{row}");
            assert_eq!(row["bytes"], SIZE as u64, "{row}");
        }
    }
    // read-write through 2 KiB: one read per 2 KiB and the last partial one, one write for
    // each, and the read that finds the end.
    let reads = SIZE.div_ceil(2048) as u64;
    assert_eq!(rows[0]["syscalls"], 2 * reads + 1, "{}", rows[0]);
    assert_eq!(rows[0]["max_bytes_per_call"], 2048);
}

#[test]
fn to_socket_text_table_has_every_row_twice() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(SIZE, 3));
    let out = fastcp()
        .args([
            "--compare",
            "--to-socket",
            "--runs=1",
            "--methods=read-write,sendfile",
        ])
        .args(["--bufsizes=4K"])
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines().next().unwrap().contains("over loopback TCP"),
        "{text}"
    );
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    let want = [
        "read-write 4 KiB off",
        "read-write 4 KiB on",
        "sendfile max off",
        "sendfile max on",
    ];
    assert_eq!(rows.len(), want.len(), "{text}");
    for (row, key) in rows.iter().zip(want) {
        let key: Vec<&str> = key.split_whitespace().collect();
        assert_eq!(row[..key.len()], key, "{text}");
    }
    // The cost table names the thread it measured and the columns of `time -v`.
    assert!(text.contains("RUSAGE_THREAD"), "{text}");
    for column in ["CPU", "vol csw", "invol csw", "faults"] {
        assert!(text.contains(column), "{column}: {text}");
    }
}

/// A file whose size says 0 and whose reads return data (procfs): the receiver counts what
/// came, and the run is an error, not a row.
#[test]
fn to_socket_reports_a_transfer_whose_bytes_disagree_with_the_size() {
    let out = Command::new(fastcp_path())
        .env_clear()
        .args([
            "--compare",
            "--to-socket",
            "--runs=1",
            "--methods=read-write",
        ])
        .args(["--bufsizes=4K", "/proc/self/status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr.lines().last().unwrap();
    let tail = message
        .split("read-write 4 KiB: '/proc/self/status' has 0 bytes, but ")
        .nth(1)
        .unwrap_or_else(|| panic!("{stderr}"));
    let counts: Vec<&str> = tail.split(' ').collect();
    assert_eq!(counts[1..3], ["were", "sent"], "{stderr}");
    assert_eq!(counts[0], counts[4], "sent and received differ: {stderr}");
    assert_ne!(counts[0], "0", "{stderr}");
}

#[test]
fn compare_json_has_every_row_and_the_file_it_copied() {
    let s = Scratch::new();
    let data = pattern(SIZE, 5);
    let src = s.write("src", &data);
    let out = fastcp()
        .args(["--compare", "--runs=3", "--stats=json", "--bufsizes=4K,64K"])
        .arg(&src)
        .arg(s.join("dst"))
        .output()
        .unwrap();
    let table = json(&out);
    assert_eq!(table["target"], "file");
    assert_eq!(table["cold"], false);
    assert_eq!(table["source"], src.to_str().unwrap());
    let rows = table["rows"].as_array().unwrap();
    let methods: Vec<&str> = rows.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(
        methods,
        [
            "read-write",
            "read-write",
            "sendfile",
            "copy-file-range",
            "splice"
        ]
    );
    for row in rows {
        check_row_schema(row);
        assert_eq!(row["cork"], Value::Null);
        assert_eq!(row["bytes"], SIZE as u64);
    }
    assert!(rows.iter().any(|r| r["ratio"] == 1.0), "{table}");
    assert_eq!(s.read("dst"), data);
}

/// Not a terminal: one plain line per run on stderr; --progress=never: none.
#[test]
fn compare_reports_each_run_on_stderr() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(1 << 16, 1));
    let args = ["--compare", "--runs=2", "--methods=sendfile,splice"];
    let out = fastcp()
        .args(args)
        .arg(&src)
        .arg(s.join("dst"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(
        lines[0].contains("compare 1/4: sendfile max, run 1/2: "),
        "{stderr}"
    );
    assert!(
        lines[3].contains("compare 4/4: sendfile max, run 2/2: "),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("compare ") && l.ends_with(" s")),
        "{stderr}"
    );
    let out = fastcp()
        .args(args)
        .arg("--progress=never")
        .arg(&src)
        .arg(s.join("dst"))
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty());
}

/// Runs fastcp with stderr on a new pseudo-terminal; returns what the terminal got and how
/// fastcp ended (its exit code, or the signal that ended it).
fn on_terminal(
    args: &[&std::ffi::OsStr],
    interrupt_after: Option<Duration>,
) -> (String, Option<i32>, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors into the integers given; the rest may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just opened and are owned here alone.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = Command::new(fastcp_path())
        .env_clear()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut master = std::fs::File::from(master);
        // EIO once fastcp, the last holder of the terminal, has ended.
        let _ = master.read_to_end(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    });
    if let Some(after) = interrupt_after {
        std::thread::sleep(after);
        let pid = rustix::process::Pid::from_child(&child);
        rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    }
    let status = child.wait().unwrap();
    (reader.join().unwrap(), status.code(), status.signal())
}

const ERASE: &str = "\r\x1b[K";

#[test]
fn compare_status_line_is_redrawn_in_place_and_cleared() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(1 << 16, 2));
    let dst = s.join("dst");
    let args = ["--compare", "--runs=2", "--methods=sendfile"].map(std::ffi::OsStr::new);
    let (screen, code, _) = on_terminal(
        &[&args[..], &[src.as_os_str(), dst.as_os_str()]].concat(),
        None,
    );
    assert_eq!(code, Some(0), "{screen:?}");
    // Each run redraws the one line; the end erases it, and nothing follows.
    assert_eq!(screen.matches(ERASE).count(), 3, "{screen:?}");
    assert!(
        screen.contains(&format!("{ERASE}compare 2/2: sendfile max, run 2/2")),
        "{screen:?}"
    );
    assert!(screen.ends_with(ERASE), "{screen:?}");
    assert!(!screen.contains('\n'), "{screen:?}");
}

#[test]
fn compare_status_line_is_cleared_on_sigint() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(1 << 20, 3));
    let dst = s.join("dst");
    let args = [
        "--compare",
        "--runs=1000",
        "--methods=read-write",
        "--bufsizes=2K",
    ]
    .map(std::ffi::OsStr::new);
    let (screen, code, signal) = on_terminal(
        &[&args[..], &[src.as_os_str(), dst.as_os_str()]].concat(),
        Some(Duration::from_millis(700)),
    );
    assert_eq!((code, signal), (None, Some(libc::SIGINT)), "{screen:?}");
    assert!(screen.contains(&format!("{ERASE}compare 1/")), "{screen:?}");
    assert!(screen.ends_with(ERASE), "{screen:?}");
}

/// Regression: --compare replaced DEST whatever -n, -i, -u or --backup said (an existing,
/// newer DEST was overwritten under -n; no backup was made), and ignored -l, -s and
/// --attributes-only. Each is now a usage error, before anything is touched.
#[test]
fn options_compare_cannot_honour_are_refused() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(10_000, 3));
    let dst = s.write("dst", b"keep me\n");
    for option in [
        "-n",
        "-i",
        "-u",
        "-b",
        "--backup=numbered",
        "-l",
        "-s",
        "--attributes-only",
        "--parents",
        "--atomic",
    ] {
        let out = fastcp()
            .args(["--compare", "--runs=1", "--methods=sendfile", option])
            .arg(&src)
            .arg(&dst)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{option}: {stderr}");
        assert!(
            stderr.contains("cannot be used with --compare"),
            "{option}: {stderr}"
        );
        assert!(
            stderr.contains("--help' for more information"),
            "{option}: {stderr}"
        );
        assert_eq!(std::fs::read(&dst).unwrap(), b"keep me\n", "{option}");
        assert_eq!(std::fs::read_dir(s.path()).unwrap().count(), 2, "{option}");
    }
}
