//! Trees deeper than the limit on open files allows descriptors, and deeper than PATH_MAX:
//! copied whole and exact under `ulimit -n 64` with one thread and with several, the same as
//! GNU cp where GNU can copy them, and a directory replaced during such a copy reported, not
//! followed.

mod util;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, Timestamps};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use util::{Mounted, Scratch, fastcp_path, normalize};

fn open_dir(dir: BorrowedFd<'_>, name: &str) -> OwnedFd {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::openat(dir, name, flags, Mode::empty()).unwrap()
}

fn write_at(dir: BorrowedFd<'_>, name: &str, data: &[u8]) {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o640)).unwrap();
    assert_eq!(rustix::io::write(&fd, data).unwrap(), data.len());
}

/// `levels` nested directories `d` below `root/deep`, made through descriptors (their paths
/// pass PATH_MAX): a file every 500 levels and at the bottom, some directories 0750, and old
/// times on every directory (set top down, after the tree is complete).
fn deep_tree(root: &Path, levels: usize) {
    std::fs::create_dir(root.join("deep")).unwrap();
    let mut dir = open_dir(rustix::fs::CWD, root.join("deep").to_str().unwrap());
    for level in 0..levels {
        let mode = if level % 7 == 0 { 0o750 } else { 0o755 };
        rustix::fs::mkdirat(&dir, "d", Mode::from_raw_mode(mode)).unwrap();
        if level % 500 == 0 {
            write_at(dir.as_fd(), "f", format!("level {level}").as_bytes());
        }
        dir = open_dir(dir.as_fd(), "d");
    }
    write_at(dir.as_fd(), "leaf", b"the bottom");
    let mut dir = open_dir(rustix::fs::CWD, root.join("deep").to_str().unwrap());
    for level in 0..=levels {
        let time = rustix::fs::Timespec {
            tv_sec: 1_000_000_000 + level as i64,
            tv_nsec: 5,
        };
        let times = Timestamps {
            last_access: time,
            last_modification: time,
        };
        rustix::fs::futimens(&dir, &times).unwrap();
        if level < levels {
            dir = open_dir(dir.as_fd(), "d");
        }
    }
}

/// One entry of a tree read through descriptors: its path below the root (as a hash of its
/// parent's and its name: whole paths would take memory in the square of the depth), type,
/// permission bits, content (files) and modification time (when asked).
type Found = (u64, u32, u32, Vec<u8>, Option<(i64, u64)>);

fn below(parent: u64, name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (parent, name).hash(&mut hasher);
    hasher.finish()
}

/// Every entry below `root`, read one level at a time through descriptors (one open at a time
/// but for the root), sorted.
fn deep_snapshot(root: &Path, times: bool) -> Vec<Found> {
    let mut out = Vec::new();
    let mut stack = vec![(0, open_dir(rustix::fs::CWD, root.to_str().unwrap()))];
    while let Some((path, dir)) = stack.pop() {
        let st = rustix::fs::fstat(&dir).unwrap();
        let mtime = times.then_some((st.st_mtime, st.st_mtime_nsec as u64));
        out.push((path, 0o040000, st.st_mode & 0o7777, vec![], mtime));
        let mut names = Vec::new();
        for entry in Dir::read_from(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_bytes().to_vec();
            if name != b"." && name != b".." {
                names.push(String::from_utf8(name).unwrap());
            }
        }
        for name in names {
            let key = below(path, &name);
            let st = rustix::fs::statat(&dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW).unwrap();
            if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
                stack.push((key, open_dir(dir.as_fd(), &name)));
                continue;
            }
            let fd = rustix::fs::openat(&dir, name.as_str(), OFlags::RDONLY, Mode::empty());
            let mut data = vec![0; 4096];
            let n = rustix::io::read(fd.unwrap(), &mut data).unwrap();
            data.truncate(n);
            let mtime = times.then_some((st.st_mtime, st.st_mtime_nsec as u64));
            out.push((key, st.st_mode & 0o170000, st.st_mode & 0o7777, data, mtime));
        }
    }
    out.sort();
    out
}

/// Runs `program` with `args` in `dir` under `ulimit -n limit`.
fn limited(program: &Path, limit: u32, args: &[&str], dir: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .output()
        .unwrap()
}

/// A place for trees too deep for std's remove_dir_all (it holds a descriptor per level):
/// a tmpfs, unmounted at the end, or `None` (with the reason printed) without root.
fn deep_place() -> Option<Mounted> {
    Mounted::tmpfs("256m")
}

