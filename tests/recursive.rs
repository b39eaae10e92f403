//! Recursive copies (-r, -a, -L/-P/-H, -p): the resulting trees, messages and -v lines are
//! GNU cp's on the same fixture.

mod util;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use util::{Scratch, assert_same_as_gnu, assert_same_attributes_as_gnu};

/// A tree with a bit of everything: nested directories, an empty one, a symlink to a file, a
/// dangling symlink, a symlink to a directory, a FIFO, hard links, odd modes and old times.
fn tree(dir: &Path) {
    let d = dir.join("d");
    std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(d.join("empty")).unwrap();
    std::fs::write(d.join("f"), b"file f\n").unwrap();
    std::fs::write(d.join("sub/g"), b"file g\n").unwrap();
    std::fs::write(d.join("sub/deeper/h"), util::pattern(70_000, 1)).unwrap();
    std::fs::write(d.join("exec"), b"#!/bin/sh\n").unwrap();
    std::fs::set_permissions(d.join("exec"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::hard_link(d.join("f"), d.join("sub/f-link")).unwrap();
    symlink("f", d.join("l")).unwrap();
    symlink("nowhere", d.join("dangling")).unwrap();
    symlink("sub", d.join("dirlink")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        d.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o640),
        0,
    )
    .unwrap();
    std::fs::set_permissions(d.join("sub/deeper"), std::fs::Permissions::from_mode(0o711)).unwrap();
    let old = filetime_set(&d);
    assert!(old);
    std::fs::write(dir.join("plain"), b"plain\n").unwrap();
    std::fs::create_dir(dir.join("existing")).unwrap();
}

/// Gives every entry an old, distinct nanosecond mtime, so preserved times are visible.
fn filetime_set(d: &Path) -> bool {
    let mut n = 0;
    for entry in walk(d) {
        n += 1;
        let t = rustix::fs::Timespec {
            tv_sec: 1_000_000_000 + n * 1000,
            tv_nsec: 123_456_789,
        };
        let times = rustix::fs::Timestamps {
            last_access: t,
            last_modification: t,
        };
        rustix::fs::utimensat(
            rustix::fs::CWD,
            &entry,
            &times,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .unwrap();
    }
    n > 0
}

/// Every path below `d`, children before parents (so setting a child's time does not change
/// its parent's afterwards).
fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if std::fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

same_as_gnu! {
    tree;
    recursive_copy_to_new_name: ["-r", "d", "e"],
    capital_r_is_recursive: ["-R", "d", "e"],
    recursive_into_existing_directory: ["-r", "d", "existing"],
    recursive_with_trailing_slashes: ["-r", "d/", "new/"],
    directory_over_a_file: ["-r", "d", "plain"],
    several_sources_into_directory: ["-r", "d", "plain", "existing"],
    follow_every_symlink: ["-rL", "d", "e"],
    follow_command_line_symlink: ["-rH", "d/dirlink", "e"],
    copy_command_line_symlink_as_symlink: ["-r", "d/dirlink", "e"],
    dash_d_keeps_symlinks: ["-d", "d/l", "e"],
    no_dereference_with_p_big: ["-P", "d/l", "e"],
    last_of_l_and_p_wins: ["-r", "-L", "-P", "d", "e"],
    archive_copy: ["-a", "d", "e"],
    recursive_preserve: ["-rp", "d", "e"],
    archive_without_mode: ["-a", "--no-preserve=mode", "d", "e"],
    preserve_links_only: ["-r", "--preserve=links", "d", "e"],
    invalid_preserve_attribute: ["-r", "--preserve=colour", "d", "e"],
    recursive_target_directory: ["-r", "-t", "existing", "d", "plain"],
    recursive_no_target_directory: ["-rT", "d", "existing"],
}

/// -v lines come in the source's inode order, so both programs read one source.
#[test]
fn verbose_lists_every_entry_in_gnu_order() {
    util::assert_same_on_one_source(tree, &["-rv", "d", "{dst}"]);
    util::assert_same_on_one_source(tree, &["-av", "d", "{dst}"]);
    util::assert_same_on_one_source(tree, &["-rLv", "d", "{dst}"]);
}

#[test]
fn verbose_into_existing_directory() {
    let with_out = |dir: &Path| {
        tree(dir);
        std::fs::create_dir(dir.join("gnu-out")).unwrap();
        std::fs::create_dir(dir.join("our-out")).unwrap();
    };
    util::assert_same_on_one_source(with_out, &["-rv", "d", "{dst}"]);
}

/// A directory copied into itself is refused with GNU's message, and the copy stops instead
/// of nesting copies without end. What was copied before the directory met itself depends on
/// the order of entries, so only the message, the status and the depth are compared.
#[test]
fn directory_into_itself_is_refused_without_runaway() {
    for (args, deepest) in [
        (&["-r", "d", "d"][..], "d/d/d"),
        (&["-r", "d", "d/sub"], "d/sub/d/sub/d"),
        (&["-a", "d", "d/sub/deeper"], "d/sub/deeper/d/sub/deeper/d"),
    ] {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        let (gnu, ours) = util::differential(tree, &args);
        assert_eq!(ours.stderr, gnu.stderr, "{args:?}");
        assert_eq!(ours.code, gnu.code, "{args:?}");
        assert_eq!(ours.code, 1);
        assert!(
            !ours.tree.contains_key(Path::new(deepest)),
            "{args:?} ran away"
        );
    }
}

/// Regression: `cp -r . e/`, where e/ already holds a directory d and the source holds d
/// too, ran without end (171,925 levels in 20 s) when the new e/e got a lower inode than
/// e/d. GNU remembers the first directory each entry of a directory creates, every entry
/// starting from its directory's flag (copy_dir's first_dir_created); fastcp carried one flag
/// from sibling to sibling, so once d/ was created e/e was never remembered, and the walk
/// met it as a new directory below itself. Freed inodes (the h* directories) give the new
/// directories each order in turn.
#[test]
fn a_directory_copied_into_a_subdirectory_stops_whatever_the_inode_order() {
    for freed in 0..6 {
        let setup = |dir: &Path| {
            std::fs::create_dir_all(dir.join("d/sub")).unwrap();
            std::fs::create_dir(dir.join("e")).unwrap();
            for i in 0..freed {
                std::fs::create_dir(dir.join(format!("e/h{i}"))).unwrap();
            }
            std::fs::create_dir(dir.join("e/d")).unwrap();
            for i in 0..freed {
                std::fs::remove_dir(dir.join(format!("e/h{i}"))).unwrap();
            }
        };
        let args: Vec<&std::ffi::OsStr> = ["-r", ".", "e/"].map(std::ffi::OsStr::new).to_vec();
        let (gnu, ours) = util::differential(setup, &args);
        assert_eq!(
            (ours.code, &ours.stderr),
            (gnu.code, &gnu.stderr),
            "{freed}"
        );
        assert_eq!(ours.code, 1, "{freed}");
        assert!(
            !ours.tree.contains_key(Path::new("e/e/e/e")),
            "{freed}: ran away"
        );
    }
}

#[test]
fn archive_keeps_times_owners_and_hard_links() {
    assert_same_attributes_as_gnu(tree, &["-a", "d", "e"], "e", true);
}

#[test]
fn recursive_preserve_keeps_times() {
    assert_same_attributes_as_gnu(tree, &["-rp", "d", "e"], "e", true);
}

#[test]
fn plain_recursive_does_not_keep_hard_links() {
    assert_same_attributes_as_gnu(tree, &["-r", "d", "e"], "e", false);
}

#[test]
fn owner_is_kept_under_archive_and_not_without() {
    let chown_tree = |dir: &Path| {
        tree(dir);
        rustix::fs::chownat(
            rustix::fs::CWD,
            dir.join("d/f"),
            Some(rustix::fs::Uid::from_raw(65534)),
            Some(rustix::fs::Gid::from_raw(65534)),
            rustix::fs::AtFlags::empty(),
        )
        .unwrap();
    };
    if !util::require_root("give files away") {
        return;
    }
    assert_same_attributes_as_gnu(chown_tree, &["-a", "d", "e"], "e", true);
    assert_same_attributes_as_gnu(chown_tree, &["-r", "d", "e"], "e", false);
}

/// A read-only source tree copies for an unprivileged user: directories are created writable
/// for their owner while they are filled, and get their final mode afterwards.
#[test]
fn read_only_tree_copies_for_a_normal_user() {
    if !util::require_root("copy as nobody, for whom permissions are checked") {
        return;
    }
    let setup = |dir: &Path| {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let d = dir.join("ro");
        std::fs::create_dir_all(d.join("inner")).unwrap();
        std::fs::write(d.join("inner/file"), b"data").unwrap();
        for p in [d.join("inner"), d.clone()] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
    };
    for args in [&["-r", "ro", "copy"][..], &["-a", "ro", "copy"]] {
        let ours = util::assert_same_as_gnu_unprivileged(setup, args);
        assert_eq!(ours.code, 0);
    }
}

/// One unreadable file does not stop the tree: the rest is copied and the exit status is 1.
#[test]
fn unreadable_entries_are_reported_and_skipped() {
    if !util::require_root("copy as nobody, for whom permissions are checked") {
        return;
    }
    let setup = |dir: &Path| {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let d = dir.join("src");
        std::fs::create_dir_all(d.join("closed")).unwrap();
        std::fs::write(d.join("a"), b"a").unwrap();
        std::fs::write(d.join("secret"), b"s").unwrap();
        std::fs::write(d.join("z"), b"z").unwrap();
        std::fs::write(d.join("closed/inside"), b"i").unwrap();
        std::fs::set_permissions(d.join("secret"), std::fs::Permissions::from_mode(0o000)).unwrap();
        std::fs::set_permissions(d.join("closed"), std::fs::Permissions::from_mode(0o000)).unwrap();
    };
    let (gnu, ours) = util::differential_unprivileged(setup, &["-r", "src", "dst"]);
    // Errors come in inode order, which differs between the two fixtures.
    let sorted = |s: &str| {
        let mut lines: Vec<&str> = s.lines().collect();
        lines.sort();
        lines.join("\n")
    };
    assert_eq!(sorted(&ours.stderr), sorted(&gnu.stderr));
    assert_eq!(ours.code, gnu.code);
    assert_eq!(ours.tree, gnu.tree);
    assert_eq!(ours.code, 1);
}

// Regression: a directory's trailing slashes were kept in the paths below it (`d//a`,
// `out//d`); GNU's file_name_concat makes them one (`d/a`, `out/d`), and keeps the
// operand itself as given (`'d//' -> 'out/d'`).
#[test]
fn trailing_slashes_are_joined_as_gnu_joins_them() {
    let setup = |dir: &Path| {
        std::fs::create_dir_all(dir.join("y/z/w")).unwrap();
        std::fs::write(dir.join("y/a"), b"a").unwrap();
        std::fs::write(dir.join("y/z/w/b"), b"b").unwrap();
        for out in ["gnu-out", "our-out"] {
            std::fs::create_dir(dir.join(out)).unwrap();
        }
    };
    let cases: [&[&str]; 6] = [
        &["-rv", "y//", "{dst}//"],
        &["-rv", "y/z//", "{dst}//new//"],
        &["-rv", "./y/.//", "{dst}/."],
        &["-rv", "--parents", "y//z", "{dst}//"],
        &["-v", "y//a", "{dst}//"],
        // Into the directory itself, as `dir/.` (GNU drops the first dot of `..`).
        &["-rv", "y/z/..", "{dst}"],
    ];
    for args in cases {
        for jobs in ["-j1", "-j2"] {
            util::assert_same_on_one_source_with(setup, args, &[jobs], true);
        }
    }
}

// A parent that --parents cannot make is worded as GNU's cp.c words it ("cannot make
// directory"), not as a directory of a tree ("cannot create directory", copy.c).
#[test]
fn a_parent_that_cannot_be_made_is_worded_as_gnu_words_it() {
    if !util::require_root("copy as nobody, for whom permissions are checked") {
        return;
    }
    let setup = |dir: &Path| {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::create_dir_all(dir.join("src/sub")).unwrap();
        std::fs::write(dir.join("src/sub/f"), b"f").unwrap();
        // Root's, 0755: nobody cannot make anything in it.
        std::fs::create_dir(dir.join("closed")).unwrap();
    };
    let args = ["--parents", "src/sub/f", "closed"];
    let (gnu, ours) = util::differential_unprivileged(setup, &args);
    assert_eq!(ours.stderr, gnu.stderr);
    assert_eq!(ours.code, gnu.code);
    assert_eq!(ours.code, 1);
}

same_as_gnu! {
    tree;
    force_archive: ["-fa", "d", "existing"],
    update_archive: ["-ua", "d", "existing"],
    no_clobber_recursive: ["-nr", "d", "existing"],
}

/// Names that need quoting, bytes that are not UTF-8, and a newline, inside a tree.
#[test]
fn unusual_names_inside_a_tree() {
    use std::os::unix::ffi::OsStrExt;
    let odd = |dir: &Path| {
        let d = dir.join("odd");
        std::fs::create_dir_all(&d).unwrap();
        for name in [
            &b"new\nline"[..],
            b"\xff\xfe",
            b"sp ace",
            b"-dash",
            b"quote'd",
        ] {
            let p = d.join(std::ffi::OsStr::from_bytes(name));
            std::fs::write(&p, name).unwrap();
        }
        std::fs::create_dir(d.join(std::ffi::OsStr::from_bytes(b"dir\xff"))).unwrap();
    };
    util::assert_same_on_one_source(odd, &["-rv", "odd", "{dst}"]);
}

/// Setuid and setgid bits survive only when the owner does (GNU cp).
#[test]
fn set_id_bits_need_ownership() {
    if !util::require_root("give files away") {
        return;
    }
    let setuid = |dir: &Path| {
        let f = dir.join("suid");
        std::fs::write(&f, b"#!/bin/sh\n").unwrap();
        rustix::fs::chownat(
            rustix::fs::CWD,
            &f,
            Some(rustix::fs::Uid::from_raw(65534)),
            Some(rustix::fs::Gid::from_raw(65534)),
            rustix::fs::AtFlags::empty(),
        )
        .unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o6755)).unwrap();
    };
    for args in [
        &["suid", "plain"][..],
        &["-p", "suid", "kept"],
        &["--preserve=mode", "suid", "mode-only"],
        &["-a", "--no-preserve=ownership", "suid", "no-owner"],
    ] {
        assert_same_attributes_as_gnu(setuid, args, "", false);
    }
}

