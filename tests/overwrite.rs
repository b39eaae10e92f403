//! Existing destinations: -n, -i, -u, -f, --remove-destination, -b/--backup and -S behave as in
//! GNU cp on the same fixture.

mod util;

use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Stdio;
use util::{Scratch, fastcp_path, normalize, snapshot};

fn fixture(dir: &Path) {
    std::fs::write(dir.join("a"), b"new\n").unwrap();
    std::fs::write(dir.join("b"), b"old\n").unwrap();
    std::fs::write(dir.join("c"), b"old c\n").unwrap();
    std::fs::write(dir.join("c.~1~"), b"first backup\n").unwrap();
    symlink("b", dir.join("lb")).unwrap();
    std::fs::create_dir_all(dir.join("d/sub")).unwrap();
    std::fs::write(dir.join("d/a"), b"tree a\n").unwrap();
    std::fs::write(dir.join("d/sub/x"), b"tree x\n").unwrap();
    std::fs::create_dir_all(dir.join("e/sub")).unwrap();
    std::fs::write(dir.join("e/a"), b"old tree a\n").unwrap();
    // b is newer than a: -u keeps it.
    let t = |secs| rustix::fs::Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
    };
    let set = |p: &str, secs| {
        rustix::fs::utimensat(
            rustix::fs::CWD,
            dir.join(p),
            &t(secs),
            rustix::fs::AtFlags::empty(),
        )
        .unwrap()
    };
    set("a", 1_500_000_000);
    set("b", 1_600_000_000);
    set("c", 1_400_000_000);
}

same_as_gnu! {
    fixture;
    no_clobber_keeps_the_destination: ["-n", "a", "b"],
    no_clobber_verbose_says_nothing: ["-nv", "a", "b"],
    no_clobber_in_a_tree: ["-rn", "d/.", "e"],
    update_keeps_a_newer_destination: ["-u", "a", "b"],
    update_replaces_an_older_destination: ["-uv", "a", "c"],
    update_copies_a_missing_destination: ["-u", "a", "new"],
    update_in_a_tree: ["-ruv", "d/.", "e"],
    remove_destination_first: ["--remove-destination", "-v", "a", "b"],
    simple_backup: ["-bv", "a", "b"],
    backup_suffix: ["-b", "-S", ".bak", "-v", "a", "b"],
    numbered_backup: ["--backup=numbered", "-v", "a", "b"],
    existing_numbered_backups_continue: ["--backup=existing", "-v", "a", "c"],
    default_backup_follows_existing_numbers: ["-b", "-v", "a", "c"],
    no_backup_with_none: ["--backup=none", "-v", "a", "b"],
    backup_of_a_missing_destination: ["-bv", "a", "new"],
    backup_renames_a_symlink_itself: ["-b", "a", "lb"],
    invalid_backup_type: ["--backup=sometimes", "a", "b"],
    backup_type_prefix: ["--backup=num", "-v", "a", "b"],
    force_overwrites: ["-f", "a", "b"],
    backup_in_a_tree: ["-rb", "d/.", "e"],
}

/// Backup numbers are read as GNU's numbered_backup reads them: digits of any length,
/// counted as a string (fastcp parsed a u64, so a 21-digit backup was not seen and `f.~1~`
/// was made, and the largest u64 wrapped to `f.~0~`), and none with a leading zero (fastcp
/// took `f.~01~` for 1 and made `f.~2~`).
#[test]
fn backup_numbers_are_read_as_gnu_reads_them() {
    for existing in [
        "99999999999999999999",
        "18446744073709551615",
        "01",
        "0",
        "9",
        "1a",
    ] {
        for args in [
            &["--backup=numbered", "-v", "a", "b"][..],
            &["--backup=existing", "-v", "a", "b"],
        ] {
            let setup = |dir: &Path| {
                fixture(dir);
                let name = format!("b.~{existing}~");
                std::fs::write(dir.join(name), b"a backup\n").unwrap();
            };
            util::assert_same_as_gnu(setup, args);
        }
    }
}

#[test]
fn version_control_and_suffix_come_from_the_environment() {
    for (var, value, args) in [
        ("VERSION_CONTROL", "numbered", &["-bv", "a", "b"][..]),
        ("VERSION_CONTROL", "simple", &["-bv", "a", "c"]),
        ("VERSION_CONTROL", "bogus", &["-b", "a", "b"]),
        ("SIMPLE_BACKUP_SUFFIX", ".orig", &["-bv", "a", "b"]),
    ] {
        let (gnu, ours) = run_both(args, None, Some((var, value)));
        assert_eq!(ours, gnu, "{var}={value} {args:?}");
    }
}

/// Runs both programs on fresh fixtures with `stdin` fed and one extra environment variable,
/// and returns (status, stdout, stderr, tree) for each.
fn run_both(args: &[&str], stdin: Option<&[u8]>, env: Option<(&str, &str)>) -> (Outcome, Outcome) {
    let run = |program: &Path, name: &str| {
        let s = Scratch::new();
        fixture(s.path());
        let mut cmd = std::process::Command::new(program);
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", "C")
            .current_dir(s.path())
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            // A program that does not ask never reads: a broken pipe here is fine.
            let _ = child.stdin.take().unwrap().write_all(input);
        }
        let out = child.wait_with_output().unwrap();
        let prog = program.to_string_lossy().into_owned();
        (
            out.status.code(),
            normalize(&out.stdout, &prog),
            normalize(&out.stderr, &prog),
            snapshot(s.path()),
            name.to_string(),
        )
    };
    let strip = |o: (
        Option<i32>,
        String,
        String,
        std::collections::BTreeMap<std::path::PathBuf, util::Entry>,
        String,
    )| {
        Outcome {
            code: o.0,
            stdout: o.1,
            stderr: o.2,
            tree: o.3,
        }
    };
    (
        strip(run(Path::new("/bin/cp"), "gnu")),
        strip(run(&fastcp_path(), "ours")),
    )
}

