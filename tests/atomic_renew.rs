//! --atomic with what makes cp unlink the destination before copying (--remove-destination;
//! other hard links to it while links are preserved): the old file stays until its
//! replacement is complete, so a copy that fails leaves it.

mod util;

use util::{Mounted, Scratch, fastcp};

/// Regression: the destination was unlinked first and the temporary file written after, so a
/// full disk left nothing under the name (`--remove-destination`), or the data only under the
/// other hard link (`-a`, `--preserve=links`). The copy fails as before; the file stays.
#[test]
fn a_failed_atomic_copy_keeps_a_destination_cp_would_have_removed() {
    let s = Scratch::new();
    let Some(fs) = Mounted::tmpfs_on(s.mkdir("mnt"), "2m") else {
        return;
    };
    let src = s.write("big", &util::pattern(3 << 20, 7));
    let dst = fs.path("dst");
    for options in [
        &["--remove-destination"][..],
        &["-a"],
        &["--preserve=links"],
        &["--remove-destination", "-v"],
    ] {
        std::fs::write(&dst, b"precious\n").unwrap();
        let other = fs.path("other");
        let _ = std::fs::remove_file(&other);
        std::fs::hard_link(&dst, &other).unwrap();
        let out = fastcp()
            .arg("--atomic")
            .args(options)
            .arg(&src)
            .arg(&dst)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{options:?}: {out:?}");
        assert_eq!(std::fs::read(&dst).unwrap(), b"precious\n", "{options:?}");
        let left: Vec<_> = std::fs::read_dir(&fs.mount).unwrap().collect();
        assert_eq!(left.len(), 2, "{options:?}: {left:?}");
    }
}

/// What a successful copy gives is still cp's: a new file under the name (the other hard
/// link keeps the old data), with the -v lines cp prints.
#[test]
fn an_atomic_copy_replaces_a_destination_cp_would_have_removed_as_cp() {
    let setup = |d: &std::path::Path| {
        std::fs::write(d.join("src"), b"new data\n").unwrap();
        std::fs::write(d.join("dst"), b"old\n").unwrap();
        std::fs::hard_link(d.join("dst"), d.join("other")).unwrap();
    };
    for args in [
        &["--remove-destination", "-v", "src", "dst"][..],
        &["-a", "-v", "src", "dst"],
        &["--preserve=links", "src", "dst"],
    ] {
        let (gnu, ours) = atomic_and_gnu(setup, args);
        assert_eq!(ours.stdout, gnu.stdout, "{args:?}");
        assert_eq!(ours.stderr, gnu.stderr, "{args:?}");
        assert_eq!(ours.code, gnu.code, "{args:?}");
        assert_eq!(ours.tree, gnu.tree, "{args:?}");
    }
}

/// (stdout, stderr, status, tree) of GNU cp with `args`, and of fastcp with --atomic added.
fn atomic_and_gnu(setup: impl Fn(&std::path::Path), args: &[&str]) -> (util::Side, util::Side) {
    let gnu = util::differential(
        &setup,
        &args.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>(),
    )
    .0;
    let mut with = vec!["--atomic"];
    with.extend_from_slice(args);
    let ours = util::differential(
        &setup,
        &with.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>(),
    )
    .1;
    (gnu, ours)
}

/// Regression: where the user may not remove the destination (its directory not writable),
/// cp's unlink fails first and nothing is printed but the error; with --atomic, fastcp printed
/// "removed 'dd/d'" and the copy's -v line before failing the same way.
#[test]
fn a_destination_that_may_not_be_removed_fails_as_gnus() {
    if !util::require_root("drop to nobody") {
        return;
    }
    let run = |program: &std::path::Path, atomic: bool| {
        let s = Scratch::new();
        s.write("s", b"new\n");
        s.write("dd/d", b"old\n");
        let chown = |p: &std::path::Path| std::os::unix::fs::chown(p, Some(65534), None).unwrap();
        chown(&s.join("dd"));
        chown(&s.join("dd/d"));
        let mode = |p: &std::path::Path, m: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        };
        mode(&s.join("dd/d"), 0o666);
        mode(&s.join("dd"), 0o555);
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(program)
            .current_dir(s.path())
            .env_clear();
        if atomic {
            cmd.arg("--atomic");
        }
        let out = cmd
            .args(["-v", "--remove-destination", "s", "dd/d"])
            .output()
            .unwrap();
        let program = program.to_string_lossy().into_owned();
        (
            out.status.code(),
            util::normalize(&out.stdout, &program),
            util::normalize(&out.stderr, &program),
            s.read("dd/d"),
        )
    };
    let gnu = run(std::path::Path::new("/bin/cp"), false);
    assert_eq!(gnu.3, b"old\n");
    assert_eq!(run(&util::fastcp_path(), true), gnu);
}
