//! The floor of a tree copy on this machine: creates every file of SRC under DST with its size,
//! the data coming from memory (no source file is opened or read), in N threads that each take
//! whole directories. No copy tool can do less kernel work per file, so its wall time bounds
//! what any tool's ratio to GNU cp can reach (scripts/bench runs it beside them).
//!
//!   create_floor [-jN] SRC DST

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs.max(1))
            .map(|t| {
                let (dirs, dst, data) = (&dirs, &dst, &data);
                scope.spawn(move || -> std::io::Result<()> {
                    for dir in dirs.iter().skip(t).step_by(jobs.max(1)) {
                        let base = dst.join(&dir.rel);
                        for (name, size) in &dir.files {
                            let mut file = File::create_new(base.join(name))?;
                            file.write_all(&data[..*size])?;
                        }
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
