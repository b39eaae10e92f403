//! Attributes of the files a tree copy creates, against GNU cp: modes under every umask,
//! owners and groups in setgid directories, default ACLs of the destination, set-id bits,
//! copied ACLs and xattrs, for -a, -p and --preserve=mode, sequential and parallel. fastcp
//! skips the chown and chmod a new file does not need (what it is born with is learnt once
//! per directory); these are the cases where it does need them.

mod util;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use util::acl::{GROUP_OBJ, MASK, NO_ID, OTHERS, USER, USER_OBJ};
use util::{Scratch, acl, attributes, fastcp_path, snapshot};

/// The uid and gid of `nobody`, the "someone else" of these tests.
const OTHER: u32 = 65534;

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Where the copy goes: a plain directory, a setgid one of another group, one with a
/// default ACL that keeps group and others out of what is created in it, or one whose default
/// ACL lets another user in (what is created in it gets an ACL of its own).
#[derive(Clone, Copy, Debug)]
enum Parent {
    Plain,
    SetgidOther,
    DefaultAcl,
    DefaultAclNamed,
}

/// The source tree (modes, owners, set-id bits, an ACL, an xattr, a setgid directory) and
/// the destination parent.
fn fixture(root: &Path, parent: Parent) {
    let src = root.join("src");
    let files: [(&str, u32, u32, u32); 7] = [
        ("plain", 0o644, 0, 0),
        ("private", 0o600, 0, 0),
        ("exec", 0o755, 0, 0),
        ("group", 0o640, 0, OTHER),
        ("theirs", 0o644, OTHER, OTHER),
        ("setuid", 0o4755, 0, 0),
        ("sub/inner", 0o664, 0, 0),
    ];
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::create_dir_all(src.join("sgid")).unwrap();
    for (i, (name, mode, uid, gid)) in files.iter().enumerate() {
        let path = src.join(name);
        std::fs::write(&path, vec![b'a' + i as u8; 100 * i + 1]).unwrap();
        chown(&path, *uid, *gid);
        chmod(&path, *mode);
    }
    let acl_file = src.join("acl");
    std::fs::write(&acl_file, b"acl").unwrap();
    let access = acl::xattr(&[
        (USER_OBJ, 6, NO_ID),
        (USER, 6, OTHER),
        (GROUP_OBJ, 4, NO_ID),
        (MASK, 6, NO_ID),
        (OTHERS, 4, NO_ID),
    ]);
    rustix::fs::setxattr(
        &acl_file,
        "system.posix_acl_access",
        &access,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    let xattr_file = src.join("xattr");
    std::fs::write(&xattr_file, b"xattr").unwrap();
    rustix::fs::setxattr(
        &xattr_file,
        "user.note",
        b"kept",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    chown(&src.join("sgid"), 0, OTHER);
    chmod(&src.join("sgid"), 0o2775);
    std::fs::write(src.join("sgid/in-sgid"), b"in a setgid directory").unwrap();
    // Nodes, whose mode GNU too sets as an ACL (by name).
    util::mkfifo(&src.join("fifo"), 0o640);
    chmod(&src.join("fifo"), 0o640);
    // An ACL of its own, which GNU's copy_acl (by name) copies with the mode.
    rustix::fs::setxattr(
        src.join("fifo"),
        "system.posix_acl_access",
        &access,
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    util::char_device_at(&src.join("null"), 1, 3);
    // Fixed times (directories last), so the two fixtures compare to the nanosecond.
    let mut paths: Vec<PathBuf> = snapshot(&src).into_keys().map(|p| src.join(p)).collect();
    paths.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    paths.push(src.clone());
    for (i, path) in paths.iter().enumerate() {
        let t = filetime::FileTime::from_unix_time(1_700_000_000 + i as i64, 123_456_789);
        filetime::set_symlink_file_times(path, t, t).unwrap();
    }
    let out = root.join("out");
    std::fs::create_dir(&out).unwrap();
    match parent {
        Parent::Plain => {}
        Parent::SetgidOther => {
            chown(&out, 0, OTHER);
            chmod(&out, 0o2775);
        }
        Parent::DefaultAcl => {
            let default = acl::xattr(&[
                (USER_OBJ, 7, NO_ID),
                (GROUP_OBJ, 0, NO_ID),
                (OTHERS, 0, NO_ID),
            ]);
            rustix::fs::setxattr(
                &out,
                "system.posix_acl_default",
                &default,
                rustix::fs::XattrFlags::empty(),
            )
            .unwrap();
        }
        Parent::DefaultAclNamed => {
            let default = acl::xattr(&[
                (USER_OBJ, 7, NO_ID),
                (USER, 7, OTHER),
                (GROUP_OBJ, 5, NO_ID),
                (MASK, 7, NO_ID),
                (OTHERS, 5, NO_ID),
            ]);
            let flags = rustix::fs::XattrFlags::empty();
            rustix::fs::setxattr(&out, "system.posix_acl_default", &default, flags).unwrap();
        }
    }
}

/// An entry's permission bits, in octal, for the message when trees differ.
fn modes(entry: Option<&util::Entry>) -> String {
    match entry {
        Some(util::Entry::File { mode, data }) => format!("file {mode:o}, {} bytes", data.len()),
        Some(util::Entry::Dir { mode }) => format!("dir {mode:o}"),
        other => format!("{other:?}"),
    }
}

/// Runs `program` with `args` under `umask`, in `dir`.
fn run(program: &Path, umask: u32, args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask:03o}; exec \"$0\" \"$@\""))
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("LC_ALL", "C")
        .output()
        .unwrap()
}

