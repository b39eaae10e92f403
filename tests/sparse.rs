//! Sparse files keep their holes (--sparse=auto), gain holes for zero runs (always), or are
//! written out in full (never), with every method, as GNU cp lays them out.

mod util;

use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use util::{Mounted, Scratch, fastcp, pattern};

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

/// Copies `src` to `dst` with fastcp's `--method=method`, `--sparse=sparse` (None: the
/// default), and asserts it succeeded.
fn copy(method: &str, sparse: Option<&str>, src: &Path, dst: &Path) {
    let mut cmd = fastcp();
    cmd.arg(format!("--method={method}"));
    if let Some(sparse) = sparse {
        cmd.arg(format!("--sparse={sparse}"));
    }
    cmd.arg(src).arg(dst).assert().success();
}

per_method!(holes_are_kept, |method| {
    let s = Scratch::new();
    let src = s.join("sparse");
    big_sparse(&src);
    let gnu = s.join("gnu");
    util::gnu_cp().arg(&src).arg(&gnu).assert().success();
    let gnu_blocks = std::fs::metadata(&gnu).unwrap().blocks();
    let dst = s.join(method);
    copy(method, None, &src, &dst);
    assert_same_sparse_file(&src, &dst);
    let blocks = std::fs::metadata(&dst).unwrap().blocks();
    assert_eq!(
        blocks, gnu_blocks,
        "{method}: allocated blocks differ from GNU cp's"
    );
    std::fs::remove_file(&dst).unwrap();
});

per_method!(
    sparse_always_turns_zero_runs_into_holes,
    [auto, read_write],
    |method| {
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
        let dst = s.join(format!("ours-{method}"));
        copy(method, Some("always"), &src, &dst);
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
);

per_method!(sparse_never_writes_every_byte, |method| {
    let s = Scratch::new();
    let src = s.join("sparse");
    let mut f = std::fs::File::create(&src).unwrap();
    f.set_len(64 << 20).unwrap();
    f.write_all(b"head").unwrap();
    let dst = s.join(method);
    copy(method, Some("never"), &src, &dst);
    let meta = std::fs::metadata(&dst).unwrap();
    assert_eq!(meta.len(), 64 << 20);
    assert!(meta.blocks() * 512 >= 64 << 20, "{method}: holes left");
    util::assert_same_bytes(&src, &dst);
});

per_method!(sparse_file_ending_in_a_hole_keeps_its_length, |method| {
    let s = Scratch::new();
    let src = s.join("tail-hole");
    let mut f = std::fs::File::create(&src).unwrap();
    f.write_all(&pattern(5000, 2)).unwrap();
    f.set_len(100 << 20).unwrap();
    let dst = s.join(method);
    copy(method, None, &src, &dst);
    assert_same_sparse_file(&src, &dst);
});

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
    // As GNU 9.1, which reads a file with holes to turn its zeros into holes too; a method
    // chosen that cannot see zeros copies its extents only.
    for (method, detection) in [
        ("auto", "SEEK_HOLE + zeros"),
        ("copy-file-range", "SEEK_HOLE"),
    ] {
        let out = fastcp()
            .arg("--debug")
            .arg(format!("--method={method}"))
            .arg(&src)
            .arg(s.join(method))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let line = format!("sparse detection: {detection}\n");
        assert!(text.contains(&line), "{method}: {text}");
    }
}

/// A file with a hole beside written zeros (a disk image): GNU 9.1 makes holes of the zeros
/// too, and so the copy takes the room of its data only. fastcp copied the data extents
/// whole, zeros allocated (2,056 blocks where GNU has 8).
#[test]
fn written_zeros_beside_a_hole_become_holes_as_gnus() {
    let s = Scratch::new();
    let src = s.join("image");
    let f = std::fs::File::create(&src).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &vec![0u8; 1 << 20], 0).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"data", 2 << 20).unwrap();
    f.sync_all().unwrap();
    let (gnu, ours) = blocks_of_both_copies(&s, &src);
    assert!(gnu < 100, "the filesystem keeps no holes: {gnu}");
    assert_eq!(ours, gnu);
}

