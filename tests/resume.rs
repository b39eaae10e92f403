//! --resume: a destination an interrupted copy left is continued from its end when its last
//! block matches, kept when complete, and copied again otherwise; cp's -n/-u decide first.
//! Interrupted copies are made by truncating a finished copy at random offsets, and for real by
//! SIGINT and SIGKILL at random moments and at 90% of a 4 GiB copy and of a 5,000-file tree,
//! with every method.

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
    // Newer than the source and not a copy of it: shorter, longer, or a prefix whose last
    // block differs. -u keeps them as cp -u does, with the quick check and with =verify.
    let mut damaged = data[..SIZE / 2].to_vec();
    damaged[SIZE / 2 - 10] ^= 1;
    for content in [pattern(SIZE / 2, 8), pattern(SIZE + 10, 8), damaged] {
        for how in ["--resume", "--resume=verify"] {
            let dst = s.write("dst", &content);
            let m = format!("--method={method}");
            let out = fastcp().args(["-u", how, &m]).args([&src, &dst]).output();
            assert!(out.unwrap().status.success());
            assert_eq!(
                s.read("dst"),
                content,
                "{method} {how}: {} bytes",
                content.len()
            );
        }
    }
});

// Regression: an interrupted copy leaves a destination newer than its source, and -u kept
// it: `-u --resume` left the copy unfinished, silently, with exit status 0. A newer
// destination that holds the start of the source (all of it compared, whatever --resume
// asked: cp -u would keep it) is continued, an empty one too (an interrupted copy leaves the
// files just created empty); one whose start differs is kept.
per_method!(u_continues_an_unfinished_copy, |method| {
    let s = Scratch::new();
    let data = pattern(SIZE, 17);
    let src = s.write("src", &data);
    filetime::set_file_mtime(&src, filetime::FileTime::from_unix_time(1_000_000_000, 0)).unwrap();
    for at in [0, 1, 4096, (2 << 20) + 7] {
        let dst = s.write("dst", &data[..at]);
        let stats = resume(method, &[OsStr::new("-u"), os(&src), os(&dst)]);
        assert_eq!(s.read("dst"), data, "{method}: -u, stopped at {at}");
        assert_eq!(n(&stats, "continued_bytes"), at as u64, "{stats}");
        assert_eq!(stats["bytes"], (SIZE - at) as u64, "{stats}");
    }
    // Damage before the last block: no unfinished copy of the source, kept under -u, with
    // the quick check too.
    let mut partial = data[..3 << 20].to_vec();
    partial[100] ^= 1;
    let m = format!("--method={method}");
    for how in ["--resume", "--resume=verify"] {
        let dst = s.write("dst", &partial);
        let out = fastcp().args(["-u", how, &m]).args([&src, &dst]).output();
        assert!(out.unwrap().status.success());
        assert_eq!(s.read("dst"), partial, "{method}: -u {how}");
    }
    // -n never writes an existing destination, unfinished or not.
    let dst = s.write("dst", &data[..4096]);
    let stats = resume(method, &[OsStr::new("-n"), os(&src), os(&dst)]);
    assert_eq!(s.read("dst"), &data[..4096], "{method}: -n");
    assert_eq!(stats["bytes"], 0, "{stats}");
});

// Regression: under -u the quick check took a newer destination whose last block matches
// the source for an unfinished copy; then --remove-destination removed it (and --backup set
// it aside) and the source was copied anew: the newer file's other bytes, never read by the
// quick check, were gone, where cp -u keeps it. -l and -s failed on it ("File exists")
// where cp -u says nothing.
#[test]
fn u_keeps_a_newer_destination_that_is_not_continued_in_place() {
    let s = Scratch::new();
    let data = pattern(SIZE, 21);
    let src = s.write("src", &data);
    filetime::set_file_mtime(&src, filetime::FileTime::from_unix_time(1_000_000_000, 0)).unwrap();
    let mut edited = data[..3 << 20].to_vec();
    edited[100] ^= 1;
    for opt in ["--remove-destination", "--backup=numbered", "-l", "-s"] {
        let dst = s.write("dst", &edited);
        let out = fastcp()
            .args(["-u", "--resume", opt])
            .args([&src, &dst])
            .output()
            .unwrap();
        assert!(out.status.success(), "{opt}: {out:?}");
        assert!(out.stderr.is_empty(), "{opt}: {out:?}");
        assert_eq!(s.read("dst"), edited, "{opt}");
        assert!(!s.join("dst.~1~").exists(), "{opt}");
    }
}

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

