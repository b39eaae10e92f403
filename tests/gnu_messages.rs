//! fastcp's messages, exit statuses and resulting files match GNU cp's on the same input.

mod util;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use util::{assert_same_as_gnu, assert_same_as_gnu_os};

/// The usual fixture: a file `a`, a directory `d`, a file `x`, and `y/a` (another `a`).
fn fixture(dir: &Path) {
    std::fs::write(dir.join("a"), b"alpha\n").unwrap();
    std::fs::write(dir.join("x"), b"x\n").unwrap();
    std::fs::create_dir(dir.join("d")).unwrap();
    std::fs::create_dir(dir.join("y")).unwrap();
    std::fs::write(dir.join("y/a"), b"other a\n").unwrap();
}

same_as_gnu! {
    fixture;
    missing_file_operand: [],
    missing_destination: ["a"],
    cannot_stat_missing_source: ["nope", "b"],
    omits_directory_without_r: ["d", "e"],
    same_file_same_name: ["a", "a"],
    same_file_other_spelling: ["a", "./a"],
    target_not_a_directory: ["a", "x", "x"],
    target_missing: ["a", "x", "nonexist"],
    target_directory_not_a_directory: ["-t", "x", "a"],
    target_directory_missing: ["-t", "nonexist", "a"],
    extra_operand_with_t: ["-T", "a", "b", "c"],
    cannot_overwrite_directory: ["-T", "a", "d"],
    cannot_combine_t_and_big_t: ["-t", "d", "-T", "a"],
    // Regression: GNU counts the operands before it refuses -t with -T (fastcp refused first).
    t_and_big_t_no_operand: ["-T", "-t", "d"],
    t_and_big_t_two_operands: ["-T", "-t", "d", "a", "x"],
    t_and_big_t_three_operands: ["-t", "d", "-T", "a", "x", "y/a"],
    t_missing_directory_no_operand: ["-t", "nonexist"],
    big_t_no_operand: ["-T"],
    big_t_one_operand: ["-T", "a"],
    trailing_slash_on_missing_destination: ["a", "nonexist/"],
    trailing_slash_on_file_destination: ["a", "x/"],
    unrecognized_long_option: ["--foo", "a", "b"],
    invalid_short_option: ["-z", "a", "b"],
    option_requires_argument_short: ["-t"],
    option_requires_argument_long: ["--target-directory"],
    option_takes_no_argument: ["--no-target-directory=x", "a", "b"],
    source_specified_twice: ["a", "a", "d"],
    source_specified_twice_other_spelling: ["a", "./a", "d/"],
    will_not_overwrite_just_created: ["a", "y/a", "d"],
    one_failure_does_not_stop_the_rest: ["a", "nope", "x", "d"],
    plain_copy: ["a", "b"],
    into_directory: ["a", "d"],
    into_directory_with_slash: ["a", "d/"],
    several_into_directory: ["a", "x", "d"],
    target_directory_option: ["-t", "d", "a", "x"],
    no_target_directory_plain: ["-T", "a", "b"],
    overwrite_existing_file: ["a", "x"],
    end_of_options: ["--", "a", "b"],
    dev_null_source: ["/dev/null", "empty"],
}

/// A full device as the destination: the test's own (1, 7), never the machine's /dev/full.
#[test]
fn dev_full_destination() {
    let setup = |dir: &Path| {
        fixture(dir);
        util::char_device_at(&dir.join("full"), 1, 7);
    };
    assert_same_as_gnu(setup, &["a", "full"]);
}

#[test]
fn directory_where_file_should_go() {
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            std::fs::create_dir_all(dir.join("d2/a")).unwrap();
        },
        &["a", "d2/"],
    );
}

#[test]
fn dangling_symlink_destination() {
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            symlink("nowhere", dir.join("l")).unwrap();
        },
        &["a", "l"],
    );
}

#[test]
fn symlink_destination_is_written_through() {
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            symlink("x", dir.join("l")).unwrap();
        },
        &["a", "l"],
    );
}

#[test]
fn symlink_source_is_followed() {
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            symlink("a", dir.join("l")).unwrap();
        },
        &["l", "copy"],
    );
}

// Same-file cases: each must be refused before the destination is opened, or the source
// would be truncated. The tree comparison checks the source still holds its bytes.
#[test]
fn same_file_through_symlink() {
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            symlink("a", dir.join("l")).unwrap();
        },
        &["a", "l"],
    );
}

