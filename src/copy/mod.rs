//! Copies the jobs of a plan. A command-line operand gets GNU cp's checks (a directory without
//! -r, a source named twice), then goes to the walk (walk.rs) or is copied as one file
//! (file.rs). Each file of this folder uses only files below it, method calls on `Session`
//! included: parallel.rs (threads) > mod.rs > walk.rs > file.rs > existing.rs > task.rs
//! (queued files, settling) > regular.rs, directory.rs > clone.rs, special.rs, revisit.rs >
//! session.rs (run-wide state) > queue.rs > entry.rs (per-file state) > guard.rs > the leaves
//! (dirfd, metadata, atomic, durable, same_file, parents, failure).

pub(crate) mod acl;
pub(crate) mod atomic;
pub(crate) mod clone;
pub(crate) mod directory;
pub(crate) mod dirfd;
pub(crate) mod durable;
pub(crate) mod entry;
pub(crate) mod existing;
pub(crate) mod failure;
pub(crate) mod file;
pub(crate) mod guard;
pub(crate) mod metadata;
pub(crate) mod parallel;
pub(crate) mod parents;
pub(crate) mod queue;
pub(crate) mod regular;
pub(crate) mod resume;
pub(crate) mod revisit;
pub(crate) mod same_file;
pub(crate) mod session;
pub(crate) mod special;
pub(crate) mod task;
pub(crate) mod walk;

use crate::copy::entry::{Entry, Node};
use crate::copy::session::Session;
use crate::error::misuse::Warning;
use crate::error::{Error, Op};
use crate::fs::{At, dest_key, file_type, name_key};
use crate::options::Deref;
use crate::plan::Job;
use crate::report;
use rustix::fs::FileType;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

impl Session<'_> {
    /// Copies one command-line operand and reports what failed; `into_directory` enables the
    /// repeated-source check. Returns whether everything was copied.
    pub(crate) fn copy(&mut self, job: &Job, into_directory: bool) -> bool {
        let failures = self.summary.failures;
        if let Err(e) = self.copy_top(job, into_directory) {
            self.fail(&e);
        }
        self.summary.failures == failures
    }

    /// Under --parents, the leading directories are made before the operand is looked at,
    /// and get their attributes after it, whether it was copied or not (GNU's do_copy).
    fn copy_top(&mut self, job: &Job, into_directory: bool) -> Result<(), Error> {
        let Some(base) = job.into.as_ref().filter(|_| job.parents) else {
            return self.copy_operand(job, into_directory);
        };
        let leading = self.make_parents(&job.src, base)?;
        let copied = self.copy_operand(job, into_directory);
        match (copied, parents::re_protect(&leading, &self.opts.preserve)) {
            (Err(e), Err(later)) => {
                self.fail(&e);
                Err(later)
            }
            (Err(e), Ok(())) | (Ok(()), Err(e)) => Err(e),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    fn copy_operand(&mut self, job: &Job, into_directory: bool) -> Result<(), Error> {
        let src = At::cwd(&job.src);
        // `cp -r / dir`: GNU names the destination by the source's last component, which
        // `/` has none of: the name is empty, and nothing can be made there.
        let root = into_directory && job.src.as_os_str().as_bytes().iter().all(|&b| b == b'/');
        // Into a directory, the destination is made from that directory, opened once for
        // the run, as GNU's dst_dirfd: what an operand replaces there (a symlink to `.`
        // named as the destination) does not change where the next name is made.
        let target = job.into.as_deref().and_then(|into| self.operands_dir(into));
        let (dir, name) = match &target {
            Some(fd) => (fd.as_fd(), job.name.as_path()),
            None => (rustix::fs::CWD, job.dst.as_path()),
        };
        let dst = At {
            dir,
            name: if root { Path::new("") } else { name },
            shown: &job.dst,
        };
        let follow = self.opts.deref != Deref::Never;
        let src_st = src
            .stat(follow)
            .map_err(|e| Error::io(Op::Stat, &job.src, e))?;
        let is_dir = file_type(&src_st) == FileType::Directory;
        if is_dir && !self.opts.recursive {
            return Err(Error::OmitDirectory(job.src.clone()));
        }
        if into_directory
            && !is_dir
            && self.opts.overwrite.backup.is_none()
            && !self.seen_sources.insert(name_key(&job.src, &src_st))
        {
            report::warn(&Warning::SourceTwice(job.src.clone()));
            return Ok(());
        }
        let entry = Entry {
            src,
            src_st: &src_st,
            dst,
            node: Node {
                follow,
                top: true,
                // Under --parents, where the directory it goes in was just made, GNU takes
                // the destination not to exist.
                fresh: job.parents && self.parents_made,
            },
            parent: None,
            // GNU's dst_dirfd: the directory sources go into (the --parents target too).
            target: job.into.as_deref(),
        };
        let result = if is_dir {
            self.copy_dir(entry).map(|()| true)
        } else {
            self.copy_file(entry, None)
        };
        // GNU records what the name is now (a symlink made is recorded as the symlink), so later
        // operands neither overwrite it nor write through it; not after a failure or a skip,
        // when what is there was not made by this run.
        if into_directory
            && result.as_ref().is_ok_and(|&made| made)
            && let Ok(st) = dst.stat(false)
        {
            self.written.insert(dest_key(&job.dst, &st));
        }
        result.map(|_| ())
    }
}
