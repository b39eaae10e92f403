//! Clones on filesystems that share extents (XFS with reflink=1, btrfs), on loop-mounted
//! images: --reflink=auto clones by default, always clones or fails as GNU cp does, never
//! copies the data. Skipped, with the reason printed, where the tools or mounting are missing.

mod util;

use util::{Mounted, Scratch, fastcp, pattern, stats_json};

/// The image for `kind`: XFS with reflinks, or btrfs.
fn mounted(kind: &str) -> Option<Mounted> {
    match kind {
        "xfs" => Mounted::image(&["mkfs.xfs", "-q", "-m", "reflink=1"], ""),
        _ => Mounted::image(&["mkfs.btrfs", "-q"], ""),
    }
}

const SIZE: usize = 64 << 20;

fn clones_by_default(kind: &str) {
    let Some(fs) = mounted(kind) else { return };
    let data = pattern(SIZE, 1);
    std::fs::write(fs.path("src"), &data).unwrap();
    let before = fs.used();
    let out = fastcp()
        .arg("--stats=json")
        .arg(fs.path("src"))
        .arg(fs.path("dst"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stats = stats_json(&out.stderr);
    assert_eq!(stats["methods"]["regular"]["reflink"], 1, "{kind}: {stats}");
    assert!(std::fs::read(fs.path("dst")).unwrap() == data);
    // Shared extents: the copy takes (almost) no space of its own.
    let grew = fs.used().saturating_sub(before);
    assert!(grew < (SIZE as u64) / 4, "{kind}: copy used {grew} bytes");
}

fn never_copies_the_data(kind: &str) {
    let Some(fs) = mounted(kind) else { return };
    let data = pattern(SIZE, 2);
    std::fs::write(fs.path("src"), &data).unwrap();
    let before = fs.used();
    fastcp()
        .arg("--reflink=never")
        .arg(fs.path("src"))
        .arg(fs.path("dst"))
        .assert()
        .success();
    assert!(std::fs::read(fs.path("dst")).unwrap() == data);
    let grew = fs.used().saturating_sub(before);
    assert!(
        grew >= (SIZE as u64) * 9 / 10,
        "{kind}: --reflink=never shared extents ({grew} bytes)"
    );
}

fn always_fails_like_gnu_across_filesystems(kind: &str) {
    let Some(fs) = mounted(kind) else { return };
    let outside = Scratch::new();
    let src = outside.write("src", &pattern(10_000, 3));
    let gnu = util::gnu_cp()
        .arg("--reflink=always")
        .arg(&src)
        .arg(fs.path("gnu"))
        .output()
        .unwrap();
    let ours = fastcp()
        .arg("--reflink=always")
        .arg(&src)
        .arg(fs.path("gnu"))
        .output()
        .unwrap();
    let prog = util::fastcp_path().to_string_lossy().into_owned();
    assert_eq!(
        util::normalize(&ours.stderr, &prog),
        util::normalize(&gnu.stderr, "/bin/cp")
    );
    assert_eq!(ours.status.code(), gnu.status.code());
    assert_eq!(ours.status.code(), Some(1));
    // On the same filesystem, always succeeds.
    std::fs::write(fs.path("a"), b"same fs").unwrap();
    fastcp()
        .arg("--reflink=always")
        .arg(fs.path("a"))
        .arg(fs.path("b"))
        .assert()
        .success();
    assert_eq!(std::fs::read(fs.path("b")).unwrap(), b"same fs");
}

/// An explicit --method is measured, not bypassed by a clone; --reflink=always still clones.
fn explicit_method_is_not_bypassed(kind: &str) {
    let Some(fs) = mounted(kind) else { return };
    std::fs::write(fs.path("src"), pattern(1 << 20, 4)).unwrap();
    let out = fastcp()
        .args(["--stats=json", "--method=read-write"])
        .arg(fs.path("src"))
        .arg(fs.path("dst"))
        .output()
        .unwrap();
    assert_eq!(
        stats_json(&out.stderr)["methods"]["regular"]["read-write"],
        1
    );
    let out = fastcp()
        .args(["--stats=json", "--method=read-write", "--reflink=always"])
        .arg(fs.path("src"))
        .arg(fs.path("dst2"))
        .output()
        .unwrap();
    assert_eq!(stats_json(&out.stderr)["methods"]["regular"]["reflink"], 1);
}

macro_rules! on_each_filesystem {
    ($($test:ident),*) => {
        mod xfs { $( #[test] fn $test() { super::$test("xfs"); } )* }
        mod btrfs { $( #[test] fn $test() { super::$test("btrfs"); } )* }
    };
}

on_each_filesystem!(
    clones_by_default,
    never_copies_the_data,
    always_fails_like_gnu_across_filesystems,
    explicit_method_is_not_bypassed
);