/// Copies the fixture's `src` into `out/` with GNU cp and with fastcp (`jobs` added) under
/// `umask`, and asserts the same messages, status, modes, owners, xattrs and (when `times`)
/// modification times.
fn assert_same_copy(parent: Parent, umask: u32, options: &[&str], jobs: &str, times: bool) {
    let theirs = Scratch::new();
    let ours = Scratch::new();
    fixture(theirs.path(), parent);
    fixture(ours.path(), parent);
    let mut args = options.to_vec();
    args.extend(["src", "out/"]);
    let gnu = run(Path::new("/bin/cp"), umask, &args, theirs.path());
    args.insert(0, jobs);
    let fast = run(&fastcp_path(), umask, &args, ours.path());
    let case = format!("{parent:?}, umask {umask:03o}, {args:?}");
    assert_eq!(fast.status.code(), gnu.status.code(), "{case}");
    assert_eq!(
        String::from_utf8_lossy(&fast.stderr),
        String::from_utf8_lossy(&gnu.stderr),
        "{case}"
    );
    let (o, t) = (ours.join("out"), theirs.join("out"));
    let (so, st) = (snapshot(&o), snapshot(&t));
    let differing: Vec<_> = so
        .keys()
        .chain(st.keys())
        .filter(|k| so.get(*k) != st.get(*k))
        .map(|k| (k, modes(so.get(k)), modes(st.get(k))))
        .collect();
    assert!(differing.is_empty(), "{case}: (ours, GNU's) {differing:?}");
    assert_eq!(
        attributes(&o, times),
        attributes(&t, times),
        "owners: {case}"
    );
    assert_eq!(util::xattrs(&o), util::xattrs(&t), "xattrs: {case}");
}

#[test]
fn new_files_get_the_attributes_gnu_cp_gives_them() {
    if !util::require_root("give owners and groups away") {
        return;
    }
    let parents = [
        Parent::Plain,
        Parent::SetgidOther,
        Parent::DefaultAcl,
        Parent::DefaultAclNamed,
    ];
    let option_sets: [&[&str]; 5] = [
        &["-a"],
        &["-rp"],
        &["-r", "--preserve=mode"],
        &["-r", "--preserve=xattr"],
        &["-r"],
    ];
    for parent in parents {
        for umask in [0o000, 0o022, 0o077] {
            for options in option_sets {
                for jobs in ["-j1", "-j2"] {
                    let times = options == ["-a"] || options == ["-rp"];
                    assert_same_copy(parent, umask, options, jobs, times);
                }
            }
        }
    }
}

/// Regression: with the owner preserved but not the mode, a new file is created without its
/// group and other bits until the chown, and GNU's final chmod gives them back (less the
/// umask). Under --attributes-only fastcp left them out: `cp --attributes-only
/// --preserve=ownership` of a 0644 file of someone else's made a 0600 file. And under
/// --no-preserve=mode GNU gives every new file and directory its default mode as a minimal
/// ACL (gnulib's set_acl), which drops one a default ACL gave it; fastcp left that ACL, and
/// another user it named kept access the default mode does not give.
#[test]
fn owner_kept_mode_not_gives_back_the_held_bits() {
    if !util::require_root("give owners and groups away") {
        return;
    }
    let option_sets: [&[&str]; 7] = [
        &["-r", "--no-preserve=mode"],
        &["-r", "--attributes-only", "--preserve=ownership"],
        &["-r", "--attributes-only", "-p", "--no-preserve=mode"],
        &["--attributes-only", "-a", "--no-preserve=mode"],
        &["-r", "--preserve=ownership"],
        &["-rp", "--no-preserve=mode"],
        &["-a", "--no-preserve=mode"],
    ];
    let parents = [
        Parent::Plain,
        Parent::SetgidOther,
        Parent::DefaultAcl,
        Parent::DefaultAclNamed,
    ];
    for parent in parents {
        for umask in [0o000, 0o022, 0o077] {
            for options in option_sets {
                for jobs in ["-j1", "-j2"] {
                    assert_same_copy(parent, umask, options, jobs, false);
                }
            }
        }
    }
}

