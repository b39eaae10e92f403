//! Copies one job: checks the destination, opens both files, runs the engine, closes.

use crate::engine::{self, EngineError, Method, Transfer};
use crate::error::{Error, Op};
use crate::options::Options;
use crate::plan::Job;
use crate::quote::quote;
use crate::report::{self, Summary};
use rustix::fs::{FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::collections::HashSet;
use std::ffi::OsString;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A file's identity: device and inode.
type Id = (u64, u64);

fn id(st: &Stat) -> Id {
    (st.st_dev, st.st_ino)
}

fn file_type(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode)
}

/// A name as GNU's file-set compares them: the file, its last component, and its directory.
type NameKey = (Id, OsString, Option<Id>);

fn name_key(path: &Path, st: &Stat) -> NameKey {
    let name = path.file_name().map(OsString::from).unwrap_or_default();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent_id = rustix::fs::stat(parent).ok().map(|st| id(&st));
    (id(st), name, parent_id)
}

/// State that lives across the jobs of one run.
pub(crate) struct Session<'a> {
    opts: &'a Options,
    /// Totals for `--stats`.
    pub(crate) summary: Summary,
    /// Sources already copied (GNU's src_info): a repeat is skipped with a warning.
    seen_sources: HashSet<NameKey>,
    /// Destinations written in this run (GNU's dest_info): never overwritten by a later source.
    written: HashSet<NameKey>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(opts: &'a Options, counters: engine::Counters) -> Session<'a> {
        Session {
            opts,
            summary: Summary::new(counters),
            seen_sources: HashSet::new(),
            written: HashSet::new(),
        }
    }

    /// Copies one job and counts it; `into_directory` enables the repeated-source check.
    pub(crate) fn copy(&mut self, job: &Job, into_directory: bool) -> Result<(), Error> {
        let result = self.copy_one(job, into_directory);
        if result.is_err() {
            self.summary.failures += 1;
        }
        result
    }

    fn copy_one(&mut self, job: &Job, into_directory: bool) -> Result<(), Error> {
        let src_st = rustix::fs::stat(&job.src).map_err(|e| Error::io(Op::Stat, &job.src, e))?;
        if file_type(&src_st) == FileType::Directory {
            return Err(Error::OmitDirectory(job.src.clone()));
        }
        if into_directory && !self.seen_sources.insert(name_key(&job.src, &src_st)) {
            let text = format!(
                "source file {} specified more than once",
                quote(job.src.as_os_str())
            );
            self.summary
                .counters
                .suspend_progress(|| report::warn(&text));
            return Ok(());
        }
        let dst_st = destination(job, &src_st)?;
        if let Some(st) = &dst_st
            && into_directory
            && self.written.contains(&name_key(&job.dst, st))
        {
            return Err(Error::JustCreated {
                dst: job.dst.clone(),
                src: job.src.clone(),
            });
        }
        let src = open_source(job, &src_st)?;
        let dst = open_destination(job, &src_st, dst_st.is_some())?;
        let dst_now = rustix::fs::fstat(&dst).map_err(|e| Error::io(Op::Fstat, &job.dst, e))?;
        let transfer = Transfer {
            src: std::os::fd::AsFd::as_fd(&src),
            dst: std::os::fd::AsFd::as_fd(&dst),
            bufsize: self.opts.bufsize,
            blksize: blksize(&src_st).max(blksize(&dst_now)),
        };
        let outcome = engine::copy(&transfer, self.opts.method, &mut self.summary.counters)
            .map_err(|(method, e)| engine_error(job, self.opts.method, method, e))?;
        close(dst, &job.dst)?;
        if into_directory {
            self.written.insert(name_key(&job.dst, &dst_now));
        }
        self.summary
            .add(&outcome, report::file_class(src_st.st_mode));
        if self.opts.debug {
            report::debug(&job.src, &job.dst, &outcome);
        }
        Ok(())
    }
}

