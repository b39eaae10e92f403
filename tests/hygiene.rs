//! The suite's own rule, checked: no test touches anything outside its scratch directory
//! (tests/util/hygiene.rs). These tests show the checks fail on tests written the bad way.

mod util;

use std::ffi::OsString;
use std::os::unix::fs::{FileTypeExt, MetadataExt, symlink};
use std::path::Path;
use util::hygiene::{Nodes, check_args, named};
use util::{Scratch, fastcp, gnu_cp};

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(Into::into).collect()
}

/// Regression: tests/fuzz_args.rs drew /dev/null among its words together with
/// --remove-destination, -s and --atomic, and one run as root replaced the machine's /dev/null
/// with a symbolic link to `a`. That command line, and every way of naming a destination
/// outside the scratch directory, is refused before anything runs.
#[test]
fn the_command_that_replaced_dev_null_is_refused() {
    let s = Scratch::new();
    s.mkdir("w/d");
    s.write("w/a", b"a");
    symlink("/dev/full", s.join("w/to-full")).unwrap();
    let w = s.join("w");
    let bad: &[&[&str]] = &[
        &["-s", "--remove-destination", "a", "/dev/null"],
        &["-s", "a", "/dev/null", "--remove-destination"],
        &["--atomic", "a", "/dev/null"],
        &["a", "/dev/null", "--method", "sendfile"],
        &["a", "/dev/full", "-S", ".bak"],
        &["-t", "/dev", "a"],
        &["-rt/dev", "a"],
        &["--target=/dev", "a"],
        &["--target-directory", "/dev", "a"],
        &["a", "to-full"],
        &["a", "../../x"],
        &["-r", "d", "../.."],
        &["--generate", "/tmp/not-scratch"],
        &["a", "/proc/sys/vm/drop_caches"],
        &["--", "a", "/dev/null"],
        // A source outside that is not a read-only system file.
        &["/etc/passwd", "x"],
        // An option the table does not know: its value could be the destination.
        &["--bogus", "/dev/null", "x"],
    ];
    for args in bad {
        assert!(check_args(&w, &os(args)).is_err(), "allowed: {args:?}");
    }
    // Relative names are read from the directory the program runs in.
    assert!(check_args(Path::new("/"), &os(&["a", "b"])).is_err());
    let good: &[&[&str]] = &[
        &["a", "b"],
        &["-s", "--remove-destination", "a", "null"],
        &["/proc/version", "v"],
        &["/dev/null", "/dev/zero", "d"],
        &["-t", "d", "/proc/version", "/sys/kernel/uevent_seqnum"],
        &["a", "/proc/self/fd/1"],
        &["to-full", "x"],
        &["-r", "d", ".."],
        &["--method", "sendfile", "a", "b"],
        &["-S", "/x", "a", "b"],
    ];
    for args in good {
        assert_eq!(check_args(&w, &os(args)), Ok(()), "{args:?}");
    }
}

#[test]
fn command_lines_are_read_as_getopt_long_reads_them() {
    let n = named(&os(&[
        "a",
        "-rt",
        "dir",
        "b",
        "--suffix",
        "x",
        "--method=splice",
    ]));
    assert_eq!(n.destinations, os(&["dir"]));
    assert_eq!(n.sources, os(&["a", "b"]));
    assert_eq!(n.unknown, None);
    let n = named(&os(&["--", "-t", "x"]));
    assert_eq!((n.sources, n.destinations), (os(&["-t"]), os(&["x"])));
    // Ambiguous: --re is --recursive, --remove-destination or --reflink; --meth is --method
    // or --methods.
    assert_eq!(named(&os(&["--re", "a", "b"])).unknown, Some("--re".into()));
    let n = named(&os(&["--meth", "x", "a", "b"]));
    assert_eq!(n.unknown, Some("--meth".into()));
    // A unique prefix is the option: --target takes the next argument.
    assert_eq!(named(&os(&["--target", "d", "a"])).destinations, os(&["d"]));
}

/// The commands util builds check before they run: a test that names the machine's
/// /dev/full as a destination panics (had the check not run, only /dev/full would be written).
#[test]
fn commands_check_before_running() {
    let s = Scratch::new();
    s.write("a", b"a");
    for cmd in [fastcp, gnu_cp] {
        let result = std::panic::catch_unwind(|| {
            cmd()
                .current_dir(s.path())
                .args(["a", "/dev/full"])
                .output()
        });
        let message = result.expect_err("the command ran");
        let text = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(text.contains("test hygiene"), "{text}");
    }
}

/// What got past the command-line check (a command built by hand, a link inside a tree) is
/// caught by its effect: a node replaced, removed, or with its mode changed is made again, and
/// the check fails; a changed timestamp fails it too. Shown on the test's own null device.
#[test]
fn a_damaged_device_node_is_detected_and_made_again() {
    if !util::require_root("make device nodes") {
        return;
    }
    let s = Scratch::new();
    let null = s.char_device("null", 1, 3);
    let path = null.to_str().unwrap();
    let intact = |p: &Path| {
        let m = std::fs::symlink_metadata(p).unwrap();
        m.file_type().is_char_device() && m.rdev() == rustix::fs::makedev(1, 3)
    };
    let damage: [&dyn Fn(&Path); 3] = [
        &|p| {
            std::fs::remove_file(p).unwrap();
            symlink("a", p).unwrap();
        },
        &|p| std::fs::remove_file(p).unwrap(),
        &|p| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
        },
    ];
    for (i, damage) in damage.iter().enumerate() {
        let nodes = Nodes::take(&[(path, 1, 3)]).unwrap();
        assert_eq!(nodes.check(), Ok(()));
        damage(&null);
        let e = nodes.check().expect_err("damage unseen");
        assert!(e.contains("made again"), "{i}: {e}");
        assert!(intact(&null), "{i}: not made again");
        assert_eq!(std::fs::metadata(&null).unwrap().mode() & 0o7777, 0o666);
    }
    let nodes = Nodes::take(&[(path, 1, 3)]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(10));
    filetime::set_file_mtime(&null, filetime::FileTime::from_unix_time(0, 0)).unwrap();
    assert!(nodes.check().is_err(), "a new mtime (and ctime) unseen");
}
