//! Parallel tree copies (-j): the same trees, attributes, messages and exit statuses as GNU cp
//! and as fastcp -j1, with directory times set after their contents, hard links kept, -v lines
//! whole, errors reported with exit 1, and no temporary file left by --atomic.

mod util;

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output};
use util::{Scratch, attributes, fastcp, fastcp_path, normalize, pattern, snapshot};

/// A tree with enough files per directory for several threads to work in one directory at
/// once: nested directories, files of many sizes (empty, sparse, over a buffer), symlinks,
/// hard links across directories, an empty directory, and set times and modes.
fn tree(root: &Path) {
    let src = root.join("src");
    for d in 0..6 {
        let dir = src.join(format!("d{d}")).join(format!("inner{}", d % 3));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..40 {
            let size = (f * 977 + d * 131) % 70_000;
            std::fs::write(
                dir.join(format!("f{f}")),
                util::pattern(size, (d * 100 + f) as u64),
            )
            .unwrap();
        }
        std::fs::write(src.join(format!("d{d}/top")), b"top").unwrap();
        symlink(format!("inner{}/f1", d % 3), src.join(format!("d{d}/link"))).unwrap();
    }
    let sparse = std::fs::File::create(src.join("d0/sparse")).unwrap();
    sparse.set_len(40 << 20).unwrap();
    std::fs::hard_link(src.join("d1/top"), src.join("d4/hard")).unwrap();
    std::fs::hard_link(src.join("d2/inner2/f7"), src.join("d5/inner2/hard")).unwrap();
    std::fs::create_dir(src.join("empty")).unwrap();
    std::fs::set_permissions(src.join("d3"), std::fs::Permissions::from_mode(0o750)).unwrap();
    // Old times on the directories, so a file created after its directory was finished
    // would show as a changed directory time.
    // Each fixture is built separately: every time is set, so both sources are alike.
    let old = filetime::FileTime::from_unix_time(1_000_000_000, 123_456_789);
    for path in snapshot(&src).keys() {
        filetime::set_symlink_file_times(src.join(path), old, old).unwrap();
    }
    filetime::set_symlink_file_times(&src, old, old).unwrap();
}

/// Runs GNU cp with `args` and fastcp with `args` plus `extra` on one source built by
/// `setup` (so both read directories in the same order), `{dst}` standing for `gnu-out` and
/// `our-out`; `existing` prepares each destination first. With `drop`, both run as `nobody`.
/// Returns both outputs with the destination names replaced by `out`, and the fixture.
fn both(
    setup: impl Fn(&Path),
    existing: impl Fn(&Path),
    args: &[&str],
    extra: &[&str],
    drop: bool,
) -> (Output, Output, Scratch) {
    let s = Scratch::new();
    setup(s.path());
    let run = |program: &Path, dst: &str, extra: &[&str]| {
        existing(&s.join(dst));
        let mut cmd = Command::new(if drop { Path::new("setpriv") } else { program });
        if drop {
            cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
            cmd.arg(program);
        }
        let mut out = cmd
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LC_ALL", "C")
            .current_dir(s.path())
            .args(args.iter().map(|a| a.replace("{dst}", dst)))
            .args(extra)
            .output()
            .unwrap();
        let prog = program.to_string_lossy().into_owned();
        let text = |b: &[u8]| normalize(b, &prog).replace(dst, "out").into_bytes();
        out.stdout = text(&out.stdout);
        out.stderr = text(&out.stderr);
        out
    };
    let gnu = run(Path::new("/bin/cp"), "gnu-out", &[]);
    let ours = run(&fastcp_path(), "our-out", extra);
    (gnu, ours, s)
}

fn nothing(_: &Path) {}

/// Asserts GNU cp and fastcp with `extra` agree on status, messages, the resulting trees,
/// and (with `times`) owners, hard-link groups and nanosecond times.
fn assert_like_gnu(
    setup: impl Fn(&Path),
    existing: impl Fn(&Path),
    args: &[&str],
    extra: &[&str],
    times: bool,
) -> Output {
    let (gnu, ours, s) = both(setup, existing, args, extra, false);
    compare(&gnu, &ours, &s, args, extra, times);
    ours
}

