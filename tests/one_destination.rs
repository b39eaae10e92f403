//! Every way two copies of one run can reach the same destination (two operands with the same
//! names, overlapping operands, a destination directory or file with two names) gives what GNU
//! cp gives, with any number of threads: a later copy sees the earlier one complete.

mod util;

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use util::{Scratch, attributes, fastcp_path, normalize, snapshot};

/// Builds a fixture (sources, or a destination) in a directory.
type Prepare<'a> = &'a dyn Fn(&Path);

/// Builds the sources once with `setup` (so both programs read directories in the same
/// order, which decides which of two copies comes last), prepares `gnu-out` and `our-out`
/// with `existing`, runs GNU cp with `args` and fastcp with `args` and `extra` (`{dst}` in
/// `args` standing for the destination), and asserts status, messages (destination names
/// swapped back), the two destinations, and their owners, hard-link groups and, with
/// `times`, modification times agree.
fn like_gnu((setup, existing): (Prepare, Prepare), args: &[&str], extra: &[&str], times: bool) {
    let s = Scratch::new();
    setup(s.path());
    let run = |program: &Path, dst: &str, extra: &[&str]| -> Output {
        existing(&s.join(dst));
        Command::new(program)
            .args(extra)
            .args(args.iter().map(|a| a.replace("{dst}", dst)))
            .current_dir(s.path())
            .env_clear()
            .env("LC_ALL", "C")
            .output()
            .unwrap()
    };
    let gnu = run(Path::new("/bin/cp"), "gnu-out", &[]);
    let fast = run(&fastcp_path(), "our-out", extra);
    let prog = fastcp_path().to_string_lossy().into_owned();
    let what = format!("{args:?} {extra:?}");
    assert_eq!(
        normalize(&fast.stderr, &prog).replace("our-out", "out"),
        normalize(&gnu.stderr, "/bin/cp").replace("gnu-out", "out"),
        "{what}"
    );
    assert_eq!(fast.status.code(), gnu.status.code(), "{what}");
    let (ours, theirs) = (s.join("our-out"), s.join("gnu-out"));
    same(snapshot(&ours), snapshot(&theirs), &what);
    same(attributes(&ours, times), attributes(&theirs, times), &what);
}

/// Asserts two listings are equal, naming the first entry that differs (not all of them).
fn same<V: PartialEq + std::fmt::Debug>(
    ours: BTreeMap<PathBuf, V>,
    theirs: BTreeMap<PathBuf, V>,
    what: &str,
) {
    for (path, value) in &theirs {
        let mine = ours.get(path);
        assert!(
            mine == Some(value),
            "{what}: {path:?}: {mine:?} against GNU's {value:?}"
        );
    }
    let extra: Vec<_> = ours.keys().filter(|p| !theirs.contains_key(*p)).collect();
    assert!(extra.is_empty(), "{what}: not in GNU's copy: {extra:?}");
}

fn set_mtime(path: &Path, secs: i64) {
    let time = filetime::FileTime::from_unix_time(secs, 0);
    filetime::set_file_times(path, time, time).unwrap();
}

/// `a/x` and `b/x`: the same 200 names and a subdirectory of 50 more, different contents;
/// b's files half newer and half older than a's (so -u keeps some of each).
fn same_names(root: &Path) {
    for (side, secs) in [("a", 1_100_000_000), ("b", 1_000_000_000)] {
        std::fs::create_dir_all(root.join(side).join("x/sub")).unwrap();
        for i in 0..200 {
            for dir in ["x", "x/sub"].into_iter().take(if i < 50 { 2 } else { 1 }) {
                let file = root.join(side).join(dir).join(format!("f{i:03}"));
                std::fs::write(&file, format!("{side} {dir} {i}\n").repeat(i % 7 + 1)).unwrap();
                let newer = if side == "b" && i % 2 == 1 {
                    200_000_000
                } else {
                    0
                };
                set_mtime(&file, secs + newer);
            }
        }
    }
    for dir in ["a/x/sub", "a/x", "b/x/sub", "b/x", "a", "b"] {
        set_mtime(&root.join(dir), 1_050_000_000);
    }
}

/// A destination directory, empty.
fn empty(dst: &Path) {
    std::fs::create_dir(dst).unwrap();
}

/// Regression: with -j2, the walk decided about `d/x/fNN` for `b/x` before a copying thread
/// had created it from `a/x`: "File exists" errors and files left with a's content, or under
/// --atomic silently (exit 0). Every file must end with b's content, or be kept by -n/-u as
/// GNU keeps it.
#[test]
fn operands_with_the_same_names_merge_as_with_gnu() {
    let cases: [&[&str]; 7] = [
        &["-r"],
        &["-a"],
        &["-rn"],
        &["-ru"],
        &["-au"],
        &["-r", "--backup=numbered"],
        &["-a", "--parents"],
    ];
    for (n, opts) in cases.iter().enumerate() {
        let jobs = if n % 2 == 0 { "-j2" } else { "-j4" };
        let mut args = opts.to_vec();
        args.extend(["a/x", "b/x", "{dst}/"]);
        let times = opts.contains(&"-a") || opts.contains(&"-au");
        like_gnu((&same_names, &empty), &args, &[jobs], times);
    }
    // --atomic (no GNU equivalent) ends as a plain copy does.
    for jobs in ["-j2", "-j4"] {
        let args = ["-r", "a/x", "b/x", "{dst}/"];
        like_gnu((&same_names, &empty), &args, &[jobs, "--atomic"], false);
    }
}

