//! The floor of a tree copy on this machine: creates every file of SRC under DST with its size,
//! the data coming from memory (no source file is opened or read), in N threads. No copy tool
//! can do less kernel work per file, so its wall time bounds what any tool's ratio to GNU cp
//! can reach (scripts/bench runs it beside them).
//!
//! The threads take the files in chunks of at most [`CHUNK`] of one directory, so that one
//! large flat directory keeps every thread busy, as it does a parallel copy's; each chunk's
//! files are created relative to their directory's descriptor (openat), as a copy does, not
//! by path.
//!
//!   create_floor [-jN] SRC DST

use rustix::fs::{Mode, OFlags};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Files of one directory a thread takes at a time.
const CHUNK: usize = 256;

/// A source directory's files: their names and sizes.
struct Dir {
    rel: PathBuf,
    files: Vec<(std::ffi::OsString, usize)>,
}

/// Every directory below `root` (itself included), in walk order, with its regular files.
fn walk(root: &Path, rel: &Path, out: &mut Vec<Dir>) -> std::io::Result<()> {
    let mut dir = Dir {
        rel: rel.to_path_buf(),
        files: Vec::new(),
    };
    let mut subdirs = Vec::new();
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            subdirs.push(rel.join(entry.file_name()));
        } else if kind.is_file() {
            let size = usize::try_from(entry.metadata()?.len()).unwrap_or(usize::MAX);
            dir.files.push((entry.file_name(), size));
        }
    }
    out.push(dir);
    for sub in subdirs {
        walk(root, &sub, out)?;
    }
    Ok(())
}

/// Creates one chunk's files in `dir` (a descriptor of the destination directory).
fn create(
    dir: &fs::File,
    files: &[(std::ffi::OsString, usize)],
    data: &[u8],
) -> std::io::Result<()> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
    for (name, size) in files {
        let fd = rustix::fs::openat(dir, name.as_os_str(), flags, Mode::from_raw_mode(0o644))?;
        let mut left = &data[..*size];
        while !left.is_empty() {
            let n = rustix::io::write(&fd, left)?;
            left = &left[n..];
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(j) = args.first().and_then(|a| a.strip_prefix("-j")) {
        jobs = j.parse().expect("-jN");
        args.remove(0);
    }
    let [src, dst] = <[String; 2]>::try_from(args).expect("usage: create_floor [-jN] SRC DST");
    let mut dirs = Vec::new();
    walk(Path::new(&src), Path::new(""), &mut dirs)?;
    let dst = PathBuf::from(dst);
    for dir in &dirs {
        fs::create_dir(dst.join(&dir.rel))?;
    }
    let largest = dirs
        .iter()
        .flat_map(|d| d.files.iter().map(|f| f.1))
        .max()
        .unwrap_or(0);
    let data = vec![0x5a_u8; largest];
    // (directory, first file) of every chunk, taken in order by whichever thread is free.
    let chunks: Vec<(usize, usize)> = dirs
        .iter()
        .enumerate()
        .flat_map(|(d, dir)| (0..dir.files.len()).step_by(CHUNK).map(move |f| (d, f)))
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs.max(1))
            .map(|_| {
                let (dirs, dst, data, chunks, next) = (&dirs, &dst, &data, &chunks, &next);
                scope.spawn(move || -> std::io::Result<()> {
                    while let Some(&(d, first)) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let dir = &dirs[d];
                        let at = fs::File::open(dst.join(&dir.rel))?;
                        let end = dir.files.len().min(first + CHUNK);
                        create(&at, &dir.files[first..end], data)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("thread"))
    })
}