/// Extended attributes are copied under -a and --preserve=xattr, not by default.
#[test]
fn extended_attributes_under_archive() {
    let with_xattr = |dir: &Path| {
        tree(dir);
        let f = std::fs::File::open(dir.join("d/f")).unwrap();
        rustix::fs::fsetxattr(&f, "user.fastcp", b"value", rustix::fs::XattrFlags::empty())
            .unwrap();
    };
    let s = Scratch::new();
    with_xattr(s.path());
    let get = |p: &Path| {
        let f = std::fs::File::open(p).unwrap();
        let mut buf = [0u8; 64];
        rustix::fs::fgetxattr(&f, "user.fastcp", &mut buf[..])
            .ok()
            .map(|n| buf[..n].to_vec())
    };
    for (args, kept) in [
        (&["-a", "d", "archive"][..], true),
        (&["-r", "--preserve=xattr", "d", "asked"], true),
        (&["-r", "d", "no-xattr"], false),
    ] {
        util::fastcp()
            .current_dir(s.path())
            .args(args)
            .assert()
            .success();
        let dst = s.join(args[args.len() - 1]).join("f");
        assert_eq!(get(&dst).is_some(), kept, "{args:?}");
        if kept {
            assert_eq!(get(&dst).unwrap(), b"value");
        }
        // GNU cp agrees.
        let gnu_dst = format!("gnu-{}", args[args.len() - 1]);
        let mut gnu_args: Vec<&str> = args[..args.len() - 1].to_vec();
        gnu_args.push(&gnu_dst);
        util::gnu_cp()
            .current_dir(s.path())
            .args(&gnu_args)
            .assert()
            .success();
        assert_eq!(
            get(&s.join(&gnu_dst).join("f")).is_some(),
            kept,
            "GNU {args:?}"
        );
    }
}