#[test]
fn same_file_through_hard_link() {
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            std::fs::hard_link(dir.join("a"), dir.join("h")).unwrap();
        },
        &["a", "h"],
    );
}

#[test]
fn same_file_through_directory() {
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            std::fs::hard_link(dir.join("a"), dir.join("d/a")).unwrap();
        },
        &["d/a", "."],
    );
}

#[test]
fn new_file_gets_source_mode_without_setuid() {
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            let a = dir.join("a");
            std::fs::set_permissions(&a, std::fs::Permissions::from_mode(0o6755)).unwrap();
        },
        &["a", "b"],
    );
}

#[test]
fn private_source_stays_private() {
    let side = assert_same_as_gnu(
        |dir| {
            fixture(dir);
            std::fs::set_permissions(dir.join("a"), std::fs::Permissions::from_mode(0o600))
                .unwrap();
        },
        &["a", "b"],
    );
    assert!(matches!(
        side.tree[Path::new("b")],
        util::Entry::File { mode: 0o600, .. }
    ));
}

#[test]
fn existing_destination_keeps_its_mode_and_inode() {
    use std::os::unix::fs::MetadataExt;
    assert_same_as_gnu(
        |dir| {
            fixture(dir);
            std::fs::set_permissions(dir.join("x"), std::fs::Permissions::from_mode(0o640))
                .unwrap();
        },
        &["a", "x"],
    );
    let s = util::Scratch::new();
    fixture(s.path());
    let before = std::fs::metadata(s.join("x")).unwrap().ino();
    util::fastcp()
        .current_dir(s.path())
        .args(["a", "x"])
        .assert()
        .success();
    assert_eq!(std::fs::metadata(s.join("x")).unwrap().ino(), before);
    assert_eq!(s.read("x"), b"alpha\n");
}

/// Names GNU quotes in each of its styles: plain, double quotes, `'\''`, and `$'...'` escapes.
#[test]
fn unusual_names_copy_and_quote_like_gnu() {
    let names: &[&[u8]] = &[
        b"a b",
        b"a'b",
        b"a'b\"c",
        b"new\nline",
        b"tab\there",
        b"-dash",
        b"\xff\xfe not utf-8",
        "caf\u{e9}".as_bytes(),
        b"$x*?[]",
    ];
    for name in names {
        let name = OsStr::from_bytes(name);
        // Copies work...
        let setup = |dir: &Path| {
            fixture(dir);
            std::fs::write(dir.join(name), b"data").unwrap();
        };
        assert_same_as_gnu_os(setup, &[OsStr::new("--"), name, OsStr::new("d")]);
        // ...and messages quote the name as GNU does.
        assert_same_as_gnu_os(fixture, &[OsStr::new("--"), name, OsStr::new("out")]);
    }
}

#[test]
fn quoting_follows_a_utf8_locale() {
    let args = ["caf\u{e9}\u{1}", "nonexistent-dir/x"];
    let (gnu, ours) = util::run_both(|_| {}, &args, b"", &[("LC_ALL", "C.UTF-8")]);
    assert_eq!(ours.stderr, gnu.stderr);
}

/// Regression: a UTF-8 locale that is named but not installed gave ‘’ quotes, as the
/// variable's text was read instead of asking setlocale; cp is then in the C locale.
#[test]
fn a_locale_that_is_not_installed_quotes_as_c() {
    let envs = [
        &[("LC_ALL", "xx_NO.UTF-8")][..],
        &[("LC_ALL", ""), ("LANG", "xx_NO.UTF-8")],
    ];
    for env in envs {
        for args in [
            &["--sparse=x", "a", "b"][..],
            &["caf\u{e9}\u{1}", "no-dir/x"],
        ] {
            let (gnu, ours) = util::run_both(|_| {}, args, b"", env);
            assert_eq!(ours.stderr, gnu.stderr, "{env:?} {args:?}");
            assert!(!ours.stderr.contains('\u{2018}'), "{}", ours.stderr);
        }
    }
}

