//! Regression tests for the inputs that made fastcp destroy data where GNU cp 9.1 refuses or
//! copies correctly (issue "Never lose a byte"): each named after what broke, each compared
//! with /bin/cp, hard-link groups included.

mod util;

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::Output;
use util::{Scratch, assert_same_outcome, assert_same_outcome_with, fastcp, run_both, run_pair};

fn write(dir: &Path, rel: &str, data: &str) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, data).unwrap();
}

/// `cp -d symlink foo` where symlink -> foo made foo a link to itself: the data was gone,
/// exit 0. GNU: "'symlink' and 'foo' are the same file".
#[test]
fn symlink_copied_onto_its_own_target() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        symlink("foo", d.join("symlink")).unwrap();
    };
    for opts in [
        &["-d"][..],
        &["-P"],
        &["--no-dereference"],
        &["-a"],
        &["-dv"],
    ] {
        let args: Vec<&str> = opts.iter().copied().chain(["symlink", "foo"]).collect();
        let out = assert_same_outcome(setup, &args);
        assert_eq!(out.code, 1, "{args:?}");
    }
}

/// The same inside a tree: `cp -a src/. dst/` where src/f -> ../dst/f.
#[test]
fn tree_symlink_onto_the_file_it_points_to() {
    let setup = |d: &Path| {
        write(d, "dst/f", "x\n");
        std::fs::create_dir(d.join("src")).unwrap();
        symlink("../dst/f", d.join("src/f")).unwrap();
    };
    for opts in [&["-a"][..], &["-rP"], &["-rd"]] {
        for jobs in ["-j1", "-j2"] {
            let args: Vec<&str> = opts.iter().copied().chain(["src/.", "dst/"]).collect();
            let out = assert_same_outcome_with(setup, &args, &[jobs]);
            assert_eq!(out.code, 1, "{args:?}");
        }
    }
}

/// `cp --backup=simple hello~ hello`: the backup rename went over the source, so `hello~`
/// then held "other". GNU: "backing up 'hello' might destroy source;  'hello~' not copied".
#[test]
fn backup_whose_name_is_the_source() {
    let setup = |d: &Path| {
        write(d, "hello~", "precious\n");
        write(d, "hello", "other\n");
    };
    for opts in [
        &["--backup=simple"][..],
        &["-b"],
        &["--backup=existing"],
        &["-S~", "-b"],
    ] {
        let args: Vec<&str> = opts.iter().copied().chain(["hello~", "hello"]).collect();
        assert_same_outcome(setup, &args);
    }
    // Numbered backups never take the source's name: the copy is made.
    let out = assert_same_outcome(setup, &["--backup=numbered", "hello~", "hello"]);
    assert_eq!(out.code, 0);
}

/// `cp -P --attributes-only sym1 file2` replaced the regular file with a symlink. GNU:
/// "cannot create symbolic link", file2 kept; with --remove-destination it becomes the link.
#[test]
fn attributes_only_symlink_onto_a_file() {
    let setup = |d: &Path| {
        write(d, "file1", "one\n");
        write(d, "file2", "two\n");
        symlink("file1", d.join("sym1")).unwrap();
    };
    for opts in [
        &["-P", "--attributes-only"][..],
        &["-a", "--attributes-only"],
        &["-a", "--attributes-only", "--remove-destination"],
        &["-a", "--attributes-only", "-f"],
    ] {
        let args: Vec<&str> = opts.iter().copied().chain(["sym1", "file2"]).collect();
        assert_same_outcome(setup, &args);
    }
}

/// `cp -a src/. snap0/` where snap1 was made with `cp -al snap0 snap1`: fastcp wrote into
/// the destination's inode, so the snapshot snap1 changed too. GNU unlinks a destination
/// with other links first when it preserves links.
#[test]
fn preserving_links_never_writes_into_another_snapshot() {
    let setup = |d: &Path| {
        write(d, "src/f", "version 1\n");
        write(d, "src/g", "unchanged\n");
        let run = |args: &[&str]| {
            let ok = std::process::Command::new("/bin/cp")
                .args(args)
                .current_dir(d)
                .status()
                .unwrap()
                .success();
            assert!(ok);
        };
        run(&["-a", "src", "snap0"]);
        run(&["-al", "snap0", "snap1"]);
        write(d, "src/f", "version 2, longer\n");
    };
    for (opts, jobs) in [
        (&["-a"][..], "-j1"),
        (&["-a"], "-j2"),
        (&["-r", "--preserve=links"], "-j2"),
    ] {
        let args: Vec<&str> = opts.iter().copied().chain(["src/.", "snap0/"]).collect();
        let out = assert_same_outcome_with(setup, &args, &[jobs]);
        assert_eq!(
            out.tree.get(Path::new("snap1/f")),
            Some(&util::Entry::File {
                mode: out_mode(&out, "snap1/f"),
                data: b"version 1\n".to_vec()
            }),
            "{args:?}"
        );
    }
}