/// The kill tests below move gigabytes: one at a time, beside the small tests.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts `fastcp ARGS` with `--method=METHOD` (and nothing else: full speed).
fn spawn(method: &str, args: &[&OsStr]) -> std::process::Child {
    let m = format!("--method={method}");
    let mut all: Vec<&OsStr> = vec![OsStr::new(&m)];
    all.extend_from_slice(args);
    util::spawn_fastcp(all)
}

/// Waits (polling every 100 us) until `done()` says enough was written, then sends
/// `signal`; panics unless the signal is what ended the copy (it must not have finished
/// first: a finished copy tests nothing about resuming).
fn stop_when(
    mut child: std::process::Child,
    signal: rustix::process::Signal,
    done: impl Fn() -> bool,
    what: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what}: the copy ended ({status}) before the signal");
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the copy did not get there"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
    let by = util::stop(child, signal, Duration::ZERO).1;
    assert_eq!(
        by,
        Some(signal.as_raw()),
        "{what}: not stopped by {signal:?}"
    );
}

fn size_of(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

/// The 4 GiB, and a tail that is no multiple of a block or of a call's size.
const BIG: u64 = (4 << 30) + 12_345;

/// Writes `len` bytes to `path` in which no 4 KiB block equals another: an 8 MiB random chunk,
/// rotated by 4099 more bytes each time, each block stamped with its own offset. Two copies of
/// memory per chunk: 4 GiB take the disk's time, not the (unoptimised) test's.
fn big_source(path: &Path, len: u64, seed: u64) {
    use std::io::Write;
    const CHUNK: usize = 8 << 20;
    let base = pattern(CHUNK, seed);
    let mut buf = vec![0u8; CHUNK];
    let mut f = std::fs::File::create(path).unwrap();
    let (mut at, mut turn) = (0u64, 0usize);
    while at < len {
        buf[..CHUNK - turn].copy_from_slice(&base[turn..]);
        buf[CHUNK - turn..].copy_from_slice(&base[..turn]);
        for (i, block) in buf.chunks_mut(4096).enumerate() {
            block[..8].copy_from_slice(&(at + i as u64 * 4096).to_le_bytes());
        }
        let n = usize::try_from(len - at).map_or(CHUNK, |left| left.min(CHUNK));
        f.write_all(&buf[..n]).unwrap();
        at += n as u64;
        turn = (turn + 4099) % CHUNK;
    }
}

/// The signals of a method's two stops: each method is stopped by both, in turn first.
fn signals(i: usize) -> [rustix::process::Signal; 2] {
    use rustix::process::Signal;
    if i.is_multiple_of(2) {
        [Signal::KILL, Signal::INT]
    } else {
        [Signal::INT, Signal::KILL]
    }
}

/// The test: a 4 GiB copy with every method, at full speed, stopped twice -- at a
/// random moment of a fresh copy (0-85%), then by the other signal at 88-92% of a --resume
/// run -- and finished by a third run, which must send at most 15% of the file again
/// (`--stats=json`) and leave the source's bytes. The methods share one source, in turn.
#[test]
fn a_four_gib_copy_stopped_twice_is_finished_by_every_method() {
    let _one = heavy();
    let s = Scratch::new();
    let (src, dst) = (s.join("src"), s.join("dst"));
    big_source(&src, BIG, 11);
    let mut state = seed();
    for (i, method) in util::METHODS.into_iter().enumerate() {
        let [first, second] = signals(i);
        let _ = std::fs::remove_file(&dst);
        let at = next(&mut state, BIG / 100 * 85);
        let what = format!("{method} {first:?} at {at}");
        let child = spawn(method, &[os(&src), os(&dst)]);
        stop_when(child, first, || size_of(&dst) >= at, &what);
        let stopped = size_of(&dst);
        let at = (BIG / 100 * (88 + next(&mut state, 5))).max(stopped);
        let what = format!("{method} {second:?} at {at} (resumed from {stopped})");
        let child = spawn(method, &[OsStr::new("--resume"), os(&src), os(&dst)]);
        stop_when(child, second, || size_of(&dst) >= at, &what);
        let before = size_of(&dst);
        assert!(before < BIG, "{what}: finished before the signal");
        let stats = resume(method, &[os(&src), os(&dst)]);
        let sent = stats["bytes"].as_u64().unwrap();
        eprintln!("{what}: stopped at {stopped}, then {before} of {BIG}; resume sent {sent}");
        assert!(sent <= BIG * 15 / 100, "{what}: {stats}");
        assert_eq!(sent + n(&stats, "continued_bytes"), BIG, "{what}: {stats}");
        assert_eq!(n(&stats, "continued_files"), 1, "{what}: {stats}");
        util::assert_same_bytes(&src, &dst);
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

/// The tree: 5,000 files in 20 directories, copied with -a by every method (slowed
/// to 4 KiB calls, or a full-speed copy ends before it can be stopped), stopped twice -- after
/// a random number of files, then by the other signal after 88-92% of them during a --resume
/// run -- and finished by a third run: the tree must equal the source (data, modes, links,
/// owners, times), and the last run must have sent at most 15% of the bytes again.
#[test]
fn a_five_thousand_file_tree_stopped_twice_is_finished_by_every_method() {
    let _one = heavy();
    let s = Scratch::new();
    let mut state = seed();
    let mut total = 0;
    for i in 0..5000u64 {
        let len = next(&mut state, 40_000) as usize;
        total += len as u64;
        s.write(format!("src/d{}/f{i}", i % 20), &pattern(len, i));
    }
    std::os::unix::fs::symlink("d0/f0", s.join("src/d1/link")).unwrap();
    let (src, dst, all) = (s.join("src"), s.join("dst"), s.join("src/."));
    let a = [OsStr::new("-a"), OsStr::new("--bufsize=4K")];
    let (want, attrs) = (util::snapshot(&src), util::attributes(&src, true));
    for (i, method) in util::METHODS.into_iter().enumerate() {
        let [first, second] = signals(i);
        let _ = std::fs::remove_dir_all(&dst);
        let at = next(&mut state, 4250);
        let what = format!("{method} {first:?} after {at} files");
        let child = spawn(method, &[a[0], a[1], os(&src), os(&dst)]);
        stop_when(child, first, || walk_count(&dst) >= at, &what);
        let at = 4400 + next(&mut state, 200);
        let what = format!("{method} {second:?} after {at} files");
        let resumed = [a[0], a[1], OsStr::new("--resume"), os(&all), os(&dst)];
        let child = spawn(method, &resumed);
        stop_when(child, second, || walk_count(&dst) >= at, &what);
        let stats = resume(method, &[a[0], os(&all), os(&dst)]);
        let sent = stats["bytes"].as_u64().unwrap();
        eprintln!("{what}: resume sent {sent} of {total}: {}", stats["resume"]);
        assert_eq!(util::snapshot(&dst), want, "{what}");
        assert_eq!(util::attributes(&dst, true), attrs, "{what}");
        assert!(sent <= total * 15 / 100, "{what}: {stats}");
    }
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

/// With -p, a complete copy on a filesystem of whole-second times (ext2 with 128-byte
/// inodes) holds the source's mtime cut to the second: --resume takes it for complete, as
/// -u takes it for not older (fs::newer). fastcp compared nanoseconds and copied every such
/// file again.
#[test]
fn a_complete_copy_on_a_coarser_filesystem_is_complete() {
    let Some(fs) = util::Mounted::whole_seconds() else {
        return;
    };
    let s = Scratch::new();
    let data = pattern(SIZE, 4);
    let src = s.write("src", &data);
    filetime::set_file_mtime(&src, filetime::FileTime::from_unix_time(1_500_000_000, 700)).unwrap();
    let dst = fs.path("dst");
    let first = resume("auto", &[OsStr::new("-p"), os(&src), os(&dst)]);
    assert_eq!(first["bytes"], SIZE as u64, "{first}");
    assert_eq!(std::fs::metadata(&dst).unwrap().mtime_nsec(), 0);
    let again = resume("auto", &[OsStr::new("-p"), os(&src), os(&dst)]);
    assert_eq!(n(&again, "complete_files"), 1, "{again}");
    assert_eq!(again["bytes"], 0, "{again}");
    assert_eq!(std::fs::read(&dst).unwrap(), data);
}
