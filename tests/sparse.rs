//! Sparse files keep their holes (--sparse=auto), gain holes for zero runs (always), or are
//! written out in full (never), with every method, as GNU cp lays them out.

mod util;

use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use util::{METHODS, Scratch, fastcp, pattern};

const GIB: u64 = 1 << 30;

/// An 8 GiB file holding 4 MiB of data in four places, the last one at the very end.
fn big_sparse(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    f.set_len(8 * GIB).unwrap();
    for (i, at) in [0, GIB + 4096, 4 * GIB + 12_345, 8 * GIB - (1 << 20)]
        .into_iter()
        .enumerate()
    {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&pattern(1 << 20, i as u64)).unwrap();
    }
}

/// The data extents of a file, as SEEK_DATA/SEEK_HOLE report them.
fn extents(path: &Path) -> Vec<(u64, u64)> {
    let f = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Ok(data) = rustix::fs::seek(&f, rustix::fs::SeekFrom::Data(pos)) {
        let hole = rustix::fs::seek(&f, rustix::fs::SeekFrom::Hole(data)).unwrap();
        out.push((data, hole));
        pos = hole;
    }
    out
}

/// Same length, same data extents, same bytes in them: equal files, read in O(data).
fn assert_same_sparse_file(a: &Path, b: &Path) {
    use std::os::unix::fs::FileExt;
    assert_eq!(
        std::fs::metadata(a).unwrap().len(),
        std::fs::metadata(b).unwrap().len()
    );
    let (ea, eb) = (extents(a), extents(b));
    assert_eq!(ea, eb, "data extents differ");
    let (fa, fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    for (start, end) in ea {
        let len = (end - start) as usize;
        let (mut x, mut y) = (vec![0u8; len], vec![0u8; len]);
        fa.read_exact_at(&mut x, start).unwrap();
        fb.read_exact_at(&mut y, start).unwrap();
        assert!(x == y, "bytes differ in extent at {start}");
    }
}

#[test]
fn holes_are_kept_with_every_method() {
    let s = Scratch::new();
    let src = s.join("sparse");
    big_sparse(&src);
    let gnu = s.join("gnu");
    util::gnu_cp().arg(&src).arg(&gnu).assert().success();
    let gnu_blocks = std::fs::metadata(&gnu).unwrap().blocks();
    for method in METHODS {
        let dst = s.join(method);
        fastcp()
            .arg(format!("--method={method}"))
            .arg(&src)
            .arg(&dst)
            .assert()
            .success();
        assert_same_sparse_file(&src, &dst);
        let blocks = std::fs::metadata(&dst).unwrap().blocks();
        assert_eq!(
            blocks, gnu_blocks,
            "{method}: allocated blocks differ from GNU cp's"
        );
        std::fs::remove_file(&dst).unwrap();
    }
}

#[test]
fn sparse_always_turns_zero_runs_into_holes() {
    let s = Scratch::new();
    let mut data = vec![0u8; 1 << 20];
    data.extend_from_slice(&pattern(10_000, 1));
    data.extend_from_slice(&vec![0u8; 3 << 20]);
    data.extend_from_slice(b"end");
    let src = s.write("zeros", &data);
    let gnu = s.join("gnu");
    util::gnu_cp()
        .arg("--sparse=always")
        .arg(&src)
        .arg(&gnu)
        .assert()
        .success();
    for method in ["auto", "read-write"] {
        let dst = s.join(format!("ours-{method}"));
        fastcp()
            .args(["--sparse=always", &format!("--method={method}")])
            .arg(&src)
            .arg(&dst)
            .assert()
            .success();
        assert_eq!(std::fs::read(&dst).unwrap(), data);
        assert_eq!(
            std::fs::metadata(&dst).unwrap().blocks(),
            std::fs::metadata(&gnu).unwrap().blocks(),
            "{method}"
        );
        assert!(
            std::fs::metadata(&dst).unwrap().blocks() < std::fs::metadata(&src).unwrap().blocks()
        );
    }
}

#[test]
fn sparse_never_writes_every_byte() {
    let s = Scratch::new();
    let src = s.join("sparse");
    let mut f = std::fs::File::create(&src).unwrap();
    f.set_len(64 << 20).unwrap();
    f.write_all(b"head").unwrap();
    for method in METHODS {
        let dst = s.join(method);
        fastcp()
            .args(["--sparse=never", &format!("--method={method}")])
            .arg(&src)
            .arg(&dst)
            .assert()
            .success();
        let meta = std::fs::metadata(&dst).unwrap();
        assert_eq!(meta.len(), 64 << 20);
        assert!(meta.blocks() * 512 >= 64 << 20, "{method}: holes left");
        util::assert_same_bytes(&src, &dst);
    }
}

#[test]
fn sparse_file_ending_in_a_hole_keeps_its_length() {
    let s = Scratch::new();
    let src = s.join("tail-hole");
    let mut f = std::fs::File::create(&src).unwrap();
    f.write_all(&pattern(5000, 2)).unwrap();
    f.set_len(100 << 20).unwrap();
    for method in METHODS {
        let dst = s.join(method);
        fastcp()
            .arg(format!("--method={method}"))
            .arg(&src)
            .arg(&dst)
            .assert()
            .success();
        assert_same_sparse_file(&src, &dst);
    }
}

#[test]
fn bad_sparse_argument_is_gnus_usage_error() {
    util::assert_same_as_gnu(
        |d| std::fs::write(d.join("a"), b"a").unwrap(),
        &["--sparse=sometimes", "a", "b"],
    );
}

#[test]
fn debug_names_the_sparse_detection() {
    let s = Scratch::new();
    let src = s.join("sparse");
    let mut f = std::fs::File::create(&src).unwrap();
    f.set_len(10 << 20).unwrap();
    f.write_all(b"x").unwrap();
    let out = fastcp()
        .arg("--debug")
        .arg(&src)
        .arg(s.join("o"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("sparse detection: SEEK_HOLE\n"), "{text}");
}