fn out_mode(out: &util::Outcome, rel: &str) -> u32 {
    match out.tree.get(Path::new(rel)) {
        Some(util::Entry::File { mode, .. }) => *mode,
        other => panic!("{rel}: {other:?}"),
    }
}

/// -n (or -i answered no) with hard-linked sources: fastcp skipped dst/f1, then unlinked
/// dst/f2 and linked it to dst/f1. GNU keeps both destinations.
#[test]
fn no_clobber_keeps_destinations_of_hard_linked_sources() {
    let setup = |d: &Path| {
        write(d, "src/f1", "new\n");
        std::fs::hard_link(d.join("src/f1"), d.join("src/f2")).unwrap();
        write(d, "dst/f1", "old one\n");
        write(d, "dst/f2", "old two\n");
    };
    for opts in [
        &["-a", "-n"][..],
        &["-rn", "--preserve=links"],
        &["-a", "-i"],
        &["-a", "-u"],
    ] {
        for jobs in ["-j1", "-j2"] {
            let args: Vec<&str> = opts.iter().copied().chain(["src/.", "dst/"]).collect();
            let mine: Vec<&str> = std::iter::once(jobs).chain(args.iter().copied()).collect();
            // -i reads "no" answers from stdin.
            let (gnu, ours) = run_pair(setup, (&args, &mine), b"n\nn\n", &[]);
            assert_eq!(ours, gnu, "{mine:?}");
        }
    }
}

/// `cp -lf s s` (s -> a) deleted s, then failed. GNU makes s a hard link to a.
#[test]
fn hard_link_force_onto_the_symlink_itself() {
    let setup = |d: &Path| {
        write(d, "a", "d\n");
        symlink("a", d.join("s")).unwrap();
    };
    for args in [
        &["-lf", "s", "s"][..],
        &["-l", "s", "s"],
        &["-lfP", "s", "s"],
        &["-lf", "--backup", "s", "s"],
        &["-sf", "a", "a"],
    ] {
        assert_same_outcome(setup, args);
    }
}

/// A copy that fails after its destination was backed up puts the backup back (GNU's
/// un_backup): `cp -b s s` with s a symlink moved s aside and left it there.
#[test]
fn failed_copy_puts_the_backup_back() {
    let setup = |d: &Path| {
        write(d, "c", "data\n");
        symlink("c", d.join("b")).unwrap();
        symlink("b", d.join("a")).unwrap();
    };
    for args in [
        &["-bv", "a", "b"][..],
        &["-b", "-l", "a", "b"],
        &["-bv", "b", "b"],
        &["--backup=numbered", "-v", "b", "./b"],
    ] {
        let (gnu, ours) = run_both(setup, args, b"", &[("VERSION_CONTROL", "numbered")]);
        assert_eq!(ours, gnu, "{args:?}");
    }
}

/// Regression: a copy that fails after the backup was made reports the failure, then puts
/// the backup back and (-v) says so, in GNU's order on one stream; fastcp printed the
/// "(unbackup)" line first (also with -j1). As nobody, so that the source cannot be read.
#[test]
fn unbackup_line_follows_the_error() {
    if !util::require_root("drop to nobody") {
        return;
    }
    let setup = |d: &Path| {
        write(d, "s", "unreadable\n");
        write(d, "dst", "old\n");
        write(d, "t/f", "unreadable\n");
        write(d, "t/g", "readable\n");
        write(d, "o/t/f", "old f\n");
        write(d, "o/t/g", "old g\n");
        std::fs::set_permissions(d.join("s"), std::fs::Permissions::from_mode(0o000)).unwrap();
        std::fs::set_permissions(d.join("t/f"), std::fs::Permissions::from_mode(0o000)).unwrap();
        let chown = |p: &Path| std::os::unix::fs::lchown(p, Some(65534), Some(65534)).unwrap();
        for entry in util::snapshot(d).keys() {
            chown(&d.join(entry));
        }
    };
    let cases: [&[&str]; 4] = [
        &["-vb", "s", "dst"],
        &["-j1", "-vb", "s", "dst"],
        &["-rvb", "t", "o"],
        &["-j1", "-rvb", "t", "o"],
    ];
    for args in cases {
        // The same stream for stdout and stderr, so that the order shows.
        let run = |program: &Path| {
            let s = Scratch::new();
            setup(s.path());
            std::os::unix::fs::chown(s.path(), Some(65534), Some(65534)).unwrap();
            let gnu_args = args.iter().filter(|a| **a != "-j1");
            let args: Vec<&str> = if program == Path::new("/bin/cp") {
                gnu_args.copied().collect()
            } else {
                args.to_vec()
            };
            let out = std::process::Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .args(["sh", "-c", "exec \"$0\" \"$@\" 2>&1"])
                .arg(program)
                .args(&args)
                .current_dir(s.path())
                .env_clear()
                .env("LC_ALL", "C")
                .output()
                .unwrap();
            let shown = program.to_string_lossy();
            let text = util::normalize(&out.stdout, &shown);
            (out.status.code(), text, util::snapshot(s.path()))
        };
        let gnu = run(Path::new("/bin/cp"));
        let ours = run(&util::fastcp_path());
        if !args.contains(&"-rvb") {
            assert_eq!(ours, gnu, "{args:?}");
            continue;
        }
        // In the tree, whether t/f or t/g comes first follows the inode order of each
        // scratch directory, which differs from one to the other: the same lines, and the
        // unbackup line right after the error in both.
        assert_eq!((ours.0, &ours.2), (gnu.0, &gnu.2), "{args:?}");
        let lines = |text: &str| {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines.sort();
            lines
        };
        assert_eq!(lines(&ours.1), lines(&gnu.1), "{args:?}");
        for text in [&ours.1, &gnu.1] {
            let all: Vec<&str> = text.lines().collect();
            let at = all.iter().position(|l| l.contains("cannot open")).unwrap();
            assert!(all[at + 1].ends_with("(unbackup)"), "{args:?}: {text}");
        }
    }
}