/// The usage hint and the message prefix use the name fastcp was invoked as.
#[test]
fn messages_use_the_invoked_name() {
    let s = util::Scratch::new();
    let link = s.join("cp");
    symlink(util::fastcp_path(), &link).unwrap();
    let out = std::process::Command::new(&link)
        .env_clear()
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let prog = link.to_string_lossy();
    assert_eq!(
        text,
        format!("{prog}: missing file operand\nTry '{prog} --help' for more information.\n")
    );
    assert_eq!(out.status.code(), Some(1));
}

fn assert_unprivileged_same(setup: impl Fn(&Path), args: &[&str]) {
    if !util::require_root("drop to nobody, for whom permissions are checked") {
        return;
    }
    util::assert_same_as_gnu_unprivileged(setup, args);
}

#[test]
fn cannot_open_for_reading() {
    assert_unprivileged_same(
        |dir| {
            fixture(dir);
            std::fs::set_permissions(dir.join("a"), std::fs::Permissions::from_mode(0o000))
                .unwrap();
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        },
        &["a", "b"],
    );
}

#[test]
fn cannot_create_regular_file() {
    assert_unprivileged_same(
        |dir| {
            fixture(dir);
            std::fs::set_permissions(dir.join("d"), std::fs::Permissions::from_mode(0o555))
                .unwrap();
        },
        &["a", "d/z"],
    );
}

#[test]
fn cannot_overwrite_read_only_destination() {
    assert_unprivileged_same(
        |dir| {
            fixture(dir);
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
            std::fs::set_permissions(dir.join("x"), std::fs::Permissions::from_mode(0o444))
                .unwrap();
        },
        &["a", "x"],
    );
}

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    use std::os::unix::process::CommandExt;
    for flag in ["--help", "--version"] {
        // Run as `fastcp`, as from PATH: the Usage lines name argv[0] as given, and the
        // width checked is the text's, not the length of this checkout's path.
        let out = std::process::Command::new(util::fastcp_path())
            .arg0("fastcp")
            .env("LC_ALL", "C")
            .arg(flag)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stderr.is_empty());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.ends_with('\n'));
        assert!(
            text.lines().all(|l| l.chars().count() <= 80),
            "{flag}:\n{text}"
        );
    }
}

/// GNU cp has no short -h or -V; a drop-in must not invent them.
#[test]
fn no_invented_short_options() {
    assert_same_as_gnu(fixture, &["-h"]);
    assert_same_as_gnu(fixture, &["-V"]);
}

#[test]
fn bad_method_and_bufsize_are_usage_errors() {
    for args in [
        &["--method=nope", "a", "b"][..],
        &["--bufsize=0", "a", "b"],
        &["--bufsize=-1", "a", "b"],
        &["--bufsize=lots", "a", "b"],
    ] {
        let s = util::Scratch::new();
        fixture(s.path());
        let out = util::fastcp()
            .current_dir(s.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("for more information."), "{args:?}: {text}");
        assert!(!s.join("b").exists(), "{args:?} copied anyway");
    }
}

/// getopt gives a required argument the next word even when it starts with a dash.
#[test]
fn option_argument_may_start_with_a_dash() {
    assert_same_as_gnu(fixture, &["-t", "-x", "a"]);
    let s = util::Scratch::new();
    fixture(s.path());
    let out = util::fastcp()
        .current_dir(s.path())
        .args(["--bufsize", "-1", "a", "b"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid buffer size: '-1'"));
}

// Regression: --strip-trailing-slashes stripped every operand, the destination and the source
// of a plain SOURCE DEST copy too (`a/ b` copied where GNU says "cannot stat 'a/'"); GNU strips
// only the sources it copies into a directory.
same_as_gnu! {
    fixture;
    strip_slashes_plain_copy_keeps_them: ["--strip-trailing-slashes", "a/", "b"],
    strip_slashes_keeps_the_destination_s: ["--strip-trailing-slashes", "a", "x/"],
    strip_slashes_keeps_a_new_destination_s: ["--strip-trailing-slashes", "a", "new/"],
    strip_slashes_into_directory: ["--strip-trailing-slashes", "y/a/", "x", "d"],
    strip_slashes_into_target_directory: ["--strip-trailing-slashes", "-t", "d", "y/a/"],
    strip_slashes_with_parents: ["--strip-trailing-slashes", "--parents", "y/a/", "d"],
    strip_slashes_recursive: ["--strip-trailing-slashes", "-r", "y//", "d"],
}
