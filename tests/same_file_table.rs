//! The same-file and overwrite decision table, generated: every combination of -b, -f,
//! --remove-destination, -l/-s, -d/-P/-L, --attributes-only and -n, in every situation where
//! the source and the destination may be one file, compared with /bin/cp (status, messages,
//! -v lines, the resulting files and their hard links). One test per situation, so a failure
//! names it; each lists every differing cell.

mod util;

use std::os::unix::fs::symlink;
use std::path::Path;
use util::run_both;

fn write(dir: &Path, rel: &str, data: &str) {
    std::fs::write(dir.join(rel), data).unwrap();
}

/// Every option set of the table, `-v` always on (its lines show what was decided).
fn option_sets() -> Vec<Vec<&'static str>> {
    let mut sets = Vec::new();
    for backup in [None, Some("-b")] {
        for force in [None, Some("-f")] {
            for remove in [None, Some("--remove-destination")] {
                for make in [None, Some("-l"), Some("-s")] {
                    for deref in [None, Some("-d"), Some("-P"), Some("-L")] {
                        for attrs in [None, Some("--attributes-only")] {
                            for clobber in [None, Some("-n")] {
                                let set = [backup, force, remove, make, deref, attrs, clobber]
                                    .into_iter()
                                    .flatten()
                                    .chain(["-v"])
                                    .collect();
                                sets.push(set);
                            }
                        }
                    }
                }
            }
        }
    }
    sets
}

/// Runs the whole table for one situation and fails listing every cell that differs.
fn table(setup: impl Fn(&Path) + Copy, operands: &[&str]) {
    let mut differing = Vec::new();
    let sets = option_sets();
    for set in &sets {
        let args: Vec<&str> = set.iter().chain(operands).copied().collect();
        // Numbered backups, as GNU's same-file.sh: the backup names show in -v lines.
        let (gnu, ours) = run_both(setup, &args, b"", &[("VERSION_CONTROL", "numbered")]);
        if ours != gnu {
            differing.push(format!("{args:?}\n  GNU:    {gnu:?}\n  fastcp: {ours:?}"));
        }
    }
    assert!(
        differing.is_empty(),
        "{} of {} cells differ from GNU cp:\n{}",
        differing.len(),
        sets.len(),
        differing.join("\n")
    );
}

#[test]
fn same_name() {
    table(|d| write(d, "foo", "data\n"), &["foo", "foo"]);
}

#[test]
fn same_name_through_dot() {
    table(|d| write(d, "foo", "data\n"), &["foo", "./foo"]);
}

#[test]
fn hard_link() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        std::fs::hard_link(d.join("foo"), d.join("hardlink")).unwrap();
    };
    table(setup, &["foo", "hardlink"]);
}

#[test]
fn destination_is_a_symlink_to_the_source() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        symlink("foo", d.join("symlink")).unwrap();
    };
    table(setup, &["foo", "symlink"]);
}

#[test]
fn source_is_a_symlink_to_the_destination() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        symlink("foo", d.join("symlink")).unwrap();
    };
    table(setup, &["symlink", "foo"]);
}

#[test]
fn two_symlinks_to_one_file() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        symlink("foo", d.join("sl1")).unwrap();
        symlink("foo", d.join("sl2")).unwrap();
    };
    table(setup, &["sl1", "sl2"]);
}

#[test]
fn hard_link_to_a_symlink() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        symlink("foo", d.join("sl2")).unwrap();
        std::fs::hard_link(d.join("sl2"), d.join("hlsl")).unwrap();
    };
    table(setup, &["hlsl", "sl2"]);
}

#[test]
fn dangling_symlink_destination() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        symlink("no-such", d.join("dangling")).unwrap();
    };
    table(setup, &["foo", "dangling"]);
}

#[test]
fn symlink_loop_destination() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        symlink("loop", d.join("loop")).unwrap();
    };
    table(setup, &["foo", "loop"]);
}

#[test]
fn symlink_onto_itself() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        symlink("foo", d.join("s")).unwrap();
    };
    table(setup, &["s", "s"]);
}

#[test]
fn chain_of_symlinks() {
    let setup = |d: &Path| {
        write(d, "c", "data\n");
        symlink("c", d.join("b")).unwrap();
        symlink("b", d.join("a")).unwrap();
    };
    table(setup, &["a", "b"]);
}

#[test]
fn source_named_like_the_backup() {
    let setup = |d: &Path| {
        write(d, "foo~", "precious\n");
        write(d, "foo", "other\n");
    };
    table(setup, &["foo~", "foo"]);
}

#[test]
fn destination_with_other_hard_links() {
    let setup = |d: &Path| {
        write(d, "foo", "data\n");
        write(d, "g", "old\n");
        std::fs::hard_link(d.join("g"), d.join("g2")).unwrap();
    };
    table(setup, &["foo", "g"]);
}
