//! Files whose size lies (/proc, /sys) and streams (FIFOs, devices) copy whole or fail cleanly.

mod util;

use std::io::Write;
use std::path::Path;
use util::{Scratch, fastcp, pattern, stats_json};

// /proc/version reports size 0 but has content; every method that accepts it copies it whole.
per_method!(
    proc_file_copies_whole,
    [auto, read_write, sendfile],
    |method| {
        let want = std::fs::read("/proc/version").unwrap();
        assert!(!want.is_empty());
        let s = Scratch::new();
        fastcp()
            .arg(format!("--method={method}"))
            .arg("/proc/version")
            .arg(s.join("v"))
            .assert()
            .success();
        assert_eq!(s.read("v"), want, "{method}");
    }
);

// Regression: under --sparse=always, a sysctl file (size 0, and SEEK_DATA says it has no data,
// where /proc/version refuses SEEK_DATA) was copied empty with exit status 0; GNU cp reads it.
// Every sparse mode reads it whole.
per_method!(
    proc_file_copies_whole_in_every_sparse_mode,
    [auto, read_write, sendfile],
    |method| {
        let want = std::fs::read("/proc/sys/kernel/ostype").unwrap();
        let s = Scratch::new();
        for sparse in ["always", "auto", "never"] {
            let copy = s.join(sparse);
            fastcp()
                .arg(format!("--method={method}"))
                .arg(format!("--sparse={sparse}"))
                .arg("/proc/sys/kernel/ostype")
                .arg(&copy)
                .assert()
                .success();
            assert_eq!(
                std::fs::read(&copy).unwrap(),
                want,
                "{method} --sparse={sparse}"
            );
        }
    }
);

/// A sysfs attribute reports size 4096 and holds a few bytes.
#[test]
fn sysfs_file_copies_whole() {
    let path = Path::new("/sys/kernel/mm/transparent_hugepage/enabled");
    let path = if path.exists() {
        path
    } else {
        Path::new("/sys/kernel/uevent_seqnum")
    };
    let want = std::fs::read(path).unwrap();
    let s = Scratch::new();
    fastcp().arg(path).arg(s.join("v")).assert().success();
    assert_eq!(s.read("v"), want);
}

/// A method that cannot serve a file says so, naming the method and the kernel's reason, and
/// never reports a 0-byte copy of a file that has content as success.
#[test]
fn explicit_method_refusal_names_method_and_reason() {
    let s = Scratch::new();
    let out = fastcp()
        .args(["--method=copy-file-range", "/proc/version"])
        .arg(s.join("v"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("with --method=copy-file-range: Invalid cross-device link"),
        "{text}"
    );
    let out = fastcp()
        .args(["--method=sendfile", "/proc/self/status"])
        .arg(s.join("st"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("with --method=sendfile: Invalid argument"),
        "{text}"
    );
}

/// `auto` explains each fallback it took in --stats.
#[test]
fn auto_falls_back_for_proc_files_and_says_why() {
    let s = Scratch::new();
    let out = fastcp()
        .args(["--stats=json", "/proc/self/status"])
        .arg(s.join("st"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!s.read("st").is_empty());
    let stats = stats_json(&out.stderr);
    let mut reasons: Vec<String> = stats["fallbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} -> {}: {}", f["from"], f["to"], f["reason"]).replace('"', ""))
        .collect();
    // Distinct fallbacks of a run are listed in a stable (sorted) order, not chain order.
    reasons.sort();
    assert_eq!(
        reasons,
        [
            "copy-file-range -> sendfile: EXDEV",
            "reflink -> copy-file-range: EXDEV",
            "sendfile -> read-write: EINVAL"
        ]
    );
}

/// Starts a writer that opens the FIFO (blocking until fastcp opens the other end), writes
/// `data` and closes it.
fn feed_fifo(fifo: &Path, data: Vec<u8>) -> std::thread::JoinHandle<()> {
    let fifo = fifo.to_path_buf();
    std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        // The reader may give up (a refused method); a broken pipe is then expected.
        let _ = w.write_all(&data);
    })
}

per_method!(
    fifo_with_writer_copies_its_data,
    [auto, read_write],
    |method| {
        let s = Scratch::new();
        let fifo = s.fifo("fifo");
        let data = pattern(3 << 20, 9);
        let writer = feed_fifo(&fifo, data.clone());
        fastcp()
            .arg(format!("--method={method}"))
            .arg(&fifo)
            .arg(s.join("out"))
            .assert()
            .success();
        writer.join().unwrap();
        assert!(s.read("out") == data, "{method}");
    }
);

per_method!(
    refusing_a_fifo_fails_cleanly,
    [sendfile, copy_file_range],
    |method| {
        let s = Scratch::new();
        let fifo = s.fifo("fifo");
        let writer = feed_fifo(&fifo, pattern(1000, 1));
        let out = fastcp()
            .arg(format!("--method={method}"))
            .arg(&fifo)
            .arg(s.join("out"))
            .output()
            .unwrap();
        writer.join().unwrap();
        assert_eq!(out.status.code(), Some(1), "{method}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains(&format!("with --method={method}: Invalid argument")),
            "{method}: {text}"
        );
        assert!(!text.contains("panicked"));
    }
);

per_method!(dev_null_gives_an_empty_file, [auto, read_write], |method| {
    let s = Scratch::new();
    fastcp()
        .arg(format!("--method={method}"))
        .arg("/dev/null")
        .arg(s.join("e"))
        .assert()
        .success();
    assert_eq!(s.read("e"), b"");
});

// A full device: GNU's "error writing" message and exit 1, or a clean refusal.
per_method!(dev_full_reports_no_space, |method| {
    let s = Scratch::new();
    let a = s.write("a", &pattern(200_000, 4));
    let full = s.char_device("full", 1, 7);
    let out = fastcp()
        .arg(format!("--method={method}"))
        .arg(&a)
        .arg(&full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    // /dev/full takes neither copy_file_range (not a regular file) nor sendfile or
    // splice (no splice_write): explicit methods are refused, auto falls back to write(2).
    let expected = match method {
        "sendfile" | "copy-file-range" | "splice" => {
            format!(
                "to '{}' with --method={method}: Invalid argument",
                full.display()
            )
        }
        _ => format!(
            "error writing '{}': No space left on device",
            full.display()
        ),
    };
    assert!(text.contains(&expected), "{method}: {text}");
});

/// A character device read as a source keeps its access time, as GNU's copy leaves it: fastcp
/// tried sendfile on it, which marks the source accessed even when it refuses (EINVAL).
#[test]
fn a_device_read_keeps_its_access_time_as_gnu() {
    let s = Scratch::new();
    util::char_device_at(&s.join("null"), 1, 3);
    let old = filetime::FileTime::from_unix_time(1_000_000, 0);
    for (cmd, out) in [(util::gnu_cp(), "gnu"), (fastcp(), "ours")] {
        filetime::set_file_atime(s.join("null"), old).unwrap();
        let mut cmd = cmd;
        cmd.current_dir(s.path()).args(["null", out]).ok().unwrap();
        let atime = std::fs::metadata(s.join("null")).unwrap();
        let atime = filetime::FileTime::from_last_access_time(&atime);
        assert_eq!(atime, old, "{out}");
    }
}
