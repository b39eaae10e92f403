//! Peak memory of tree copies: it follows the depth of the tree and what is pending (the
//! queue), not the number of files and directories copied. Measured as the copy's own peak
//! RSS (wait4), on a tmpfs, a small tree against one a hundred times larger of the same depth.

mod util;

use std::path::Path;
use std::process::Command;
use util::{Mounted, fastcp_path};

/// `tops` x `subs` directories two levels deep below `root`, one empty file in each.
fn wide_tree(root: &Path, tops: usize, subs: usize) {
    for t in 0..tops {
        for s in 0..subs {
            let dir = root.join(format!("d{t:03}/s{s:03}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("f"), b"").unwrap();
        }
    }
}

/// Runs fastcp with `args` and returns its peak RSS in KiB (ru_maxrss of that child alone:
/// RUSAGE_CHILDREN would mix in the other tests' children).
// The child is waited for by wait4, which std's wait cannot replace: it returns the rusage.
#[allow(clippy::zombie_processes)]
fn peak_rss(args: &[&Path], flags: &[&str]) -> i64 {
    let child = Command::new(fastcp_path())
        .env_clear()
        .args(flags)
        .args(args)
        .spawn()
        .unwrap();
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not waited for yet; status and usage are valid for writes.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status}"
    );
    usage.ru_maxrss
}

/// Regression: a parallel copy remembered every destination directory it entered (to see one
/// entered twice, through a symlink or a bind mount), about 60 bytes a directory, for the
/// whole copy: 40,000 directories took 2.2 MiB more than 400. It now forgets a directory once
/// everything in it is copied.
#[test]
fn peak_memory_does_not_grow_with_the_number_of_directories() {
    let Some(fs) = Mounted::tmpfs("512M") else {
        return;
    };
    let (small, large) = (fs.path("small"), fs.path("large"));
    wide_tree(&small, 20, 20);
    wide_tree(&large, 200, 200);
    for flags in [["-r", "-j4"], ["-a", "-j4"], ["-r", "-j1"]] {
        let rss = |src: &Path, dst: &str| {
            let dst = fs.path(dst);
            let rss = peak_rss(&[src, &dst], &flags);
            std::fs::remove_dir_all(&dst).unwrap();
            rss
        };
        let (small_rss, large_rss) = (rss(&small, "c1"), rss(&large, "c2"));
        // Measured: within 300 KiB of each other, and 2,250 KiB apart before the fix.
        assert!(
            large_rss < small_rss + 1024,
            "{flags:?}: {small_rss} KiB for 400 directories, {large_rss} KiB for 40,000"
        );
    }
}
