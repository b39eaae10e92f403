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
            eprintln!("skipped: strace is not installed");
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