/// -x: a filesystem mounted inside the source is not entered; its mount point is copied
/// empty, as GNU cp does.
#[test]
fn one_file_system_stays_put() {
    let s = Scratch::new();
    tree(s.path());
    let Some(fs) = util::Mounted::tmpfs_on(s.mkdir("d/mnt"), "1m") else {
        return;
    };
    let mnt = &fs.mount;
    std::fs::write(mnt.join("inside"), b"other fs").unwrap();
    let run = |prog: &str, dst: &str| {
        let mut cmd = if prog == "gnu" {
            util::gnu_cp()
        } else {
            util::fastcp()
        };
        cmd.current_dir(s.path())
            .args(["-rx", "d", dst])
            .output()
            .unwrap()
    };
    let gnu = run("gnu", "gnu-out");
    let ours = run("ours", "our-out");
    drop(fs);
    assert_eq!(ours.status.code(), gnu.status.code());
    assert_eq!(
        util::snapshot(&s.join("our-out")),
        util::snapshot(&s.join("gnu-out"))
    );
    assert!(s.join("our-out/mnt").is_dir());
    assert!(!s.join("our-out/mnt/inside").exists());
}

/// Regression: a symlink back to an ancestor under -L recursed until the stack overflowed.
#[test]
fn cyclic_symlink_is_refused_like_gnu() {
    let cyclic = |dir: &Path| {
        std::fs::create_dir_all(dir.join("d/s")).unwrap();
        std::fs::write(dir.join("d/f"), b"f").unwrap();
        symlink("..", dir.join("d/s/up")).unwrap();
    };
    assert_same_as_gnu(cyclic, &["-rL", "d", "e"]);
    // GNU looks at the destination first: a non-directory there is the error, and the
    // cycle only where a directory could be made or merged into (fastcp said "cyclic" first).
    let with_destination = |dir: &Path| {
        cyclic(dir);
        std::fs::create_dir_all(dir.join("e/s")).unwrap();
        std::fs::write(dir.join("e/s/up"), b"x").unwrap();
        std::fs::create_dir_all(dir.join("g/s/up")).unwrap();
    };
    assert_same_as_gnu(with_destination, &["-rL", "d/.", "e"]);
    assert_same_as_gnu(with_destination, &["-rL", "d/.", "g"]);
}

