//! What fastcp asks of the kernel, seen with strace: exclusive creation with the source's
//! permission bits, no truncation of anything on a refused copy.

mod util;

use std::os::unix::fs::PermissionsExt;
use util::{Scratch, fastcp_path};

/// Runs fastcp under strace and returns the trace of the given calls.
fn trace(calls: &str, args: &[&std::ffi::OsStr]) -> Option<String> {
    let s = Scratch::new();
    let log = s.join("trace");
    let status = std::process::Command::new("strace")
        .arg("-f")
        .arg("-e")
        .arg(format!("trace={calls}"))
        .arg("-o")
        .arg(&log)
        .arg(fastcp_path())
        .args(args)
        .env_clear()
        .status();
    match status {
        Ok(_) => Some(std::fs::read_to_string(&log).unwrap()),
        Err(_) => {
            util::skip("strace is not installed");
            None
        }
    }
}

#[test]
fn new_destination_is_created_exclusively_with_source_bits() {
    let s = Scratch::new();
    let src = s.write("secret", b"x");
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o640)).unwrap();
    let dst = s.join("copy");
    let Some(log) = trace("open,openat", &[src.as_os_str(), dst.as_os_str()]) else {
        return;
    };
    let line = log
        .lines()
        .find(|l| l.contains("/copy\""))
        .unwrap_or_else(|| panic!("no open of the destination:\n{log}"));
    assert!(line.contains("O_CREAT|O_EXCL"), "{line}");
    assert!(line.contains("0640"), "{line}");
}

#[test]
fn same_file_is_refused_before_any_open_for_writing() {
    let s = Scratch::new();
    let src = s.write("a", b"precious");
    let link = s.join("h");
    std::fs::hard_link(&src, &link).unwrap();
    let Some(log) = trace("open,openat", &[src.as_os_str(), link.as_os_str()]) else {
        return;
    };
    assert!(!log.contains("O_WRONLY"), "{log}");
    assert!(!log.contains("O_TRUNC"), "{log}");
    assert_eq!(s.read("a"), b"precious");
}

#[test]
fn sendfile_loop_is_visible_to_strace() {
    let s = Scratch::new();
    let src = s.write("a", &util::pattern(1 << 20, 5));
    let dst = s.join("b");
    let Some(log) = trace(
        "sendfile",
        &[
            std::ffi::OsStr::new("--method=sendfile"),
            std::ffi::OsStr::new("--bufsize=256K"),
            src.as_os_str(),
            dst.as_os_str(),
        ],
    ) else {
        return;
    };
    let calls = log.lines().filter(|l| l.contains("sendfile(")).count();
    assert_eq!(calls, 5, "four of 256 KiB and one at end of file:\n{log}");
}

/// A tree copy costs each file: open the source (from the directory's type record, no stat
/// first), fstat it, create the destination (no stat of it in a directory just created),
/// copy_file_range until end of file, two closes. FICLONE, refused by ext4, is asked once.
#[test]
fn tree_files_cost_no_stats_and_one_clone_attempt() {
    let s = Scratch::new();
    for d in 0..4 {
        for f in 0..25 {
            s.write(format!("src/d{d}/f{f}"), &util::pattern(3000 + f, d as u64));
        }
    }
    let (src, dst) = (s.join("src"), s.join("dst"));
    let calls = "newfstatat,statx,stat,lstat,fstat,ioctl,openat,copy_file_range";
    let Some(log) = trace(
        calls,
        &[
            "-r".as_ref(),
            "-j1".as_ref(),
            src.as_os_str(),
            dst.as_os_str(),
        ],
    ) else {
        return;
    };
    // Lines read `PID name(args) = result`.
    let count = |name: &str| {
        log.lines()
            .filter(|l| l.contains(&format!(" {name}(")))
            .count()
    };
    let files = 100;
    // Path stats: the operands and the directories, never one per file.
    let path_stats = count("newfstatat") + count("statx") + count("stat") + count("lstat");
    assert!(
        path_stats < 20,
        "{path_stats} path stats for {files} files:\n{log}"
    );
    let clones = log.lines().filter(|l| l.contains("FICLONE")).count();
    assert!(clones <= 1, "FICLONE asked per file:\n{log}");
    let opens = count("openat");
    assert!(opens <= 2 * files + 20, "{opens} opens:\n{log}");
    assert!(count("fstat") <= files + 10, "{log}");
    // Each file: one call that copies, and one that finds the end unless the first, moving
    // less than it asked at the file's size, is the end on this filesystem.
    let per_file = if util::short_means_end(s.path()) {
        1
    } else {
        2
    };
    assert_eq!(count("copy_file_range"), per_file * files, "{log}");
    assert_eq!(util::snapshot(&dst), util::snapshot(&src));
}