fn compare(gnu: &Output, ours: &Output, s: &Scratch, args: &[&str], extra: &[&str], times: bool) {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(text(&ours.stderr), text(&gnu.stderr), "{args:?} {extra:?}");
    assert_eq!(ours.status.code(), gnu.status.code(), "{args:?} {extra:?}");
    let (mine, theirs) = (s.join("our-out"), s.join("gnu-out"));
    assert_eq!(snapshot(&mine), snapshot(&theirs), "{args:?} {extra:?}");
    assert_eq!(
        attributes(&mine, times),
        attributes(&theirs, times),
        "{args:?} {extra:?}"
    );
}

#[test]
fn parallel_copies_equal_gnu_and_sequential_ones() {
    for jobs in ["-j1", "-j2", "-j4", "-j16"] {
        assert_like_gnu(tree, nothing, &["-a", "src", "{dst}"], &[jobs], true);
        assert_like_gnu(tree, nothing, &["-r", "src", "{dst}"], &[jobs], false);
        assert_like_gnu(tree, nothing, &["-rp", "src", "{dst}"], &[jobs], true);
    }
}

// Every method, with the default thread count.
per_method!(parallel_archive_copy_equals_gnu, |method| {
    let method = format!("--method={method}");
    assert_like_gnu(tree, nothing, &["-a", "src", "{dst}"], &[&method], true);
});

#[test]
fn parallel_merge_into_an_existing_tree() {
    let existing = |out: &Path| {
        std::fs::create_dir_all(out.join("d1/inner1")).unwrap();
        std::fs::write(out.join("d1/inner1/f3"), b"old").unwrap();
        std::fs::write(out.join("d1/keep"), b"kept").unwrap();
        let old = filetime::FileTime::from_unix_time(1_000_000_000, 0);
        filetime::set_file_times(out.join("d1/inner1/f3"), old, old).unwrap();
    };
    for opt in ["-r", "-rn", "-ru"] {
        assert_like_gnu(tree, existing, &[opt, "src/.", "{dst}"], &["-j3"], false);
    }
    // --atomic writes each file under a temporary name: none may be left behind.
    let args = ["-r", "src/.", "{dst}"];
    let ours = assert_like_gnu(tree, existing, &args, &["-j3", "--atomic"], false);
    assert!(ours.status.success());
}

#[test]
fn verbose_lines_stay_whole_with_jobs() {
    let (gnu, ours, _s) = both(tree, nothing, &["-rv", "src", "{dst}"], &["-j4"], false);
    assert!(ours.status.success() && gnu.status.success());
    let lines = |o: &Output| {
        let mut v: Vec<String> = String::from_utf8(o.stdout.clone())
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    // Each line whole (one arrow, quoted ends), one per entry, the same set as GNU's.
    let ours_lines = lines(&ours);
    for line in &ours_lines {
        assert_eq!(line.matches(" -> ").count(), 1, "{line}");
        assert!(line.starts_with('\'') && line.ends_with('\''), "{line}");
    }
    assert_eq!(ours_lines, lines(&gnu));
    // In GNU's order (inode order: one source for both): the walk prints every line, queued
    // files' too (they were printed when copied, after the symlinks and directories made
    // meanwhile).
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&gnu.stdout)
    );
    // Without -j, -v keeps GNU's order exactly (inode order: one source for both).
    util::assert_same_on_one_source(tree, &["-rv", "src", "{dst}"]);
}

#[test]
fn errors_in_a_parallel_copy_are_reported_and_the_rest_copied() {
    if !util::require_root("give the tree away and copy as nobody") {
        return;
    }
    let setup = |root: &Path| {
        tree(root);
        let src = root.join("src");
        for f in ["d0/inner0/f3", "d2/inner2/f9", "d5/top"] {
            std::fs::set_permissions(src.join(f), std::fs::Permissions::from_mode(0o200)).unwrap();
        }
        std::fs::set_permissions(
            src.join("d4/inner1"),
            std::fs::Permissions::from_mode(0o300),
        )
        .unwrap();
        // A read-only directory: created writable to be filled, read-only at the end.
        std::fs::set_permissions(
            src.join("d1/inner1"),
            std::fs::Permissions::from_mode(0o555),
        )
        .unwrap();
        // Let nobody walk and create the destination.
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o777)).unwrap();
        chown_all(&src);
    };
    for opt in ["-r", "-a"] {
        let args = [opt, "src", "{dst}"];
        let (gnu, ours, s) = both(setup, nothing, &args, &["-j3"], true);
        assert_eq!(gnu.status.code(), Some(1));
        // Open errors are found by the walk, in the same order as GNU's.
        compare(&gnu, &ours, &s, &args, &["-j3"], false);
        // Let the temporary directory be removed.
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("u+rwx")
            .arg(s.path())
            .status();
    }
}

