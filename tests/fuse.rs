//! Filesystems that refuse part of what cp asks of them: a FAT image mounted through FUSE
//! (fusefat) says ENOSYS to chown, chmod and symlinks, and leaves a file behind when asked for
//! a FIFO. GNU cp chowns a directory or node it has just made whatever it was born with, but a
//! new regular file only when an fstat shows another owner; fastcp chowned every file made
//! where it could not tell the owner in advance, and never a new directory with the source's
//! owner already, so the messages (and which attribute the copy stopped at) were others.

mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use util::{Mounted, Scratch};

/// A tree with a file of old (odd-second) times, a symlink, a FIFO and a subdirectory.
fn fixture(root: &Path) {
    std::fs::create_dir_all(root.join("src/sub")).unwrap();
    std::fs::write(root.join("src/a"), b"one\n").unwrap();
    std::fs::write(root.join("src/B"), b"two\n").unwrap();
    std::fs::write(root.join("src/sub/f"), b"x\n").unwrap();
    std::os::unix::fs::symlink("a", root.join("src/link")).unwrap();
    util::mkfifo(&root.join("src/fifo"), 0o644);
    let old = filetime::FileTime::from_unix_time(1_577_836_801, 500_000_000);
    filetime::set_file_times(root.join("src/a"), old, old).unwrap();
}

/// What one program did: its status, its messages (sorted: the order of a parallel copy's
/// is its own), and the files and attributes it left on the FAT filesystem.
#[derive(Debug, PartialEq)]
struct Outcome {
    code: i32,
    stderr: Vec<String>,
    tree: BTreeMap<PathBuf, util::Entry>,
    attrs: BTreeMap<PathBuf, util::Attrs>,
    /// Each path's access and default ACL, where it has one.
    acls: BTreeMap<PathBuf, [Option<Vec<u8>>; 2]>,
}

/// The ACLs of every path below `root`; none where the filesystem has none.
fn acls(root: &Path) -> BTreeMap<PathBuf, [Option<Vec<u8>>; 2]> {
    let read = |path: &Path, name: &str| {
        let mut value = vec![0u8; 4096];
        let len = rustix::fs::lgetxattr(path, name, &mut value[..]).ok()?;
        value.truncate(len);
        Some(value)
    };
    let names = ["system.posix_acl_access", "system.posix_acl_default"];
    util::snapshot(root)
        .into_keys()
        .map(|rel| {
            let path = root.join(&rel);
            (rel, names.map(|name| read(&path, name)))
        })
        .collect()
}

/// Runs GNU cp (or fastcp) with `args` in a directory made by `setup`, with `m`, a symlink
/// to a fresh FAT filesystem, and returns what it did; None where FUSE cannot be used.
fn on_fat(gnu: bool, setup: fn(&Path), args: &[&str]) -> Option<Outcome> {
    on(&Mounted::fusefat()?.mount, gnu, setup, args)
}

/// `on_fat` onto a fresh bindfs mount made with `options`.
fn on_bindfs(options: &[&str], gnu: bool, setup: fn(&Path), args: &[&str]) -> Option<Outcome> {
    on(&Bindfs::mount(options)?.mount, gnu, setup, args)
}

/// Asserts that fastcp does what GNU cp does with `args` onto bindfs mounted with `options`
/// (`setup` making the sources); false where FUSE cannot be used.
fn as_gnu_on_bindfs(options: &[&str], setup: fn(&Path), args: &[&str]) -> bool {
    let gnu = on_bindfs(options, true, setup, args);
    let ours = on_bindfs(options, false, setup, args);
    if gnu.is_none() || ours.is_none() {
        return false;
    }
    assert_eq!(ours, gnu, "bindfs {options:?}, cp {args:?}");
    true
}

