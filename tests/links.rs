//! -l, -s, --parents, --strip-trailing-slashes, --attributes-only and destination symlinks
//! inside trees, against GNU cp on the same fixture.

mod util;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use util::{Scratch, assert_same_attributes_as_gnu};

fn fixture(dir: &Path) {
    std::fs::create_dir_all(dir.join("d/s")).unwrap();
    std::fs::write(dir.join("d/f"), b"f\n").unwrap();
    std::fs::write(dir.join("d/s/g"), b"g\n").unwrap();
    symlink("f", dir.join("d/l")).unwrap();
    std::fs::write(dir.join("a"), b"a\n").unwrap();
    std::fs::write(dir.join("other"), b"other\n").unwrap();
    std::fs::create_dir(dir.join("t")).unwrap();
    std::fs::set_permissions(dir.join("a"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::write(dir.join("old"), b"old data\n").unwrap();
    // A destination tree whose "s" is a symlink to a directory.
    std::fs::create_dir_all(dir.join("k/real")).unwrap();
    symlink("real", dir.join("k/s")).unwrap();
}

same_as_gnu! {
    fixture;
    hard_link_a_file: ["-l", "a", "b"],
    hard_link_into_directory: ["-lv", "a", "t"],
    hard_link_over_another_file: ["-l", "a", "other"],
    hard_link_forced_over_another_file: ["-lf", "a", "other"],
    hard_link_onto_itself: ["-l", "a", "a"],
    hard_link_a_tree: ["-rl", "d", "e"],
    hard_and_symbolic_together: ["-ls", "a", "b"],
    symlink_in_current_directory: ["-s", "a", "b"],
    relative_symlink_elsewhere_is_refused: ["-s", "a", "t/b"],
    symlink_over_existing_file_needs_force: ["-s", "a", "other"],
    symlink_forced_over_existing_file: ["-sf", "a", "other"],
    parents_recreates_the_path: ["--parents", "-v", "d/s/g", "d/f", "t"],
    parents_recursive: ["--parents", "-r", "d/s", "t"],
    parents_need_a_directory: ["--parents", "d/f", "a"],
    parents_with_preserve: ["--parents", "-p", "d/s/g", "t"],
    strip_trailing_slashes: ["-r", "--strip-trailing-slashes", "d/", "e"],
    attributes_only_new_file: ["--attributes-only", "a", "new"],
    attributes_only_keeps_existing_data: ["--attributes-only", "-p", "a", "old"],
    symlink_to_directory_in_destination_tree: ["-r", "d/.", "k"],
}

#[test]
fn hard_links_share_the_inode() {
    assert_same_attributes_as_gnu(fixture, &["-rl", "d", "e"], "", false);
}

/// -rs needs absolute names; both programs link to the same absolute source.
#[test]
fn symbolic_link_a_tree_with_absolute_names() {
    let s = Scratch::new();
    fixture(s.path());
    let src = s.join("d");
    let src = src.to_str().unwrap();
    util::gnu_cp()
        .current_dir(s.path())
        .args(["-rs", src, "gnu"])
        .assert()
        .success();
    util::fastcp()
        .current_dir(s.path())
        .args(["-rs", src, "ours"])
        .assert()
        .success();
    assert_eq!(
        util::snapshot(&s.join("ours")),
        util::snapshot(&s.join("gnu"))
    );
    assert!(
        std::fs::symlink_metadata(s.join("ours/f"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// --keep-directory-symlink (GNU 9.2) follows the destination's symlink instead of refusing.
#[test]
fn keep_directory_symlink_copies_through_it() {
    let s = Scratch::new();
    fixture(s.path());
    util::fastcp()
        .current_dir(s.path())
        .args(["-r", "--keep-directory-symlink", "d/.", "k"])
        .assert()
        .success();
    assert_eq!(s.read("k/real/g"), b"g\n");
    assert!(
        std::fs::symlink_metadata(s.join("k/s"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// GNU names the destination of a relative symlink it cannot make with `quotef` (shell-escape
/// quoting, `:` quoted too): `d/f~` and `d/é` bare, `d/a=b` and `d/a:b` quoted; `#` and `~`
/// count only at the start, `{` and `}` only alone. fastcp quoted the first and left the
/// second bare.
#[test]
fn relative_symlink_refusal_quotes_the_name_as_gnu() {
    let setup = |dir: &Path| {
        std::fs::write(dir.join("x"), b"x").unwrap();
        for sub in ["d", "~x", "#x", "{"] {
            std::fs::create_dir(dir.join(sub)).unwrap();
        }
    };
    let names = [
        "d/f~",
        "d/~f",
        "d/f#",
        "d/#f",
        "d/a=b",
        "d/a:b",
        "d/{",
        "d/}",
        "d/a]",
        "d/a[",
        "d/é",
        "d/a b",
        "d/a'b",
        "d/a%+,@_-.",
        "~x/f",
        "#x/f",
        "{/f",
        "d/a\tb",
        "d/a!",
        // What glibc's iswprint says the locale cannot print is escaped, not only controls:
        // a line separator, an unassigned code point, a noncharacter.
        "d/a\u{2028}b",
        "d/a\u{378}b",
        "d/a\u{ffff}b",
        "d/a\u{ad}b",
    ];
    for locale in ["C", "C.UTF-8"] {
        for name in names {
            let (gnu, ours) = util::run_both(setup, &["-s", "x", name], b"", &[("LC_ALL", locale)]);
            assert_eq!(ours, gnu, "{locale} {name:?}");
            assert_eq!(ours.code, 1, "{name:?}");
        }
    }
}