/// Copies `src` with GNU cp and with fastcp (into `s`), checks fastcp's bytes, and returns
/// the blocks each copy takes (GNU's, fastcp's).
fn blocks_of_both_copies(s: &Scratch, src: &std::path::Path) -> (u64, u64) {
    let (gnu, ours) = (s.join("gnu"), s.join("ours"));
    util::gnu_cp().arg(src).arg(&gnu).ok().unwrap();
    fastcp().arg(src).arg(&ours).ok().unwrap();
    util::assert_same_bytes(src, &ours);
    let blocks = |p: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::File::open(p).unwrap().sync_all().unwrap();
        std::fs::metadata(p).unwrap().blocks()
    };
    (blocks(&gnu), blocks(&ours))
}

/// Where the copies of the tests below go: destinations that are not regular files, where a
/// hole cannot be left (GNU's copy_reg makes holes only when the destination is S_ISREG).
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// An anonymous pipe: the program's stdout, named /proc/self/fd/1.
    Pipe,
    /// A FIFO made in the scratch directory, read by a thread of the test.
    Fifo,
    /// A loop block device over a scratch image, filled with a pattern before each copy so
    /// that bytes left unwritten show.
    Block,
    /// Character devices made in the scratch directory (null: 1, 3 and zero: 1, 5).
    Null,
    Zero,
}

/// What one copy did: exit status, messages (program name normalised), and the bytes the
/// destination received (nothing can be read back from null and zero).
#[derive(Debug, PartialEq, Eq)]
struct Wrote {
    code: Option<i32>,
    stderr: String,
    bytes: Vec<u8>,
}

/// The sources: one with holes whose size is not a multiple of the block size and that ends
/// in a hole, one dense with runs of zeros (holes under --sparse=always), and a /proc file
/// that reports size 0.
fn special_sources(s: &Scratch) -> Vec<String> {
    let holes = s.join("holes");
    let mut f = std::fs::File::create(&holes).unwrap();
    f.write_all(&pattern(5000, 1)).unwrap();
    f.seek(SeekFrom::Start(1 << 20)).unwrap();
    f.write_all(&pattern(4096, 2)).unwrap();
    f.set_len((2 << 20) + 1234).unwrap();
    let mut zeros = pattern(3000, 3);
    zeros.extend_from_slice(&vec![0u8; 300_000]);
    zeros.extend_from_slice(&pattern(10, 4));
    s.write("zeros", &zeros);
    vec!["holes".into(), "zeros".into(), "/proc/version".into()]
}

/// Size of the loop device: larger than every source, so GNU's bytes and the stale pattern
/// after them are both compared.
const DEVICE: u64 = 4 << 20;

