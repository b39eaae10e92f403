//! Existing destination directories their user may not read (0300: write and search only;
//! 0100; 000), copied into as that user: GNU copies into them entry by entry, each entry
//! failing or not on its own, and then sets their attributes by name. fastcp, which opens
//! every destination directory, opened these for reading and failed the whole directory.
//! And a numbered backup in a directory that cannot be listed must not replace a backup it
//! could not see.

mod util;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use util::{Scratch, fastcp_path};

/// The uid and gid of `nobody`, who runs the copies.
const NOBODY: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Gives everything below `root` (and `root`) to nobody.
fn give_to_nobody(root: &Path) {
    let status = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(root)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs fastcp with `args` as nobody in `dir`.
fn fastcp_as_nobody(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(fastcp_path())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// `s` (a file, a directory with a file, old times) and `d/s`, an existing directory of
/// `mode` holding one file of its own; all nobody's. `entries`: what `s` holds (the merges
/// whose entries fail hold one, so that GNU's order of messages, the source's inode order,
/// cannot differ between two fixtures).
fn fixture(root: &Path, mode: u32, entries: &[&str]) {
    std::fs::create_dir_all(root.join("s")).unwrap();
    for entry in entries {
        if entry.ends_with('/') {
            std::fs::create_dir_all(root.join("s").join(entry)).unwrap();
            std::fs::write(root.join("s").join(entry).join("g"), b"g\n").unwrap();
        } else {
            std::fs::write(root.join("s").join(entry), b"f\n").unwrap();
        }
    }
    std::fs::create_dir_all(root.join("d/s")).unwrap();
    std::fs::write(root.join("d/s/old"), b"old\n").unwrap();
    let old = filetime::FileTime::from_unix_time(978_307_200, 7);
    for dir in entries.iter().filter(|e| e.ends_with('/')) {
        filetime::set_file_mtime(root.join("s").join(dir), old).unwrap();
    }
    filetime::set_file_mtime(root.join("s"), old).unwrap();
    give_to_nobody(root);
    chmod(root, 0o777);
    chmod(&root.join("d/s"), mode);
}

/// Copies into a destination directory of 0300, 0100, 000 and 0500 as GNU does: messages,
/// exit status, the resulting tree and modes (with -a, the source's, set by name).
#[test]
fn a_directory_its_user_may_not_read_is_copied_into_as_gnu() {
    if !util::require_root("drop to nobody") {
        return;
    }
    for (mode, entries) in [
        (0o300, &["f", "sub/"][..]),
        (0o100, &["f"]),
        (0o100, &["sub/"]),
        (0o000, &["f"]),
        (0o500, &["sub/"]),
    ] {
        for args in [
            &["-r", "s", "d"][..],
            &["-a", "s", "d"],
            &["-rT", "s", "d/s"],
            &["-a", "s/.", "d/s"],
            &["-rb", "s", "d"],
            &["-a", "--parents", "s", "d"],
        ] {
            let setup = |root: &Path| fixture(root, mode, entries);
            util::assert_same_as_gnu_unprivileged(setup, args);
        }
    }
}

/// With -a, the directory that could not be read gets the source's mode and times once its
/// contents are in: fastcp sets them through the directory's O_PATH descriptor's name.
#[test]
fn a_directory_its_user_may_not_read_gets_its_attributes() {
    if !util::require_root("drop to nobody") {
        return;
    }
    for mode in [0o300, 0o000] {
        let dir = Scratch::new();
        fixture(dir.path(), mode, &["f", "sub/"]);
        let out = fastcp_as_nobody(dir.path(), &["-a", "s", "d"]);
        let copied = std::fs::metadata(dir.join("d/s")).unwrap();
        let source = std::fs::metadata(dir.join("s")).unwrap();
        assert_eq!(copied.mode() & 0o7777, source.mode() & 0o7777, "{mode:o}");
        assert_eq!(copied.mtime(), source.mtime(), "{mode:o}");
        assert_eq!(copied.mtime_nsec(), 7, "{mode:o}");
        assert_eq!(copied.uid(), NOBODY);
        if mode == 0o300 {
            assert!(out.status.success(), "{out:?}");
            assert_eq!(std::fs::read(dir.join("d/s/sub/g")).unwrap(), b"g\n");
            assert_eq!(std::fs::read(dir.join("d/s/old")).unwrap(), b"old\n");
        } else {
            assert_eq!(out.status.code(), Some(1), "{out:?}");
        }
    }
}

/// A numbered backup where the directory cannot be listed: the backups already there are
/// not seen, and the next name tried (`f.~1~`) is taken; fastcp takes the next free number.
/// (GNU 9.1 loops for ever on `cp --backup=numbered f d/f`, and with -r moves the old file
/// into the current directory, `s/f.~1~`.)
#[test]
fn a_numbered_backup_never_replaces_one_it_could_not_see() {
    if !util::require_root("drop to nobody") {
        return;
    }
    for args in [
        &["--backup=numbered", "s/f", "d/s/f"][..],
        &["-r", "--backup=numbered", "s", "d"],
    ] {
        let dir = Scratch::new();
        fixture(dir.path(), 0o700, &["f"]);
        std::fs::write(dir.join("d/s/f"), b"old\n").unwrap();
        std::fs::write(dir.join("d/s/f.~1~"), b"one\n").unwrap();
        std::fs::write(dir.join("d/s/f.~2~"), b"two\n").unwrap();
        give_to_nobody(dir.path());
        chmod(&dir.join("d/s"), 0o300);
        let out = fastcp_as_nobody(dir.path(), args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        let read = |name: &str| std::fs::read(dir.join("d/s").join(name)).unwrap();
        assert_eq!(read("f"), b"f\n", "{args:?}");
        assert_eq!(read("f.~1~"), b"one\n", "{args:?}");
        assert_eq!(read("f.~2~"), b"two\n", "{args:?}");
        assert_eq!(read("f.~3~"), b"old\n", "{args:?}");
        assert!(!dir.join("s/f.~1~").exists());
    }
}

/// `cp -f --backup=numbered f f` backs f up by copying it onto the backup name: where the
/// directory cannot be listed, that name must not be an existing backup (GNU 9.1 copies
/// over `f.~1~`).
#[test]
fn a_backup_of_a_file_onto_itself_never_lands_on_one_it_could_not_see() {
    if !util::require_root("drop to nobody") {
        return;
    }
    let dir = Scratch::new();
    fixture(dir.path(), 0o700, &[]);
    std::fs::write(dir.join("d/s/f"), b"f\n").unwrap();
    std::fs::write(dir.join("d/s/f.~1~"), b"one\n").unwrap();
    give_to_nobody(dir.path());
    chmod(&dir.join("d/s"), 0o300);
    let args = ["-f", "--backup=numbered", "d/s/f", "d/s/f"];
    let out = fastcp_as_nobody(dir.path(), &args);
    assert!(out.status.success(), "{out:?}");
    let read = |name: &str| std::fs::read(dir.join("d/s").join(name)).unwrap();
    assert_eq!(read("f.~1~"), b"one\n");
    assert_eq!(read("f.~2~"), b"f\n");
    assert_eq!(read("f"), b"f\n");
}

/// --fsync and --atomic sync the directory of each new name; one its user may not read
/// cannot be opened to be synced, and the copy flushes every filesystem instead of failing
/// (fastcp failed the file with "cannot access").
#[test]
fn a_durable_copy_into_a_directory_its_user_may_not_read_succeeds() {
    if !util::require_root("drop to nobody") {
        return;
    }
    for options in [&["--fsync"][..], &["--atomic", "--fsync"], &["--atomic"]] {
        let dir = Scratch::new();
        fixture(dir.path(), 0o300, &["f", "sub/"]);
        let args: Vec<&str> = ["-r"]
            .iter()
            .chain(options)
            .chain(&["s", "d"])
            .copied()
            .collect();
        let out = fastcp_as_nobody(dir.path(), &args);
        assert!(out.status.success(), "{options:?}: {out:?}");
        assert_eq!(std::fs::read(dir.join("d/s/f")).unwrap(), b"f\n");
        assert_eq!(std::fs::read(dir.join("d/s/sub/g")).unwrap(), b"g\n");
    }
}

/// A tree deeper than the descriptors fastcp may keep open (a limit of 24), merged into an
/// existing one with closed directories at three levels: the walk closes those levels and
/// opens them again (through `..`, or name by name from the top), O_PATH each time, and
/// gives every directory its mode and times as GNU does.
#[test]
fn closed_directories_opened_again_deep_in_a_tree_get_their_attributes() {
    if !util::require_root("drop to nobody") {
        return;
    }
    let levels: Vec<String> = (1..=60).map(|i| format!("d{i}")).collect();
    let setup = |root: &Path| {
        let deep = levels.join("/");
        std::fs::create_dir_all(root.join("s").join(&deep)).unwrap();
        std::fs::write(root.join("s").join(&deep).join("f"), b"f\n").unwrap();
        std::fs::create_dir_all(root.join("d").join(&deep)).unwrap();
        let old = filetime::FileTime::from_unix_time(978_307_200, 0);
        filetime::set_file_mtime(root.join("s").join(&deep).join("f"), old).unwrap();
        for depth in (0..=levels.len()).rev() {
            let dir = root.join("s").join(levels[..depth].join("/"));
            filetime::set_file_mtime(dir, old).unwrap();
        }
        give_to_nobody(root);
        chmod(root, 0o777);
        for depth in [59, 30, 10] {
            chmod(&root.join("d").join(levels[..depth].join("/")), 0o300);
        }
    };
    let run = |program: &Path| {
        let dir = Scratch::new();
        setup(dir.path());
        let out = Command::new("prlimit")
            .arg("--nofile=24")
            .args([
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ])
            .arg(program)
            .args(["-a", "s/.", "d"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            out.stderr.is_empty(),
            util::attributes(&dir.join("d"), true),
            util::snapshot(&dir.join("d")),
        )
    };
    let gnu = run(Path::new("/bin/cp"));
    let ours = run(&fastcp_path());
    assert_eq!(gnu.0, Some(0));
    assert_eq!((ours.0, ours.1), (gnu.0, gnu.1));
    for (path, attrs) in &gnu.2 {
        assert_eq!(ours.2.get(path), Some(attrs), "{path:?}");
        assert_eq!(ours.3.get(path), gnu.3.get(path), "{path:?}");
    }
    assert_eq!(ours.2.len(), gnu.2.len());
}