/// Writing through a dangling symlink is refused, even with -f; POSIXLY_CORRECT allows it.
/// A symlink loop is removed under -f (GNU's thru-dangling.sh).
#[test]
fn dangling_and_looping_destination_symlinks() {
    let setup = |d: &Path| {
        write(d, "f", "hi\n");
        symlink("no-such", d.join("dangle")).unwrap();
        symlink("loop", d.join("loop")).unwrap();
    };
    for args in [
        &["f", "dangle"][..],
        &["-f", "f", "dangle"],
        &["f", "loop"],
        &["-f", "f", "loop"],
        &["-fv", "f", "loop"],
        &["--remove-destination", "f", "loop"],
    ] {
        assert_same_outcome(setup, args);
    }
    let (gnu, ours) = run_both(setup, &["f", "dangle"], b"", &[("POSIXLY_CORRECT", "1")]);
    assert_eq!(ours, gnu);
    assert_eq!(ours.code, 0);
}

/// Regression: a looping symlink named with a trailing slash (`loop/`, which even lstat
/// follows) is, under -f, what GNU takes for an existing file: a file copied onto it "cannot
/// remove 'loop/'" and a directory "cannot create directory 'loop/'" (fastcp said "cannot
/// create regular file" and "cannot stat"). Without -f, or dangling, it stays "cannot stat".
#[test]
fn looping_destination_symlink_with_a_trailing_slash() {
    let setup = |d: &Path| {
        write(
            d, "f", "hi
",
        );
        write(
            d,
            "dir/inner",
            "in
",
        );
        symlink("no-such", d.join("dangle")).unwrap();
        symlink("loop", d.join("loop")).unwrap();
        symlink("loop2", d.join("loop1")).unwrap();
        symlink("loop1", d.join("loop2")).unwrap();
    };
    for dst in ["loop/", "loop1/", "loop//", "dangle/"] {
        for opts in [
            &[][..],
            &["-f"],
            &["-fv"],
            &["-fb"],
            &["-fP"],
            &["-f", "--attributes-only"],
            &["--remove-destination"],
        ] {
            for src in ["f", "dir"] {
                let mut args = vec!["-r"];
                args.extend(opts);
                args.extend([src, dst]);
                assert_same_outcome(setup, &args);
            }
        }
    }
}

/// `cp -f --backup f f` copies f to its backup name (cp.c's special case).
#[test]
fn force_backup_onto_itself_copies_to_the_backup_name() {
    let setup = |d: &Path| write(d, "F", "test\n");
    for args in [
        &["--force", "--backup=simple", "--suffix=.b", "F", "F"][..],
        &["-T", "--force", "--backup=simple", "F", "F"],
        &["-fbv", "F", "F"],
        &["-fb", "F", "./F"],
    ] {
        let (gnu, ours) = run_both(setup, args, b"", &[("VERSION_CONTROL", "numbered")]);
        assert_eq!(ours, gnu, "{args:?}");
    }
}

