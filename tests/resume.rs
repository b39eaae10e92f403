//! --resume: a destination an interrupted copy left is continued from its end when its last
//! block matches, kept when complete, and copied again otherwise; cp's -n/-u decide first.
//! Interrupted copies are made by truncating a finished copy at random offsets, and for real by
//! SIGINT and SIGKILL in the middle of a slowed copy.

mod util;

use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};
use util::{Scratch, fastcp, pattern, stats_json};

/// A source of a few MiB that is not a multiple of any block size.
const SIZE: usize = (3 << 20) + 12_345;

/// A seed printed by the test, so a failure at a random offset can be reproduced.
fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let seed = u64::from(nanos) | 1;
    eprintln!("seed {seed}");
    seed
}

/// The next pseudo-random number below `below` (xorshift).
fn next(state: &mut u64, below: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % below.max(1)
}

/// Runs `fastcp --stats=json --resume ARGS`, asserts success, returns the stats.
fn resume(method: &str, args: &[&OsStr]) -> Value {
    let out = fastcp()
        .arg("--stats=json")
        .arg(format!("--method={method}"))
        .arg("--resume")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{method} {args:?}: {out:?}");
    stats_json(&out.stderr)
}

fn n(stats: &Value, key: &str) -> u64 {
    stats["resume"][key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key}: {stats}"))
}

fn os(p: &Path) -> &OsStr {
    p.as_os_str()
}

/// Offsets an interrupted copy may stop at: the ends, block-aligned and not, random.
fn offsets(size: u64) -> Vec<u64> {
    let mut state = seed();
    let mut list = vec![0, 1, 4096, 1 << 20, (1 << 20) + 1, size - 1];
    for _ in 0..3 {
        list.push(next(&mut state, size));
        list.push(next(&mut state, size / 4096) * 4096);
    }
    list
}

per_method!(a_truncated_copy_is_continued_from_its_end, |method| {
    let s = Scratch::new();
    let data = pattern(SIZE, 3);
    let src = s.write("src", &data);
    for at in offsets(SIZE as u64) {
        let dst = s.write("dst", &data[..at as usize]);
        let stats = resume(method, &[os(&src), os(&dst)]);
        assert_eq!(s.read("dst"), data, "{method}: stopped at {at}");
        assert_eq!(
            stats["bytes"],
            SIZE as u64 - at,
            "{method} at {at}: {stats}"
        );
        assert_eq!(n(&stats, "continued_bytes"), at, "{stats}");
        assert_eq!(n(&stats, "recopied_files"), 0, "{stats}");
    }
});

per_method!(a_sparse_source_continued_keeps_its_data, |method| {
    let s = Scratch::new();
    let src = s.holes("src", 8 << 20);
    let data = pattern(1 << 20, 5);
    let f = std::fs::OpenOptions::new().write(true).open(&src).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &data, 6 << 20).unwrap();
    let whole = s.read("src");
    s.write("dst", &whole[..(6 << 20) + 4000]);
    resume(method, &[os(&src), os(&s.join("dst"))]);
    assert_eq!(s.read("dst"), whole, "{method}");
});

per_method!(a_corrupted_tail_is_copied_again, |method| {
    let s = Scratch::new();
    let data = pattern(SIZE, 4);
    let src = s.write("src", &data);
    let mut state = seed();
    for at in [4096, 2 << 20, 3 << 20] {
        let mut partial = data[..at].to_vec();
        // A byte within the last block (1 MiB) that an interrupted write left wrong.
        let bad = at - 1 - next(&mut state, (1 << 20).min(at as u64)) as usize;
        partial[bad] ^= 0x5a;
        let dst = s.write("dst", &partial);
        let stats = resume(method, &[os(&src), os(&dst)]);
        assert_eq!(s.read("dst"), data, "{method}: bad byte at {bad}");
        assert_eq!(n(&stats, "recopied_bytes"), SIZE as u64, "{stats}");
        assert_eq!(n(&stats, "continued_files"), 0, "{stats}");
    }
});

per_method!(verify_compares_the_whole_prefix, |method| {
    let s = Scratch::new();
    let data = pattern(SIZE, 5);
    let src = s.write("src", &data);
    // Damage before the last block: the quick check does not read there (the assumption
    // documented), --resume=verify does.
    let mut partial = data[..3 << 20].to_vec();
    partial[100] ^= 1;
    let dst = s.write("dst", &partial);
    let out = fastcp()
        .args(["--stats=json", "--resume=verify"])
        .arg(format!("--method={method}"))
        .args([&src, &dst])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stats = stats_json(&out.stderr);
    assert_eq!(s.read("dst"), data, "{method}");
    assert_eq!(n(&stats, "recopied_files"), 1, "{stats}");
    // A whole file of the same size but other bytes: quick keeps it, verify does not.
    let mut other = data.clone();
    other[10] ^= 1;
    let dst = s.write("dst", &other);
    let stats = resume(method, &[os(&src), os(&dst)]);
    assert_eq!(n(&stats, "complete_files"), 1, "{stats}");
    assert_eq!(s.read("dst"), other);
    let out = fastcp()
        .args(["--stats=json", "--resume=verify", "--method", method])
        .args([&src, &dst])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(s.read("dst"), data, "{method}");
});