/// Runs `cmd` (GNU cp or fastcp, in `s`) with `args` and the destination of `kind` last.
fn copy_to(cmd: util::Cmd, s: &Scratch, args: &[&str], kind: Kind, block: Option<&Path>) -> Wrote {
    let mut cmd = cmd;
    cmd.current_dir(s.path())
        .args(args)
        .timeout(std::time::Duration::from_secs(60));
    let program = cmd.get_program().to_string_lossy().into_owned();
    let (out, bytes) = match kind {
        Kind::Pipe => {
            let out = cmd.arg("/proc/self/fd/1").output().unwrap();
            let bytes = out.stdout.clone();
            (out, bytes)
        }
        Kind::Fifo => {
            let fifo = s.join("fifo");
            let reader = std::thread::spawn({
                let fifo = fifo.clone();
                move || std::fs::read(fifo).unwrap()
            });
            let out = cmd.arg("fifo").output().unwrap();
            // A program that failed before opening the FIFO leaves the reader waiting in
            // open(2): a writer opened and closed here lets it see end of file. Until the
            // reader is in open(2), a writer that does not wait is refused (ENXIO): again,
            // until the reader is done.
            while !reader.is_finished() {
                let _ = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(&fifo);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            (out, reader.join().unwrap())
        }
        Kind::Block => {
            let node = block.unwrap();
            std::fs::write(node, pattern(DEVICE as usize, 9)).unwrap();
            let out = cmd.arg(node).output().unwrap();
            (out, std::fs::read(node).unwrap())
        }
        Kind::Null => (cmd.arg("null").output().unwrap(), Vec::new()),
        Kind::Zero => (cmd.arg("zero").output().unwrap(), Vec::new()),
    };
    Wrote {
        code: out.status.code(),
        stderr: util::normalize(&out.stderr, &program),
        bytes,
    }
}

/// The refusal of an explicit --method=copy-file-range: copy_file_range(2) takes regular files
/// only (EINVAL) and an explicit method never falls back, for a dense source as for a sparse
/// one (tests/special_files.rs); nothing is written.
fn refused(src: &str, dst: &str, kind: Kind, block_before: &[u8]) -> Wrote {
    Wrote {
        code: Some(1),
        stderr: format!(
            "cp: cannot copy '{src}' to '{dst}' with --method=copy-file-range: Invalid argument\n"
        ),
        bytes: match kind {
            Kind::Block => block_before.to_vec(),
            _ => Vec::new(),
        },
    }
}

// Regression: a sparse source copied to something that is not a regular file lost its data.
// To a pipe fastcp wrote nothing ("error reading 'sparse': Illegal seek", GNU's
// sparse-to-pipe.sh failed); to a block device the holes were seeked over, so the device kept
// its old bytes there (and the copy failed on ftruncate); to a character device ftruncate
// failed with EINVAL. Every byte must be written, holes as zeros, and nothing truncated, as
// /bin/cp does, under every --sparse mode.
per_method!(sparse_source_to_pipe_fifo_and_devices, |method| {
    let s = Scratch::new();
    let sources = special_sources(&s);
    s.fifo("fifo");
    s.char_device("null", 1, 3);
    s.char_device("zero", 1, 5);
    let block = util::LoopDevice::new(&s, "device.img", "blk", DEVICE);
    let mut kinds = vec![Kind::Pipe, Kind::Fifo, Kind::Null, Kind::Zero];
    if block.is_some() {
        kinds.push(Kind::Block);
    }
    let node = block.as_ref().map(|b| b.node.as_path());
    let stale = pattern(DEVICE as usize, 9);
    for src in &sources {
        for sparse in ["auto", "always", "never"] {
            let method_arg = format!("--method={method}");
            let sparse_arg = format!("--sparse={sparse}");
            for &kind in &kinds {
                let ours = copy_to(fastcp(), &s, &[&method_arg, &sparse_arg, src], kind, node);
                let expected = if method == "copy-file-range" {
                    let dst = match kind {
                        Kind::Pipe => "/proc/self/fd/1".to_string(),
                        Kind::Fifo => "fifo".into(),
                        Kind::Block => node.unwrap().display().to_string(),
                        Kind::Null => "null".into(),
                        Kind::Zero => "zero".into(),
                    };
                    refused(src, &dst, kind, &stale)
                } else {
                    copy_to(util::gnu_cp(), &s, &[&sparse_arg, src], kind, node)
                };
                assert!(
                    ours == expected,
                    "{method} --sparse={sparse} {src} to {kind:?}: ours {} bytes, exit {:?}, \
                         {:?}; expected {} bytes, exit {:?}, {:?}",
                    ours.bytes.len(),
                    ours.code,
                    ours.stderr,
                    expected.bytes.len(),
                    expected.code,
                    expected.stderr
                );
            }
        }
    }
});

// Regression guard for the fix above: holes are still made in regular files, new or existing
// (an existing destination is asked its type; a created one is known to be regular), with
// the same allocation as GNU cp's under --sparse=always.
per_method!(
    regular_destinations_still_get_holes_with_sparse_always,
    |method| {
        let s = Scratch::new();
        special_sources(&s);
        util::gnu_cp()
            .current_dir(s.path())
            .args(["--sparse=always", "holes", "gnu"])
            .assert()
            .success();
        let gnu_blocks = std::fs::metadata(s.join("gnu")).unwrap().blocks();
        let src_blocks = std::fs::metadata(s.join("holes")).unwrap().blocks();
        for existing in [false, true] {
            let dst = s.join(format!("{method}-{existing}"));
            if existing {
                std::fs::write(&dst, pattern(3 << 20, 5)).unwrap();
            }
            copy(method, Some("always"), &s.join("holes"), &dst);
            assert_same_sparse_file(&s.join("holes"), &dst);
            let blocks = std::fs::metadata(&dst).unwrap().blocks();
            assert_eq!(blocks, gnu_blocks, "{method}, existing: {existing}");
            assert!(blocks <= src_blocks, "{method}, existing: {existing}");
        }
    }
);

/// GNU takes a file for sparse when it has fewer 512-byte blocks than whole ones in its size
/// (integer division): 4,196 bytes in 8 blocks is not, and its copy is written whole. fastcp
/// compared bytes, made the 100-byte tail a hole (8 blocks where GNU's copy has 16), and on a
/// filesystem that refuses ftruncate failed the copy.
#[test]
fn a_short_tail_hole_is_not_sparse_as_gnus_test_says() {
    let s = Scratch::new();
    let src = s.join("tail");
    let f = std::fs::File::create(&src).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &[7u8; 4096], 0).unwrap();
    f.set_len(4196).unwrap();
    f.sync_all().unwrap();
    let (gnu, ours) = blocks_of_both_copies(&s, &src);
    assert_eq!(ours, gnu);
}