/// `root/src` with `files` (and a directory `d`), `u` and `d/u2` unreadable (mode 000), all
/// given to nobody, in a `root` anyone may write.
fn unreadable_tree(root: &Path, files: &[&str]) {
    let src = root.join("src");
    std::fs::create_dir_all(src.join("d")).unwrap();
    for f in files {
        std::fs::write(src.join(f), f.as_bytes()).unwrap();
    }
    for f in ["u", "d/u2"] {
        std::fs::set_permissions(src.join(f), std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o777)).unwrap();
    chown_all(&src);
}

// Regression: a file meant for a copying thread prints its -v line there, and one whose
// source could not be opened printed none; GNU prints it, then the error.
#[test]
fn verbose_lines_of_unreadable_files_are_printed_as_gnu_prints_them() {
    if !util::require_root("give the tree away and copy as nobody") {
        return;
    }
    let setup = |root: &Path| unreadable_tree(root, &["a", "u", "d/u2", "d/z"]);
    // Copying threads print their lines in the order they finish: compared as sets.
    let lines = |out: &Output| {
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        lines.sort();
        lines
    };
    for jobs in ["-j2", "-j4"] {
        let args = ["-rv", "src", "{dst}"];
        let (gnu, ours, s) = both(setup, nothing, &args, &[jobs], true);
        compare(&gnu, &ours, &s, &args, &[jobs], false);
        assert_eq!(lines(&ours), lines(&gnu), "{jobs}");
    }
}