per_method!(a_longer_destination_is_copied_again, |method| {
    let s = Scratch::new();
    let data = pattern(SIZE, 6);
    let src = s.write("src", &data);
    let mut longer = data.clone();
    longer.extend_from_slice(&pattern(5000, 1));
    let dst = s.write("dst", &longer);
    let stats = resume(method, &[os(&src), os(&dst)]);
    assert_eq!(s.read("dst"), data, "{method}");
    assert_eq!(n(&stats, "recopied_files"), 1, "{stats}");
    // Under -n it is not touched at all, as cp -n leaves it.
    let dst = s.write("dst", &longer);
    resume(method, &[OsStr::new("-n"), os(&src), os(&dst)]);
    assert_eq!(s.read("dst"), longer, "{method}: -n");
});

per_method!(a_newer_destination_is_left_under_u, |method| {
    let s = Scratch::new();
    let data = pattern(SIZE, 7);
    let src = s.write("src", &data);
    let old = filetime::FileTime::from_unix_time(1_000_000_000, 0);
    filetime::set_file_mtime(&src, old).unwrap();
    // Shorter and longer destinations, newer than the source: -u keeps both as cp -u does.
    for len in [SIZE / 2, SIZE + 10] {
        let content = pattern(len, 8);
        let dst = s.write("dst", &content);
        resume(method, &[OsStr::new("-u"), os(&src), os(&dst)]);
        assert_eq!(s.read("dst"), content, "{method}: -u, {len} bytes");
    }
});

per_method!(same_size_other_mtime_is_copied_again_under_p, |method| {
    let s = Scratch::new();
    let data = pattern(SIZE, 9);
    let src = s.write("src", &data);
    filetime::set_file_mtime(&src, filetime::FileTime::from_unix_time(1_500_000_000, 7)).unwrap();
    let mut other = data.clone();
    other[SIZE / 2] ^= 1;
    let dst = s.write("dst", &other);
    let stats = resume(method, &[OsStr::new("-p"), os(&src), os(&dst)]);
    assert_eq!(s.read("dst"), data, "{method}");
    assert_eq!(n(&stats, "recopied_files"), 1, "{stats}");
    let meta = std::fs::metadata(&dst).unwrap();
    assert_eq!((meta.mtime(), meta.mtime_nsec()), (1_500_000_000, 7));
    // Now complete: same size and mtime, kept without writing.
    let stats = resume(method, &[OsStr::new("-p"), os(&src), os(&dst)]);
    assert_eq!(n(&stats, "complete_files"), 1, "{stats}");
    assert_eq!(stats["bytes"], 0, "{stats}");
});

