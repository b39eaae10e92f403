//! --nocache: every method copies byte for byte, the copy's pages are dropped behind it, and
//! the source's pages that were cached before the copy stay cached.

mod util;

use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use util::{Scratch, fastcp, pattern};

const MIB: u64 = 1 << 20;
const METHODS: [&str; 5] = [
    "auto",
    "read-write",
    "sendfile",
    "copy-file-range",
    "splice",
];

/// The fraction of the file's pages that are in the page cache (mmap + mincore).
fn resident(path: &Path) -> f64 {
    let file = std::fs::File::open(path).unwrap();
    let len = usize::try_from(file.metadata().unwrap().len()).unwrap();
    if len == 0 {
        return 0.0;
    }
    let page = 4096;
    let mut pages = vec![0u8; len.div_ceil(page)];
    // SAFETY: a read-only shared mapping, only asked about and unmapped at once.
    unsafe {
        let map = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        );
        assert_ne!(map, libc::MAP_FAILED);
        assert_eq!(libc::mincore(map, len, pages.as_mut_ptr()), 0);
        libc::munmap(map, len);
    }
    pages.iter().filter(|&&p| p & 1 == 1).count() as f64 / pages.len() as f64
}

/// Writes the file out and drops it from the page cache.
fn uncache(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    file.sync_all().unwrap();
    // SAFETY: plain system call on an open descriptor.
    let r = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(r, 0);
}

/// Reads the whole file, so that all of it is cached.
fn cache(path: &Path) {
    let data = std::fs::read(path).unwrap();
    assert!(!data.is_empty());
}

/// A scratch directory whose pages can be dropped (not tmpfs), or None after saying why.
fn disk_scratch() -> Option<Scratch> {
    let s = Scratch::new();
    // SAFETY: statfs on a valid, NUL-terminated path into a zeroed struct.
    let kind = unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        let path = std::ffi::CString::new(s.path().as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(libc::statfs(path.as_ptr(), &mut st), 0);
        st.f_type
    };
    if kind == libc::TMPFS_MAGIC {
        util::skip("the scratch directory is on tmpfs, whose pages cannot be dropped");
        return None;
    }
    Some(s)
}

fn make(s: &Scratch, name: &str, len: u64) -> std::path::PathBuf {
    s.write(name, &pattern(len as usize, len))
}

/// `fastcp --nocache --method METHOD src dst`, which must succeed.
fn copy_nocache(method: &str, src: &std::path::Path, dst: &std::path::Path) {
    fastcp()
        .args(["--nocache", "--method", method])
        .arg(src)
        .arg(dst)
        .assert()
        .success();
}

#[test]
fn every_method_copies_exactly_around_window_edges() {
    let s = Scratch::new();
    let window = 16 * MIB;
    for len in [
        0,
        1,
        4095,
        window - 1,
        window,
        window + 1,
        2 * window + 4097,
    ] {
        let src = make(&s, &format!("src-{len}"), len);
        for method in METHODS {
            let dst = s.join(format!("dst-{len}-{method}"));
            fastcp()
                .args(["--nocache", "--method", method])
                .arg(&src)
                .arg(&dst)
                .assert()
                .success();
            assert!(
                std::fs::read(&src).unwrap() == std::fs::read(&dst).unwrap(),
                "{method}, {len} bytes"
            );
        }
    }
}

#[test]
fn sparse_files_and_proc_files_copy_exactly() {
    let s = Scratch::new();
    let src = s.holes("sparse", 40 * MIB);
    let file = std::fs::OpenOptions::new().write(true).open(&src).unwrap();
    for at in [0, 17 * MIB + 5, 40 * MIB - 3] {
        file.write_at(b"data", at).unwrap();
    }
    for method in METHODS {
        for sparse in ["auto", "always", "never"] {
            let dst = s.join(format!("sparse-{method}-{sparse}"));
            fastcp()
                .args(["--nocache", "--method", method])
                .arg(format!("--sparse={sparse}"))
                .arg(&src)
                .arg(&dst)
                .assert()
                .success();
            assert!(std::fs::read(&src).unwrap() == std::fs::read(&dst).unwrap());
        }
        if method == "copy-file-range" {
            // Refused across filesystems with or without --nocache (EXDEV).
            continue;
        }
        let dst = s.join(format!("version-{method}"));
        fastcp()
            .args(["--nocache", "--method", method, "/proc/version"])
            .arg(&dst)
            .assert()
            .success();
        assert_eq!(
            std::fs::read(&dst).unwrap(),
            std::fs::read("/proc/version").unwrap()
        );
    }
}

#[test]
fn destination_pages_are_dropped() {
    let Some(s) = disk_scratch() else { return };
    let src = make(&s, "src", 40 * MIB + 123);
    for method in METHODS {
        let dst = s.join(format!("dst-{method}"));
        copy_nocache(method, &src, &dst);
        let left = resident(&dst);
        assert!(
            left < 0.05,
            "{method}: {:.0}% of the copy cached",
            left * 100.0
        );
    }
}