/// The attribute calls `fastcp -j1 -a` makes copying a directory of `files` files of mode
/// 0644 under umask 022 (None without strace), after checking the copies' owner and mode.
fn attribute_calls(files: usize) -> Option<Vec<String>> {
    let s = Scratch::new();
    let src = s.mkdir("src");
    for i in 0..files {
        let path = s.write(format!("src/f{i}"), b"data");
        chmod(&path, 0o644);
    }
    let trace = s.join("trace");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&trace)
        .args(["-e", "trace=fchown,fchmod,fgetxattr,fremovexattr,fsetxattr"])
        .arg("sh")
        .arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(fastcp_path())
        .args(["-j1", "-a"])
        .arg(&src)
        .arg(s.join("dst"))
        .output()
        .ok()?;
    assert!(out.status.success(), "{out:?}");
    let uid = std::fs::metadata(s.path()).unwrap().uid();
    for i in 0..files {
        let copy = std::fs::metadata(s.join(format!("dst/f{i}"))).unwrap();
        assert_eq!((copy.uid(), copy.mode() & 0o7777), (uid, 0o644));
    }
    let calls = std::fs::read_to_string(&trace).unwrap();
    // Without the pid, so the lists of two runs compare.
    Some(
        calls
            .lines()
            .map(|l| l.split_once(' ').map_or(l, |(_, call)| call).to_string())
            .collect(),
    )
}

/// The shortcut is taken where nothing needs setting: under -a, a new file whose owner is the
/// copier's and whose bits the umask leaves alone gets no chown, no chmod (one journal
/// transaction each on ext4) and no ACL call (the xattr listing says it has none). The
/// directory's own calls are the same for 2 files as for 20.
#[test]
fn new_files_born_right_are_not_changed_again() {
    let Some(few) = attribute_calls(2) else {
        util::skip("strace is not installed");
        return;
    };
    let many = attribute_calls(20).unwrap();
    assert_eq!(
        many.len(),
        few.len(),
        "calls per file:\n{}",
        many.join("\n")
    );
}

/// Onto a filesystem that refuses ACLs (btrfs mounted noacl) but keeps other xattrs: a source
/// with an ACL and one without, under every way of preserving them, with GNU cp's messages,
/// statuses, modes and xattrs.
#[test]
fn acls_refused_by_the_destination_as_gnu_does() {
    if !util::require_root("mount a filesystem") {
        return;
    }
    let option_sets: [&[&str]; 6] = [
        &["-p"],
        &["-a"],
        &["--preserve=mode"],
        &["--preserve=xattr"],
        &["--preserve=all"],
        &["--preserve=mode,xattr"],
    ];
    for options in option_sets {
        let outcome = |program: &Path| {
            let fs = util::Mounted::image(&["mkfs.btrfs", "-q"], "noacl")?;
            let src = Scratch::new();
            fixture(src.path(), Parent::Plain);
            let mut args: Vec<String> = options.iter().map(|o| o.to_string()).collect();
            for name in ["acl", "xattr", "plain"] {
                args.push(src.join("src").join(name).display().to_string());
            }
            args.push(fs.mount.display().to_string());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run(program, 0o022, &args, src.path());
            let stderr = String::from_utf8_lossy(&out.stderr)
                .replace(&*program.to_string_lossy(), "cp")
                .replace(&*src.path().to_string_lossy(), "SRC")
                .replace(&*fs.mount.to_string_lossy(), "DST");
            Some((
                out.status.code(),
                stderr,
                snapshot(&fs.mount),
                util::xattrs(&fs.mount),
            ))
        };
        let Some(gnu) = outcome(Path::new("/bin/cp")) else {
            return;
        };
        let ours = outcome(&fastcp_path()).unwrap();
        assert_eq!(ours, gnu, "{options:?}");
    }
}