/// A directory copied again in one run (`p/dir2/.`, then `p/x/..`, which holds dir2) onto a
/// non-directory: GNU says "cannot overwrite non-directory" before it looks at what the run
/// copied already (fastcp said "will not create hard link ... to directory").
#[test]
fn a_non_directory_in_the_way_is_reported_before_a_directory_copied_twice() {
    let setup = |dir: &Path| {
        std::fs::create_dir_all(dir.join("p/dir2")).unwrap();
        std::fs::create_dir_all(dir.join("p/x")).unwrap();
        std::fs::create_dir(dir.join("q")).unwrap();
        std::fs::write(dir.join("p/dir2/f"), b"a").unwrap();
        symlink("nowhere", dir.join("q/dir2")).unwrap();
    };
    assert_same_as_gnu(setup, &["-a", "p/dir2/.", "p/x/..", "q"]);
    assert_same_as_gnu(setup, &["-r", "p/dir2/.", "p/x/..", "q"]);
}

/// Regression: 600 levels of directories overflowed the stack of a debug build. The tree
/// walk keeps two descriptors per level and no path limit: 3000 levels copy whole (GNU cp
/// stops at PATH_MAX, about 2000 here).
#[test]
fn very_deep_tree_copies_whole() {
    let s = Scratch::new();
    let mut fd = rustix::fs::open(
        s.mkdir("deep"),
        rustix::fs::OFlags::RDONLY,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    for _ in 0..3000 {
        rustix::fs::mkdirat(&fd, "d", rustix::fs::Mode::from_raw_mode(0o755)).unwrap();
        fd = rustix::fs::openat(
            &fd,
            "d",
            rustix::fs::OFlags::RDONLY,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
    }
    rustix::fs::mkdirat(&fd, "leaf", rustix::fs::Mode::from_raw_mode(0o755)).unwrap();
    util::fastcp()
        .current_dir(s.path())
        .args(["-r", "deep", "copy"])
        .assert()
        .success();
    let mut fd = rustix::fs::open(
        s.join("copy"),
        rustix::fs::OFlags::RDONLY,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    for _ in 0..3000 {
        fd = rustix::fs::openat(
            &fd,
            "d",
            rustix::fs::OFlags::RDONLY,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
    }
    assert!(rustix::fs::statat(&fd, "leaf", rustix::fs::AtFlags::empty()).is_ok());
}

/// Device nodes are recreated with the same device number under -R, and read as data with
/// --copy-contents (a copy of /dev/null's node reads as an empty file).
#[test]
fn device_nodes_recreated_or_read() {
    if !util::require_root("make device nodes") {
        return;
    }
    let with_device = |dir: &Path| {
        std::fs::create_dir_all(dir.join("dev")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.join("dev/null"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0o666),
            rustix::fs::makedev(1, 3),
        )
        .unwrap();
        std::fs::write(dir.join("dev/file"), b"data").unwrap();
    };
    assert_same_as_gnu(with_device, &["-r", "dev", "out"]);
    assert_same_as_gnu(with_device, &["-a", "dev", "out"]);
    assert_same_as_gnu(with_device, &["-r", "--copy-contents", "dev", "out"]);
}

/// `cp -r . e`, e an existing subdirectory: the copy reads e while it fills it, so what it
/// finds there (and the inode order it reads it in) depends on the order it made the files.
/// With -j the walk made e/d before its threads made e/a and e/b, met e/d first in e, and
/// stopped there: e/e was left empty, where GNU's holds a and b. A copy into its own source
/// now runs one file at a time. On a tmpfs of its own, whose inode numbers follow the order
/// files are made in, GNU's result is the same in every run.
#[test]
fn a_copy_into_its_own_source_ends_as_gnu_whatever_j() {
    let Some(fs) = util::Mounted::tmpfs("16m") else {
        return;
    };
    let setup = |dir: &Path| {
        std::fs::create_dir(dir).unwrap();
        for (name, data) in [("a", "src\n"), ("b", "dst\n")] {
            std::fs::write(dir.join(name), data).unwrap();
        }
        for sub in ["d/sub", "e", "g/d", "h/d/sub"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("d/x"), "x\n").unwrap();
        std::fs::write(dir.join("d/sub/y"), "y\n").unwrap();
    };
    let run = |mut cmd: util::Cmd, dir: &Path| {
        setup(dir);
        let out = cmd
            .current_dir(dir)
            .args(["-r", ".", "e"])
            .output()
            .unwrap();
        (out.status.code(), util::snapshot(dir))
    };
    let gnu = run(util::gnu_cp(), &fs.path("gnu"));
    assert!(gnu.1.contains_key(Path::new("e/e/a")), "GNU: {:?}", gnu.1);
    for jobs in ["-j2", "-j4"] {
        let mut ours = util::fastcp();
        ours.arg(jobs);
        assert_eq!(run(ours, &fs.path(jobs)), gnu, "{jobs}");
    }
}

/// A destination inside the source reached through a symlink (`cp -r d d/lx/sub`, lx a link
/// to x): GNU compares the names' directories without following the link, so meeting the new
/// d/x/sub is "will not create hard link" for that entry and the rest of d is copied. fastcp
/// followed the link, took it for "into itself", and stopped with only x copied.
#[test]
fn a_destination_reached_through_a_symlink_is_not_into_itself() {
    let setup = |dir: &Path| {
        std::fs::create_dir_all(dir.join("d/x/y")).unwrap();
        std::fs::write(dir.join("d/f1"), "1\n").unwrap();
        std::fs::write(dir.join("d/f2"), "2\n").unwrap();
        std::os::unix::fs::symlink("x", dir.join("d/lx")).unwrap();
    };
    for jobs in ["-j1", "-j4"] {
        let ours = util::assert_same_outcome_with(setup, &["-r", "d", "d/lx/sub"], &[jobs]);
        assert_eq!(ours.code, 1);
        // Into the directory lx leads to: GNU looks at d/lx/d from that directory (its
        // dst_dirfd, the link followed), so meeting d/x/d is "into itself" there. What was
        // copied before that depends on the inode order of d's entries, which differs from
        // one scratch directory to the next: the message and status are compared.
        let args = ["-r", "d", "d/lx"];
        let (gnu, ours) = util::run_pair(setup, (&args, &[jobs, "-r", "d", "d/lx"]), b"", &[]);
        assert_eq!((ours.code, &ours.stderr), (gnu.code, &gnu.stderr), "{jobs}");
        assert!(ours.stderr.contains("into itself"), "{}", ours.stderr);
    }
    // Where GNU goes on into the directory met again (-L, -l), it nests copies until the
    // path is too long for the kernel; fastcp, which has no such limit, stops at once with
    // "into itself" (it filled 527 MB in 10 s before).
    for args in [["-rL", "d", "d/lx/sub"], ["-rl", "d", "d/lx/sub"]] {
        let s = util::Scratch::new();
        setup(s.path());
        let out = util::fastcp()
            .current_dir(s.path())
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let dirs = util::snapshot(&s.join("d")).len();
        assert!(dirs < 20, "{args:?}: {dirs} entries");
    }
}

/// A target directory named through a symlink, then `.` (`cp -r s/. t/s`, t/s a link to s/sub):
/// GNU looks at `t/s/.`, which goes through the link, so meeting the directory it made in
/// s/sub is "into itself" and the operand stops. fastcp took the name's directory as `t/s`
/// (Rust's Path::parent drops the `.`), looked at the link itself, called it "will not create
/// hard link", and went on: s/f was copied over s/sub/f, a file of the source. On a tmpfs,
/// whose inode numbers follow creation, so both tools read the entries in one order.
#[test]
fn a_target_named_through_a_symlink_and_dot_is_into_itself() {
    let Some(fs) = util::Mounted::tmpfs("16m") else {
        return;
    };
    let prog = util::fastcp_path().to_string_lossy().into_owned();
    let cases: [&[&str]; 7] = [
        &["-r", "s/.", "t/s"],
        &["-r", "s", "t/s//"],
        &["-r", "s/./", "t/s"],
        &["-a", "s/.", "t/s/."],
        &["-rn", "s/.", "t/s"],
        &["-rb", "s/.", "t/s"],
        &["-r", "-j4", "s/.", "t/s"],
    ];
    for (i, args) in cases.iter().enumerate() {
        let run = |mut cmd: util::Cmd, name: &str, args: &[&str]| {
            let dir = fs.path(&format!("{i}{name}"));
            std::fs::create_dir_all(dir.join("s/sub")).unwrap();
            std::fs::create_dir(dir.join("t")).unwrap();
            std::fs::write(dir.join("s/f"), "one\n").unwrap();
            std::fs::write(dir.join("s/sub/f"), "PRECIOUS\n").unwrap();
            std::os::unix::fs::symlink("../s/sub", dir.join("t/s")).unwrap();
            let out = cmd.current_dir(&dir).args(args).output().unwrap();
            (out, util::snapshot(&dir))
        };
        let gnu_args: Vec<&str> = args.iter().copied().filter(|a| *a != "-j4").collect();
        let (gnu, gnu_tree) = run(util::gnu_cp(), "gnu", &gnu_args);
        let (ours, our_tree) = run(util::fastcp(), "ours", args);
        assert_eq!(
            std::fs::read_to_string(fs.path(&format!("{i}ours/s/sub/f"))).unwrap(),
            "PRECIOUS\n",
            "{args:?}"
        );
        assert_eq!(
            util::normalize(&ours.stderr, &prog),
            util::normalize(&gnu.stderr, "/bin/cp"),
            "{args:?}"
        );
        assert_eq!(ours.status.code(), gnu.status.code(), "{args:?}");
        assert_eq!(our_tree, gnu_tree, "{args:?}");
    }
}

/// A directory copied onto itself through a symlink to it (`cp -rb ld/. d`, ld a link to d):
/// GNU's same_nameat does not follow the names' directories, so the directories are two
/// entries and merged, and each file in them is "the same file" (one message per entry,
/// not one for the operand); a backup never moves a file of the source aside.
#[test]
fn a_directory_onto_itself_through_a_symlink_is_refused_entry_by_entry() {
    // One entry a directory: the messages come in one order whatever the inode order.
    let setup = |d: &Path| {
        std::fs::create_dir_all(d.join("d/e")).unwrap();
        std::fs::write(d.join("d/e/f"), "PRECIOUS\n").unwrap();
        std::os::unix::fs::symlink("d", d.join("ld")).unwrap();
        std::os::unix::fs::symlink(".", d.join("l")).unwrap();
    };
    let cases: [&[&str]; 10] = [
        &["-rb", "ld/.", "d"],
        &["-rb", "ld/.", "d/."],
        &["-rb", "l/d/.", "d"],
        &["-ab", "ld/.", "l/d"],
        &["-r", "--backup=numbered", "ld/.", "d"],
        &["-rb", "--remove-destination", "ld/.", "d"],
        &["-r", "--remove-destination", "l/d/.", "d"],
        &["-rbHT", "ld", "d"],
        &["-r", "--remove-destination", "l/d", "."],
        &["-a", "--remove-destination", "ld/.", "d"],
    ];
    for args in cases {
        let (gnu, ours) = util::run_both(setup, args, b"", &[]);
        assert_eq!(ours, gnu, "{args:?}");
        assert!(
            ours.code == 1 && ours.stderr.contains("are the same file"),
            "{args:?}"
        );
    }
}