/// `on_fat` onto the filesystem mounted on `mount`.
fn on(mount: &Path, gnu: bool, setup: fn(&Path), args: &[&str]) -> Option<Outcome> {
    let s = Scratch::new();
    setup(s.path());
    std::os::unix::fs::symlink(mount, s.join("m")).unwrap();
    let mut cmd = if gnu { util::gnu_cp() } else { util::fastcp() };
    let program = cmd.get_program().to_string_lossy().into_owned();
    let output = cmd.args(args).current_dir(s.path()).output().unwrap();
    let stderr = util::normalize(&output.stderr, &program);
    let mut stderr: Vec<String> = stderr.lines().map(str::to_owned).collect();
    stderr.sort();
    Some(Outcome {
        code: output.status.code().unwrap_or(-1),
        stderr,
        tree: util::snapshot(mount),
        attrs: preserved_times(util::attributes(mount, true)),
        acls: acls(mount),
    })
}

/// `attrs` with the times of the copy's own moment left out (what was not preserved: the two
/// copies run at different times, which a 2-second clock may tell apart).
fn preserved_times(mut attrs: BTreeMap<PathBuf, util::Attrs>) -> BTreeMap<PathBuf, util::Attrs> {
    let recent = filetime::FileTime::now().unix_seconds() - 3600;
    for a in attrs.values_mut() {
        a.mtime = a.mtime.filter(|(seconds, _)| *seconds < recent);
    }
    attrs
}

fn assert_as_gnu_on_fat(setup: fn(&Path), args: &[&str]) {
    let (Some(gnu), Some(ours)) = (on_fat(true, setup, args), on_fat(false, setup, args)) else {
        return;
    };
    assert_eq!(ours, gnu, "{args:?}");
}

/// Archive and -p copies onto FAT: ownership fails for the directories, permissions for the
/// files, symlinks and FIFOs cannot be made; the same messages and files as GNU's.
#[test]
fn attributes_refused_by_a_fuse_filesystem_fail_as_gnu() {
    for args in [
        &["-a", "src", "m/"][..],
        &["-rp", "src", "m/"],
        &["-p", "src/a", "m/a"],
        &["-r", "--preserve=ownership", "src", "m/"],
        &["-r", "--preserve=mode", "src", "m/"],
        &["-r", "--preserve=timestamps", "src", "m/"],
    ] {
        assert_as_gnu_on_fat(fixture, args);
    }
}

/// A FIFO the filesystem fails to make (fusefat leaves a file behind) is reported as GNU's
/// fallback on mkfifo reports it: "File exists".
#[test]
fn a_fifo_a_fuse_filesystem_half_makes_is_reported_as_gnu() {
    assert_as_gnu_on_fat(fixture, &["-r", "src", "m/"]);
}

/// A file larger than the 64 MiB FAT filesystem of `Mounted::fusefat`.
fn too_big(root: &Path) {
    std::fs::write(root.join("big"), util::pattern(70 << 20, 7)).unwrap();
}

/// A full FAT says EPERM to the sendfile call that fills it, which does not say which side
/// failed; GNU, which reads and writes, says "error writing 'm/big'" (fastcp said "error
/// copying 'big' to 'm/big'"). What was written is the source's beginning.
#[test]
fn a_full_fuse_filesystem_is_reported_as_a_write_error_as_gnu() {
    for method in ["--method=auto", "--method=sendfile"] {
        let (Some(gnu), Some(ours)) = (
            on_fat(true, too_big, &["big", "m/"]),
            on_fat(false, too_big, &[method, "big", "m/"]),
        ) else {
            return;
        };
        assert_eq!(
            (ours.code, &ours.stderr),
            (gnu.code, &gnu.stderr),
            "{method}"
        );
        let Some(util::Entry::File { data, .. }) = ours.tree.get(Path::new("big")) else {
            panic!("{method}: no partial copy: {:?}", ours.tree.keys());
        };
        assert!(
            data[..] == util::pattern(70 << 20, 7)[..data.len()],
            "{method}"
        );
    }
}