#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    tree: std::collections::BTreeMap<std::path::PathBuf, util::Entry>,
}

#[test]
fn interactive_asks_and_obeys_the_answer() {
    for (answer, args) in [
        (&b"y\n"[..], &["-i", "a", "b"][..]),
        (b"Yes\n", &["-iv", "a", "b"]),
        (b"n\n", &["-i", "a", "b"]),
        (b"", &["-i", "a", "b"]),
        (b"y\n", &["-n", "-i", "a", "b"]),
        (b"y\n", &["-i", "-n", "a", "b"]),
        (b"y\nn\n", &["-ri", "d/.", "e"]),
        (b"y\n", &["-i", "a", "new"]),
    ] {
        let (gnu, ours) = run_both(args, Some(answer), None);
        assert_eq!(ours, gnu, "{args:?} answering {answer:?}");
    }
}

/// -f removes a destination that cannot be opened for writing and copies anew.
#[test]
fn force_replaces_an_unwritable_destination() {
    if !util::require_root("give a file away and copy as nobody") {
        return;
    }
    let setup = |dir: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::write(dir.join("a"), b"new\n").unwrap();
        std::fs::write(dir.join("ro"), b"old\n").unwrap();
        std::fs::set_permissions(dir.join("ro"), std::fs::Permissions::from_mode(0o444)).unwrap();
        rustix::fs::chownat(
            rustix::fs::CWD,
            dir.join("ro"),
            Some(rustix::fs::Uid::from_raw(65534)),
            Some(rustix::fs::Gid::from_raw(65534)),
            rustix::fs::AtFlags::empty(),
        )
        .unwrap();
    };
    for args in [&["a", "ro"][..], &["-f", "a", "ro"]] {
        util::assert_same_as_gnu_unprivileged(setup, args);
    }
}

/// `--update=none` and `--update=all` (GNU 9.3's spelling; 9.1 has only plain -u).
#[test]
fn update_none_and_all() {
    let s = Scratch::new();
    fixture(s.path());
    util::fastcp()
        .current_dir(s.path())
        .args(["--update=none", "a", "c"])
        .assert()
        .success();
    assert_eq!(s.read("c"), b"old c\n");
    util::fastcp()
        .current_dir(s.path())
        .args(["--update=all", "a", "b"])
        .assert()
        .success();
    assert_eq!(s.read("b"), b"new\n");
}

/// -u with times preserved compares as GNU's utimecmp does: the source's mtime cut to what
/// the destination's filesystem keeps (here ext2 with 128-byte inodes: whole seconds). A
/// copy made there with -p is not older than its source, which changed within the same
/// second: GNU leaves it. fastcp compared the nanoseconds, copied it again, and under
/// `-aul` (the source on another filesystem) removed its symlink and FIFO to link them,
/// which failed across filesystems.
#[test]
fn update_allows_for_the_destination_filesystems_time_resolution() {
    let Some(fs) = util::Mounted::whole_seconds() else {
        return;
    };
    let at = |secs: i64, nanos: u32| filetime::FileTime::from_unix_time(secs, nanos);
    let runs: [&[&str]; 5] = [
        &["-puv", "s/f", "{dst}/f"],
        &["-auv", "s/f", "{dst}/f"],
        &["-uv", "s/f", "{dst}/f"],
        &["-aul", "s/.", "{dst}"],
        &["-auL", "s/.", "{dst}"],
    ];
    for args in runs {
        // One source for both: each tool takes a directory's entries in inode order, and
        // which of `f` and `l` comes first decides GNU's -L case as much as fastcp's (the
        // first one within 2 s makes the resolution probe). Two fixtures of their own
        // differed in that order about one run in ten.
        let scratch = Scratch::new();
        let src = scratch.join("s");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("f"), b"one\n").unwrap();
        symlink("f", src.join("l")).unwrap();
        util::mkfifo(&src.join("p"), 0o644);
        filetime::set_file_mtime(src.join("f"), at(1_600_000_000, 700_000_000)).unwrap();
        let sides = ["gnu", "ours"].map(|side| fs.path(side));
        for dst in &sides {
            let _ = std::fs::remove_dir_all(dst);
            // A complete copy with its times, cut to whole seconds by the filesystem.
            let made = std::process::Command::new("/bin/cp")
                .arg("-a")
                .arg(&src)
                .arg(dst)
                .status()
                .unwrap();
            assert!(made.success());
        }
        // The source changes within the same second.
        std::fs::write(src.join("f"), b"two\n").unwrap();
        filetime::set_file_mtime(src.join("f"), at(1_600_000_000, 200_000_000)).unwrap();
        let mut results = Vec::new();
        for (program, dst) in [Path::new("/bin/cp"), &*fastcp_path()]
            .into_iter()
            .zip(&sides)
        {
            let dst_text = dst.to_str().unwrap();
            let args: Vec<String> = args.iter().map(|a| a.replace("{dst}", dst_text)).collect();
            let out = std::process::Command::new(program)
                .args(&args)
                .current_dir(scratch.path())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).replace(dst_text, "DST");
            let stderr =
                normalize(&out.stderr, &program.to_string_lossy()).replace(dst_text, "DST");
            results.push((out.status.code(), stdout, stderr, snapshot(dst)));
        }
        assert_eq!(
            results[1], results[0],
            "fastcp (left) and GNU cp differ for {args:?}"
        );
    }
}