/// Looks at the destination before anything is opened: the same-file, directory and dangling
/// symlink refusals all happen here, so a refused copy never truncates anything.
fn destination(job: &Job, src_st: &Stat) -> Result<Option<Stat>, Error> {
    match rustix::fs::stat(&job.dst) {
        Ok(st) => {
            if id(&st) == id(src_st) {
                return Err(Error::SameFile {
                    src: job.src.clone(),
                    dst: job.dst.clone(),
                });
            }
            if file_type(&st) == FileType::Directory {
                return Err(Error::OverwriteDirectory(job.dst.clone()));
            }
            Ok(Some(st))
        }
        Err(Errno::NOENT) => match rustix::fs::lstat(&job.dst) {
            // stat says nothing is there but lstat finds a link: it dangles. GNU refuses to
            // create the file it points to (POSIX allows either; GNU chose safety).
            Ok(st) if file_type(&st) == FileType::Symlink => {
                Err(Error::DanglingSymlink(job.dst.clone()))
            }
            _ => Ok(None),
        },
        Err(e) => Err(Error::io(Op::Stat, &job.dst, e)),
    }
}

/// Opens the source and checks it is still the file that was examined.
fn open_source(job: &Job, src_st: &Stat) -> Result<OwnedFd, Error> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = rustix::fs::open(&job.src, flags, Mode::empty())
        .map_err(|e| Error::io(Op::OpenRead, &job.src, e))?;
    let now = rustix::fs::fstat(&fd).map_err(|e| Error::io(Op::Fstat, &job.src, e))?;
    if id(&now) != id(src_st) {
        return Err(Error::Replaced(job.src.clone()));
    }
    Ok(fd)
}

/// Opens an existing destination for overwriting (it keeps its inode and mode) or creates a
/// new one exclusively with the source's permission bits, which the umask then narrows: a
/// file that others could not read never becomes readable to them, not even for a moment.
fn open_destination(job: &Job, src_st: &Stat, exists: bool) -> Result<OwnedFd, Error> {
    let base = OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    let result = if exists {
        rustix::fs::open(&job.dst, base | OFlags::TRUNC, Mode::empty())
    } else {
        let mode = Mode::from_raw_mode(src_st.st_mode & 0o777);
        rustix::fs::open(&job.dst, base | OFlags::CREATE | OFlags::EXCL, mode)
    };
    result.map_err(|e| {
        // open("x/", O_CREAT) says EISDIR; GNU reports what the user did wrong: the name
        // with a slash cannot be a regular file.
        let e = if e == Errno::ISDIR && job.dst.as_os_str().as_bytes().ends_with(b"/") {
            Errno::NOTDIR
        } else {
            e
        };
        Error::io(Op::CreateRegular, &job.dst, e)
    })
}

/// Closes the destination and reports the error close may carry (NFS, quotas): data that did
/// not reach the file must not be reported as copied.
fn close(fd: OwnedFd, path: &Path) -> Result<(), Error> {
    // SAFETY: the descriptor comes from an OwnedFd we own and is not used again.
    unsafe { rustix::io::try_close(fd.into_raw_fd()) }.map_err(|e| Error::io(Op::Close, path, e))
}

/// Maps an engine's failure to the message for this job.
fn engine_error(job: &Job, chosen: Method, method: Method, e: EngineError) -> Error {
    let refused = |reason: String| Error::MethodRefused {
        method: chosen.name(),
        src: job.src.clone(),
        dst: job.dst.clone(),
        reason,
    };
    match e {
        EngineError::Unsupported(errno) => refused(crate::error::strerror(errno)),
        EngineError::NoProgress => refused(format!(
            "{} copied nothing, but the file has data",
            method.name()
        )),
        EngineError::Read(errno) => Error::io(Op::Read, &job.src, errno),
        EngineError::Write(errno) => Error::io(Op::Write, &job.dst, errno),
        EngineError::Transfer(errno) => Error::Copying {
            src: job.src.clone(),
            dst: job.dst.clone(),
            errno,
        },
    }
}

/// A file's preferred I/O size; never negative in practice, but the field is signed.
fn blksize(st: &Stat) -> u64 {
    u64::try_from(st.st_blksize).unwrap_or(0)
}
