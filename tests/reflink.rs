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
    util::assert_same_words(&ours, &gnu);
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

/// copy_file_range clones here, and a clone asked a count that is not a multiple of the block
/// size is cut short at a block boundary mid-file (REMAP_FILE_CAN_SHORTEN): that short count
/// is not the source's end. A source grown past the size it said before its copy started
/// (here while strace holds the first copy_file_range back) is copied whole, as GNU cp does.
fn clone_cut_at_a_block_is_not_the_end(kind: &str) {
    let Some(fs) = mounted(kind) else { return };
    let (src, dst) = (fs.path("src"), fs.path("dst"));
    std::fs::write(&src, pattern(100, 5)).unwrap();
    let Ok(mut child) = util::strace_delaying("copy_file_range", 1_500_000, ":when=1")
        .arg(util::fastcp_path())
        .args(["--method=copy-file-range", "--bufsize=5000"])
        .arg(&src)
        .arg(&dst)
        .spawn()
    else {
        util::skip("strace is not installed");
        return;
    };
    // The destination is made after the source was looked at, before the first call.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !dst.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{kind}: no destination"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut f = std::fs::OpenOptions::new().append(true).open(&src).unwrap();
    std::io::Write::write_all(&mut f, &pattern(1 << 20, 6)).unwrap();
    assert!(child.wait().unwrap().success(), "{kind}");
    let (got, want) = (std::fs::read(&dst).unwrap(), std::fs::read(&src).unwrap());
    assert_eq!(got.len(), want.len(), "{kind}: bytes left behind");
    assert!(got == want, "{kind}");
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
    explicit_method_is_not_bypassed,
    clone_cut_at_a_block_is_not_the_end
);