/// Regression: `--no-preserve=mode` gave a copied socket rw-r--r--; GNU's default permissions
/// are rwx for sockets as for directories (copy.c), so it gets rwxr-xr-x under umask 022.
#[test]
fn no_preserve_mode_gives_a_socket_gnus_default_permissions() {
    let setup = |d: &Path| {
        std::fs::create_dir(d.join("s")).unwrap();
        let sock = d.join("s/sock");
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(d.join("s/file"), b"data").unwrap();
    };
    for args in [
        &["-r", "--no-preserve=mode", "s", "x"][..],
        &["-a", "--no-preserve=mode", "s", "x"],
    ] {
        util::assert_same_as_gnu(setup, args);
    }
}

/// Regression: FIFOs and devices lost their set-id and sticky bits without -p (and with
/// --no-preserve=mode), where GNU's mknod asks for them and its later mode keeps them.
#[test]
fn special_files_keep_set_id_bits_as_gnu() {
    let setup = |d: &Path| {
        std::fs::create_dir(d.join("s")).unwrap();
        for (name, mode) in [("p", 0o4755), ("q", 0o4777)] {
            util::mkfifo(&d.join("s").join(name), 0o600);
            std::fs::set_permissions(
                d.join("s").join(name),
                std::fs::Permissions::from_mode(mode),
            )
            .unwrap();
        }
        for (name, mode) in [("c", 0o2640), ("d", 0o6751)] {
            let path = d.join("s").join(name);
            rustix::fs::mknodat(
                rustix::fs::CWD,
                &path,
                rustix::fs::FileType::CharacterDevice,
                rustix::fs::Mode::from_raw_mode(0o600),
                rustix::fs::makedev(1, 3),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    let setup = |d: &Path| {
        setup(d);
        let sock = d.join("s/k");
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o6755)).unwrap();
    };
    // With the owner kept, GNU makes the node without group and other bits and adds them
    // after the chown, which then leaves the setgid bit (it has no group execute yet).
    for options in [
        &["-r"][..],
        &["-r", "--no-preserve=mode"],
        &["-a", "--no-preserve=mode"],
        &["-a"],
        &["-r", "--preserve=ownership"],
        &["-r", "--preserve=ownership,timestamps"],
    ] {
        let mut args = options.to_vec();
        args.extend(["s", "x"]);
        util::assert_same_as_gnu(setup, &args);
    }
}

/// Regression: as nobody, with the owner of a root-owned source not kept, GNU drops the
/// set-id and sticky bits it would have set (the kernel's chown of the group alone then
/// leaves what it leaves); fastcp kept set-uid on FIFOs (6755 where GNU gives 2755) and the
/// sticky bit on regular files (1777 where GNU gives 777).
#[test]
fn set_id_bits_of_a_source_whose_owner_is_not_kept_as_gnu() {
    if !util::require_root("drop to nobody") {
        return;
    }
    for mode in [0o6755, 0o7777, 0o3755] {
        let setup = |d: &Path| {
            let (src, dst) = (d.join("src"), d.join("dst"));
            for dir in [&src, &dst] {
                std::fs::create_dir(dir).unwrap();
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
            }
            util::mkfifo(&src.join("fifo"), 0o600);
            std::fs::write(src.join("file"), b"data\n").unwrap();
            for name in ["fifo", "file"] {
                std::os::unix::fs::chown(src.join(name), Some(0), Some(65534)).unwrap();
                std::fs::set_permissions(src.join(name), std::fs::Permissions::from_mode(mode))
                    .unwrap();
            }
        };
        for options in [&["-a"][..], &["-R", "--preserve=mode,ownership"]] {
            let mut args = options.to_vec();
            args.extend(["src/fifo", "src/file", "dst/"]);
            util::assert_same_as_gnu_unprivileged(setup, &args);
        }
    }
}

/// Where the attributes of a copy cannot be set, GNU sets them in its order (times, owner,
/// xattrs, mode) and stops at the first refused, with copy.c's words ("preserving times
/// for", "preserving permissions for"); an existing destination that has the source's owner
/// is not chowned; and an existing one of another owner is first narrowed to the bits both
/// modes share, which, refused for want of privilege, fails the file without a word. fastcp
/// set the owner first and worded the failures as --parents does ("failed to preserve ...").
#[test]
fn attribute_failures_as_nobody_stop_where_gnus_do() {
    if !util::require_root("drop to nobody") {
        return;
    }
    let setup = |d: &Path| {
        std::fs::create_dir_all(d.join("s/sub")).unwrap();
        std::fs::write(d.join("s/f"), b"F\n").unwrap();
        std::fs::write(d.join("s/sub/g"), b"G\n").unwrap();
        std::fs::write(d.join("s/nb"), b"N\n").unwrap();
        chown(&d.join("s/nb"), OTHER, OTHER);
        std::fs::create_dir_all(d.join("t/sub")).unwrap();
        std::fs::create_dir(d.join("dd")).unwrap();
        for name in ["t/f", "t/nb", "t/sub/g"] {
            std::fs::write(d.join(name), b"old\n").unwrap();
            chmod(&d.join(name), 0o666);
        }
        for dir in ["t", "t/sub"] {
            chmod(&d.join(dir), 0o777);
        }
        chmod(&d.join("dd"), 0o555);
    };
    let cases: [&[&str]; 7] = [
        &["-a", "-T", "s/sub", "dd"],
        &["-a", "--no-preserve=timestamps", "s/nb", "t/nb"],
        &["-dR", "--preserve=mode,ownership", "s/nb", "t/nb"],
        &["--preserve=mode", "s/f", "t/f"],
        &["-p", "s/f", "t/f"],
        &["-a", "--no-preserve=timestamps", "-T", "s/sub", "t/sub"],
        &["-r", "--preserve=timestamps", "-T", "s/sub", "t/sub"],
    ];
    for args in cases {
        let ours = util::assert_same_as_gnu_unprivileged(setup, args);
        assert_eq!(ours.code, 1, "{args:?}");
    }
}

/// Onto a read-only filesystem, a directory merged into gets GNU's one message for its
/// attributes: its times, refused first (fastcp tried its owner first, which GNU does not
/// change when it is the source's already).
#[test]
fn attributes_of_a_directory_on_a_read_only_filesystem() {
    let Some(fs) = util::Mounted::tmpfs("1m") else {
        return;
    };
    std::fs::create_dir(fs.path("dd")).unwrap();
    let s = Scratch::new();
    s.mkdir("sd");
    s.write("sd/f", b"x\n");
    if !util::quiet(
        Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&fs.mount),
    ) {
        util::skip("cannot remount a tmpfs read-only here");
        return;
    }
    let dd = fs.path("dd");
    let dd = dd.to_str().unwrap();
    for options in [&["-a"][..], &["-rp"], &["-r", "--preserve=timestamps"]] {
        let args: Vec<&str> = options.iter().copied().chain(["-T", "sd", dd]).collect();
        let gnu = run(Path::new("/bin/cp"), 0o022, &args, s.path());
        let ours = run(&fastcp_path(), 0o022, &args, s.path());
        util::assert_same_words(&ours, &gnu);
        let text = String::from_utf8_lossy(&ours.stderr);
        assert!(text.contains("preserving times for"), "{text}");
    }
}

