//! --atomic gives what cp without it gives, only never half-written: each test builds one
//! fixture twice, runs GNU cp on one and `fastcp --atomic` on the other, and compares status,
//! messages, the tree (no temporary file left), owners, hard links, xattrs and inode flags.
//! Each is named after what --atomic broke (replacing the destination's inode whatever it
//! was). Also --compare, which removed whatever DEST was.

mod util;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use util::acl::{GROUP_OBJ, MASK, NO_ID, OTHERS, USER, USER_OBJ};
use util::{Scratch, acl, attributes, fastcp, fastcp_path, normalize, snapshot};

/// The uid and gid of `nobody`, the unprivileged user of these tests.
const NOBODY: u32 = 65534;

/// Runs `program args` in `dir`, as nobody when `user`.
fn run(program: &Path, args: &[&str], dir: &Path, user: bool) -> Output {
    let mut cmd = if user {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        cmd.arg(program);
        cmd
    } else {
        std::process::Command::new(program)
    };
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin")
        .env("LC_ALL", "C")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Every xattr (by name, with its value) and the inode flags of each path below `root`.
fn extras(root: &Path) -> BTreeMap<PathBuf, (BTreeMap<String, Vec<u8>>, u32)> {
    let flags = |path: &Path| {
        let meta = std::fs::symlink_metadata(path).unwrap();
        if meta.is_file() {
            let file = std::fs::File::open(path).unwrap();
            rustix::fs::ioctl_getflags(&file).map_or(0, |f| f.bits())
        } else {
            0
        }
    };
    util::xattrs(root)
        .into_iter()
        .map(|(rel, values)| {
            let flags = flags(&root.join(&rel));
            (rel, (values, flags))
        })
        .collect()
}

/// Builds the fixture twice, runs `/bin/cp cp_args` on one and `fastcp ours` on the other
/// (both as nobody when `user`), and asserts that everything the two leave is the same.
fn like_cp(setup: impl Fn(&Path), cp_args: &[&str], ours: &[&str], user: bool) {
    let theirs_dir = Scratch::new();
    let ours_dir = Scratch::new();
    setup(theirs_dir.path());
    setup(ours_dir.path());
    let gnu = run(Path::new("/bin/cp"), cp_args, theirs_dir.path(), user);
    let fast = run(&fastcp_path(), ours, ours_dir.path(), user);
    let program = fastcp_path().to_string_lossy().into_owned();
    assert_eq!(
        normalize(&fast.stderr, &program),
        normalize(&gnu.stderr, "/bin/cp"),
        "messages: {ours:?}"
    );
    assert_eq!(fast.status.code(), gnu.status.code(), "status: {ours:?}");
    let (t, o) = (theirs_dir.path(), ours_dir.path());
    assert_eq!(snapshot(o), snapshot(t), "tree: {ours:?}");
    assert_eq!(
        attributes(o, false),
        attributes(t, false),
        "owners: {ours:?}"
    );
    assert_eq!(extras(o), extras(t), "xattrs and flags: {ours:?}");
}

/// `like_cp` with the same arguments, `--atomic` added for fastcp.
fn atomic_like_cp(setup: impl Fn(&Path), args: &[&str], user: bool) {
    let ours: Vec<&str> = std::iter::once("--atomic")
        .chain(args.iter().copied())
        .collect();
    like_cp(setup, args, &ours, user);
}

/// Temporary files left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".fastcp-"))
        .collect()
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn write(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap();
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn mknod(path: &Path, kind: &str, major_minor: &[&str]) {
    let ok = std::process::Command::new("mknod")
        .arg(path)
        .arg(kind)
        .args(major_minor)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mknod {path:?}");
}

fn setxattr(path: &Path, name: &str, value: &[u8]) {
    rustix::fs::setxattr(path, name, value, rustix::fs::XattrFlags::empty()).unwrap();
}

/// Regression: --atomic renamed its file over a symlink destination, which became a regular
/// file while the file it pointed to kept the old data. cp writes through the link: the file
/// at the end of the chain (relative links read from their own directories) is replaced.
#[test]
fn atomic_replaced_a_symlink_instead_of_writing_through_it() {
    let setup = |d: &Path| {
        write(&d.join("src"), b"new data");
        std::fs::create_dir(d.join("s")).unwrap();
        write(&d.join("s/f"), b"new f");
        write(&d.join("s/g"), b"new g");
        for dir in ["sub", "far", "tree"] {
            std::fs::create_dir(d.join(dir)).unwrap();
        }
        write(&d.join("far/real"), b"old");
        chmod(&d.join("far/real"), 0o640);
        symlink("far/real", &d.join("link"));
        symlink("../link", &d.join("sub/l2"));
        symlink("sub/l2", &d.join("chain"));
        // A tree copy meets a link among the destination's entries.
        write(&d.join("far/f"), b"old f");
        symlink("../far/f", &d.join("tree/f"));
        write(&d.join("tree/g"), b"old g");
    };
    for args in [
        &["src", "link"][..],
        &["src", "chain"],
        &["-p", "src", "chain"],
        &["-r", "s/.", "tree"],
    ] {
        atomic_like_cp(setup, args, false);
    }
    like_cp(
        setup,
        &["-r", "s/.", "tree"],
        &["--atomic", "-j3", "-r", "s/.", "tree"],
        false,
    );
    // An absolute link (not compared with cp: the two fixtures' paths differ).
    let s = Scratch::new();
    setup(s.path());
    let abs = s.join("abs");
    std::os::unix::fs::symlink(s.join("sub/l2"), &abs).unwrap();
    fastcp()
        .arg("--atomic")
        .arg(s.join("src"))
        .arg(&abs)
        .assert()
        .success();
    assert!(abs.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(s.read("far/real"), b"new data");
    assert!(leftovers(&s.join("far")).is_empty());
}

/// Regression: a device node, a socket or a FIFO destination was replaced by a regular file
/// (as root, `fastcp --atomic x /dev/null` replaced /dev/null). They are written in place,
/// as without --atomic: a copy of /dev/null's device node made here stays a device.
#[test]
fn atomic_replaced_device_nodes_and_sockets() {
    let setup = |d: &Path| {
        write(&d.join("src"), b"new data");
        mknod(&d.join("null"), "c", &["1", "3"]);
        symlink("null", &d.join("to-null"));
        let listener = std::os::unix::net::UnixListener::bind(d.join("sock")).unwrap();
        drop(listener);
    };
    for args in [
        &["src", "null"][..],
        &["src", "to-null"],
        &["-f", "src", "null"],
        // cp cannot open a socket (ENXIO); -f replaces it.
        &["src", "sock"],
        &["-f", "src", "sock"],
    ] {
        atomic_like_cp(setup, args, false);
    }
}

/// Regression: a FIFO destination was replaced by a regular file, and its reader got nothing.
#[test]
fn atomic_replaced_a_fifo() {
    let s = Scratch::new();
    let src = s.write("src", b"through the pipe");
    let fifo = s.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Held open both ways: the copy's open never waits, and nothing here can block.
    let reader = rustix::fs::open(
        &fifo,
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NONBLOCK,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    fastcp()
        .arg("--atomic")
        .arg(&src)
        .arg(&fifo)
        .assert()
        .success();
    assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo());
    let mut buf = [0u8; 64];
    let n = rustix::io::read(&reader, &mut buf).unwrap_or(0);
    assert_eq!(&buf[..n], b"through the pipe");
}

/// Regression: the replacing file had the copier's owner and group, lost the old file's ACL,
/// its xattrs and its inode flags (chattr +d), and got an ACL inherited from the directory's
/// default one. Each is kept as writing in place keeps it, unless the source's is preserved.
#[test]
fn atomic_lost_the_old_owner_acl_xattrs_and_flags() {
    if !util::require_root("give files away") {
        return;
    }
    let setup = |d: &Path| {
        let src = d.join("src");
        write(&src, b"new data");
        chmod(&src, 0o755);
        chown(&src, 4321, 8765);
        setxattr(&src, "user.k", b"from the source");
        setxattr(&src, "user.s", b"source only");
        let dir = d.join("d");
        std::fs::create_dir(&dir).unwrap();
        // What is created in d inherits an ACL: the replaced files had none of their own.
        let default = acl::xattr(&[
            (USER_OBJ, 6, NO_ID),
            (USER, 6, 1000),
            (GROUP_OBJ, 4, NO_ID),
            (MASK, 6, NO_ID),
            (OTHERS, 4, NO_ID),
        ]);
        setxattr(&dir, "system.posix_acl_default", &default);
        for (name, mode) in [("acl", 0o640), ("plain", 0o604)] {
            let path = dir.join(name);
            write(&path, b"old");
            rustix::fs::removexattr(&path, "system.posix_acl_access").ok();
            chown(&path, 1234, 5678);
            chmod(&path, mode);
            setxattr(&path, "user.k", b"old value");
            setxattr(&path, "trusted.t", b"root's");
            let file = std::fs::File::open(&path).unwrap();
            let nodump = rustix::fs::IFlags::NODUMP;
            let flags = rustix::fs::ioctl_getflags(&file).unwrap();
            rustix::fs::ioctl_setflags(&file, flags | nodump).unwrap();
        }
        let access = acl::xattr(&[
            (USER_OBJ, 6, NO_ID),
            (USER, 4, 1000),
            (GROUP_OBJ, 4, NO_ID),
            (MASK, 4, NO_ID),
            (OTHERS, 0, NO_ID),
        ]);
        setxattr(&dir.join("acl"), "system.posix_acl_access", &access);
    };
    for preserve in [
        &[][..],
        &["-p"],
        &["-a"],
        &["--preserve=xattr"],
        &["--preserve=mode"],
        &["--preserve=ownership"],
        &["--no-preserve=mode"],
    ] {
        for dst in ["d/acl", "d/plain"] {
            let mut args = preserve.to_vec();
            args.extend(["src", dst]);
            atomic_like_cp(setup, &args, false);
        }
    }
}

/// Regression: --atomic replaced files the user could not write (a root-owned 0644 file in a
/// directory anyone may write to). cp refuses them with its message, and with -f unlinks and
/// recreates them (a symlink itself, when it is the destination); and writing drops the
/// set-user-ID bit (set-group-ID with group execute), which --atomic kept.
#[test]
fn atomic_overwrote_what_the_user_could_not_write() {
    if !util::require_root("drop to nobody") {
        return;
    }
    let setup = |d: &Path| {
        write(&d.join("src"), b"new data");
        let dir = d.join("d");
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o777);
        write(&dir.join("ro"), b"old");
        symlink("ro", &dir.join("link"));
        // A directory nobody may write to: no new name, no -f.
        std::fs::create_dir(d.join("closed")).unwrap();
        write(&d.join("closed/ro"), b"old");
        for (name, mode) in [("suid", 0o6755), ("sgid", 0o2745)] {
            let path = dir.join(name);
            write(&path, b"old");
            chown(&path, NOBODY, NOBODY);
            chmod(&path, mode);
        }
    };
    for args in [
        &["src", "d/ro"][..],
        &["-f", "src", "d/ro"],
        &["src", "d/link"],
        &["-f", "src", "d/link"],
        &["src", "d/suid"],
        &["src", "d/sgid"],
        &["src", "d/new"],
        &["src", "closed/new"],
        &["-f", "src", "closed/ro"],
    ] {
        atomic_like_cp(setup, args, true);
    }
}

/// Regression: a file the user may write but not own (group-writable, root's) was replaced by
/// one the user owns, and so may chmod. Writing in place would keep its owner; --atomic
/// cannot, so it refuses and leaves the file; so too where it cannot create its temporary
/// file (a directory the user may not write to), which it reported as if the destination
/// itself could not be created.
#[test]
fn atomic_took_another_users_file() {
    if !util::require_root("drop to nobody") {
        return;
    }
    let s = Scratch::new();
    write(&s.join("src"), b"new data");
    let open_dir = s.mkdir("d");
    chmod(&open_dir, 0o777);
    let shared = open_dir.join("shared");
    write(&shared, b"old");
    chown(&shared, 0, NOBODY);
    chmod(&shared, 0o664);
    let closed_dir = s.mkdir("closed");
    let mine = closed_dir.join("mine");
    write(&mine, b"old");
    chown(&mine, NOBODY, NOBODY);
    let cases = [
        (
            "d/shared",
            "cannot replace 'd/shared' with --atomic: keeping its owner and group: Operation not permitted",
        ),
        (
            "closed/mine",
            "cannot replace 'closed/mine' with --atomic: creating a temporary file beside it: Permission denied",
        ),
    ];
    for (dst, message) in cases {
        let out = run(&fastcp_path(), &["--atomic", "src", dst], s.path(), true);
        let program = fastcp_path().to_string_lossy().into_owned();
        assert_eq!(normalize(&out.stderr, &program), format!("cp: {message}\n"));
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(s.read(dst), b"old");
        let dir = s.join(dst).parent().unwrap().to_path_buf();
        assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
    }
    assert_eq!(std::fs::metadata(&shared).unwrap().uid(), 0);
    // Without --atomic, both are written in place.
    for (dst, _) in cases {
        let out = run(&fastcp_path(), &["src", dst], s.path(), true);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(s.read(dst), b"new data");
    }
}

/// A destination with other hard links is replaced, not rewritten: the other names keep the
/// old data, as with cp --remove-destination (the man page, ATOMIC COPIES, says why). Not a
/// regression (the rename always did so): this pins the decision.
#[test]
fn atomic_breaks_hard_links_by_design() {
    let setup = |d: &Path| {
        write(&d.join("src"), b"new data");
        write(&d.join("a"), b"old");
        std::fs::hard_link(d.join("a"), d.join("b")).unwrap();
    };
    like_cp(
        setup,
        &["--remove-destination", "src", "a"],
        &["--atomic", "src", "a"],
        false,
    );
}

/// Regression: a 255-byte destination name failed ("File name too long"): the temporary name
/// added its prefix and suffix to it. The name is shortened to fit (at a character boundary).
#[test]
fn atomic_failed_on_a_255_byte_name() {
    let long = "a".repeat(255);
    let wide = "é".repeat(127) + "x";
    let new = "b".repeat(255);
    let setup = |d: &Path| {
        write(&d.join("src"), b"new data");
        write(&d.join(&long), b"old");
        write(&d.join(&wide), b"old");
    };
    for dst in [&long, &wide, &new] {
        atomic_like_cp(setup, &["src", dst], false);
    }
}

/// Regression: a temporary name that existed already (left by a killed process that had this
/// pid) failed the copy with "File exists". Another name is tried; the file there is left.
#[test]
fn atomic_failed_when_its_temporary_name_existed() {
    let s = Scratch::new();
    write(&s.join("src"), b"new data");
    write(&s.join("dst"), b"old");
    // exec keeps the shell's pid, so the name fastcp tries first is known.
    let script = "echo stale > .dst.fastcp-$$-0 && exec \"$0\" --atomic src dst";
    let out = std::process::Command::new("sh")
        .args(["-c", script])
        .arg(fastcp_path())
        .current_dir(s.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(s.read("dst"), b"new data");
    let left = leftovers(s.path());
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(s.read(&left[0]), b"stale\n");
}

/// A new name taken by someone else while the copy was written is theirs: the copy fails as
/// cp's exclusive create does ("File exists") instead of renaming over it. strace holds the
/// rename back while the file appears.
#[test]
fn atomic_clobbered_a_file_created_meanwhile() {
    let s = Scratch::new();
    write(&s.join("src"), b"new data");
    let child = std::process::Command::new("strace")
        .args([
            "-f",
            "-o",
            "/dev/null",
            "-e",
            "trace=renameat2,rename,renameat",
        ])
        .args(["-e", "inject=renameat2:delay_enter=1000000"])
        .arg(fastcp_path())
        .args(["--atomic", "src", "dst"])
        .current_dir(s.path())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(child) = child else {
        util::skip("strace is not installed");
        return;
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while leftovers(s.path()).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no temporary file");
        std::thread::sleep(Duration::from_millis(5));
    }
    write(&s.join("dst"), b"theirs");
    let out = child.wait_with_output().unwrap();
    let program = fastcp_path().to_string_lossy().into_owned();
    assert_eq!(
        normalize(&out.stderr, &program),
        "cp: cannot create regular file 'dst': File exists\n"
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(s.read("dst"), b"theirs");
    assert!(leftovers(s.path()).is_empty());
}

/// SIGINT mid-copy through a symlink: the temporary file, beside the link's target in another
/// directory, is removed, and the target and the link are as they were.
#[test]
fn atomic_interrupted_through_a_symlink_leaves_nothing() {
    let s = Scratch::new();
    let src = s.holes("big", 3 << 30);
    let far = s.mkdir("far");
    write(&far.join("real"), b"precious");
    let link = s.join("link");
    symlink("far/real", &link);
    let child = util::spawn_fastcp([
        OsStr::new("--atomic"),
        OsStr::new("--sparse=never"),
        OsStr::new("--method=read-write"),
        src.as_os_str(),
        link.as_os_str(),
    ]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while leftovers(&far).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no temporary file");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (_, by) = util::stop(child, rustix::process::Signal::INT, Duration::ZERO);
    assert_eq!(by, Some(2));
    assert_eq!(std::fs::read(far.join("real")).unwrap(), b"precious");
    assert!(leftovers(&far).is_empty(), "{:?}", leftovers(&far));
    assert!(leftovers(s.path()).is_empty());
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
}

/// Every signal that ends a process by default (but for faults and SIGKILL) ends an --atomic
/// copy without leaving its temporary file, the old destination kept, and fastcp dies by
/// that signal. Only SIGINT, SIGTERM and SIGHUP were handled: SIGQUIT, SIGPIPE, SIGUSR1,
/// SIGALRM and others left several megabytes of `.name.fastcp-PID-N` behind. (SIGQUIT is
/// handled too; not sent here, where it could leave a core file outside the scratch.)
#[test]
fn atomic_ended_by_any_terminating_signal_leaves_nothing() {
    use rustix::process::Signal;
    for signal in [
        Signal::PIPE,
        Signal::ALARM,
        Signal::USR1,
        Signal::USR2,
        Signal::XFSZ,
        Signal::XCPU,
        Signal::VTALARM,
        Signal::PROF,
    ] {
        let s = Scratch::new();
        let src = s.holes("big", 3 << 30);
        write(&s.join("dst"), b"precious");
        let child = util::spawn_fastcp([
            OsStr::new("--atomic"),
            OsStr::new("--sparse=never"),
            OsStr::new("--method=read-write"),
            src.as_os_str(),
            s.join("dst").as_os_str(),
        ]);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while leftovers(s.path()).is_empty() {
            assert!(std::time::Instant::now() < deadline, "no temporary file");
            std::thread::sleep(Duration::from_millis(5));
        }
        let (_, by) = util::stop(child, signal, Duration::ZERO);
        assert_eq!(by, Some(signal.as_raw()), "{signal:?}");
        assert_eq!(s.read("dst"), b"precious", "{signal:?}");
        assert!(
            leftovers(s.path()).is_empty(),
            "{signal:?}: {:?}",
            leftovers(s.path())
        );
    }
}

/// Regression: `fastcp --compare SRC DEST` removed DEST whatever it was (a device node became
/// a regular file). Only a new name or a regular file is written; anything else is refused
/// before anything is touched.
#[test]
fn compare_replaced_what_was_not_a_regular_file() {
    let s = Scratch::new();
    write(&s.join("src"), b"data to compare");
    write(&s.join("regular"), b"old");
    mknod(&s.join("null"), "c", &["1", "3"]);
    mknod(&s.join("fifo"), "p", &[]);
    symlink("regular", &s.join("link"));
    s.mkdir("dir/src");
    let before = snapshot(s.path());
    let cases = [
        ("null", "'null' is a character special file"),
        ("fifo", "'fifo' is a fifo"),
        ("link", "'link' is a symbolic link"),
        ("dir", "'dir/src' is a directory"),
    ];
    let program = fastcp_path().to_string_lossy().into_owned();
    let compare = |dst: &str| {
        let mut cmd = fastcp();
        cmd.args(["--compare", "--runs=1", "--methods=read-write"])
            .args(["--bufsizes=4K", "src", dst])
            .current_dir(s.path());
        cmd
    };
    for (dst, kind) in cases {
        let out = compare(dst).output().unwrap();
        assert_eq!(
            normalize(&out.stderr, &program),
            format!("cp: --compare writes only to a new name or a regular file: {kind}\n")
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(snapshot(s.path()), before, "{dst}");
    }
    assert!(
        std::fs::metadata(s.join("null"))
            .unwrap()
            .file_type()
            .is_char_device()
    );
    for dst in ["regular", "new"] {
        compare(dst).assert().success();
        assert_eq!(s.read(dst), b"data to compare");
    }
}

/// A dangling symlink destination: --atomic said "File exists" where cp refuses with "not
/// writing through dangling symlink" (even with -f); under POSIXLY_CORRECT the target is
/// created, as cp creates it.
#[test]
fn atomic_misreported_a_dangling_symlink() {
    let setup = |d: &Path| {
        write(&d.join("f"), b"hi\n");
        symlink("nowhere", &d.join("dangle"));
    };
    for args in [
        &["f", "dangle"][..],
        &["-f", "f", "dangle"],
        &["-v", "f", "dangle"],
    ] {
        atomic_like_cp(setup, args, false);
    }
    let s = Scratch::new();
    setup(s.path());
    let out = fastcp()
        .current_dir(s.path())
        .env("POSIXLY_CORRECT", "1")
        .args(["--atomic", "f", "dangle"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read(s.join("nowhere")).unwrap(), b"hi\n");
    assert!(
        std::fs::symlink_metadata(s.join("dangle"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}