/// Operands that overlap reach one destination twice: `--parents a/b a/b/c` (a/b/c is
/// copied with a/b, then again), `d d/e`, and a directory named twice (GNU warns and copies
/// it once). Regression too: fastcp remembered every directory it met, where GNU remembers
/// only command-line ones and the first it creates, and refused the second copy of a/b/c
/// ("will not create hard link") even with one thread.
#[test]
fn overlapping_operands_copy_as_with_gnu() {
    let tree = |root: &Path| {
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        for i in 0..100 {
            for (file, text) in [(format!("a/b/c/f{i}"), "c"), (format!("a/b/g{i}"), "b")] {
                std::fs::write(root.join(&file), format!("{text} {i}")).unwrap();
                set_mtime(&root.join(&file), 1_000_000_000 + i);
            }
        }
        for dir in ["a/b/c", "a/b", "a"] {
            set_mtime(&root.join(dir), 1_050_000_000);
        }
    };
    let cases: [&[&str]; 6] = [
        &["-r", "--parents", "a/b", "a/b/c", "{dst}"],
        &["-a", "--parents", "a/b/c", "a/b", "{dst}"],
        &["-r", "a/b", "a/b/c", "{dst}"],
        &["-r", "a/b/c", "a/b", "{dst}"],
        &["-r", "a/b", "a/b", "{dst}"],
        &["-r", "a/b/c", "a/b", "a", "{dst}"],
    ];
    for (n, args) in cases.iter().enumerate() {
        let jobs = ["-j1", "-j2", "-j4"][n % 3];
        like_gnu((&tree, &empty), args, &["-j2"], args.contains(&"-a"));
        if jobs != "-j2" {
            like_gnu((&tree, &empty), args, &[jobs], args.contains(&"-a"));
        }
    }
}

/// One file with two names in the destination: a hard link, or a symlink GNU writes through.
/// Two threads writing it at once would mix the two sources' bytes; it must end as the later
/// one, as with GNU. The files are large, so the copies would overlap.
#[test]
fn a_destination_file_with_two_names_is_written_in_walk_order() {
    let sources = |root: &Path| {
        std::fs::create_dir_all(root.join("src/x")).unwrap();
        for i in 0..12 {
            let x = root.join("src/x");
            std::fs::write(x.join(format!("f{i}")), util::pattern(3 << 20, i)).unwrap();
            std::fs::write(x.join(format!("g{i}")), util::pattern(1 << 20, i + 100)).unwrap();
        }
    };
    let linked = |dst: &Path, hard: bool| {
        std::fs::create_dir_all(dst.join("x")).unwrap();
        for i in 0..12 {
            let (f, g) = (dst.join(format!("x/f{i}")), dst.join(format!("x/g{i}")));
            std::fs::write(&f, b"old").unwrap();
            if hard {
                std::fs::hard_link(&f, &g).unwrap();
            } else {
                symlink(format!("f{i}"), &g).unwrap();
            }
        }
    };
    for jobs in ["-j2", "-j4"] {
        for hard in [true, false] {
            let existing = |dst: &Path| linked(dst, hard);
            like_gnu(
                (&sources, &existing),
                &["-r", "src/x", "{dst}"],
                &[jobs],
                false,
            );
        }
    }
}

/// A destination directory entered twice in one operand (`l` a kept symlink to `m`): the
/// files copied through `l` are complete before `m` is copied over them, as with one thread.
/// (GNU 9.1 has no --keep-directory-symlink: the reference is fastcp -j1.) Both copies read
/// one source tree: the walk goes in inode order, and two trees made alike may get their two
/// directories' inodes in either order on a busy machine (which made an earlier version of
/// this test, with a tree per run, fail one run in fifteen under load).
#[test]
fn a_destination_directory_entered_twice_is_filled_in_walk_order() {
    for opts in [&["-r"][..], &["-rn"], &["-a", "--atomic"]] {
        let s = Scratch::new();
        let root = s.path();
        std::fs::create_dir_all(root.join("src/x/l")).unwrap();
        std::fs::create_dir_all(root.join("src/x/m")).unwrap();
        for i in 0..200 {
            std::fs::write(root.join(format!("src/x/l/f{i}")), format!("l {i}")).unwrap();
            std::fs::write(root.join(format!("src/x/m/f{i}")), format!("m {i}")).unwrap();
        }
        let run = |jobs: &str| {
            let dst = root.join(format!("dst{jobs}"));
            std::fs::create_dir_all(dst.join("x/m")).unwrap();
            symlink("m", dst.join("x/l")).unwrap();
            let out = util::fastcp()
                .arg(jobs)
                .args(opts)
                .arg("--keep-directory-symlink")
                .arg("src/x")
                .arg(&dst)
                .current_dir(root)
                .output()
                .unwrap();
            (out.status.code(), out.stderr, snapshot(&dst))
        };
        let one = run("-j1");
        assert_eq!(one.0, Some(0), "{opts:?}");
        assert!(run("-j3") == one, "{opts:?}");
    }
}