#[test]
fn a_cached_source_stays_cached() {
    let Some(s) = disk_scratch() else { return };
    let src = make(&s, "src", 40 * MIB);
    uncache(&src);
    for method in METHODS {
        cache(&src);
        assert!(resident(&src) > 0.99);
        copy_nocache(method, &src, &s.join(format!("dst-{method}")));
        let kept = resident(&src);
        assert!(kept >= 0.95, "{method}: {:.0}% kept", kept * 100.0);
    }
}

#[test]
fn an_uncached_source_is_not_left_cached() {
    let Some(s) = disk_scratch() else { return };
    let src = make(&s, "src", 40 * MIB);
    for method in METHODS {
        uncache(&src);
        assert!(resident(&src) < 0.01);
        copy_nocache(method, &src, &s.join(format!("dst-{method}")));
        let left = resident(&src);
        assert!(left < 0.05, "{method}: {:.0}% left", left * 100.0);
    }
}

#[test]
fn a_partly_cached_source_keeps_exactly_its_cached_part() {
    let Some(s) = disk_scratch() else { return };
    let src = make(&s, "src", 40 * MIB);
    uncache(&src);
    // The middle 8 MiB, across a window edge, read before the copy.
    let file = std::fs::File::open(&src).unwrap();
    let mut middle = vec![0u8; (8 * MIB) as usize];
    file.read_exact_at(&mut middle, 12 * MIB).unwrap();
    let before = resident(&src);
    fastcp()
        .args(["--nocache"])
        .arg(&src)
        .arg(s.join("dst"))
        .assert()
        .success();
    let after = resident(&src);
    assert!(
        (after - before).abs() < 0.05 && after > 0.15,
        "{:.0}% cached before, {:.0}% after",
        before * 100.0,
        after * 100.0
    );
}

#[test]
fn without_nocache_the_copy_stays_cached() {
    // The control: the checks above see a difference --nocache makes.
    let Some(s) = disk_scratch() else { return };
    let src = make(&s, "src", 40 * MIB);
    uncache(&src);
    let dst = s.join("dst");
    fastcp().arg(&src).arg(&dst).assert().success();
    assert!(resident(&dst) > 0.5);
    assert!(resident(&src) > 0.5);
}

/// Regression: --verify read both files back after the copy and left them cached (100% and
/// 100%). Its reads follow the copy's rule: the source's pages stay only where they were
/// cached before, the copy's go.
#[test]
fn verify_leaves_the_cache_as_the_copy_does() {
    let Some(s) = disk_scratch() else { return };
    let src = make(&s, "src", 40 * MIB + 123);
    for (n, cached) in [false, true].into_iter().enumerate() {
        uncache(&src);
        if cached {
            cache(&src);
        }
        let dst = s.join(format!("dst-{n}"));
        copy_leaves_cache(&src, &dst, "--verify", cached);
    }
}

/// Copies `src` to `dst` with --nocache and `flag`, then checks the cache as a --nocache
/// copy leaves it: the source as it was (`cached` before, or not), none of the copy.
fn copy_leaves_cache(src: &Path, dst: &Path, flag: &str, cached: bool) {
    fastcp()
        .args(["--nocache", flag])
        .arg(src)
        .arg(dst)
        .assert()
        .success();
    let (kept, copy) = (resident(src), resident(dst));
    let source_ok = if cached { kept > 0.95 } else { kept < 0.05 };
    assert!(
        source_ok && copy < 0.05,
        "{flag}: source cached before: {cached}; {:.0}% of it cached after, {:.0}% of the copy",
        kept * 100.0,
        copy * 100.0
    );
}

/// Regression: --resume=verify compared the kept prefix and left both files cached.
#[test]
fn resume_verify_leaves_the_cache_as_the_copy_does() {
    let Some(s) = disk_scratch() else { return };
    let src = make(&s, "src", 40 * MIB);
    let whole = std::fs::read(&src).unwrap();
    for (n, cached) in [false, true].into_iter().enumerate() {
        // An interrupted copy: the first 24 MiB.
        let dst = s.write(format!("dst-{n}"), &whole[..(24 * MIB) as usize]);
        uncache(&dst);
        uncache(&src);
        if cached {
            cache(&src);
        }
        copy_leaves_cache(&src, &dst, "--resume=verify", cached);
        assert!(std::fs::read(&dst).unwrap() == whole);
    }
}

// Regression: each destination was held open after its data, to drop its pages later; a
// FIFO destination held so never showed its reader the end. A reader taking the FIFOs one
// after the other never opened the next one, and the copy waited for it for ever (GNU cp
// closes each destination when it is written).
#[test]
fn fifo_destinations_are_closed_when_written() {
    let s = Scratch::new();
    let srcs = [s.write("a", b"first\n"), s.write("b", b"second\n")];
    s.mkdir("out");
    let fifos = [s.fifo("out/a"), s.fifo("out/b")];
    let reader = std::thread::spawn(move || {
        let mut got = std::fs::read(&fifos[0]).unwrap();
        got.extend(std::fs::read(&fifos[1]).unwrap());
        got
    });
    let out = fastcp()
        .arg("--nocache")
        .args(&srcs)
        .arg(s.join("out"))
        .timeout(std::time::Duration::from_secs(10))
        .output()
        .unwrap();
    // A copy that hung was killed, and its reader is left waiting: no join then.
    assert!(out.status.success(), "{out:?}");
    assert_eq!(reader.join().unwrap(), b"first\nsecond\n");
}