/// Sparse files: one whose data runs to its end, one that ends in a hole, and one whose
/// hole takes it past FAT's 4 GiB.
fn sparse(root: &Path) {
    let make = |name: &str, hole: u64, tail: &[u8]| {
        let file = std::fs::File::create(root.join(name)).unwrap();
        file.set_len(hole).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&file, tail, hole).unwrap();
    };
    make("data_at_end", 1 << 20, b"y");
    let file = std::fs::File::create(root.join("hole_at_end")).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, b"x", 0).unwrap();
    file.set_len(1 << 20).unwrap();
    make("past_4_gib", 5 << 30, b"");
}

/// A sparse copy whose last data extent ends the file has its length already: GNU makes no
/// ftruncate call, which FAT through FUSE refuses (EPERM). fastcp always made it, and failed
/// ("error writing", exit 1, under -a the attributes never set). One that must be extended and
/// cannot be fails in GNU's words ("failed to extend").
#[test]
fn a_sparse_copy_sets_its_length_only_where_gnu_does() {
    for args in [
        &["data_at_end", "m/"][..],
        &["-a", "data_at_end", "m/"],
        &["--sparse=always", "data_at_end", "m/"],
        &["hole_at_end", "m/"],
        &["past_4_gib", "m/"],
    ] {
        assert_as_gnu_on_fat(sparse, args);
    }
}

/// A directory mounted again through bindfs with `options`, unmounted when dropped.
struct Bindfs {
    mount: PathBuf,
    _scratch: Scratch,
}

impl Bindfs {
    /// None, said why, without root or bindfs.
    fn mount(options: &[&str]) -> Option<Bindfs> {
        if !util::require_root("mount a FUSE filesystem") {
            return None;
        }
        let scratch = Scratch::new();
        let back = scratch.mkdir("back");
        let mount = scratch.mkdir("mnt");
        let mut cmd = std::process::Command::new("bindfs");
        if !util::quiet(cmd.args(options).arg(&back).arg(&mount)) {
            util::skip("bindfs failed (install bindfs; FUSE needs /dev/fuse)");
            return None;
        }
        Some(Bindfs {
            mount,
            _scratch: scratch,
        })
    }
}

impl Drop for Bindfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.mount)
            .status();
    }
}

/// A directory (0750) and a file (0640) in it.
fn modes(root: &Path) {
    std::fs::create_dir_all(root.join("e")).unwrap();
    std::fs::write(root.join("e/f"), b"f\n").unwrap();
    for (path, mode) in [("e/f", 0o640), ("e", 0o750)] {
        let mode = std::os::unix::fs::PermissionsExt::from_mode(mode);
        std::fs::set_permissions(root.join(path), mode).unwrap();
    }
}

/// `modes`, given to nobody, with an ACL naming another user on the file and a default ACL
/// on the directory.
fn owned_with_acls(root: &Path) {
    modes(root);
    for path in ["e", "e/f"] {
        std::os::unix::fs::lchown(root.join(path), Some(65534), Some(65534)).unwrap();
    }
    let flags = rustix::fs::XattrFlags::empty();
    let access = util::acl::xattr(&[
        (util::acl::USER_OBJ, 6, util::acl::NO_ID),
        (util::acl::USER, 6, 2),
        (util::acl::GROUP_OBJ, 4, util::acl::NO_ID),
        (util::acl::MASK, 6, util::acl::NO_ID),
        (util::acl::OTHERS, 0, util::acl::NO_ID),
    ]);
    rustix::fs::setxattr(root.join("e/f"), "system.posix_acl_access", &access, flags).unwrap();
    let default = util::acl::xattr(&[
        (util::acl::USER_OBJ, 7, util::acl::NO_ID),
        (util::acl::USER, 5, 2),
        (util::acl::GROUP_OBJ, 5, util::acl::NO_ID),
        (util::acl::MASK, 5, util::acl::NO_ID),
        (util::acl::OTHERS, 0, util::acl::NO_ID),
    ]);
    rustix::fs::setxattr(root.join("e"), "system.posix_acl_default", &default, flags).unwrap();
}

