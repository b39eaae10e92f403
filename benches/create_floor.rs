//! The floor of a tree copy on this machine: creates every file of SRC under DST with its size,
//! the data coming from memory (no source file is opened or read), in N threads. No copy tool
//! can do less kernel work per file, so its wall time bounds what any tool's ratio to GNU cp
//! can reach (scripts/bench runs it beside them).
//!
//! With `--copy`, each file's data comes from its source instead (opened, copied with one
//! copy_file_range, or sendfile across filesystems, closed): the least a copy must do. With
//! `--attrs` too, also what `cp -a` must do for a file whose owner and mode need no change:
//! set its times and ask the source for its extended attributes. These rows tell the cost of
//! the copy's work apart from the cost of a tool's own.
//!
//! The threads take the files in chunks of at most [`CHUNK`] of one directory, so that one
//! large flat directory keeps every thread busy, as it does a parallel copy's; each chunk's
//! files are created relative to their directory's descriptor (openat), as a copy does, not
//! by path.
//!
//!   create_floor [-jN] [--copy [--attrs]] SRC DST

use rustix::fs::{Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;
use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Files of one directory a thread takes at a time.
const CHUNK: usize = 256;

/// A source file: its name, size and times (atime, mtime).
type File = (std::ffi::OsString, usize, [Timespec; 2]);

/// A source directory's files.
struct Dir {
    rel: PathBuf,
    files: Vec<File>,
}

/// What is done per file beyond creating it with its size.
#[derive(Clone, Copy)]
struct Work {
    /// The data is copied from the source.
    copy: bool,
    /// Times set and extended attributes listed, as -a does.
    attrs: bool,
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
            let meta = entry.metadata()?;
            let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
            let times = [
                Timespec {
                    tv_sec: meta.atime(),
                    tv_nsec: meta.atime_nsec(),
                },
                Timespec {
                    tv_sec: meta.mtime(),
                    tv_nsec: meta.mtime_nsec(),
                },
            ];
            dir.files.push((entry.file_name(), size, times));
        }
    }
    out.push(dir);
    for sub in subdirs {
        walk(root, &sub, out)?;
    }
    Ok(())
}

/// Creates one chunk's files in `dir` (a descriptor of the destination directory), their
/// data from `data` or, with `work.copy`, from the same names in `src`.
fn create(
    (src, dir): (&fs::File, &fs::File),
    files: &[File],
    data: &[u8],
    work: Work,
) -> std::io::Result<()> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
    let read = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    for (name, size, times) in files {
        let from = if work.copy {
            Some(rustix::fs::openat(
                src,
                name.as_os_str(),
                read,
                Mode::empty(),
            )?)
        } else {
            None
        };
        let fd = rustix::fs::openat(dir, name.as_os_str(), flags, Mode::from_raw_mode(0o644))?;
        match &from {
            Some(from) => copy(from, &fd, *size)?,
            None => {
                let mut left = &data[..*size];
                while !left.is_empty() {
                    let n = rustix::io::write(&fd, left)?;
                    left = &left[n..];
                }
            }
        }
        if work.attrs {
            let stamps = Timestamps {
                last_access: times[0],
                last_modification: times[1],
            };
            rustix::fs::futimens(&fd, &stamps)?;
            if let Some(from) = &from {
                rustix::fs::flistxattr(from, &mut [0u8; 0][..])?;
            }
        }
    }
    Ok(())
}

/// `size` bytes from `from` to `to`: copy_file_range, sendfile where it refuses (across
/// filesystems).
fn copy(from: &OwnedFd, to: &OwnedFd, size: usize) -> std::io::Result<()> {
    let mut left = size;
    while left > 0 {
        let n = match rustix::fs::copy_file_range(from, None, to, None, left) {
            Err(Errno::XDEV | Errno::NOSYS | Errno::INVAL) => {
                rustix::fs::sendfile(to, from, None, left)?
            }
            r => r?,
        };
        if n == 0 {
            break;
        }
        left -= n;
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
    let mut flag = |name: &str| {
        let found = args.first().is_some_and(|a| a == name);
        if found {
            args.remove(0);
        }
        found
    };
    let copy = flag("--copy");
    let work = Work {
        copy,
        attrs: copy && flag("--attrs"),
    };
    let usage = "usage: create_floor [-jN] [--copy [--attrs]] SRC DST";
    let [src, dst] = <[String; 2]>::try_from(args).expect(usage);
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
                let src = Path::new(&src);
                scope.spawn(move || -> std::io::Result<()> {
                    while let Some(&(d, first)) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let dir = &dirs[d];
                        let at = fs::File::open(dst.join(&dir.rel))?;
                        // The source directory is opened only when files are read from it.
                        let from = match work.copy {
                            true => Some(fs::File::open(src.join(&dir.rel))?),
                            false => None,
                        };
                        let end = dir.files.len().min(first + CHUNK);
                        let dirs = (from.as_ref().unwrap_or(&at), &at);
                        create(dirs, &dir.files[first..end], data, work)?;
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
