//! --parents against GNU cp 9.1: which leading directories are made and when, which of them
//! get the source's attributes, and the errors about the target.

mod util;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use util::{Scratch, assert_same_as_gnu, assert_same_as_gnu_unprivileged};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

/// Sets a path's access and modification times to `secs`.
fn touch(path: &Path, secs: i64) {
    let t = rustix::fs::Timespec {
        tv_sec: secs,
        tv_nsec: 0,
    };
    let times = rustix::fs::Timestamps {
        last_access: t,
        last_modification: t,
    };
    rustix::fs::utimensat(rustix::fs::CWD, path, &times, rustix::fs::AtFlags::empty()).unwrap();
}

/// Mode, owner and (when it is not "now", set by the copy) mtime of `root` and everything
/// below it, for comparing the directories a copy made or left alone.
fn dated(root: &Path) -> BTreeMap<PathBuf, (u32, u32, u32, Option<i64>)> {
    let mut out = BTreeMap::new();
    let mut paths = vec![PathBuf::new()];
    paths.extend(util::snapshot(root).into_keys());
    for rel in paths {
        let meta = std::fs::symlink_metadata(root.join(&rel)).unwrap();
        let mtime = (meta.mtime() < 1_500_000_000).then_some(meta.mtime());
        out.insert(rel, (meta.mode(), meta.uid(), meta.gid(), mtime));
    }
    out
}

/// Runs `args` with GNU cp and with fastcp on two copies of `setup`: same messages, status,
/// and `dated` attributes below `under`.
fn assert_same_dates(setup: impl Fn(&Path), args: &[&str], under: &str) {
    let (gnu, ours) = (Scratch::new(), Scratch::new());
    setup(gnu.path());
    setup(ours.path());
    let theirs = util::gnu_cp()
        .current_dir(gnu.path())
        .args(args)
        .output()
        .unwrap();
    let mine = util::fastcp()
        .current_dir(ours.path())
        .args(args)
        .output()
        .unwrap();
    util::assert_same_words(&mine, &theirs);
    assert_eq!(mine.stdout, theirs.stdout, "{args:?}");
    assert_eq!(
        dated(&ours.join(under)),
        dated(&gnu.join(under)),
        "{args:?}"
    );
}

/// Source p/q/w with p 750, p/q 705 owned by 3:4, both dated 2001; the target t with `made`
/// (paths below t) already there as 700 directories owned by 9:9 and dated 1970.
fn fixture(d: &Path, made: &[&str]) {
    std::fs::create_dir_all(d.join("p/q")).unwrap();
    std::fs::write(d.join("p/q/w"), b"w\n").unwrap();
    chmod(&d.join("p"), 0o750);
    chmod(&d.join("p/q"), 0o705);
    chown(&d.join("p/q"), 3, 4);
    std::fs::create_dir(d.join("t")).unwrap();
    for dir in made {
        let dir = d.join("t").join(dir);
        std::fs::create_dir(&dir).unwrap();
        chmod(&dir, 0o700);
        chown(&dir, 9, 9);
    }
    for dir in made.iter().rev() {
        touch(&d.join("t").join(dir), 1);
    }
    touch(&d.join("p/q"), 1_000_000_000);
    touch(&d.join("p"), 1_000_000_000);
}

/// Regression: fastcp gave directories that already existed the source's mode, owner and
/// times under -p. GNU leaves them all alone when the last one exists ("If all dirs are
/// present at the destination, no permissions ... will be updated"), and sets the existing
/// ones only on a path where it makes some. (The target's own mtime changes when something
/// is made in it, so it is left out of the comparison.)
#[test]
fn existing_leading_directories_keep_their_attributes() {
    for made in [&["p", "p/q"][..], &["p"], &[]] {
        for preserve in ["-p", "-a", "--preserve=mode,ownership,timestamps", "-pv"] {
            let setup = |d: &Path| fixture(d, made);
            let args = ["--parents", preserve, "p/q/w", "t"];
            assert_same_dates(setup, &args, "t/p");
        }
    }
}

/// Regression: as a user who owns none of the existing directories, fastcp failed
/// ("failed to preserve permissions ... Operation not permitted"); GNU does not touch them.
#[test]
fn existing_leading_directories_of_someone_else() {
    let setup = |d: &Path| {
        fixture(d, &["p", "p/q"]);
        for dir in ["p", "p/q", "p/q/w"] {
            chown(&d.join(dir), 65534, 65534);
        }
        for dir in ["t", "t/p", "t/p/q"] {
            chmod(&d.join(dir), 0o777);
        }
    };
    for preserve in ["-p", "-a", "--preserve=mode"] {
        assert_same_as_gnu_unprivileged(setup, &["--parents", preserve, "p/q/w", "t"]);
    }
}

