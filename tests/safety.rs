//! --atomic, --fsync and --verify: a destination is replaced whole or not at all, synced
//! before it is reported, and checked against its source.

mod util;

use rustix::process::Signal;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;
use util::{Scratch, fastcp, fastcp_path, pattern, spawn_fastcp, stop};

/// Files in `dir` whose name marks a temporary copy.
fn leftovers(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".fastcp-"))
        .collect()
}

per_method!(atomic_replaces_whole_and_keeps_the_mode, |method| {
    let s = Scratch::new();
    let data = pattern(300_000, 1);
    let src = s.write("src", &data);
    let dst = s.write("dst", b"old");
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o600)).unwrap();
    fastcp()
        .args(["--atomic", &format!("--method={method}")])
        .arg(&src)
        .arg(&dst)
        .assert()
        .success();
    assert!(std::fs::read(&dst).unwrap() == data, "{method}");
    let mode = std::fs::metadata(&dst).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "{method}: an existing destination keeps its mode"
    );
    assert!(leftovers(s.path()).is_empty());
});

// Interrupted mid-copy, --atomic leaves the old destination as it was and no temporary file.
per_method!(
    atomic_copy_interrupted_leaves_the_destination_untouched,
    |method| {
        let s = Scratch::new();
        let src = s.holes("big", 3 << 30);
        let dst = s.write("dst", b"precious old content");
        let method_arg = format!("--method={method}");
        let child = spawn_fastcp([
            OsStr::new("--atomic"),
            OsStr::new("--sparse=never"),
            OsStr::new(&method_arg),
            src.as_os_str(),
            dst.as_os_str(),
        ]);
        let (_, by) = stop(child, Signal::TERM, Duration::from_millis(200));
        assert_eq!(by, Some(15), "{method}");
        assert_eq!(
            std::fs::read(&dst).unwrap(),
            b"precious old content",
            "{method}"
        );
        assert!(
            leftovers(s.path()).is_empty(),
            "{method}: {:?}",
            leftovers(s.path())
        );
    }
);

/// Without --atomic an interrupted copy is partial, as GNU cp's is; with it, nothing changes.
#[test]
fn atomic_copy_on_a_full_filesystem_leaves_nothing_behind() {
    let Some(fs) = util::Mounted::tmpfs("2m") else {
        return;
    };
    let mnt = &fs.mount;
    std::fs::write(mnt.join("dst"), b"old").unwrap();
    let s = Scratch::new();
    let src = s.write("src", &pattern(3 << 20, 2));
    let out = fastcp()
        .arg("--atomic")
        .arg(&src)
        .arg(mnt.join("dst"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let left = leftovers(mnt);
    let old = std::fs::read(mnt.join("dst")).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("No space left on device"), "{text}");
    assert_eq!(old, b"old");
    assert!(left.is_empty(), "{left:?}");
}

per_method!(verify_passes_on_a_good_copy, |method| {
    let s = Scratch::new();
    let src = s.write("src", &pattern(3 << 20, 3));
    fastcp()
        .args(["--verify", &format!("--method={method}")])
        .arg(&src)
        .arg(s.join(method))
        .assert()
        .success();
});

/// A source that reads differently every time (a new UUID per read) cannot verify: the error
/// names both files and the first differing byte.
#[test]
fn verify_reports_the_first_difference() {
    let uuid = std::path::Path::new("/proc/sys/kernel/random/uuid");
    let s = Scratch::new();
    let out = fastcp()
        .arg("--verify")
        .arg(uuid)
        .arg(s.join("u"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("verification failed: '")
            && text.contains("' differs from '/proc/sys/kernel/random/uuid' at byte "),
        "{text}"
    );
}

/// --fsync syncs each file's data and the directory of each new entry (seen with strace).
#[test]
fn fsync_syncs_data_and_new_entries() {
    let s = Scratch::new();
    let a = s.write("a", b"a");
    let b = s.write("b", b"b");
    let out_dir = s.mkdir("out");
    let log = s.join("trace");
    let status = Command::new("strace")
        .args(["-f", "-e", "trace=fdatasync,fsync", "-o"])
        .arg(&log)
        .arg(fastcp_path())
        .arg("--fsync")
        .args([&a, &b, &out_dir])
        .status();
    if status.is_err() {
        util::skip("strace is not installed");
        return;
    }
    let trace = std::fs::read_to_string(&log).unwrap();
    assert_eq!(trace.matches("fdatasync(").count(), 2, "{trace}");
    // One directory sync per new entry ("fdatasync(" does not contain "fsync(").
    assert_eq!(trace.matches(" fsync(").count(), 2, "{trace}");
}