/// A file of a tree that -a cannot finish (a full disk) is left as GNU leaves it: created
/// without its group and other bits (they wait for the owner to be set), so 0600, not the
/// 0644 fastcp created it with where it knew no chown was needed.
#[test]
fn a_partial_file_of_an_archive_copy_keeps_gnus_creation_mode() {
    let Some(fs) = util::Mounted::tmpfs("256k") else {
        return;
    };
    let s = Scratch::new();
    s.mkdir("src");
    s.write("src/s", &vec![b'x'; 400_000]);
    chmod(&s.join("src/s"), 0o644);
    let mut modes = Vec::new();
    for program in [Path::new("/bin/cp"), &fastcp_path()] {
        let dst = fs.path("d");
        let _ = std::fs::remove_dir_all(&dst);
        let src = s.join("src");
        let out = run(
            program,
            0o022,
            &["-a", src.to_str().unwrap(), dst.to_str().unwrap()],
            s.path(),
        );
        assert_eq!(out.status.code(), Some(1));
        modes.push(std::fs::metadata(dst.join("s")).unwrap().mode() & 0o7777);
    }
    assert_eq!(modes, [0o600, 0o600]);
}

/// An existing destination's set-id and sticky bits stay when the source has none: GNU sets
/// a mode without them as an ACL (gnulib's set_permissions chmods only a mode that has
/// some), which leaves them, also where it narrows a destination before giving it to the
/// source's owner. fastcp's chmod cleared them.
#[test]
fn set_id_bits_of_an_existing_destination_stay_as_gnu() {
    if !util::require_root("chown to nobody") {
        return;
    }
    let setup = |d: &Path| {
        std::fs::write(d.join("src"), b"data\n").unwrap();
        chmod(&d.join("src"), 0o755);
        for (name, mode) in [("dst", 0o4755), ("sticky", 0o1777), ("setgid", 0o2755)] {
            std::fs::write(d.join(name), b"old\n").unwrap();
            chmod(&d.join(name), mode);
        }
        std::fs::create_dir_all(d.join("d/s")).unwrap();
        std::fs::create_dir(d.join("s")).unwrap();
        chmod(&d.join("s"), 0o755);
        chown(&d.join("s"), OTHER, OTHER);
        chmod(&d.join("d/s"), 0o2775);
        // Another owner's, narrowed to `& 0700` before the chown (which then keeps set-gid).
        for (name, mode) in [("other", 0o2710), ("all", 0o7777)] {
            std::fs::write(d.join(name), b"old\n").unwrap();
            chown(&d.join(name), 1234, 1234);
            chmod(&d.join(name), mode);
        }
    };
    let cases: [&[&str]; 8] = [
        &["-p", "src", "other"],
        &["-a", "src", "all"],
        &["--preserve=mode", "src", "dst"],
        &["-p", "src", "sticky"],
        &["-a", "src", "setgid"],
        &["--attributes-only", "-p", "src", "dst"],
        &["-a", "s", "d"],
        &["-a", "--no-preserve=ownership", "s", "d"],
    ];
    for args in cases {
        util::assert_same_as_gnu(setup, args);
    }
}

