//! A source that shrinks or grows while it is copied: the copy ends, and every byte in the
//! destination is a byte that was read from the source at that offset.

mod util;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;
use util::{Scratch, pattern};

const SIZE: usize = 64 << 20;

/// Starts fastcp with a small per-call count (so the copy takes many calls), lets it run a
/// moment, applies `change` to the source, and waits for fastcp to end.
fn copy_while(method: &str, change: impl FnOnce(&std::path::Path)) -> (Scratch, Vec<u8>) {
    let s = Scratch::new();
    let data = pattern(SIZE, 7);
    let src = s.write("src", &data);
    let mut child = std::process::Command::new(util::fastcp_path())
        .env_clear()
        .arg(format!("--method={method}"))
        .arg("--bufsize=4096")
        .arg(&src)
        .arg(s.join("dst"))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(30));
    change(&src);
    // A copy that loops forever on a shrunk source fails here instead of hanging the suite.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{method}: fastcp did not finish after the source changed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{method}: {status:?}");
    (s, data)
}

per_method!(shrinking_source_ends_the_copy_at_its_new_end, |method| {
    let (s, data) = copy_while(method, |src| {
        let f = std::fs::OpenOptions::new().write(true).open(src).unwrap();
        f.set_len(1 << 20).unwrap();
    });
    let got = s.read("dst");
    assert!(got.len() <= SIZE, "{method}");
    assert!(
        got == data[..got.len()],
        "{method}: bytes that were not read"
    );
    // Blocks reserved for the whole source (fallocate on ext4) are given back past the end.
    let blocks = std::os::unix::fs::MetadataExt::blocks(&std::fs::metadata(s.join("dst")).unwrap());
    let needed = (got.len() as u64).div_ceil(4096) * 4096;
    assert!(
        blocks * 512 <= needed + (64 << 10),
        "{method}: {blocks} blocks for {} bytes",
        got.len()
    );
});

per_method!(growing_source_is_copied_to_its_end, |method| {
    let extra = pattern(1 << 20, 8);
    let (s, data) = copy_while(method, |src| {
        let mut f = std::fs::OpenOptions::new().append(true).open(src).unwrap();
        f.write_all(&extra).unwrap();
    });
    let got = s.read("dst");
    let mut whole = data.clone();
    whole.extend_from_slice(&extra);
    assert!(got.len() >= SIZE, "{method}: stopped before the old end");
    assert!(
        got == whole[..got.len()],
        "{method}: bytes that were not read"
    );
});

// Another file renamed over the source mid-copy: the copy goes on reading the file it opened
// (the old inode), so the result is that file whole, never a mix.
per_method!(source_replaced_by_rename_copies_the_opened_file, |method| {
    let replacement = pattern(1 << 20, 9);
    let (s, data) = copy_while(method, |src| {
        let other = src.with_file_name("other");
        std::fs::write(&other, &replacement).unwrap();
        std::fs::rename(&other, src).unwrap();
    });
    let got = s.read("dst");
    assert_eq!(got.len(), data.len(), "{method}");
    assert!(got == data, "{method}: bytes from two files");
});

/// Runs `program SRC DST` under strace with the open of SRC held back `delay_ms`, renames
/// another file over SRC meanwhile (after `after_ms`), and returns the exit code, stderr with
/// the program's name replaced by `cp`, and what DST holds. None when strace is missing.
fn replaced_before_open(
    program: &std::path::Path,
    after_ms: u64,
) -> Option<(i32, String, Option<Vec<u8>>)> {
    let s = Scratch::new();
    let src = s.write("src", b"the file that was looked at");
    let other = s.write("other", b"a file put in its place");
    let child = util::strace_delaying("openat", (after_ms + 700) * 1000, "")
        .arg("-P")
        .arg(&src)
        .arg(program)
        .arg(&src)
        .arg(s.join("dst"))
        .env_clear()
        .env("LC_ALL", "C")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(after_ms));
    std::fs::rename(&other, &src).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr)
        .replace(&*program.to_string_lossy(), "cp")
        .replace(&*s.path().to_string_lossy(), "DIR");
    Some((
        out.status.code().unwrap_or(-1),
        stderr,
        std::fs::read(s.join("dst")).ok(),
    ))
}

/// A source replaced between its stat and its open is skipped, with GNU cp's message and
/// status: what was decided about one file is never applied to another.
#[test]
fn source_replaced_between_stat_and_open_is_skipped_as_gnu_does() {
    let fastcp = util::fastcp_path();
    for after_ms in [300, 1000, 3000] {
        let Some(gnu) = replaced_before_open(std::path::Path::new("/bin/cp"), after_ms) else {
            util::skip("strace is not installed");
            return;
        };
        if gnu.2.is_some() {
            continue; // the rename came before the stat: try again with more time
        }
        let ours = replaced_before_open(&fastcp, after_ms).unwrap();
        assert!(
            gnu.1.contains("as it was replaced while being copied"),
            "{gnu:?}"
        );
        assert_eq!((ours.0, &ours.1, &ours.2), (gnu.0, &gnu.1, &gnu.2));
        return;
    }
    panic!("the source was never replaced between its stat and its open");
}