/// An ACL copied holds the permission bits: GNU makes no chmod after it (bindfs
/// --chmod-deny: fastcp's failed, exit 1, the directory left 0700); a default ACL the
/// filesystem cannot keep is not an error (GNU never gets to it); and where root may not give
/// a file away (--chown-deny), GNU still gives it the source's group.
#[test]
fn acls_and_owners_onto_filesystems_that_refuse_some_as_gnu() {
    for bindfs in [
        &["--chmod-deny"][..],
        &["--chmod-ignore"],
        &["--chown-deny"],
        &["--xattr-none"],
    ] {
        for args in [
            &["-p", "e/f", "m/"][..],
            &["-a", "e", "m/"],
            &["-rp", "e", "m/"],
        ] {
            if !as_gnu_on_bindfs(bindfs, owned_with_acls, args) {
                return;
            }
        }
    }
}

/// A FIFO with the sticky bit and a device node with both set-id bits, in `n`.
fn nodes(root: &Path) {
    std::fs::create_dir(root.join("n")).unwrap();
    util::mkfifo(&root.join("n/p"), 0o754);
    util::char_device_at(&root.join("n/c"), 1, 3);
    for (path, mode) in [("n/p", 0o1754), ("n/c", 0o6640)] {
        let mode = std::os::unix::fs::PermissionsExt::from_mode(mode);
        std::fs::set_permissions(root.join(path), mode).unwrap();
    }
}

/// Where there are no ACLs (bindfs --xattr-none), GNU's default mode under
/// --no-preserve=mode is a chmod that clears set-id and sticky bits; fastcp kept them.
#[test]
fn nodes_get_the_default_mode_without_acls_as_gnu() {
    for args in [
        &["-a", "--no-preserve=mode", "n", "m/"][..],
        &["-rp", "n", "m/"],
    ] {
        if !as_gnu_on_bindfs(&["--xattr-none"], nodes, args) {
            return;
        }
    }
}

/// GNU sets a mode through an ACL (gnulib's set_permissions: a minimal access ACL, and a
/// chmod only for set-id and sticky bits), so a filesystem that refuses or ignores chmod but
/// takes ACLs (bindfs --chmod-deny, --chmod-ignore) still gets the modes; fastcp chmodded,
/// and left 0600 files and 0700 directories, failing ("preserving permissions") or not.
#[test]
fn modes_are_set_through_acls_as_gnu_sets_them() {
    for bindfs in [
        &["--chmod-deny"][..],
        &["--chmod-ignore"],
        &["--chown-deny"],
    ] {
        for args in [
            &["-p", "e/f", "m/"][..],
            &["-a", "e", "m/"],
            &["-r", "--preserve=mode", "e", "m/"],
            &["-a", "--no-preserve=mode", "e", "m/"],
            &["-r", "--no-preserve=mode", "e", "m/"],
        ] {
            if !as_gnu_on_bindfs(bindfs, modes, args) {
                return;
            }
        }
    }
}

/// A directory holding a symlink named with a space, both nobody's.
fn owned_symlink(root: &Path) {
    std::fs::create_dir(root.join("e")).unwrap();
    std::os::unix::fs::symlink("target", root.join("e/my link")).unwrap();
    for path in ["e/my link", "e"] {
        std::os::unix::fs::lchown(root.join(path), Some(65534), Some(65534)).unwrap();
    }
}

/// Where root may not give a symlink away (bindfs --chown-deny), GNU names it unquoted
/// ("failed to preserve ownership for m/e/my link"), as its copy_internal does; fastcp
/// quoted it. Under -p the copy of the link stops there (no times), as GNU's.
#[test]
fn a_symlinks_owner_refused_is_reported_as_gnu() {
    for args in [&["-a", "e", "m/"][..], &["-rpP", "e", "m/"]] {
        if !as_gnu_on_bindfs(&["--chown-deny"], owned_symlink, args) {
            return;
        }
    }
}