/// A tree in every state an interruption leaves: complete files, truncated ones, one with a
/// damaged tail, missing ones; directories and links still to make.
fn mixed_tree(s: &Scratch) -> std::path::PathBuf {
    let mut state = seed();
    for i in 0..40 {
        let len = next(&mut state, 300_000) as usize;
        s.write(format!("src/d{}/f{i}", i % 4), &pattern(len, i));
    }
    std::os::unix::fs::symlink("d0/f0", s.join("src/link")).unwrap();
    std::fs::set_permissions(
        s.join("src/d1/f1"),
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    assert!(
        fastcp()
            .args(["-a"])
            .arg(s.join("src"))
            .arg(s.join("dst"))
            .output()
            .unwrap()
            .status
            .success()
    );
    std::fs::remove_file(s.join("dst/link")).unwrap();
    std::fs::remove_dir_all(s.join("dst/d3")).unwrap();
    for i in (0..40).filter(|i| i % 4 != 3) {
        let path = s.join(format!("dst/d{}/f{i}", i % 4));
        let len = std::fs::metadata(&path).unwrap().len();
        match i % 3 {
            0 => {}
            1 => std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .set_len(next(&mut state, len + 1))
                .unwrap(),
            _ if len > 0 => {
                let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                std::os::unix::fs::FileExt::write_all_at(&f, b"\xff", len - 1).unwrap();
                f.set_len(len - 1).unwrap();
            }
            _ => {}
        }
    }
    s.join("dst")
}

per_method!(a_tree_in_mixed_states_is_finished, |method| {
    let s = Scratch::new();
    let dst = mixed_tree(&s);
    resume(method, &[OsStr::new("-a"), os(&s.join("src/.")), os(&dst)]);
    assert_eq!(
        util::snapshot(&s.join("src")),
        util::snapshot(&dst),
        "{method}"
    );
    assert_eq!(
        util::attributes(&s.join("src"), true),
        util::attributes(&dst, true),
        "{method}"
    );
});

#[test]
fn atomic_and_resume_are_refused_together() {
    let s = Scratch::new();
    let src = s.write("src", b"x");
    let out = fastcp()
        .args(["--resume", "--atomic"])
        .arg(&src)
        .arg(s.join("dst"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--resume cannot be used with --atomic"),
        "{err}"
    );
    assert!(err.contains("--help' for more information"), "{err}");
    assert!(!s.join("dst").exists());
}

/// Starts a slowed copy (read-write or each method with 4 KiB calls) of `src` to `dst`.
fn spawn(method: &str, args: &[&OsStr]) -> std::process::Child {
    let mut all: Vec<&OsStr> = vec![OsStr::new("--bufsize=4K")];
    let m = format!("--method={method}");
    all.push(OsStr::new(&m));
    all.extend_from_slice(args);
    util::spawn_fastcp(all)
}

/// Waits until `done()` says enough was written, then sends `signal`; whether the copy was
/// stopped by it (false: it had finished first).
fn stop_when(
    mut child: std::process::Child,
    signal: rustix::process::Signal,
    done: impl Fn() -> bool,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(Instant::now() < deadline, "the copy did not get there");
        std::thread::sleep(Duration::from_micros(200));
    }
    util::stop(child, signal, Duration::ZERO).1.is_some()
}

const BIG: usize = 200 << 20;

fn size_of(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

per_method!(a_copy_killed_at_ninety_percent_resends_little, |method| {
    use rustix::process::Signal;
    let s = Scratch::new();
    let src = s.write("src", &pattern(BIG, 11));
    let dst = s.join("dst");
    let mut state = seed();
    for signal in [Signal::KILL, Signal::INT] {
        let _ = std::fs::remove_file(&dst);
        // 88% to 92% of the file.
        let at = BIG as u64 / 100 * (88 + next(&mut state, 5));
        let child = spawn(method, &[os(&src), os(&dst)]);
        let stopped = stop_when(child, signal, || size_of(&dst) >= at);
        let before = size_of(&dst);
        let stats = resume(method, &[os(&src), os(&dst)]);
        util::assert_same_bytes(&src, &dst);
        let sent = stats["bytes"].as_u64().unwrap();
        eprintln!(
            "{method} {signal:?}: stopped={stopped} at {before} of {BIG}, resume sent {sent}"
        );
        assert!(stopped, "{method}: the copy ended before the signal");
        assert!(sent <= BIG as u64 * 15 / 100, "{method}: {stats}");
        assert_eq!(sent + n(&stats, "continued_bytes"), BIG as u64, "{stats}");
    }
});

per_method!(a_copy_stopped_at_a_random_moment_is_finished, |method| {
    use rustix::process::Signal;
    let s = Scratch::new();
    let src = s.write("src", &pattern(BIG / 4, 12));
    let dst = s.join("dst");
    let mut state = seed();
    for signal in [Signal::INT, Signal::KILL] {
        let _ = std::fs::remove_file(&dst);
        let at = next(&mut state, BIG as u64 / 4);
        let child = spawn(method, &[os(&src), os(&dst)]);
        stop_when(child, signal, || size_of(&dst) >= at);
        resume(method, &[os(&src), os(&dst)]);
        util::assert_same_bytes(&src, &dst);
    }
});

/// A tree of 2,000 files, copied with -a, stopped by each signal at a random moment (after
/// a random number of files exist), finished with --resume -a.
#[test]
fn a_tree_copy_stopped_by_a_signal_is_finished() {
    use rustix::process::Signal;
    let s = Scratch::new();
    let mut state = seed();
    for i in 0..2000u64 {
        let len = next(&mut state, 40_000) as usize;
        s.write(format!("src/d{}/f{i}", i % 20), &pattern(len, i));
    }
    let count = |root: &Path| walk_count(root);
    for method in ["auto", "read-write"] {
        for signal in [Signal::INT, Signal::KILL] {
            let dst = s.join("dst");
            let _ = std::fs::remove_dir_all(&dst);
            let at = 50 + next(&mut state, 1900);
            let child = spawn(method, &[OsStr::new("-a"), os(&s.join("src")), os(&dst)]);
            stop_when(child, signal, || count(&dst) >= at);
            resume(method, &[OsStr::new("-a"), os(&s.join("src/.")), os(&dst)]);
            assert_eq!(
                util::snapshot(&s.join("src")),
                util::snapshot(&dst),
                "{method} {signal:?}"
            );
            assert_eq!(
                util::attributes(&s.join("src"), true),
                util::attributes(&dst, true),
                "{method} {signal:?}"
            );
        }
    }
}

/// The number of files under `root` (0 when it is not there yet).
fn walk_count(root: &Path) -> u64 {
    let Ok(dirs) = std::fs::read_dir(root) else {
        return 0;
    };
    dirs.filter_map(Result::ok)
        .map(|e| std::fs::read_dir(e.path()).map_or(0, |d| d.count() as u64))
        .sum()
}

/// A file that says it is empty but has content (/proc, /sys) is not complete in an empty
/// destination: it is copied, as cp copies it.
#[test]
fn a_source_that_reads_past_its_size_is_not_complete() {
    let s = Scratch::new();
    for verify in ["--resume", "--resume=verify"] {
        let dst = s.write("dst", b"");
        let out = fastcp()
            .args([verify, "/proc/self/status"])
            .arg(&dst)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let copied = s.read("dst");
        assert!(copied.starts_with(b"Name:"), "{verify}: {copied:?}");
    }
}