/// A leading directory the copy could not go into (555) is made writable for it, and its
/// bits are put back afterwards (GNU's restore_mode): as nobody, fastcp failed on it.
#[test]
fn leading_directories_without_write_permission() {
    let setup = |d: &Path| {
        fixture(d, &[]);
        chmod(&d.join("p/q"), 0o555);
        for dir in ["p", "p/q", "p/q/w"] {
            chown(&d.join(dir), 65534, 65534);
        }
        chmod(&d.join("t"), 0o777);
    };
    for args in [
        &["--parents", "p/q/w", "t"][..],
        &["--parents", "-p", "p/q/w", "t"],
        &["--parents", "--no-preserve=mode", "p/q/w", "t"],
    ] {
        assert_same_as_gnu_unprivileged(setup, args);
    }
}

/// A tree where operands fail on their last component: h/d is a directory, h/l a symlink
/// to it, h/a a file.
fn failing(d: &Path) {
    std::fs::create_dir_all(d.join("h/d/sub")).unwrap();
    std::fs::write(d.join("h/a"), b"a\n").unwrap();
    symlink("d", d.join("h/l")).unwrap();
    chmod(&d.join("h"), 0o750);
    chmod(&d.join("h/d"), 0o705);
    touch(&d.join("h/d"), 1_000_000_000);
    touch(&d.join("h"), 1_000_000_000);
    std::fs::create_dir(d.join("g")).unwrap();
}