/// A directory (0750) owned by nobody, holding a file (0700) and a FIFO (0640), theirs too.
fn private_modes(root: &Path) {
    std::fs::create_dir(root.join("e")).unwrap();
    std::fs::write(root.join("e/f"), b"f\n").unwrap();
    util::mkfifo(&root.join("e/p"), 0o640);
    for (path, mode) in [("e/f", 0o700), ("e/p", 0o640), ("e", 0o750)] {
        let mode = std::os::unix::fs::PermissionsExt::from_mode(mode);
        std::fs::set_permissions(root.join(path), mode).unwrap();
        std::os::unix::fs::lchown(root.join(path), Some(65534), Some(65534)).unwrap();
    }
}

/// Under --no-preserve=mode GNU creates each file with the source's bits and only then sets
/// the default mode, so a copy that never gets there leaves the source's: a chown refused
/// under -p (bindfs --chown-deny: the file 0700, fastcp's 0600), or a filesystem that takes
/// neither an ACL nor a chmod (--xattr-none --chmod-deny: 0700, fastcp's 0644; the FIFO
/// 0640, fastcp's 0644).
#[test]
fn a_copy_that_stops_before_the_default_mode_leaves_the_sources_as_gnu() {
    for (bindfs, args) in [
        (
            &["--chown-deny"][..],
            &["-rp", "--no-preserve=mode", "e", "m/"][..],
        ),
        (
            &["--xattr-none", "--chmod-deny"],
            &["-r", "--no-preserve=mode", "e", "m/"],
        ),
        (
            &["--xattr-none", "--chmod-deny"],
            &["--no-preserve=mode", "e/f", "m/"],
        ),
    ] {
        if !as_gnu_on_bindfs(bindfs, private_modes, args) {
            return;
        }
    }
}

/// tests/fixtures/sizes_fs.py mounted on a scratch directory, unmounted when dropped.
struct SizesFs {
    daemon: std::process::Child,
    mount: PathBuf,
    _scratch: Scratch,
}

impl SizesFs {
    /// None, said why, without root, FUSE or python3-fusepy.
    fn mount() -> Option<SizesFs> {
        if !util::require_root("mount a FUSE filesystem") {
            return None;
        }
        let scratch = Scratch::new();
        let mount = scratch.mkdir("mnt");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sizes_fs.py");
        let daemon = std::process::Command::new("/usr/bin/python3")
            .arg(script)
            .arg(&mount)
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let mut fs = SizesFs {
            daemon,
            mount,
            _scratch: scratch,
        };
        let parent = std::fs::metadata(fs.mount.parent()?).ok()?;
        for _ in 0..100 {
            if let Ok(Some(status)) = fs.daemon.try_wait() {
                util::skip(format_args!(
                    "sizes_fs.py ended ({status}): install python3-fusepy"
                ));
                return None;
            }
            let mounted = std::fs::metadata(&fs.mount).is_ok_and(|m| {
                use std::os::unix::fs::MetadataExt;
                m.dev() != parent.dev()
            });
            if mounted {
                return Some(fs);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        util::skip("sizes_fs.py did not mount within 5 s");
        None
    }

    /// The bytes `name` holds (what a read to the end returns), not the size it says.
    fn held(&self, name: &str) -> Vec<u8> {
        let mut file = std::fs::File::open(self.mount.join(name)).unwrap();
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut all).unwrap();
        all
    }
}

impl Drop for SizesFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.mount)
            .status();
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A file that holds more than the size it says (FUSE, direct_io) is copied to its end, as
/// GNU's read loop copies it, by every method: sendfile and splice stopped at the size the
/// page cache ends it at, exit 0, the rest lost.
#[test]
fn a_file_holding_more_than_its_size_is_copied_whole() {
    let Some(fs) = SizesFs::mount() else {
        return;
    };
    let s = Scratch::new();
    for name in ["more", "much_more", "says_empty", "less", "honest"] {
        let held = fs.held(name);
        let gnu = s.join(format!("gnu-{name}"));
        util::gnu_cp()
            .arg(fs.mount.join(name))
            .arg(&gnu)
            .ok()
            .unwrap();
        assert_eq!(std::fs::read(&gnu).unwrap(), held, "GNU cp, {name}");
        // An in-kernel method the user chose that moves nothing of a file with data fails
        // (engine::copy_now), as on the /proc files copy_file_range said 0 for.
        let methods = if name == "says_empty" {
            &["auto", "read-write"][..]
        } else {
            &["auto", "sendfile", "splice", "read-write"]
        };
        for method in methods {
            for extra in [&[][..], &["--nocache"], &["--sparse=always"]] {
                let dst = s.join(format!("{name}-{method}-{}", extra.len()));
                util::fastcp()
                    .arg(format!("--method={method}"))
                    .args(extra)
                    .arg(fs.mount.join(name))
                    .arg(&dst)
                    .ok()
                    .unwrap();
                let what = format!("{name}, --method={method} {extra:?}");
                assert_eq!(std::fs::read(&dst).unwrap(), held, "{what}");
            }
        }
    }
    // A tree of them, on both threads (the tree is the mount, less the file that fails).
    let tree = s.mkdir("tree");
    let names = ["more", "much_more", "says_empty", "less", "honest"];
    util::fastcp()
        .args(["-r", "-j2"])
        .args(names.map(|name| fs.mount.join(name)))
        .arg(&tree)
        .ok()
        .unwrap();
    for name in names {
        assert_eq!(s.read(format!("tree/{name}")), fs.held(name), "-r, {name}");
    }
}

