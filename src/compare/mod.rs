//! `--compare`: copies one file with each method (and each read-write buffer size), verifies
//! every copy against the source, and prints one table of times and costs. With --to-socket
//! (socket.rs) the file is sent over loopback TCP instead, as the seed write-ups' servers did.

mod socket;

use crate::copy::session::Session;
use crate::error::misuse::Misuse;
use crate::error::{Error, Op};
use crate::options::{Compare, Method, Options, StatsFormat};
use crate::plan::Job;
use crate::report::compare::{Heading, Row, Rusage, Sample, Target, json, run_line, table};
use crate::report::counters::{Call, Counters};
use crate::report::stats::Destination;
use crate::report::status::Status;
use rustix::fs::{Advice, FileType, Mode, OFlags};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs the comparison the options ask for and prints its table on stdout.
pub(crate) fn run(opts: &Options, settings: &Compare) -> Result<(), Error> {
    crate::signals::install();
    if settings.to_socket {
        return socket::run(opts, settings);
    }
    let plan = crate::plan::plan(opts)?;
    let [job] = plan.jobs.as_slice() else {
        return Err(Error::Usage(Misuse::CompareOneJob));
    };
    let src_st = source(&job.src)?;
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
    let to = Destination::open(opts.stats_file.as_deref(), Destination::Stdout)?;
    let rows = rows(settings, opts.bufsize, &[None]);
    let size = u64::try_from(src_st.st_size).unwrap_or(0);
    let samples = measure(opts, settings, &rows, |row| {
        one_run(opts, settings, job, row, size)
    })?;
    let heading = Heading {
        src: &job.src,
        size,
        runs: settings.runs,
        cold: settings.cold,
        target: Target::File,
    };
    print(opts.stats, to, &heading, &rows, &samples)
}

/// The source's stat: it must be a regular file, copied again and again (a directory would
/// be copied whole with -r, a FIFO or a device read once or forever). Checked before anything
/// is written.
fn source(src: &Path) -> Result<rustix::fs::Stat, Error> {
    let st = rustix::fs::stat(src).map_err(|e| Error::io(Op::Stat, src, e))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(Error::Usage(Misuse::CompareSource(
            src.to_path_buf(),
            st.st_mode,
        )));
    }
    Ok(st)
}

/// The table's rows: each method, read-write once per buffer size, each once per `corks`.
fn rows(settings: &Compare, bufsize: Option<usize>, corks: &[Option<bool>]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &method in &settings.methods {
        let sizes = match method {
            Method::ReadWrite => settings.bufsizes.iter().map(|&b| Some(b)).collect(),
            // The pipe has a size even when none is asked: show it.
            Method::Splice => vec![Some(bufsize.unwrap_or(crate::engine::splice::DEFAULT_PIPE))],
            _ => vec![bufsize],
        };
        for size in sizes {
            rows.extend(corks.iter().map(|&cork| Row {
                method,
                bufsize: size,
                cork,
            }));
        }
    }
    rows
}

/// Runs every row `settings.runs` times, showing which run is under way on stderr, and
/// returns each row's samples. A signal ends the process here, with the status line cleared.
fn measure(
    opts: &Options,
    settings: &Compare,
    rows: &[Row],
    mut one: impl FnMut(Row) -> Result<Sample, Error>,
) -> Result<Vec<Vec<Sample>>, Error> {
    let status = Status::new(opts.progress);
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); rows.len()];
    let total = rows.len() * settings.runs;
    for run in 0..settings.runs {
        // Rotate the order every run, so no method always runs right after the same one
        // (page-cache and writeback state carry over from one copy to the next).
        for k in 0..rows.len() {
            let i = (k + run) % rows.len();
            let done = run * rows.len() + k;
            let line = run_line(&rows[i], (run + 1, settings.runs), (done + 1, total));
            status.starting(&line);
            let result = one(rows[i]);
            if let Some(signal) = crate::signals::pending() {
                drop(status);
                crate::signals::reraise(signal);
            }
            let sample = result?;
            status.finished(&format!("{line}: {:.3} s", sample.wall.as_secs_f64()));
            samples[i].push(sample);
        }
    }
    Ok(samples)
}

/// The table, or its JSON under --stats=json, on stdout or into --stats=FORMAT:FILE.
fn print(
    format: Option<StatsFormat>,
    to: Destination,
    heading: &Heading<'_>,
    rows: &[Row],
    samples: &[Vec<Sample>],
) -> Result<(), Error> {
    let text = match format {
        Some(StatsFormat::Json) => json(heading, rows, samples),
        _ => table(heading, rows, samples),
    };
    to.write(&text)
}

/// What the calling thread has used so far (getrusage RUSAGE_THREAD: a receiver thread's
/// work is not counted with the sender's). rustix has no getrusage: this goes through libc.
fn thread_usage() -> Rusage {
    // SAFETY: getrusage writes one rusage struct into the zeroed value we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_THREAD with a valid pointer cannot fault.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } != 0 {
        return Rusage::default();
    }
    let time = |tv: libc::timeval| {
        Duration::from_secs(u64::try_from(tv.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(tv.tv_usec).unwrap_or(0))
    };
    let count = |n: libc::c_long| u64::try_from(n).unwrap_or(0);
    Rusage {
        user: time(ru.ru_utime),
        system: time(ru.ru_stime),
        voluntary: count(ru.ru_nvcsw),
        involuntary: count(ru.ru_nivcsw),
        minor_faults: count(ru.ru_minflt),
        major_faults: count(ru.ru_majflt),
    }
}

/// The data calls `counters` saw, and the most bytes one of them moved.
fn calls(counters: &Counters) -> (u64, u64) {
    Call::ALL.iter().fold((0, 0), |(n, most), c| {
        let s = counters.get(*c);
        (n + s.calls, most.max(s.max))
    })
}

/// Copies once with `row`'s method, timed, then checks the copy byte for byte.
fn one_run(
    opts: &Options,
    settings: &Compare,
    job: &Job,
    row: Row,
    size: u64,
) -> Result<Sample, Error> {
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
    let before = thread_usage();
    let started = Instant::now();
    if !session.copy(job, false) {
        return Err(Error::CompareFailed {
            method: row.method.name(),
            src: job.src.clone(),
        });
    }
    let wall = started.elapsed();
    let cost = thread_usage().since(&before);
    let (calls, largest) = calls(&session.summary.counters);
    verify(&job.src, &job.dst)?;
    Ok(Sample {
        wall,
        cost,
        calls,
        largest,
        bytes: size,
    })
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