/// Runs `program args` in `dir` with stderr into stdout, as a terminal shows them.
fn merged(program: &Path, dir: &Path, args: &[&str]) -> (String, Option<i32>) {
    let out = Command::new("sh")
        .env_clear()
        .env("LC_ALL", "C")
        .args(["-c", "\"$0\" \"$@\" 2>&1"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace(program.to_str().unwrap(), "cp");
    (text, out.status.code())
}

/// Regression: GNU makes (and with -v reports) the leading directories before it looks at
/// the operand, so they are there, with their attributes under -p, when the operand then
/// fails; fastcp made none, and printed `h -> g/h` after the error of an earlier operand.
#[test]
fn leading_directories_are_made_before_the_operand_fails() {
    let cases: [&[&str]; 7] = [
        &["-v", "--parents", "h/d/sub", "g"],
        &["-v", "--parents", "h/d/nx", "g"],
        &["-v", "--parents", "h/d", "h/a", "g"],
        &["-v", "--parents", "h/a/", "g"],
        &["-v", "--parents", "h/l", "g"],
        &["-pv", "--parents", "h/d/sub", "g"],
        &["-a", "--parents", "h/d/nx", "g"],
    ];
    for args in cases {
        assert_same_dates(failing, args, "g/h");
        let (gnu, ours) = (Scratch::new(), Scratch::new());
        failing(gnu.path());
        failing(ours.path());
        let theirs = merged(Path::new("/bin/cp"), gnu.path(), args);
        let mine = merged(&util::fastcp_path(), ours.path(), args);
        assert_eq!(mine, theirs, "{args:?}");
    }
}

/// A leading directory of the source that is missing or not a directory: GNU's "failed to get
/// attributes of" the source directory, when it has to make (or under -p set) the directory.
#[test]
fn leading_source_directories_that_fail() {
    let setup = |d: &Path| {
        std::fs::write(d.join("f"), b"f\n").unwrap();
        std::fs::create_dir_all(d.join("g/f")).unwrap();
        std::fs::create_dir(d.join("e")).unwrap();
        std::fs::write(d.join("e/x"), b"x\n").unwrap();
    };
    for args in [
        &["--parents", "nx/x", "g"][..],
        &["--parents", "f/x", "e"],
        &["--parents", "f/x", "g"],
        &["-p", "--parents", "f/x/y", "g"],
        &["--parents", "e/x/y", "g"],
        &["--parents", "e//x", "g"],
    ] {
        assert_same_as_gnu(setup, args);
    }
}

/// Regression: with three or more operands the target's own error comes first ("target 'c':
/// No such file or directory", no Try line); only with two is it the --parents usage error.
#[test]
fn parents_onto_a_target_that_is_no_directory() {
    let setup = |d: &Path| {
        std::fs::write(d.join("a"), b"a\n").unwrap();
        std::fs::write(d.join("b"), b"b\n").unwrap();
        std::fs::write(d.join("f"), b"f\n").unwrap();
        std::fs::create_dir(d.join("d")).unwrap();
    };
    for args in [
        &["--parents", "a", "b", "c"][..],
        &["--parents", "a", "b", "f"],
        &["--parents", "a", "b", "f/"],
        &["--parents", "a", "c"],
        &["--parents", "a", "f"],
        &["--parents", "a", "b", "d"],
        &["--parents", "-T", "a", "d"],
        &["--parents", "-T", "a", "b", "c"],
        &["--parents", "-t", "f", "a", "b"],
        &["--parents", "-t", "c", "a"],
        &["--parents", "-t", "d", "a", "b"],
    ] {
        assert_same_as_gnu(setup, args);
    }
}

/// Regression: leading directories made in a setgid directory inherit its setgid bit, and GNU
/// keeps it under -p when the source directories have no set-id or sticky bit (copy_acl sets
/// only the permission bits); fastcp's chmod cleared it (755 where GNU has 2755).
#[test]
fn leading_directories_keep_an_inherited_setgid_bit() {
    let setup = |d: &Path| {
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("a/b/f"), b"f\n").unwrap();
        chmod(&d.join("a"), 0o755);
        chmod(&d.join("a/b"), 0o750);
        std::fs::create_dir(d.join("t")).unwrap();
        chmod(&d.join("t"), 0o2777);
    };
    for preserve in ["-p", "-a", "--preserve=mode"] {
        assert_same_dates(setup, &["--parents", preserve, "a/b/f", "t/"], "t/a");
    }
}

/// One source named two ways under --parents (`a/f a/./f`): GNU's record of the files it
/// made (dest_info) finds a name again by its whole spelling, so `d/a/./f` is not the
/// just-created `d/a/f`: GNU backs it up and copies again, exit 0. fastcp compared the names
/// as same_name does and refused ("will not overwrite just-created"), exit 1.
#[test]
fn a_destination_spelled_another_way_under_parents_is_not_just_created() {
    let setup = |d: &Path| {
        std::fs::create_dir_all(d.join("a")).unwrap();
        std::fs::create_dir_all(d.join("d")).unwrap();
        std::fs::write(d.join("a/f"), b"f\n").unwrap();
    };
    for args in [
        &["-b", "--parents", "a/f", "a/./f", "d"][..],
        &["-b", "--parents", "a/./f", "a/f", "d"],
        &["-b", "--parents", "a/f", "./a/f", "d"],
        &["-rb", "--parents", "a/f", "a//f", "d"],
        &["--parents", "a/f", "a/./f", "d"],
        &["-b", "a/f", "a/./f", "d"],
        &["--backup=numbered", "--parents", "a/f", "a/./f", "d"],
    ] {
        assert_same_as_gnu(setup, args);
    }
}

/// Under --parents GNU takes the destination not to exist when the directory it goes in was
/// just made for it (its new_dst), and keeps that for a next operand without leading
/// directories: `src/.` and `src/sub/..` are directories to make in the one just made ("File
/// exists"), and a file or directory already in the target is not overwritten or merged
/// into. fastcp copied through the `.` or `..`, overwriting what was there (d/src/g), or
/// merged and overwrote where GNU refused.
#[test]
fn parents_just_made_are_taken_as_empty_as_gnu_takes_them() {
    let tree = |d: &Path| {
        std::fs::create_dir_all(d.join("src/sub")).unwrap();
        std::fs::create_dir_all(d.join("d/src")).unwrap();
        std::fs::create_dir_all(d.join("a/d")).unwrap();
        std::fs::write(d.join("src/sub/f"), b"x").unwrap();
        std::fs::write(d.join("src/g"), b"new").unwrap();
        std::fs::write(d.join("d/src/g"), b"precious").unwrap();
        std::fs::write(d.join("f"), b"new").unwrap();
        std::fs::write(d.join("a/f"), b"old").unwrap();
        std::fs::write(d.join("a/d/n"), b"n").unwrap();
    };
    for args in [
        &["--parents", "-r", "src/sub/..", "d"][..],
        &["--parents", "-r", "src/.", "e"],
        &["--parents", "-R", "./src/sub/.", "e"],
        &["--parents", "-r", "src/sub/./", "e"],
        &["--parents", "-a", "src/sub/..", "e"],
        &["--parents", "-rv", "src/sub/..", "e"],
        &["--parents", "-rn", "src/sub/..", "d"],
        &["--parents", "-r", "src/..", "e"],
        &["--parents", "src/g", "f", "a"],
        &["--parents", "f", "src/g", "a"],
        &["--parents", "-r", "src/g", "d", "a"],
    ] {
        let setup = |d: &Path| {
            tree(d);
            std::fs::create_dir(d.join("e")).unwrap();
        };
        util::assert_same_as_gnu(setup, args);
    }
}

/// -v names the leading directories made as they are, bytes that are not UTF-8 included,
/// as GNU prints them (fastcp printed U+FFFD in their place).
#[test]
fn verbose_leading_directories_keep_their_bytes() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let name = OsStr::from_bytes(b"\xe9");
    let setup = |d: &Path| {
        std::fs::create_dir_all(d.join(name).join("s")).unwrap();
        std::fs::create_dir(d.join("dst")).unwrap();
        std::fs::write(d.join(name).join("s/f"), b"x").unwrap();
    };
    let src = Path::new(name).join("s/f");
    let args = [
        OsStr::new("-v"),
        OsStr::new("--parents"),
        src.as_os_str(),
        OsStr::new("dst"),
    ];
    let [(gnu, theirs), (fast, ours)] = util::run_side_by_side(setup, &args);
    assert!(
        gnu.stdout.starts_with(b"\xe9 -> dst/\xe9\n"),
        "{:?}",
        gnu.stdout
    );
    assert_eq!(fast.stdout, gnu.stdout);
    assert_eq!(fast.status.code(), gnu.status.code());
    assert_eq!(util::snapshot(ours.path()), util::snapshot(theirs.path()));
}
