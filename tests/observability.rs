//! Seeing what the copy did: the progress bar, --stats, --debug and --compare.

mod util;

use std::io::Write;
use std::path::Path;
use std::time::Duration;
use util::{Scratch, fastcp, fastcp_path, pattern, stats_json};

/// A FIFO whose writer trickles 1 MiB over about 1.6 s: a copy that is slow on any machine.
fn slow_fifo(s: &Scratch) -> (std::path::PathBuf, std::thread::JoinHandle<Vec<u8>>) {
    slow_fifo_at(s, "slow")
}

/// `slow_fifo` at `rel`.
fn slow_fifo_at(s: &Scratch, rel: &str) -> (std::path::PathBuf, std::thread::JoinHandle<Vec<u8>>) {
    let fifo = s.fifo(rel);
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let mut sent = Vec::new();
        for i in 0..16 {
            let chunk = pattern(64 * 1024, i);
            w.write_all(&chunk).unwrap();
            sent.extend_from_slice(&chunk);
            std::thread::sleep(Duration::from_millis(100));
        }
        sent
    });
    (fifo, writer)
}

/// Runs a shell command line under a pseudo-terminal (util-linux `script`) and returns what
/// the terminal showed.
fn under_pty(command: &str) -> Option<String> {
    let out = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .env_clear()
        .env("TERM", "xterm")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display())
}

#[test]
fn progress_bar_is_drawn_on_a_terminal_for_a_slow_copy() {
    let s = Scratch::new();
    let (fifo, writer) = slow_fifo(&s);
    let dst = s.join("out");
    let cmd = format!(
        "{} {} {}",
        sh_quote(&fastcp_path()),
        sh_quote(&fifo),
        sh_quote(&dst)
    );
    let Some(screen) = under_pty(&cmd) else {
        util::skip("`script` is not installed");
        let _ = std::fs::OpenOptions::new().read(true).open(&fifo);
        return;
    };
    let sent = writer.join().unwrap();
    assert!(
        screen.contains("KiB") && screen.contains("KiB/s"),
        "{screen:?}"
    );
    assert!(std::fs::read(&dst).unwrap() == sent);
}

#[test]
fn quick_copy_draws_nothing_on_a_terminal() {
    let s = Scratch::new();
    let src = s.write("a", &pattern(100_000, 1));
    let cmd = format!(
        "{} {} {}",
        sh_quote(&fastcp_path()),
        sh_quote(&src),
        sh_quote(&s.join("b"))
    );
    let Some(screen) = under_pty(&cmd) else {
        return;
    };
    assert_eq!(screen, "");
}

#[test]
fn no_progress_when_stderr_is_a_pipe() {
    let s = Scratch::new();
    let (fifo, writer) = slow_fifo(&s);
    let out = fastcp().arg(&fifo).arg(s.join("out")).output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn progress_always_draws_into_a_pipe() {
    let s = Scratch::new();
    let (fifo, writer) = slow_fifo(&s);
    let out = fastcp()
        .arg("--progress=always")
        .arg(&fifo)
        .arg(s.join("out"))
        .output()
        .unwrap();
    writer.join().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    // A FIFO has no size before it is read: no percentage, the bytes and the average rate.
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("1.0 MiB, in 0:0"), "{text}");
    assert!(last.ends_with(" KiB/s)"), "{text}");
    assert!(
        !text.contains('\r') && !text.contains('\x1b'),
        "plain lines only: {text:?}"
    );
}

/// The files of a recursive copy are every file below its sources, counted while copying
/// (tests/progress.rs watches the total known while a slow first file is copied). A FIFO read
/// with --copy-contents has no size in advance: no percentage, but the files are counted.
#[test]
fn progress_total_covers_whole_trees() {
    let s = Scratch::new();
    std::fs::create_dir(s.join("first")).unwrap();
    let (_, writer) = slow_fifo_at(&s, "first/slow");
    s.write("second/inner/big", &pattern(4 << 20, 8));
    s.write("second/small", &pattern(1 << 20, 9));
    let out = fastcp()
        .current_dir(s.path())
        .args([
            "-r",
            "--copy-contents",
            "--progress=always",
            "first",
            "second",
        ])
        .arg(s.mkdir("out"))
        .output()
        .unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    // 1 MiB comes through the FIFO, 5 MiB from the regular files.
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("6.0 MiB, 3/3 files, in 0:0"), "{text}");
    assert!(!text.contains('%'), "{text}");
}