/// A read error past the size a file says (after an in-kernel method stopped there) is a
/// read error, as GNU's read loop meets it: fastcp's look past the end swallowed it, exit 0.
#[test]
fn a_read_error_past_the_size_is_reported_as_gnu() {
    let Some(fs) = SizesFs::mount() else {
        return;
    };
    let s = Scratch::new();
    let src = fs.mount.join("fails_past");
    let gnu = util::gnu_cp()
        .arg(&src)
        .arg(s.join("gnu"))
        .output()
        .unwrap();
    assert_eq!(gnu.status.code(), Some(1), "{gnu:?}");
    for extra in [&[][..], &["--sparse=always"], &["--method=sendfile"]] {
        let ours = util::fastcp()
            .args(extra)
            .arg(&src)
            .arg(s.join("ours"))
            .output()
            .unwrap();
        let what = format!("{extra:?}: {ours:?}");
        assert_eq!(ours.status.code(), Some(1), "{what}");
        let said = String::from_utf8_lossy(&ours.stderr);
        assert!(
            said.contains("error reading") && said.contains("Input/output error"),
            "{what}"
        );
    }
}

/// overlayfs (the usual root filesystem of a container) is not one whose short reads fastcp
/// trusts, so after a sparse copy's last extent it looks for data past the size; a hole that
/// ends the file is before the size, and is not read. fastcp read it whole (an 8 GiB hole:
/// 11.5 s; GNU 0.001 s): here the bytes read say so.
#[test]
fn a_trailing_hole_on_overlayfs_is_not_read() {
    if !util::require_root("mount an overlay") {
        return;
    }
    let s = Scratch::new();
    let dirs = ["lower", "upper", "work", "mnt"].map(|d| s.mkdir(d));
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        dirs[0].display(),
        dirs[1].display(),
        dirs[2].display()
    );
    let mut mount = std::process::Command::new("mount");
    mount
        .args(["-t", "overlay", "overlay", "-o", &options])
        .arg(&dirs[3]);
    if !util::quiet(&mut mount) {
        util::skip("overlayfs could not be mounted");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&dirs[3]);
    let src = dirs[3].join("image");
    let f = std::fs::File::create(&src).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &[9u8; 4096], 0).unwrap();
    f.set_len(64 << 20).unwrap();
    let dst = dirs[3].join("copy");
    let stats = util::copy_with_stats(&[src.as_os_str(), dst.as_os_str()]);
    util::assert_same_bytes(&src, &dst);
    let read = stats["syscalls"]["read"]["bytes"].as_u64().unwrap();
    assert!(read <= 4096, "the hole was read: {stats}");
}