/// Two operands for one destination, and a command-line source written through a symlink the
/// run just made (GNU's abuse.sh); a source named through a symlink to its directory (fastcp
/// followed the link and took `al/f` for the `a/f` named before).
#[test]
fn just_created_destinations_are_not_overwritten() {
    let setup = |d: &Path| {
        write(d, "a/f", "A\n");
        write(d, "b/f", "B\n");
        std::fs::create_dir(d.join("c")).unwrap();
        symlink("../t", d.join("a/l")).unwrap();
        write(d, "b/l", "payload\n");
        symlink("a", d.join("al")).unwrap();
    };
    for args in [
        &["a/f", "b/f", "c"][..],
        // A source named through a symlink to its directory is another name (gnulib's
        // same_name looks at `al` without following it): "will not overwrite just-created",
        // not "specified more than once"; through `al/.` it is the same name.
        &["a/f", "al/f", "c"],
        &["a/f", "al/./f", "c"],
        &["a/f", "a/./f", "c"],
        &["--backup=numbered", "a/f", "b/f", "c"],
        &["-dR", "--preserve=links", "a/l", "b/l", "c"],
        &["-d", "a/l", "b/l", "c"],
        &["a/f", "a/f", "c"],
        &["a/f", "./a/f", "c"],
        &["-b", "a/f", "a/f", "c"],
    ] {
        assert_same_outcome(setup, args);
    }
}

/// The decisions never depend on how many threads copy: the table of -n/-u/-b onto an
/// existing tree gives GNU's result with -j4 too.
#[test]
fn existing_tree_decisions_with_threads() {
    let setup = |d: &Path| {
        for i in 0..40 {
            write(d, &format!("src/f{i}"), &format!("new {i}\n"));
            if i % 3 == 0 {
                write(d, &format!("dst/f{i}"), "old\n");
            }
        }
        std::fs::hard_link(d.join("src/f1"), d.join("src/h1")).unwrap();
    };
    for opts in [
        &["-a"][..],
        &["-a", "-n"],
        &["-a", "--backup=numbered"],
        &["-rf"],
    ] {
        for jobs in ["-j1", "-j4"] {
            let args: Vec<&str> = opts.iter().copied().chain(["src/.", "dst/"]).collect();
            assert_same_outcome_with(setup, &args, &[jobs]);
        }
    }
}

