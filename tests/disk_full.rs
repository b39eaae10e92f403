//! A filesystem that fills up mid-copy: GNU's message, exit 1, the other sources still tried,
//! and no file reported as copied that is not whole. Runs on a real, size-limited tmpfs, and on
//! a loop-mounted btrfs with a quota group limit (EDQUOT).

mod util;

use std::path::Path;
use util::{Mounted, Scratch, fastcp, pattern};

fn write(path: &Path, data: &[u8]) {
    std::fs::write(path, data).unwrap();
}

per_method!(no_space_is_reported, |method| {
    let Some(fs) = Mounted::tmpfs("4m") else {
        return;
    };
    // Sources live on the same tmpfs so that copy_file_range accepts the pair.
    let small = pattern(1000, 1);
    let big = pattern(3 << 20, 2);
    write(&fs.path("small"), &small);
    write(&fs.path("big"), &big);
    std::fs::create_dir(fs.path("out")).unwrap();
    let out = fastcp()
        .arg(format!("--method={method}"))
        .arg(fs.path("small"))
        .arg(fs.path("big"))
        .arg(fs.path("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{method}");
    let text = String::from_utf8_lossy(&out.stderr);
    // GNU's words for copy_file_range's failure (auto's first method within one filesystem).
    let want = if ["auto", "copy-file-range"].contains(&method) {
        format!(
            "error copying '{}' to '{}': No space left on device",
            fs.path("big").display(),
            fs.path("out/big").display()
        )
    } else {
        format!(
            "error writing '{}': No space left on device",
            fs.path("out/big").display()
        )
    };
    assert!(text.contains(&want), "{method}: {text}");
    assert_eq!(std::fs::read(fs.path("out/small")).unwrap(), small);
    let partial = std::fs::metadata(fs.path("out/big")).unwrap().len();
    assert!(
        partial < big.len() as u64,
        "{method}: partial copy is shorter"
    );
    // What did land is the source's prefix, never other bytes.
    let got = std::fs::read(fs.path("out/big")).unwrap();
    assert!(got == big[..got.len()], "{method}");
});

/// The message matches GNU cp's for the same full filesystem.
#[test]
fn no_space_message_matches_gnu() {
    let Some(fs) = Mounted::tmpfs("2m") else {
        return;
    };
    write(&fs.path("big"), &pattern(1 << 20, 3));
    let outside = Scratch::new();
    let src = outside.write("big", &pattern(3 << 20, 3));
    gnu_then_ours(&src, &fs.path("gnu"));
}

/// Copies `src` to `dst` with GNU cp, removes what it left, copies again with fastcp, and
/// asserts the two said the same and exited alike.
fn gnu_then_ours(src: &Path, dst: &Path) {
    let gnu = util::gnu_cp().arg(src).arg(dst).output().unwrap();
    std::fs::remove_file(dst).unwrap();
    let ours = fastcp().arg(src).arg(dst).output().unwrap();
    util::assert_same_words(&ours, &gnu);
}

/// Within one filesystem the default copy is copy_file_range's, and GNU words its full disk
/// as that call's failure: "error copying 'a' to 'b'", not "error writing 'b'".
#[test]
fn no_space_within_one_filesystem_matches_gnu() {
    let Some(fs) = Mounted::tmpfs("3m") else {
        return;
    };
    write(&fs.path("big"), &pattern(2_000_000, 4));
    gnu_then_ours(&fs.path("big"), &fs.path("copy"));
}

/// A btrfs image with quota groups, mounted, and a subvolume `limited` to `limit` (root too is
/// held to a qgroup limit).
fn quota_fs(limit: &str) -> Option<Mounted> {
    let fs = Mounted::image(&["mkfs.btrfs", "-q"], "")?;
    let sub = fs.path("limited");
    let btrfs = |args: &[&str], path: &Path| {
        util::quiet(std::process::Command::new("btrfs").args(args).arg(path))
    };
    if !(btrfs(&["quota", "enable"], &fs.mount)
        && btrfs(&["subvolume", "create"], &sub)
        && btrfs(&["qgroup", "limit", limit], &sub))
    {
        util::skip("btrfs quota groups are not available here");
        return None;
    }
    Some(fs)
}

// A copy over a disk quota (EDQUOT, not ENOSPC): GNU's message and status for every method
// that writes, and what landed is the source's prefix.
per_method!(
    quota_exceeded_is_reported_as_gnu_does,
    [auto, read_write, sendfile, splice],
    |method| {
        let Some(fs) = quota_fs("2M") else {
            return;
        };
        // The source on another filesystem: nothing can be shared with it, every byte is written.
        let outside = Scratch::new();
        let big = pattern(6 << 20, 4);
        let src = outside.write("big", &big);
        let copy = fs.path("limited/copy");
        let run = |mut cmd: util::Cmd| {
            let out = cmd.arg(&src).arg(&copy).output().unwrap();
            (out.status.code(), out.stderr)
        };
        let (gnu_code, gnu_err) = run(util::gnu_cp());
        let gnu_err = util::normalize(&gnu_err, "/bin/cp");
        assert!(gnu_err.contains("Disk quota exceeded"), "{gnu_err}");
        std::fs::remove_file(&copy).unwrap();
        let prog = util::fastcp_path().to_string_lossy().into_owned();
        let mut cmd = fastcp();
        cmd.arg(format!("--method={method}"));
        let (code, err) = run(cmd);
        assert_eq!(util::normalize(&err, &prog), gnu_err, "{method}");
        assert_eq!(code, gnu_code, "{method}");
        let got = std::fs::read(&copy).unwrap();
        assert!(got.len() < big.len(), "{method}: a partial copy");
        assert!(got == big[..got.len()], "{method}: the source's prefix");
        std::fs::remove_file(&copy).unwrap();
        // Freed extents return to the quota only once the transaction commits.
        let _ = std::process::Command::new("sync")
            .arg("-f")
            .arg(fs.path("limited"))
            .status();
    }
);

/// A file of `len` bytes, a hole but for `data` at `at`.
fn with_hole(path: &Path, len: u64, at: u64, data: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::create(path).unwrap();
    file.set_len(len).unwrap();
    file.write_all_at(data, at).unwrap();
}

/// A dense copy of a file with holes writes the holes' zeros apart from the data in GNU's
/// copy (--sparse=never, or a destination that is not a regular file), and words their failure
/// apart: "'h': write failed" between two extents, "failed to extend 'h'" after the last
/// (fastcp said "error writing" or, within one filesystem, "error copying" for both).
#[test]
fn a_holes_zeros_failing_to_fit_are_reported_as_gnu() {
    let Some(fs) = Mounted::tmpfs("1m") else {
        return;
    };
    let outside = Scratch::new();
    for dir in [outside.path(), fs.path("").as_path()] {
        let hole_first = dir.join("hole first");
        with_hole(&hole_first, 4 << 20, (4 << 20) - 2, b"x\n");
        let hole_last = dir.join("hole:last");
        with_hole(&hole_last, 4 << 20, 0, b"x");
        for src in [&hole_first, &hole_last] {
            let dst = fs.path("a copy");
            let [gnu, ours] = [util::gnu_cp(), fastcp()].map(|mut cmd| {
                let out = cmd.arg("--sparse=never").arg(src).arg(&dst).output();
                std::fs::remove_file(&dst).unwrap();
                out.unwrap()
            });
            util::assert_same_words(&ours, &gnu);
        }
    }
    // A character device that is always full (1,7: /dev/full), made here.
    let full = outside.join("full: device");
    util::char_device_at(&full, 1, 7);
    for src in ["hole first", "hole:last"] {
        let src = outside.join(src);
        let gnu = util::gnu_cp().arg(&src).arg(&full).output().unwrap();
        let ours = fastcp().arg(&src).arg(&full).output().unwrap();
        util::assert_same_words(&ours, &gnu);
    }
}
