//! `--compare`: copies one file with each method (and each read-write buffer size), verifies
//! every copy against the source, and prints one timing table.

use crate::copy::session::Session;
use crate::error::misuse::Misuse;
use crate::error::{Error, Op};
use crate::options::Method;
use crate::options::{Compare, Options};
use crate::plan::{Job, Plan};
use crate::report::compare::{Heading, Row, Sample, table};
use crate::report::counters::{Call, Counters};
use crate::report::usage::Usage;
use rustix::fs::{Advice, FileType, Mode, OFlags};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Instant;

fn rows(settings: &Compare, bufsize: Option<usize>) -> Vec<Row> {
    let mut rows = Vec::new();
    for &method in &settings.methods {
        if method == Method::ReadWrite {
            rows.extend(settings.bufsizes.iter().map(|&b| Row {
                method,
                bufsize: Some(b),
            }));
        } else if method == Method::Splice {
            // The pipe has a size even when none is asked: show it.
            let pipe = bufsize.unwrap_or(crate::engine::splice::DEFAULT_PIPE);
            rows.push(Row {
                method,
                bufsize: Some(pipe),
            });
        } else {
            rows.push(Row { method, bufsize });
        }
    }
    rows
}

/// Runs the comparison for the single job in `plan` and prints the table on stdout.
pub(crate) fn run(opts: &Options, settings: &Compare, plan: &Plan) -> Result<(), Error> {
    let [job] = plan.jobs.as_slice() else {
        return Err(Error::Usage(Misuse::CompareOneJob));
    };
    let src_st = rustix::fs::stat(&job.src).map_err(|e| Error::io(Op::Stat, &job.src, e))?;
    if let Ok(dst_st) = rustix::fs::stat(&job.dst)
        && (dst_st.st_dev, dst_st.st_ino) == (src_st.st_dev, src_st.st_ino)
    {
        return Err(Error::SameFile {
            src: job.src.clone(),
            dst: job.dst.clone(),
        });
    }
    // Every run removes DEST and writes a new file: only a regular file may be replaced so.
    match rustix::fs::lstat(&job.dst) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile => {
            return Err(Error::CompareTarget {
                dst: job.dst.clone(),
                mode: st.st_mode,
            });
        }
        Ok(_) | Err(rustix::io::Errno::NOENT) => {}
        Err(e) => return Err(Error::io(Op::Stat, &job.dst, e)),
    }
    let rows = rows(settings, opts.bufsize);
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); rows.len()];
    for run in 0..settings.runs {
        // Rotate the order every run, so no method always runs right after the same one
        // (page-cache and writeback state carry over from one copy to the next).
        for k in 0..rows.len() {
            let i = (k + run) % rows.len();
            samples[i].push(one_run(opts, settings, job, rows[i])?);
        }
    }
    let heading = Heading {
        src: &job.src,
        size: u64::try_from(src_st.st_size).unwrap_or(0),
        runs: settings.runs,
        cold: settings.cold,
    };
    crate::report::out(&table(&heading, &rows, &samples));
    Ok(())
}

/// Copies once with `row`'s method, timed, then checks the copy byte for byte.
fn one_run(opts: &Options, settings: &Compare, job: &Job, row: Row) -> Result<Sample, Error> {
    // Every run writes a new file, as a first copy does; unlinking is not part of the time.
    match std::fs::remove_file(&job.dst) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(Op::CreateRegular, &job.dst, errno(&e))),
    }
    if settings.cold {
        evict(&job.src)?;
    }
    let mut row_opts = opts.clone();
    row_opts.method = row.method;
    row_opts.bufsize = row.bufsize;
    row_opts.debug = false;
    let mut session = Session::new(&row_opts, Counters::default());
    let before = Usage::now();
    let started = Instant::now();
    if !session.copy(job, false) {
        return Err(Error::CompareFailed {
            method: row.method.name(),
            src: job.src.clone(),
        });
    }
    let wall = started.elapsed();
    let cpu = Usage::now().since(&before);
    let calls = Call::ALL
        .iter()
        .map(|c| session.summary.counters.get(*c).calls)
        .sum();
    verify(&job.src, &job.dst)?;
    Ok(Sample { wall, cpu, calls })
}

fn errno(e: &std::io::Error) -> rustix::io::Errno {
    rustix::io::Errno::from_io_error(e).unwrap_or(rustix::io::Errno::IO)
}

/// Drops `path`'s pages from the page cache: written back first (fdatasync), then advised
/// away (POSIX_FADV_DONTNEED), which needs no privileges, unlike /proc/sys/vm/drop_caches.
fn evict(path: &Path) -> Result<(), Error> {
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::io(Op::OpenRead, path, e))?;
    let _ = rustix::fs::fdatasync(&fd);
    rustix::fs::fadvise(&fd, 0, None, Advice::DontNeed).map_err(|e| Error::io(Op::Read, path, e))
}

/// Reads both files back and fails at the first differing byte.
fn verify(src: &Path, dst: &Path) -> Result<(), Error> {
    let open = |p: &Path| std::fs::File::open(p).map_err(|e| Error::io(Op::OpenRead, p, errno(&e)));
    let (a, b) = (open(src)?, open(dst)?);
    crate::copy::durable::same_bytes(a.as_fd(), b.as_fd(), src, dst)
}