/// A plain check that fastcp's own `--backup` message of a repeated operand is GNU's: with
/// backups, a source named twice is copied twice (the warning is only without backups).
#[test]
fn repeated_source_with_backups_is_copied_again() {
    let s = Scratch::new();
    write(s.path(), "f", "x\n");
    std::fs::create_dir(s.join("d")).unwrap();
    let out = fastcp()
        .current_dir(s.path())
        .args(["--backup=numbered", "f", "f", "d"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(s.join("d/f.~1~").exists());
}

/// Operands that overlap or repeat, and directories met again through symlinks: GNU's
/// warning for a directory named twice, a second copy for overlapping operands, the "same
/// file" refusal for a directory onto itself, and `src/..` copied into the target itself
/// (fastcp wrote into the target's parent).
#[test]
fn overlapping_and_repeated_directory_operands() {
    let setup = |d: &Path| {
        write(d, "d/x", "1\n");
        write(d, "d/e/y", "2\n");
        write(d, "d/e/f/z", "3\n");
        std::fs::create_dir(d.join("dst")).unwrap();
        symlink("d", d.join("l1")).unwrap();
        symlink("d", d.join("l2")).unwrap();
    };
    for args in [
        &["-r", "d", "d", "dst"][..],
        &["-r", "d", "./d", "dst"],
        &["-r", "d", "d/e", "dst"],
        &["-r", "d/e", "d", "dst"],
        &["-r", "--parents", "d/e/f", "d/e", "dst"],
        &["-r", "--parents", "d/e", "d/e/f", "dst"],
        &["-rH", "l1", "l2", "dst"],
        &["-rL", "l1", "l2", "dst"],
        &["-aH", "l1", "d", "dst"],
        &["-rT", "d", "d"],
        &["-rT", "d", "l1"],
        &["-r", "d/e/..", "dst"],
        &["-r", "d/e/../", "dst"],
    ] {
        assert_same_outcome_with(setup, args, &["-j1"]);
    }
}

/// -H follows command-line operands only: below them a symlink is recreated, replacing a
/// file in the way, as with -P (GNU's copy_dir turns -H into -P for the walk).
#[test]
fn follow_command_line_only_recreates_links_below() {
    let setup = |d: &Path| {
        write(d, "d/x", "1\n");
        symlink("x", d.join("d/s")).unwrap();
        write(d, "dst/d/s", "in the way\n");
        std::fs::hard_link(d.join("dst/d/s"), d.join("dst/keep")).unwrap();
    };
    for args in [
        &["-rH", "d", "dst"][..],
        &["-rH", "--attributes-only", "d", "dst"],
        &["-rL", "d", "dst"],
        &["-rP", "d", "dst"],
    ] {
        assert_same_outcome(setup, args);
    }
}

/// -i on a destination the user cannot write says so, with its mode, as GNU's overwrite_ok
/// ("unwritable ... try anyway?", or "replace ..., overriding mode" with -f), and an answer
/// of yes still fails as cp does.
#[test]
fn interactive_question_about_an_unwritable_destination() {
    if !util::require_root("drop to nobody (setpriv)") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let setup = |d: &Path| {
        write(d, "a", "a\n");
        write(d, "ro", "b\n");
        std::fs::set_permissions(d.join("ro"), std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o1777)).unwrap();
        for f in ["a", "ro"] {
            std::os::unix::fs::chown(d.join(f), Some(65534), Some(65534)).unwrap();
        }
    };
    for (args, answer) in [
        (&["-i", "a", "ro"][..], "n\n"),
        (&["-if", "a", "ro"], "n\n"),
        (&["-i", "--remove-destination", "a", "ro"], "n\n"),
        (&["-i", "a", "ro"], "y\n"),
        (&["-if", "a", "ro"], "y\n"),
    ] {
        let (gnu, ours) = util::run_unprivileged_with_stdin(setup, args, answer.as_bytes());
        assert_eq!(ours, gnu, "{args:?} answered {answer:?}");
    }
}

/// -u keeps a newer destination, and links a later name of the same source file to it
/// (GNU's remember_copied in the -u branch): which name comes first is GNU's order, inode
/// then directory order (fastcp broke ties by name).
#[test]
fn update_links_later_names_of_a_kept_file() {
    let setup = |d: &Path| {
        write(d, "src/a", "new\n");
        std::fs::hard_link(d.join("src/a"), d.join("src/b")).unwrap();
        write(d, "dst/a", "old a\n");
        write(d, "dst/b", "old b\n");
        let future = filetime::FileTime::from_unix_time(1_900_000_000, 0);
        for f in ["dst/a", "dst/b"] {
            filetime::set_file_mtime(d.join(f), future).unwrap();
        }
    };
    for opts in [&["-ru"][..], &["-au"], &["-ru", "--preserve=links"]] {
        for jobs in ["-j1", "-j2"] {
            let args: Vec<&str> = opts.iter().copied().chain(["src/.", "dst/"]).collect();
            assert_same_outcome_with(setup, &args, &[jobs]);
        }
    }
}

/// A directory copied onto a name that is a symlink to a directory in the destination was
/// written through the symlink, into whatever it pointed to (found by an adversarial test).
/// GNU looks with lstat: "cannot overwrite non-directory".
#[test]
fn directory_copied_through_a_destination_symlink() {
    let setup = |d: &Path| {
        write(d, "src/d/f", "new\n");
        write(d, "other/f", "precious\n");
        std::fs::create_dir_all(d.join("dst/p/src")).unwrap();
        symlink("../other", d.join("dst/d")).unwrap();
        symlink("../../../other", d.join("dst/p/src/d")).unwrap();
        symlink("nowhere", d.join("dst/dangle")).unwrap();
        std::fs::create_dir(d.join("real")).unwrap();
        symlink("real", d.join("link")).unwrap();
    };
    for args in [
        &["-r", "src/d", "dst"][..],
        &["-a", "src/d", "dst"],
        &["-rb", "src/d", "dst"],
        &["-r", "--remove-destination", "src/d", "dst"],
        &["-rn", "src/d", "dst"],
        &["-rT", "src/d", "dst/d"],
        &["-rT", "src/d", "dst/dangle"],
        &["-rT", "src/d", "link"],
        &["-r", "src", "link"],
        &["-r", "--parents", "src/d", "dst/p"],
    ] {
        for jobs in ["-j1", "-j2"] {
            assert_same_outcome_with(setup, args, &[jobs]);
        }
    }
}

/// -i: an answer that starts with a blank is no, as GNU's yesno (fastcp overwrote).
#[test]
fn interactive_answer_with_a_leading_blank_is_no() {
    let setup = |d: &Path| {
        write(d, "a", "a\n");
        write(d, "b", "b\n");
    };
    for answer in [" y\n", "\ty\n", "y\n", "Yes\n", "n\n", ""] {
        let (gnu, ours) = run_both(setup, &["-i", "a", "b"], answer.as_bytes(), &[]);
        assert_eq!(ours, gnu, "answer {answer:?}");
    }
}

// An explicit --method the kernel refuses for a FIFO source emptied the existing destination
// before failing (found by an adversarial test): the refusal now comes before the
// destination is opened.
per_method!(
    refused_method_leaves_the_destination_alone,
    [sendfile, copy_file_range],
    |method| {
        let s = Scratch::new();
        write(s.path(), "out", "keep\n");
        let fifo = s.fifo("ff");
        // A writer, so that opening the FIFO for reading does not wait.
        let writer = std::thread::spawn(move || {
            let _ = std::fs::write(&fifo, b"hello\n");
        });
        let out = fastcp()
            .current_dir(s.path())
            .args([&format!("--method={method}"), "ff", "out"])
            .output()
            .unwrap();
        // Unblocks the writer if fastcp never opened the FIFO (a non-blocking read open),
        // again until it is done: one made before the writer is in open(2) lets it wait.
        while !writer.is_finished() {
            let _ = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(s.join("ff"));
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        writer.join().unwrap();
        assert_eq!(out.status.code(), Some(1), "{method}");
        assert_eq!(std::fs::read(s.join("out")).unwrap(), b"keep\n", "{method}");
    }
);

/// A tree copy over existing files, with -b or --remove-destination, under -j: the walk
/// moved many destinations aside (or removed them) before the copying threads had rewritten
/// them, so a signal left them missing; and numbered backup names were chosen before queued
/// copies had created their files (found by an adversarial test). Such files are now copied
/// at once, after every queued copy.
#[test]
fn backups_in_parallel_trees_are_named_as_in_walk_order() {
    // (Which of two names GNU meets first depends on inode numbers, which differ between the
    // two fixtures: every name here has its own destination.)
    let setup = |d: &Path| {
        for i in 0..30 {
            write(d, &format!("s/f{i}"), "new\n");
            write(d, &format!("d/s/f{i}"), "old\n");
        }
    };
    for opts in [
        &["-r", "--backup=numbered"][..],
        &["-rb"],
        &["-a", "--backup=existing"],
        &["-r", "--remove-destination"],
    ] {
        for jobs in ["-j2", "-j8"] {
            let args: Vec<&str> = opts.iter().copied().chain(["s", "d"]).collect();
            assert_same_outcome_with(setup, &args, &[jobs]);
        }
    }
}

/// A destination that is a second name of a source file another thread is still copying
/// (`d/s/b` a hard link to `s/a`), or a source that is a destination being written (-L
/// through a symlink into the destination): the copies ran at once and lost data. The result
/// must be the one of copying in GNU's order (by inode number), which is read from the
/// fixture itself (two fixtures may number their files differently).
#[test]
fn files_shared_between_source_and_destination_are_copied_in_order() {
    use std::os::unix::fs::MetadataExt;
    let big = |n: u32| (0..n).map(|i| format!("{i}\n")).collect::<String>();
    let (a, b) = (big(200_000), big(150_000));
    let ino = |p: std::path::PathBuf| std::fs::symlink_metadata(p).unwrap().ino();
    for jobs in ["-j2", "-j4"] {
        for _ in 0..3 {
            let s = Scratch::new();
            let d = s.path();
            write(d, "s/a", &a);
            write(d, "s/b", &b);
            std::fs::create_dir_all(d.join("d/s")).unwrap();
            std::fs::hard_link(d.join("s/a"), d.join("d/s/b")).unwrap();
            let a_first = ino(d.join("s/a")) < ino(d.join("s/b"));
            let out = fastcp()
                .current_dir(d)
                .args([jobs, "-r", "s", "d"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            let read = |p: &str| std::fs::read_to_string(d.join(p)).unwrap();
            assert_eq!(read("d/s/b"), b, "{jobs}");
            assert_eq!(
                read("s/a"),
                b,
                "{jobs}: writing d/s/b writes s/a, as with cp"
            );
            assert_eq!(&read("d/s/a"), if a_first { &a } else { &b }, "{jobs}");

            let s = Scratch::new();
            let d = s.path();
            write(d, "s/a", &a);
            write(d, "d/s/a", "old\n");
            symlink("../d/s/a", d.join("s/l")).unwrap();
            let a_first = ino(d.join("s/a")) < ino(d.join("s/l"));
            let out = fastcp()
                .current_dir(d)
                .args([jobs, "-rL", "s", "d"])
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            let read = |p: &str| std::fs::read_to_string(d.join(p)).unwrap();
            assert_eq!(read("d/s/a"), a, "{jobs}");
            assert_eq!(
                read("d/s/l"),
                if a_first { a.as_str() } else { "old\n" },
                "{jobs}"
            );
        }
    }
}

/// -as gives the symbolic links it makes the source's times, as GNU (not its owner).
#[test]
fn symbolic_links_made_by_s_get_the_source_times() {
    let setup = |d: &Path| {
        write(d, "s/f", "x\n");
        let old = filetime::FileTime::from_unix_time(1_000_000_000, 0);
        filetime::set_file_mtime(d.join("s/f"), old).unwrap();
    };
    let s = Scratch::new();
    setup(s.path());
    let target = s.join("s");
    let abs = target.to_str().unwrap();
    for program in [std::path::PathBuf::from("/bin/cp"), util::fastcp_path()] {
        let out = std::process::Command::new(&program)
            .arg("-as")
            .arg(abs)
            .arg(s.join(format!(
                "t-{}",
                program.file_name().unwrap().to_string_lossy()
            )))
            .output()
            .unwrap();
        assert!(out.status.success(), "{program:?}: {out:?}");
    }
    let mtime = |p: &str| {
        std::fs::symlink_metadata(s.join(p))
            .map(|m| filetime::FileTime::from_last_modification_time(&m))
            .unwrap()
    };
    assert_eq!(mtime("t-fastcp/f"), mtime("t-cp/f"));
}

/// Backups of destinations with long names: gnulib cuts a made-up backup name that would not
/// fit (one byte under NAME_MAX) to the file's name shortened plus `~`; fastcp refused with
/// "File name too long" or made a 255-byte name GNU does not make.
#[test]
fn backups_of_long_names_fit_as_gnu_cuts_them() {
    for len in [250, 251, 252, 254, 255] {
        let name = "x".repeat(len);
        let setup = |d: &Path| {
            write(d, "src", "new\n");
            write(d, &name, "old\n");
        };
        for mode in [
            "--backup=simple",
            "--backup=existing",
            "--backup=numbered",
            "-b",
        ] {
            let (gnu, ours) = run_both(setup, &[mode, "src", &name], b"", &[]);
            assert_eq!(ours, gnu, "{mode} onto a {len}-byte name");
        }
    }
}

/// Smaller differences an adversarial test found: --parents with -T is a usage error; -s into
/// a directory that does not exist fails at the link, not with the "relative links" message;
/// a failed operand does not count as made by this run (a later one was refused "through
/// just-created symlink").
#[test]
fn parents_with_t_symlink_into_nothing_and_failed_operands() {
    let setup = |d: &Path| {
        write(d, "a", "x\n");
        write(d, "s/a/f", "f\n");
        write(d, "o/a", "other\n");
        std::fs::create_dir_all(d.join("d/c")).unwrap();
        std::fs::create_dir(d.join("e")).unwrap();
        symlink("b", d.join("e/a")).unwrap();
    };
    for args in [
        &["--parents", "-T", "d/c", "e"][..],
        &["--parents", "-T", "a", "b", "c"],
        &["-s", "a", "nodir/b"],
        &["-a", "s/a", "o/a", "e/"],
    ] {
        assert_same_outcome_with(setup, args, &["-j1"]);
    }
}

/// A -S suffix is kept when it is its own last component (gnulib 9.1): `x/` is used (and the
/// backup fails, as in GNU), `a/b` and `/x` become `~`.
#[test]
fn backup_suffixes_with_slashes() {
    let setup = |d: &Path| {
        write(d, "a", "a\n");
        write(d, "b", "b\n");
    };
    for suffix in ["x/", "a/b", "/x", "", "x//", ".bak"] {
        assert_same_outcome(setup, &["-S", suffix, "a", "b"]);
    }
}

/// `cp -r --parents s/ d` where d/s is a symlink to a directory elsewhere: the trailing slash
/// made the destination's lstat follow the link, and the copy went into whatever it pointed
/// at (found by an adversarial test); GNU drops trailing slashes from the destination name.
/// And a destination left alone (here a hard link onto itself) is not "just created".
#[test]
fn parents_with_a_trailing_slash_and_files_left_alone() {
    let setup = |d: &Path| {
        write(d, "s/f", "new\n");
        write(d, "other/f", "keep\n");
        std::fs::create_dir(d.join("d")).unwrap();
        symlink("../other", d.join("d/s")).unwrap();
        write(d, "e/f", "old\n");
        write(d, "f", "x\n");
        std::fs::create_dir(d.join("t")).unwrap();
    };
    for args in [
        &["-r", "--parents", "s/", "d"][..],
        &["-r", "--parents", "s//", "d"],
        &["-a", "--parents", "s/", "d/"],
        &["-r", "--parents", "s/", "t"],
        &["-l", "e/f", "f", "e"],
        &["-n", "e/f", "f", "e"],
    ] {
        assert_same_outcome_with(setup, args, &["-j2"]);
    }
}

/// --no-preserve=mode keeps a directory's sticky bit (and only it), as GNU 9.1; and
/// --update=none onto the same file is a quiet skip, as -n.
#[test]
fn no_preserve_mode_keeps_sticky_and_update_none_onto_itself() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o1777, 0o3777, 0o2755, 0o755] {
        let setup = move |d: &Path| {
            std::fs::create_dir(d.join("s")).unwrap();
            std::fs::set_permissions(d.join("s"), std::fs::Permissions::from_mode(mode)).unwrap();
        };
        assert_same_outcome(setup, &["-r", "--no-preserve=all", "s", "d"]);
        assert_same_outcome(setup, &["-a", "--no-preserve=mode", "s", "d"]);
    }
    let s = Scratch::new();
    write(s.path(), "a", "a\n");
    let out = fastcp()
        .current_dir(s.path())
        .args(["--update=none", "a", "a"])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
}

/// Copies a new file with `args` onto `old`, an existing file on a tmpfs (another filesystem
/// than the scratch directory), through `through` when given (a symlink to it); the outcome,
/// and what `old` holds after. None where no tmpfs can be mounted.
fn onto_another_filesystem(args: &[&str], through_link: bool) -> Option<(Output, String)> {
    let fs = util::Mounted::tmpfs("4m")?;
    let s = Scratch::new();
    write(s.path(), "src", "new data\n");
    let old = fs.mount.join("old");
    std::fs::write(&old, "precious\n").unwrap();
    let dst = if through_link {
        let link = s.join("link");
        symlink(&old, &link).unwrap();
        link
    } else {
        old.clone()
    };
    let out = util::fastcp()
        .args(args)
        .arg(s.join("src"))
        .arg(dst)
        .output()
        .unwrap();
    Some((out, std::fs::read_to_string(&old).unwrap()))
}

/// Regression: `--method=copy-file-range` onto an existing file on another filesystem truncated
/// the file, then failed with EXDEV (the kernel serves copy_file_range within one filesystem
/// here). The refusal is now asked for before the destination is opened for writing: the
/// user keeps the file, and the error names the method and the kernel's reason.
#[test]
fn refused_copy_file_range_keeps_the_existing_destination() {
    for through_link in [false, true] {
        let args = ["--method=copy-file-range"];
        let Some((out, old)) = onto_another_filesystem(&args, through_link) else {
            return;
        };
        assert_eq!(out.status.code(), Some(1), "through a link: {through_link}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("with --method=copy-file-range: Invalid cross-device link"),
            "{stderr}"
        );
        assert_eq!(old, "precious\n", "through a link: {through_link}");
    }
}

/// With --reflink=always the clone moves the data, so its refusal is the error ("failed to
/// clone", as GNU cp words it), not the copy_file_range probe's.
#[test]
fn reflink_always_reports_the_clone_not_the_probe() {
    let args = ["--method=copy-file-range", "--reflink=always"];
    let Some((out, _)) = onto_another_filesystem(&args, false) else {
        return;
    };
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failed to clone"), "{stderr}");
}

/// The directory operands go into is opened once, as GNU's target directory: a symlink `d`
/// to `.`, given as that directory, names itself as the destination of a source `d`, and
/// replacing it must not change where the copy is made. fastcp removed the symlink, then
/// looked `d/d` up again: "cannot create regular file 'd/d'", the symlink lost, no copy (and
/// with -b, the backup not put back: "cannot un-backup").
#[test]
fn a_target_directory_replaced_by_its_own_operand_is_still_where_copies_go() {
    let setup = |d: &Path| {
        std::os::unix::fs::symlink(".", d.join("d")).unwrap();
        std::fs::create_dir(d.join("s")).unwrap();
        std::fs::write(d.join("s/d"), b"data\n").unwrap();
        std::fs::write(d.join("s/e"), b"e\n").unwrap();
    };
    for args in [
        &["--remove-destination", "s/d", "d"][..],
        &["--remove-destination", "s/d", "s/e", "d"],
        &["-b", "s/d", "d"],
        &[
            "--backup=numbered",
            "--remove-destination",
            "s/d",
            "s/e",
            "d",
        ],
        &["-rb", "s/d", "s/e", "d"],
    ] {
        util::assert_same_as_gnu(setup, args);
    }
}

/// Under -a, a later name of a hard-linked file is linked to the first copy through the
/// target directory as opened, not through its path: an operand that replaced the symlink
/// named as the target left the path leading elsewhere, and `h2` was linked to an unrelated
/// `E/h1` (exit 0), or the link failed ("Not a directory") where GNU links.
#[test]
fn later_names_link_through_the_target_directory_as_opened() {
    let setup = |d: &Path| {
        std::fs::create_dir_all(d.join("s/dir1")).unwrap();
        std::fs::create_dir_all(d.join("s/dir2")).unwrap();
        std::fs::create_dir_all(d.join("E/dir1")).unwrap();
        std::fs::write(d.join("s/h1"), b"h").unwrap();
        std::fs::hard_link(d.join("s/h1"), d.join("s/h2")).unwrap();
        std::fs::write(d.join("s/dir1/x"), b"x").unwrap();
        std::fs::hard_link(d.join("s/dir1/x"), d.join("s/dir2/y")).unwrap();
        std::fs::write(d.join("E/h1"), b"OTHER").unwrap();
        std::fs::write(d.join("E/dir1/x"), b"OTHER").unwrap();
        std::os::unix::fs::symlink("E", d.join("s/d")).unwrap();
        std::os::unix::fs::symlink(".", d.join("d")).unwrap();
    };
    for args in [
        &["-a", "--remove-destination", "s/h1", "s/d", "s/h2", "d"][..],
        &[
            "--preserve=links",
            "--remove-destination",
            "s/h1",
            "s/d",
            "s/h2",
            "d",
        ],
    ] {
        util::assert_same_attributes_as_gnu(setup, args, "", false);
    }
}