/// Regression: a tree deeper than the limit on open files failed (600 levels under
/// `ulimit -n 1024` stopped at depth ~505 with "Too many open files", since the walk kept two
/// descriptors per level). 10,000 levels, far past PATH_MAX too, now copy under a limit of 64
/// with -r and -a, one thread and several, identical to the source.
#[test]
fn trees_deeper_than_the_descriptor_limit_copy_whole() {
    let Some(fs) = deep_place() else {
        return;
    };
    deep_tree(&fs.mount, 10_000);
    let source = deep_snapshot(&fs.path("deep"), true);
    let runs: [&[&str]; 4] = [&["-r"], &["-a"], &["-r", "-j1"], &["-a", "-j1"]];
    for (n, args) in runs.iter().enumerate() {
        copies_whole(&fs, (64, args), &format!("copy{n}"), &source);
    }
    // GNU cp builds whole path names: it cannot go past PATH_MAX.
    let gnu = limited(Path::new("/bin/cp"), 64, &["-r", "deep", "gnu"], &fs.mount);
    assert!(!gnu.status.success());
}

/// The same under an even lower limit, with more threads asked for than the limit allows
/// (fewer run), the splice method's pipes, and --atomic: nothing fails for want of
/// descriptors.
#[test]
fn a_tiny_descriptor_limit_still_copies_a_deep_tree() {
    let Some(fs) = deep_place() else {
        return;
    };
    deep_tree(&fs.mount, 3_000);
    let source = deep_snapshot(&fs.path("deep"), true);
    for (n, args) in [
        &["-a", "-j8"][..],
        &["-a", "-j1"],
        &["-a", "-j4", "--method=splice"],
        &["-a", "-j3", "--atomic"],
    ]
    .iter()
    .enumerate()
    {
        copies_whole(&fs, (16, args), &format!("copy{n}"), &source);
    }
}

/// Copies `deep` to `dst` under `ulimit -n limit` with `args`, asserts it succeeds without a
/// message and the copy equals `source` (modes and times too with -a), then removes it (the
/// next copy needs the room).
fn copies_whole(fs: &Mounted, (limit, args): (u32, &[&str]), dst: &str, source: &[Found]) {
    let mut all = args.to_vec();
    all.extend(["deep", dst]);
    let out = limited(&fastcp_path(), limit, &all, &fs.mount);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?}: {stderr}");
    let times = args.contains(&"-a");
    let copy = deep_snapshot(&fs.path(dst), times);
    if times {
        assert!(copy == source, "{args:?}: the copy differs");
    } else {
        let plain = |t: &[Found]| -> Vec<(u64, u32, Vec<u8>)> {
            t.iter()
                .map(|(p, k, _, d, _)| (*p, *k, d.clone()))
                .collect()
        };
        assert!(plain(&copy) == plain(source), "{args:?}: the copy differs");
    }
    let _ = Command::new("rm").arg("-rf").arg(fs.path(dst)).status();
}

/// Where GNU cp can copy a deep tree (600 levels: paths within PATH_MAX), fastcp under
/// the same low limit gives the same result: status, messages, tree, modes and times.
#[test]
fn a_deep_tree_within_path_max_copies_as_gnu_copies_it() {
    let s = Scratch::new();
    deep_tree(s.path(), 600);
    for (args, jobs) in [
        (&["-a"][..], None),
        (&["-r"], None),
        (&["-a"], Some("-j1")),
        (&["-rp"], Some("-j4")),
    ] {
        let run = |program: &Path, dst: &str, jobs: Option<&str>| {
            let mut all = args.to_vec();
            all.extend(jobs);
            all.extend(["deep", dst]);
            let out = limited(program, 64, &all, s.path());
            let prog = program.to_string_lossy().into_owned();
            (out.status.code(), normalize(&out.stderr, &prog))
        };
        let gnu = run(Path::new("/bin/cp"), "gnu", None);
        let ours = run(&fastcp_path(), "ours", jobs);
        assert_eq!(ours, gnu, "{args:?} {jobs:?}");
        assert_eq!(gnu.0, Some(0));
        let times = args.contains(&"-a") || args.contains(&"-rp");
        assert!(
            deep_snapshot(&s.join("ours"), times) == deep_snapshot(&s.join("gnu"), times),
            "{args:?}"
        );
        for dst in ["gnu", "ours"] {
            let _ = Command::new("rm").arg("-rf").arg(s.join(dst)).status();
        }
    }
    let _ = Command::new("rm").arg("-rf").arg(s.join("deep")).status();
}