fn chown_all(dir: &Path) {
    let status = Command::new("chown")
        .args(["-R", "-h", "65534:65534"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn stats_count_every_file_copied_by_every_thread() {
    let s = Scratch::new();
    tree(s.path());
    let out = fastcp()
        .current_dir(s.path())
        .args(["-r", "-j4", "--stats=json", "src", "out"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stats = util::stats_json(&out.stderr);
    let files = snapshot(&s.join("src"))
        .values()
        .filter(|e| matches!(e, util::Entry::File { .. }))
        .count();
    // The sparse file is all hole: nothing of it is written.
    let bytes: usize = snapshot(&s.join("src"))
        .iter()
        .map(|(path, e)| match e {
            util::Entry::File { data, .. } if !path.ends_with("sparse") => data.len(),
            _ => 0,
        })
        .sum();
    // Without -a, hard-linked names are copied as separate files.
    assert_eq!(stats["files"].as_u64(), Some(files as u64), "{stats}");
    assert_eq!(stats["bytes"].as_u64(), Some(bytes as u64), "{stats}");
}

#[test]
fn bad_job_counts_are_usage_errors() {
    let s = Scratch::new();
    s.write("a", b"a");
    for bad in ["-j0", "-jx", "-j-1", "-j257", "--jobs="] {
        let out = fastcp()
            .current_dir(s.path())
            .args([bad, "a", "b"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("invalid number of jobs"), "{bad}: {err}");
        assert!(err.contains("Try '"), "{bad}: {err}");
        assert!(!s.join("b").exists());
    }
}

/// Across filesystems, copy_file_range and FICLONE fail with EXDEV for every file: fastcp asks
/// once per thread and pair of filesystems, and still reports the fallback for every file.
#[test]
fn cross_filesystem_refusals_are_asked_once() {
    let s = Scratch::new();
    tree(s.path());
    let Ok(other) = tempfile::Builder::new()
        .prefix("fastcp-test")
        .tempdir_in("/dev/shm")
    else {
        return;
    };
    let dev = |p: &Path| std::os::unix::fs::MetadataExt::dev(&std::fs::metadata(p).unwrap());
    if dev(other.path()) == dev(s.path()) {
        return;
    }
    let out = fastcp()
        .args(["-r", "-j2", "--stats=json"])
        .arg(s.join("src"))
        .arg(other.path().join("out"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stats = util::stats_json(&out.stderr);
    let files = stats["files"].as_u64().unwrap();
    assert!(files > 200, "{stats}");
    for call in ["copy_file_range", "ficlone"] {
        let calls = stats["syscalls"][call]["calls"].as_u64().unwrap();
        assert!((1..=2).contains(&calls), "{call}: {stats}");
    }
    let fallbacks = stats["fallbacks"].as_array().unwrap();
    let cfr = fallbacks
        .iter()
        .find(|f| f["from"] == "copy-file-range" && f["reason"] == "EXDEV")
        .unwrap_or_else(|| panic!("{stats}"));
    // Every file with data fell back (the all-hole sparse file moves none, and the empty
    // file makes no copy call: one read finds it empty), whichever thread copied it first.
    assert_eq!(
        cfr["files"], stats["methods"]["regular"]["sendfile"],
        "{stats}"
    );
    assert_eq!(cfr["files"].as_u64(), Some(files - 2), "{stats}");
    // The empty file made no call under `auto`; the all-hole one is read for zeros (as GNU
    // 9.1 reads a file with holes), read-write, which finds no extent to read.
    assert_eq!(stats["methods"]["regular"]["auto"], 1, "{stats}");
    assert_eq!(stats["methods"]["regular"]["read-write"], 1, "{stats}");
    assert_eq!(
        snapshot(&other.path().join("out")),
        snapshot(&s.join("src"))
    );
}

/// The walk opens regular files as it meets them (one call less than stat then open); a file
/// it cannot open is looked at again the usual way, so the answer is GNU's: skipped silently
/// under -n when the destination exists, reported where cp reports it otherwise.
#[test]
fn unreadable_files_are_judged_as_gnu_judges_them() {
    if !util::require_root("give the tree away and copy as nobody") {
        return;
    }
    let setup = |root: &Path| unreadable_tree(root, &["a", "u", "d/u2", "z"]);
    let existing = |out: &Path| {
        std::fs::create_dir_all(out.join("d")).unwrap();
        std::fs::write(out.join("u"), b"old").unwrap();
        std::fs::write(out.join("d/u2"), b"old").unwrap();
        chown_all(out);
    };
    for opt in ["-rn", "-r", "-ru", "-a"] {
        for jobs in ["-j1", "-j2"] {
            let args = [opt, "src/.", "{dst}"];
            let (gnu, ours, s) = both(setup, existing, &args, &[jobs], true);
            compare(&gnu, &ours, &s, &args, &[jobs], false);
            // -n and -u (the destinations are newer) skip the unreadable files.
            if opt == "-rn" || opt == "-ru" {
                assert!(ours.status.success(), "{ours:?}");
            } else {
                assert_eq!(ours.status.code(), Some(1));
            }
        }
    }
}

/// Under a low limit on open files the queue shrinks to fit (each waiting file holds its
/// source open): the copy still completes and equals the source.
#[test]
fn a_low_descriptor_limit_shrinks_the_queue() {
    let s = Scratch::new();
    tree(s.path());
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 32 && exec \"$0\" -j4 -a src copy")
        .arg(fastcp_path())
        .current_dir(s.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(snapshot(&s.join("copy")), snapshot(&s.join("src")));
    assert_eq!(
        attributes(&s.join("copy"), true),
        attributes(&s.join("src"), true)
    );
}

/// Regression: `a_low_descriptor_limit_shrinks_the_queue` failed now and then under load
/// ("Too many open files"). The queue was bounded by a quarter of the limit, counting only
/// the sources it held open; but each queued file also kept its directory's two descriptors
/// open, and every ancestor's through the chain of directory guards, and each copying thread
/// held a source, a destination and a directory of its own. With the copying threads slower
/// than the walk (small buffers, large files) and every file in a directory of its own, the
/// queue fills with files from different directories and the old count ran past the limit
/// every time. Every holder of descriptors now counts (dirfd.rs's budget).
#[test]
fn queued_files_from_many_directories_stay_within_a_low_limit() {
    let s = Scratch::new();
    for d in 0..40 {
        let dir = s.join(format!("src/d{d:02}/sub"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("f"), util::pattern(1 << 20, d)).unwrap();
    }
    for (limit, jobs) in [(32, "-j4"), (24, "-j8"), (64, "-j16")] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n {limit} && exec \"$0\" {jobs} -a --method=read-write --bufsize=4K src copy"
            ))
            .arg(fastcp_path())
            .current_dir(s.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{limit} {jobs}: {stderr}");
        assert_eq!(snapshot(&s.join("copy")), snapshot(&s.join("src")));
        assert_eq!(
            attributes(&s.join("copy"), true),
            attributes(&s.join("src"), true)
        );
        std::fs::remove_dir_all(s.join("copy")).unwrap();
    }
}

/// Regression (data loss): with -L, a symlink in the source can lead to a file this copy is
/// still writing (`src/l -> ../T/src/big`, copied into T). GNU, one file at a time, has
/// finished T/src/big when it follows the link; fastcp's walker followed it while a copying
/// thread was writing it and copied what was there: exit 0 and a short T/src/l (6 of 8 runs
/// of this fixture), or "cannot stat" when the file was not created yet. A followed symlink is
/// now read once every queued copy is done.
#[test]
fn a_followed_symlink_into_the_destination_is_read_once_its_copy_is_done() {
    let data = pattern(16 << 20, 11);
    // Entries are copied in inode order, as GNU's savedir sorts them: the link must come
    // after the file it leads to (a reused inode can put it first, and then cp too finds
    // nothing there yet).
    let fixture = || {
        let s = Scratch::new();
        s.write("src/big", &data);
        for i in 0..45 {
            s.write(format!("src/s{i}"), format!("{i}\n").as_bytes());
        }
        symlink("../T/src/big", s.join("src/l")).unwrap();
        s.mkdir("T");
        let ino = |name: &str| std::fs::symlink_metadata(s.join(name)).unwrap().ino();
        (ino("src/l") > ino("src/big")).then_some(s)
    };
    for run in 0..4 {
        let s = (0..50)
            .find_map(|_| fixture())
            .expect("a fixture in walk order");
        let out = fastcp()
            .current_dir(s.path())
            .args([
                "-j2",
                "--method=read-write",
                "--bufsize=4K",
                "-rL",
                "src",
                "T",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "run {run}: {stderr}");
        let copied = std::fs::read(s.join("T/src/l")).unwrap();
        assert_eq!(copied.len(), data.len(), "run {run}: a short copy");
        assert!(copied == data, "run {run}");
    }
}

/// Regression: a destination that is a symlink is written through (as cp does), and the file
/// it leads to can be one another copy of this run writes (`T/src/f1 -> f2`, f2 copied first)
/// or a source still to be read (`T/src/f1 -> src/f2`). -j decided and wrote it while the
/// other copy ran: "not writing through dangling symlink" where cp copies, two threads
/// writing one file, or a later source read mid-write (a short T/src/f2, exit 0). Such a file
/// is now copied at once, after every queued copy, as one by one.
#[test]
fn a_destination_symlink_is_written_through_in_walk_order() {
    // Copied in inode order: `first` must come before `second`.
    let in_order = |s: &Scratch, first: &str, second: &str| {
        let ino = |name: &str| std::fs::symlink_metadata(s.join(name)).unwrap().ino();
        ino(first) < ino(second)
    };
    let copy = |s: &Scratch| {
        let out = fastcp()
            .current_dir(s.path())
            .args([
                "-j2",
                "--method=read-write",
                "--bufsize=4K",
                "-r",
                "src",
                "T",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
    };
    let (a, b) = (pattern(8 << 20, 21), pattern(8 << 20, 22));
    // Into a file this run writes first.
    for _ in 0..3 {
        let Some(s) = (0..50).find_map(|_| {
            let s = Scratch::new();
            s.write("src/f2", &a);
            s.write("src/f1", &b);
            s.mkdir("T/src");
            symlink("f2", s.join("T/src/f1")).unwrap();
            in_order(&s, "src/f2", "src/f1").then_some(s)
        }) else {
            return util::skip("no fixture in walk order");
        };
        copy(&s);
        assert!(
            std::fs::read(s.join("T/src/f2")).unwrap() == b,
            "T/src/f2 is f1's copy"
        );
    }
    // Back into a source still to be read: cp writes f1's data into src/f2, then copies that.
    for _ in 0..3 {
        let Some(s) = (0..50).find_map(|_| {
            let s = Scratch::new();
            s.write("src/f1", &b);
            for i in 0..40 {
                s.write(format!("src/s{i}"), b"small\n");
            }
            s.write("src/f2", &a);
            s.mkdir("T/src");
            symlink(s.join("src/f2"), s.join("T/src/f1")).unwrap();
            in_order(&s, "src/f1", "src/f2").then_some(s)
        }) else {
            return util::skip("no fixture in walk order");
        };
        copy(&s);
        assert!(
            std::fs::read(s.join("src/f2")).unwrap() == b,
            "src/f2 written through"
        );
        let copied = std::fs::read(s.join("T/src/f2")).unwrap();
        assert_eq!(copied.len(), b.len(), "a short T/src/f2");
        assert!(copied == b, "T/src/f2");
    }
}

/// A later operand that reads the target an earlier one filled (`cp -r dir1/. t t`) reads it
/// in the order its entries were made: copying threads made dir1's file after the directory
/// the walk made meanwhile, so the second operand met `t/t` (into itself: the walk stops)
/// before the file, and `t/t/c` was never made. Such a run copies one file at a time. (The
/// default -j: as many threads as CPUs.)
#[test]
fn operands_that_read_the_target_see_it_made_in_walk_order() {
    let setup = |d: &Path| {
        std::fs::create_dir(d.join("dir1")).unwrap();
        std::fs::write(d.join("dir1/c"), b"x").unwrap();
        std::fs::create_dir(d.join("dir1/a")).unwrap();
        std::fs::create_dir(d.join("t")).unwrap();
    };
    for args in [
        &["-r", "dir1/.", "t", "t"][..],
        &["-rv", "dir1/.", "t", "t"],
    ] {
        let ours = util::assert_same_as_gnu(setup, args);
        assert_eq!(ours.code, 1, "{args:?}");
    }
}

/// Two names of one file in a directory, under -p: GNU copies the first, which reads it (its
/// access time moves to now), then stats the second and keeps that time. The walk had
/// stat'ed the second before a copying thread read the first, and kept the old time.
#[test]
fn a_second_name_keeps_the_access_time_its_first_copy_left() {
    let s = Scratch::new();
    std::fs::create_dir(s.join("folder")).unwrap();
    std::fs::write(s.join("folder/file1"), b"data").unwrap();
    std::fs::hard_link(s.join("folder/file1"), s.join("folder/file2")).unwrap();
    let old = filetime::FileTime::from_unix_time(3_000_000, 0);
    let kept = |dir: &str| {
        let mut names: Vec<(String, bool)> = ["file1", "file2"]
            .iter()
            .map(|name| {
                let meta = std::fs::metadata(s.join(dir).join(name)).unwrap();
                let atime = filetime::FileTime::from_last_access_time(&meta);
                (name.to_string(), atime == old)
            })
            .collect();
        names.sort();
        names
    };
    for (cmd, out, jobs) in [
        (util::gnu_cp(), "gnu", None),
        (fastcp(), "ours", Some("-j2")),
    ] {
        filetime::set_file_times(s.join("folder/file1"), old, old).unwrap();
        let mut cmd = cmd;
        cmd.current_dir(s.path())
            .args(jobs)
            .args(["-rp", "folder", out]);
        cmd.ok().unwrap();
    }
    let gnu = kept("gnu");
    if gnu.iter().all(|(_, old)| *old) {
        util::skip("reading does not move access times here (noatime)");
    }
    assert_eq!(kept("ours"), gnu);
}

/// -v -f under -j: a destination that cannot be opened is removed, and GNU says so right
/// after the file's own line; a copying thread said it after the whole walk's lines.
#[test]
fn removed_lines_follow_their_files_with_jobs() {
    if !util::require_root("give files to nobody") {
        return;
    }
    let setup = |d: &Path| {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::create_dir(d.join("s")).unwrap();
        for i in 0..6 {
            std::fs::write(d.join(format!("s/f{i}")), format!("{i}")).unwrap();
        }
        symlink("f1", d.join("s/l")).unwrap();
    };
    let existing = |dst: &Path| {
        std::fs::create_dir_all(dst.join("s")).unwrap();
        for i in 0..6 {
            let file = dst.join(format!("s/f{i}"));
            std::fs::write(&file, b"old").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
        for path in [dst.to_path_buf(), dst.join("s")] {
            std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
        }
    };
    let (gnu, ours, _s) = both(setup, existing, &["-rvf", "s", "{dst}"], &["-j2"], true);
    assert!(String::from_utf8_lossy(&gnu.stdout).contains("removed"));
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&gnu.stdout)
    );
    assert_eq!(ours.status.code(), gnu.status.code());
}