/// A dense file of 64 runs of 4 KiB of data and 64 KiB of zeros, and an 8 MiB one with holes:
/// data at 1 MiB, and written zeros then data at 3 MiB.
fn zero_runs(s: &Scratch) -> [std::path::PathBuf; 2] {
    use std::os::unix::fs::FileExt;
    let dense = s.join("zero runs");
    let mut bytes = Vec::new();
    for i in 0..64u8 {
        bytes.extend(std::iter::repeat_n(i | 1, 4096));
        bytes.extend(std::iter::repeat_n(0, 64 << 10));
    }
    std::fs::write(&dense, &bytes).unwrap();
    let holes = s.join("holes and zeros");
    let f = std::fs::File::create(&holes).unwrap();
    f.set_len(8 << 20).unwrap();
    f.write_all_at(&util::pattern(100_000, 5), 1 << 20).unwrap();
    let mut tail = vec![0u8; 300_000];
    tail.extend(util::pattern(5000, 6));
    f.write_all_at(&tail, 3 << 20).unwrap();
    [dense, holes]
}

/// XFS allocates ahead of writes that extend a file (speculative preallocation, here
/// allocsize=64k), so a hole left by seeking past it may hold blocks. GNU deallocates every
/// run of zeros it makes a hole, and under --sparse=always the holes between extents and at
/// the end too (fallocate PUNCH_HOLE); fastcp only seeked: 4,360 blocks where GNU's copy took
/// 520. The same blocks as GNU's under every --sparse mode, and the same bytes.
#[test]
fn holes_made_on_a_filesystem_that_allocates_ahead_take_no_more_room_than_gnus() {
    if !util::require_root("loop-mount an XFS image") {
        return;
    }
    let Some(fs) = Mounted::image(&["mkfs.xfs", "-q"], "allocsize=64k") else {
        return;
    };
    let s = Scratch::new();
    let blocks = |p: &Path| {
        std::fs::File::open(p).unwrap().sync_all().unwrap();
        std::fs::metadata(p).unwrap().blocks()
    };
    for src in zero_runs(&s) {
        for mode in ["--sparse=always", "--sparse=auto", "--sparse=never"] {
            let (gnu, ours) = (fs.path("gnu"), fs.path("ours"));
            util::gnu_cp().arg(mode).arg(&src).arg(&gnu).ok().unwrap();
            fastcp().arg(mode).arg(&src).arg(&ours).ok().unwrap();
            util::assert_same_bytes(&src, &ours);
            assert_eq!(blocks(&ours), blocks(&gnu), "{mode} {}", src.display());
            std::fs::remove_file(&gnu).unwrap();
            std::fs::remove_file(&ours).unwrap();
        }
    }
}
