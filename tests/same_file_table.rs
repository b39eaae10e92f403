//! The same-file and overwrite decision table, generated: every combination of -b, -f,
//! --remove-destination, -l/-s, -d/-P/-L, --attributes-only and -n, in every situation where
//! the source and the destination may be one file, compared with /bin/cp (status, messages,
//! -v lines, the resulting files and their hard links). One test per situation, so a failure
//! names it; each lists every differing cell.

mod util;

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::path::PathBuf;
use util::{Entry, Outcome, Scratch, run_both, snapshot};

type Tree = BTreeMap<PathBuf, Entry>;

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
    let before = {
        let s = Scratch::new();
        setup(s.path());
        snapshot(s.path())
    };
    for set in &sets {
        let args: Vec<&str> = set.iter().chain(operands).copied().collect();
        // Numbered backups, as GNU's same-file.sh: the backup names show in -v lines.
        let (gnu, ours) = run_both(setup, &args, b"", &[("VERSION_CONTROL", "numbered")]);
        if ours != gnu && !refused_where_gnu_loses_the_source(&gnu, &ours, &before) {
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

/// The one kind of cell where fastcp does not do what GNU 9.1 does: two names that are one
/// directory entry through a symlinked directory (`foo` and `l/foo`, l a link to `.`), which
/// GNU's same_nameat takes for two entries, so that it moves aside (a backup) or unlinks
/// (--remove-destination) the source itself and then fails to read it. fastcp says they are
/// the same file, fails as GNU does, and has touched nothing.
fn refused_where_gnu_loses_the_source(gnu: &Outcome, ours: &Outcome, before: &Tree) -> bool {
    let gnu_lost_it = gnu
        .stderr
        .contains("for reading: No such file or directory")
        || gnu.stderr.contains("cannot read symbolic link");
    gnu_lost_it
        && gnu.code == 1
        && ours.code == 1
        && ours.stderr.ends_with("are the same file\n")
        && ours.stderr.lines().count() == 1
        && &ours.tree == before
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

/// One entry named through a symlink to its directory: GNU's same_nameat does not follow
/// the names' directories, so `l/foo` is another entry than `foo` (`cp -d l/sl sl` is a quiet
/// success, as two names of one symlink).
fn through_a_symlinked_directory(d: &Path) {
    write(d, "foo", "data\n");
    std::fs::hard_link(d.join("foo"), d.join("hardlink")).unwrap();
    symlink("foo", d.join("sl")).unwrap();
    symlink(".", d.join("l")).unwrap();
}

#[test]
fn same_entry_through_a_symlinked_directory() {
    table(through_a_symlinked_directory, &["foo", "l/foo"]);
    table(through_a_symlinked_directory, &["l/foo", "foo"]);
}

#[test]
fn same_symlink_through_a_symlinked_directory() {
    table(through_a_symlinked_directory, &["l/sl", "sl"]);
    table(through_a_symlinked_directory, &["sl", "l/sl"]);
}

#[test]
fn same_entry_into_a_directory_through_a_symlink() {
    table(through_a_symlinked_directory, &["l/foo", "."]);
    table(through_a_symlinked_directory, &["l/sl", "l/."]);
}

/// Where GNU takes one entry for two and goes on, -u, -n and -i still have their say first, as
/// in GNU: a destination that is not older is kept, and "n" leaves it (exit 0, no message).
#[test]
fn update_and_prompts_come_before_the_refusal_through_a_symlinked_directory() {
    let mut differing = Vec::new();
    for set in [
        &["-ub"][..],
        &["-u", "--remove-destination"],
        &["-ubd"],
        &["-ib"],
        &["-i", "--remove-destination"],
        &["-ibd"],
        &["-ibv"],
    ] {
        for operands in [
            ["foo", "l/foo"],
            ["l/foo", "foo"],
            ["l/sl", "sl"],
            ["hardlink", "l/foo"],
        ] {
            let args: Vec<&str> = set.iter().chain(&operands).copied().collect();
            let (gnu, ours) = run_both(through_a_symlinked_directory, &args, b"n\n", &[]);
            if ours != gnu {
                differing.push(format!("{args:?}\n  GNU:    {gnu:?}\n  fastcp: {ours:?}"));
            }
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