/// A directory whose descriptors the walk closed (it is above the levels kept open) is
/// opened again when the walk comes back to it, and must still be the directory it was: one
/// replaced meanwhile is reported with GNU's message for a replaced file, the rest of it
/// skipped, and the copy of everything else goes on. The walk is held at the bottom by a
/// FIFO it reads (--copy-contents) while the tree above is changed.
#[test]
fn a_directory_replaced_during_a_deep_copy_is_reported_not_followed() {
    let s = Scratch::new();
    let mut path = s.join("top/a/b/c");
    std::fs::create_dir_all(&path).unwrap();
    for level in 0..40 {
        path.push(format!("d{level}"));
    }
    std::fs::create_dir_all(&path).unwrap();
    let fifo = path.join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        FileType::Fifo,
        Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    std::fs::write(s.join("top/a/after"), b"a's").unwrap();
    let mut child = Killed(
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -n 32 && exec \"$0\" -r -j1 --copy-contents top copy 2>errors")
            .arg(fastcp_path())
            .current_dir(s.path())
            .env_clear()
            .env("LC_ALL", "C")
            .spawn()
            .unwrap(),
    );
    // The walk is at the bottom, or about to be, once the deepest directory's copy exists
    // (below c it goes by descriptors, whatever happens to the names). Then c moves away, a
    // new c takes its place, and c's child moves out of it, so `..` no longer leads back.
    let deepest = s.join(
        path.strip_prefix(s.path())
            .unwrap()
            .to_str()
            .unwrap()
            .replacen("top", "copy", 1),
    );
    let start = std::time::Instant::now();
    while !deepest.exists() {
        assert!(start.elapsed().as_secs() < 30, "the walk never got there");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::fs::rename(s.join("top/a/b/c"), s.join("top/old-c")).unwrap();
    std::fs::create_dir(s.join("top/a/b/c")).unwrap();
    std::fs::rename(s.join("top/old-c/d0"), s.join("top/moved-d0")).unwrap();
    // Opening the FIFO to write succeeds once the copy opened it to read.
    let flags = OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let writer = loop {
        match rustix::fs::open(fifo_after_move(&s), flags, Mode::empty()) {
            Ok(fd) => break fd,
            Err(rustix::io::Errno::NXIO) => {
                assert!(
                    start.elapsed().as_secs() < 30,
                    "the copy never read the FIFO"
                );
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    };
    rustix::io::write(&writer, b"through the fifo").unwrap();
    drop(writer);
    let status = child.0.wait().unwrap();
    let stderr = std::fs::read_to_string(s.join("errors"))
        .unwrap()
        .replace(&*fastcp_path().to_string_lossy(), "cp");
    assert_eq!(
        stderr,
        "cp: skipping file 'top/a/b/c', as it was replaced while being copied\n"
    );
    assert_eq!(status.code(), Some(1));
    // The FIFO's data arrived, and the rest of the tree was copied.
    assert_eq!(
        std::fs::read(deepest.join("fifo")).unwrap(),
        b"through the fifo"
    );
    assert_eq!(std::fs::read(s.join("copy/a/after")).unwrap(), b"a's");
}

/// Where the FIFO is once d0 has moved to top/moved-d0.
fn fifo_after_move(s: &Scratch) -> PathBuf {
    let mut path = s.join("top/moved-d0");
    for level in 1..40 {
        path.push(format!("d{level}"));
    }
    path.join("fifo")
}

/// A child process killed if the test fails while it runs (it could wait on a FIFO forever).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// --nocache keeps a few finished files open until their pages are dropped, only where
/// descriptors abound: under `ulimit -n 12` a tree of 150 levels with 3 files in each failed
/// with "Too many open files" (GNU cp copies it under 8).
#[test]
fn nocache_under_a_tiny_descriptor_limit_copies_a_tree() {
    let s = Scratch::new();
    let mut dir = s.path().join("deep");
    for level in 0..150 {
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..3 {
            std::fs::write(dir.join(format!("f{f}")), format!("{level} {f}")).unwrap();
        }
        dir = dir.join("d");
    }
    for (n, args) in [
        &["-a", "--nocache"][..],
        &["-a", "-j4", "--nocache", "--verify", "--fsync"],
    ]
    .iter()
    .enumerate()
    {
        let dst = format!("copy{n}");
        let mut all = args.to_vec();
        all.extend(["deep", &dst]);
        let out = limited(&fastcp_path(), 12, &all, s.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert_eq!(
            util::snapshot(&s.path().join(&dst)),
            util::snapshot(&s.path().join("deep")),
            "{args:?}"
        );
    }
}