/// Whether process `pid` holds `path` open (one of its /proc/PID/fd links points to it).
fn holds_open(pid: u32, path: &std::path::Path) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|to| to == path))
}

// A FIFO destination takes what its pipe has room for: a call that moves less than it asked
// is then the reader's doing, not the source's end. A source that grew past the size it said
// (here while the copy waited for the FIFO's reader) is copied to its end, as GNU cp does.
per_method!(
    source_grown_before_a_fifo_destination_is_copied_to_its_end,
    [auto, read_write, sendfile, splice],
    |method| {
        let s = Scratch::new();
        let src = s.write("src", &pattern(100, 1));
        let fifo = s.fifo("fifo");
        let mut child = std::process::Command::new(util::fastcp_path())
            .env_clear()
            .arg(format!("--method={method}"))
            .arg(&src)
            .arg(&fifo)
            .spawn()
            .unwrap();
        // The source is looked at and opened before the FIFO, whose open waits for a reader.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !holds_open(child.id(), &src) {
            assert!(
                std::time::Instant::now() < deadline,
                "{method}: never opened"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let more = pattern(4 << 20, 2);
        let mut f = std::fs::OpenOptions::new().append(true).open(&src).unwrap();
        f.write_all(&more).unwrap();
        let got = std::fs::read(&fifo).unwrap();
        assert!(child.wait().unwrap().success(), "{method}");
        assert_eq!(got.len(), 100 + more.len(), "{method}: bytes left behind");
        assert!(got == std::fs::read(&src).unwrap(), "{method}");
    }
);

/// Bytes appended while a large copy_file_range call runs are copied, as GNU's next call
/// finds them: the call moves no more than the size the source had when it began, so its
/// short count at that size is not the end of a file that may have grown meanwhile; only a
/// call of 128 KiB or less is taken as the end. Emulated by holding the call back before it
/// returns while the source grows (1,000,000 bytes in one call: `auto` lost the 8 appended
/// bytes). sendfile and read count up to the end they find, so theirs is taken at any size.
#[test]
fn bytes_appended_while_a_large_copy_call_runs_are_copied() {
    for method in ["auto", "copy-file-range"] {
        let s = Scratch::new();
        let data = pattern(1_000_000, 10);
        let src = s.write("src", &data);
        let Ok(mut child) = util::strace_delaying_return("copy_file_range", 700_000, ":when=1")
            .arg(util::fastcp_path())
            .arg(format!("--method={method}"))
            .arg(&src)
            .arg(s.join("dst"))
            .env_clear()
            .spawn()
        else {
            util::skip("strace is not installed");
            return;
        };
        std::thread::sleep(Duration::from_millis(350));
        let mut f = std::fs::OpenOptions::new().append(true).open(&src).unwrap();
        f.write_all(b"APPENDED").unwrap();
        assert!(child.wait().unwrap().success(), "{method}");
        let mut whole = data;
        whole.extend_from_slice(b"APPENDED");
        assert!(
            s.read("dst") == whole,
            "{method}: the appended bytes are missing"
        );
    }
}

/// A file of a listed directory replaced by a FIFO before it is opened (the listing held back
/// 1.5 s, the FIFO made after 0.5 s): GNU looks at each entry's type right before it opens
/// it and makes a FIFO; fastcp, which opens entries recorded as regular files without a stat
/// first, blocked in the open until a writer came, for ever. Both tools, one result.
#[test]
fn a_listed_file_replaced_by_a_fifo_is_made_a_fifo() {
    let run = |program: &std::path::Path| {
        let s = Scratch::new();
        s.mkdir("src");
        s.write("src/y", b"y\n");
        s.write("src/z", b"z\n");
        let child = util::strace_delaying_return("getdents64", 1_500_000, ":when=1")
            .arg(program)
            .args(["-r", "src", "dst"])
            .current_dir(s.path())
            .env_clear()
            .stderr(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        std::thread::sleep(Duration::from_millis(500));
        std::fs::remove_file(s.join("src/z")).unwrap();
        util::mkfifo(&s.join("src/z"), 0o644);
        // A writer that comes after 20 s, so that a hang ends (as a failure) instead of
        // holding up the suite; it never waits itself (O_NONBLOCK).
        let fifo = s.join("src/z");
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(20));
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                .open(fifo);
        });
        let started = std::time::Instant::now();
        let out = child.wait_with_output().unwrap();
        let kind = std::fs::symlink_metadata(s.join("dst/z")).map(|m| m.file_type());
        Some((
            out.status.code(),
            kind.is_ok_and(|k| std::os::unix::fs::FileTypeExt::is_fifo(&k)),
            std::fs::read(s.join("dst/y")).ok(),
            started.elapsed() < Duration::from_secs(15),
        ))
    };
    let Some(gnu) = run(std::path::Path::new("/bin/cp")) else {
        util::skip("strace is not installed");
        return;
    };
    let ours = run(&util::fastcp_path()).unwrap();
    assert_eq!(gnu, (Some(0), true, Some(b"y\n".to_vec()), true));
    assert_eq!(ours, gnu);
}