#[test]
fn stats_json_has_every_documented_key() {
    let s = Scratch::new();
    let a = s.write("a", &pattern(300_000, 2));
    let out = fastcp()
        .arg("--stats=json")
        .arg(&a)
        .arg("/proc/version")
        .arg(s.join("nonexistent"))
        .arg(s.mkdir("d"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stats = stats_json(&out.stderr);
    for key in [
        "files",
        "failures",
        "bytes",
        "elapsed_seconds",
        "bytes_per_second",
        "user_seconds",
        "system_seconds",
        "peak_rss_kib",
        "methods",
        "fallbacks",
        "syscalls",
    ] {
        assert!(stats.get(key).is_some(), "missing {key}: {stats}");
    }
    assert_eq!(stats["files"], 2);
    assert_eq!(stats["failures"], 1);
    let version = std::fs::read("/proc/version").unwrap().len() as u64;
    assert_eq!(stats["bytes"], 300_000 + version);
    assert_eq!(stats["methods"]["regular"]["copy-file-range"], 1);
    assert_eq!(stats["methods"]["regular"]["sendfile"], 1);
    assert!(stats["peak_rss_kib"].as_u64().unwrap() > 0);
    for call in ["read", "write", "sendfile", "copy_file_range"] {
        for field in ["calls", "data_calls", "bytes", "max", "min"] {
            assert!(stats["syscalls"][call][field].is_u64(), "{call}.{field}");
        }
    }
}

#[test]
fn stats_text_names_fallbacks_and_calls() {
    let s = Scratch::new();
    let out = fastcp()
        .env("LC_ALL", "C.UTF-8")
        .arg("--stats")
        .arg("/proc/version")
        .arg(s.join("v"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("fallback copy-file-range \u{2192} sendfile: EXDEV (1)"),
        "{text}"
    );
    assert!(text.contains("sendfile: 2 calls (1 moved data)"), "{text}");
    assert!(text.starts_with("1 file, "), "{text}");
}

#[test]
fn debug_prints_gnu_lines_and_the_method() {
    let s = Scratch::new();
    let a = s.write("a", &pattern(5000, 3));
    let out = fastcp()
        .current_dir(s.path())
        .args(["--debug", "a", "b"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let gnu = util::gnu_cp()
        .current_dir(s.path())
        .args(["-v", "a", "c"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // GNU's --debug implies -v: the same "'a' -> 'b'" line cp -v prints.
    assert_eq!(
        lines[0],
        String::from_utf8(gnu.stdout)
            .unwrap()
            .trim_end()
            .replace("'c'", "'b'")
    );
    // ext4 cannot clone: GNU cp 9 says the same on this filesystem.
    assert_eq!(
        lines[1],
        "copy offload: yes, reflink: unsupported, sparse detection: no"
    );
    assert_eq!(
        lines[2],
        "method: copy-file-range (after reflink: EOPNOTSUPP)"
    );
    assert!(a.exists());

    let out = fastcp()
        .args(["--debug", "--method=sendfile"])
        .arg(&a)
        .arg(s.join("e"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("copy offload: avoided,"), "{text}");
    let out = fastcp()
        .args(["--debug", "/proc/version"])
        .arg(s.join("v"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("copy offload: unsupported,"), "{text}");
    assert!(
        text.contains("method: sendfile (after reflink: EXDEV, copy-file-range: EXDEV)"),
        "{text}"
    );
}

#[test]
fn compare_runs_every_method_verifies_and_leaves_a_copy() {
    let s = Scratch::new();
    let data = pattern(3 << 20, 4);
    let src = s.write("src", &data);
    let dst = s.join("dst");
    let out = fastcp()
        .args(["--compare", "--runs=2"])
        .arg(&src)
        .arg(&dst)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    // The times come first, up to a blank line; the costs follow in a second table.
    let rows: Vec<&str> = table
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    let expected = [
        ("read-write", "2 KiB"),
        ("read-write", "4 KiB"),
        ("read-write", "8 KiB"),
        ("read-write", "16 KiB"),
        ("read-write", "32 KiB"),
        ("read-write", "128 KiB"),
        ("sendfile", "max"),
        ("copy-file-range", "max"),
        ("splice", "512 KiB"),
    ];
    assert_eq!(rows.len(), expected.len(), "{table}");
    for (row, (method, size)) in rows.iter().zip(expected) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[0], method, "{table}");
        let shown = if cols[1] == "max" {
            "max".to_string()
        } else {
            cols[1..3].join(" ")
        };
        assert_eq!(shown, size, "{table}");
    }
    assert!(table.lines().next().unwrap().contains("warm page cache"));
    // One of the rows is the fastest: its ratio is exactly 1.00.
    assert!(rows.iter().any(|r| r.ends_with(" 1.00")), "{table}");
    assert!(std::fs::read(&dst).unwrap() == data);
}

#[test]
fn compare_with_chosen_methods_sizes_and_cold_cache() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(1 << 20, 5));
    let out = fastcp()
        .args([
            "--compare",
            "--runs=1",
            "--cold",
            "--methods=read-write,sendfile",
            "--bufsizes=8K,64K",
        ])
        .arg(&src)
        .arg(s.join("dst"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.lines().next().unwrap().contains("cold page cache"));
    let times: Vec<&str> = table.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(times.len(), 2 + 3, "{table}");
    // 1 MiB in 8 KiB reads: 128 reads, 1 read at the end, 128 writes (in the cost table,
    // after the blank line, its heading line and the column names).
    let rw8 = table.lines().nth(2 + 3 + 3).unwrap();
    assert!(rw8.starts_with("read-write"), "{table}");
    assert!(rw8.split_whitespace().any(|c| c == "257"), "{table}");
}

#[test]
fn compare_refuses_bad_settings_and_the_same_file() {
    let s = Scratch::new();
    let src = s.write("src", b"x");
    for bad in ["--runs=0", "--methods=auto", "--bufsizes=0"] {
        let out = fastcp()
            .args(["--compare", bad])
            .arg(&src)
            .arg(s.join("dst"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad}");
    }
    let out = fastcp()
        .arg("--compare")
        .arg(&src)
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("are the same file"));
    assert_eq!(s.read("src"), b"x");
}

/// Regression: a helper thread for the bar made every read and write about 3% slower (with
/// two threads Linux takes the file position lock on each call). The copy stays one thread.
#[test]
fn progress_keeps_fastcp_single_threaded() {
    let s = Scratch::new();
    let (fifo, writer) = slow_fifo(&s);
    let mut child = std::process::Command::new(fastcp_path())
        .env_clear()
        .arg("--progress=always")
        .arg(&fifo)
        .arg(s.join("out"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    assert!(child.wait().unwrap().success());
    writer.join().unwrap();
    assert!(status.lines().any(|l| l == "Threads:\t1"), "{status}");
}