/// An empty file of a tree costs one pread of its first byte, where a copy call that moves
/// nothing, then lseek and pread to check that the source really has nothing, cost three. A
/// file that says it is empty but has data (/proc) is still copied whole.
#[test]
fn an_empty_file_costs_one_read() {
    let s = Scratch::new();
    for f in 0..50 {
        s.write(format!("src/e{f}"), b"");
    }
    s.write("src/full", b"data");
    let (src, dst) = (s.join("src"), s.join("dst"));
    let calls = "lseek,pread64,read,copy_file_range,sendfile";
    let args = [
        "-r".as_ref(),
        "-j1".as_ref(),
        src.as_os_str(),
        dst.as_os_str(),
    ];
    let Some(log) = trace(calls, &args) else {
        return;
    };
    let count = |name: &str| {
        log.lines()
            .filter(|l| l.contains(&format!(" {name}(")))
            .count()
    };
    assert!(count("lseek") <= 1, "{log}");
    // The non-empty file's call (and the one that finds its end, where that is needed);
    // none for the empty ones.
    let calls = if util::short_means_end(s.path()) {
        1
    } else {
        2
    };
    assert_eq!(count("copy_file_range"), calls, "{log}");
    // One-byte reads at offset 0 (the loader's own preads are longer).
    let probes = log
        .lines()
        .filter(|l| l.contains(" pread64(") && l.contains(", 1, 0)"))
        .count();
    assert_eq!(probes, 50, "{log}");
    assert_eq!(util::snapshot(&dst), util::snapshot(&src));
    let proc_copy = s.join("status");
    let out = util::fastcp()
        .arg("/proc/self/status")
        .arg(&proc_copy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(std::fs::read(&proc_copy).unwrap().starts_with(b"Name:"));
}

/// A parallel tree copy grows its table of descriptors to all it may hold before any thread
/// starts: grown later, while threads share it, each growth waits for an RCU grace period
/// and stalls the other threads (12-15 ms each, measured, at the start of every tree copy).
#[test]
fn descriptor_table_is_grown_before_threads_start() {
    let s = Scratch::new();
    for f in 0..10 {
        s.write(format!("src/d/f{f}"), b"x");
    }
    let (src, dst) = (s.join("src"), s.join("dst"));
    let args = [
        "-r".as_ref(),
        "-j2".as_ref(),
        src.as_os_str(),
        dst.as_os_str(),
    ];
    let Some(log) = trace("fcntl,clone,clone3", &args) else {
        return;
    };
    let lines: Vec<&str> = log.lines().collect();
    let grown = lines
        .iter()
        .position(|l| l.contains("F_DUPFD_CLOEXEC"))
        .unwrap_or_else(|| panic!("no growth:\n{log}"));
    let first_thread = lines
        .iter()
        .position(|l| l.contains("clone"))
        .unwrap_or_else(|| panic!("no thread:\n{log}"));
    assert!(grown < first_thread, "{log}");
    // `fcntl(3, F_DUPFD_CLOEXEC, N) = M`: room for the queue of 256 sources at least, where
    // the hard limit on descriptors (inherited from this test) leaves room for it.
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let hard: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX);
    let to: usize = lines[grown]
        .rsplit(" = ")
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    assert!(to >= 256 || hard < 1024, "{log}");
    assert_eq!(util::snapshot(&dst), util::snapshot(&src));
}