/// A source directory that cannot be read, merged into a destination whose attributes then
/// cannot be set: both failures are reported, the listing's first, as GNU does (fastcp
/// reported only the attributes').
#[test]
fn an_unreadable_directory_and_its_attributes_both_fail_as_gnu() {
    if !util::require_root("drop to nobody") {
        return;
    }
    let setup = |d: &Path| {
        std::fs::create_dir_all(d.join("s/sub")).unwrap();
        std::fs::create_dir_all(d.join("d/s")).unwrap();
        for dir in ["s", "s/sub", "d"] {
            chown(&d.join(dir), OTHER, OTHER);
        }
        chmod(&d.join("s"), 0o000);
        chmod(&d.join("d/s"), 0o777);
    };
    for options in [&["-a"][..], &["-R", "--preserve=mode"]] {
        let args: Vec<&str> = options.iter().copied().chain(["s", "d"]).collect();
        util::assert_same_as_gnu_unprivileged(setup, &args);
    }
}

/// A read-only source directory copied by nobody into a setgid directory of a group nobody is
/// not in: GNU makes the copy, then chmods it writable to fill it, and the kernel drops the
/// setgid bit it inherited (a chmod by a user outside the group): its files get nobody's
/// group. fastcp made it writable at mkdir, kept the bit, and its files got the parent's
/// group (root).
#[test]
fn a_read_only_directory_is_made_writable_as_gnu_makes_it() {
    if !util::require_root("give a directory to nobody") {
        return;
    }
    let setup = |d: &Path| {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::create_dir_all(d.join("s/z")).unwrap();
        std::fs::write(d.join("s/f"), b"f").unwrap();
        std::fs::create_dir(d.join("t")).unwrap();
        for path in ["s", "s/f", "s/z"] {
            std::os::unix::fs::chown(d.join(path), Some(65534), Some(65534)).unwrap();
        }
        std::fs::set_permissions(d.join("s"), std::fs::Permissions::from_mode(0o555)).unwrap();
        std::os::unix::fs::chown(d.join("t"), Some(65534), Some(0)).unwrap();
        std::fs::set_permissions(d.join("t"), std::fs::Permissions::from_mode(0o2755)).unwrap();
    };
    for args in [&["-r", "s", "t"][..], &["-a", "s", "t"]] {
        let (theirs, ours) = (Scratch::new(), Scratch::new());
        setup(theirs.path());
        setup(ours.path());
        let gnu = util::as_nobody(Path::new("/bin/cp"), theirs.path(), args);
        let fast = util::as_nobody(&fastcp_path(), ours.path(), args);
        assert_eq!(fast.status.code(), gnu.status.code(), "{args:?}");
        let (mine, their) = (ours.join("t"), theirs.join("t"));
        assert_eq!(snapshot(&mine), snapshot(&their), "{args:?}");
        assert_eq!(
            attributes(&mine, false),
            attributes(&their, false),
            "{args:?}"
        );
    }
}
