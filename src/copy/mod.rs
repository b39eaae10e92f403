//! Copies one job: the session's state, the command-line checks GNU cp makes, and the dispatch
//! of each file to directories (walk.rs), regular files (regular.rs), symlinks and special
//! files (nodes.rs).

pub(crate) mod atomic;
pub(crate) mod clone;
pub(crate) mod directory;
pub(crate) mod dirfd;
pub(crate) mod durable;
pub(crate) mod existing;
pub(crate) mod metadata;
pub(crate) mod parallel;
pub(crate) mod parents;
pub(crate) mod regular;
pub(crate) mod revisit;
pub(crate) mod same_file;
pub(crate) mod special;
pub(crate) mod walk;

use crate::copy::existing::{Decision, Prepared};
use crate::copy::parallel::{DirGuard, Pool};
use crate::engine::EngineError;
use crate::error::quote::quote;
use crate::error::{Error, Op};
use crate::fs::{At, Id, NameKey, file_type, id, name_key};
use crate::options::Method;
use crate::options::{Deref, Make, Options};
use crate::plan::Job;
use crate::report;
use crate::report::stats::Summary;
use metadata::Birth;
use rustix::fs::{FileType, Mode, OFlags, Stat};
use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// State that lives across the jobs of one run.
pub(crate) struct Session<'a> {
    pub(crate) opts: &'a Options,
    /// Totals for `--stats`.
    pub(crate) summary: Summary,
    /// Sources already copied (GNU's src_info): a repeat is skipped with a warning.
    seen_sources: HashSet<NameKey>,
    /// Destinations written in this run (GNU's dest_info): never overwritten by a later source.
    pub(crate) written: HashSet<NameKey>,
    /// Command-line directories and the first directory each operand creates, by identity,
    /// with the destination they map to (GNU's remember_copied): meeting one again is a
    /// directory copied into itself, or a source named twice (see directory.rs).
    pub(crate) dirs: HashMap<Id, Arc<crate::copy::dirfd::Shown>>,
    /// Sources with several names already copied (`--preserve=links`), and their copies.
    pub(crate) links: HashMap<Id, PathBuf>,
    /// The command-line pair being copied, for GNU's "into itself" message.
    pub(crate) top: (PathBuf, PathBuf),
    /// Set when a directory met itself: the rest of that operand is abandoned, as GNU does.
    pub(crate) into_self: bool,
    /// The source directories being copied (the walk's levels): meeting one again below
    /// itself (through a followed symlink) is a cycle.
    pub(crate) ancestors: HashSet<Id>,
    /// Source filesystems (st_dev) that refused FICLONE as unsupported.
    pub(crate) no_clone: HashSet<u64>,
    /// The filesystem of the destination directory of the file being copied, when known (in
    /// a tree walk).
    pub(crate) dst_dev: Option<u64>,
    /// What a file created in the destination directory of the file being copied is born
    /// with, when known (in a tree walk, with owner or mode to preserve).
    pub(crate) birth: Option<Birth>,
    /// The same for the file being written, when this copy created it.
    pub(crate) born: Option<Birth>,
    /// Pairs of filesystems (source, destination) between which copy_file_range failed
    /// with EXDEV: `auto` does not ask again for every file of a tree.
    pub(crate) cross: HashSet<(u64, u64)>,
    /// The source just opened by the walk with the status of the open file (walk.rs), for
    /// the copy to use instead of opening it again.
    pub(crate) opened: Option<(Id, OwnedFd)>,
    /// The copying threads' queue, in a parallel tree copy.
    pub(crate) pool: Option<&'a Pool>,
    /// The directory being walked, which queued files keep open until they are copied.
    pub(crate) dir: Option<Arc<DirGuard>>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(
        opts: &'a Options,
        counters: crate::report::counters::Counters,
    ) -> Session<'a> {
        Session {
            opts,
            summary: Summary::new(counters),
            seen_sources: HashSet::new(),
            written: HashSet::new(),
            dirs: HashMap::new(),
            links: HashMap::new(),
            top: (PathBuf::new(), PathBuf::new()),
            into_self: false,
            ancestors: HashSet::new(),
            no_clone: HashSet::new(),
            dst_dev: None,
            birth: None,
            born: None,
            cross: HashSet::new(),
            opened: None,
            pool: None,
            dir: None,
        }
    }

    /// Prints an error without tearing the progress bar, and counts it. After a signal,
    /// errors are the signal's doing (EINTR from a blocked open...) and are not printed.
    pub(crate) fn fail(&mut self, e: &Error) {
        self.summary.failures += 1;
        if matches!(e, Error::Interrupted) || crate::signals::pending().is_some() {
            return;
        }
        self.summary.counters.suspend_progress(|| report::error(e));
    }

    /// Prints `'src' -> 'dst'` for -v (a directory the walk created).
    pub(crate) fn verbose(&mut self, src: &Path, dst: &Path) {
        if self.opts.verbose {
            report::verbose(src, dst, None);
        }
    }

    /// Prints the -v line of a file once, with the backup made of its destination, if any.
    pub(crate) fn announce(&mut self, src: &Path, dst: &Path, prepared: &mut Prepared) {
        if self.opts.verbose && !prepared.announced {
            report::verbose(src, dst, prepared.backup.as_deref());
        }
        prepared.announced = true;
    }

    /// Copies one command-line operand and reports what failed; `into_directory` enables the
    /// repeated-source check. Returns whether everything was copied.
    pub(crate) fn copy(&mut self, job: &Job, into_directory: bool) -> bool {
        let failures = self.summary.failures;
        if let Err(e) = self.copy_top(job, into_directory) {
            self.fail(&e);
        }
        self.summary.failures == failures
    }

    fn copy_top(&mut self, job: &Job, into_directory: bool) -> Result<(), Error> {
        let cwd = rustix::fs::CWD;
        let src = At {
            dir: cwd,
            name: &job.src,
            shown: &job.src,
        };
        // `cp -r / dir`: GNU names the destination by the source's last component, which
        // `/` has none of: the name is empty, and nothing can be made there.
        let root = into_directory && job.src.as_os_str().as_bytes().iter().all(|&b| b == b'/');
        let dst = At {
            dir: cwd,
            name: if root { Path::new("") } else { &job.dst },
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
            let text = format!(
                "source file {} specified more than once",
                quote(job.src.as_os_str())
            );
            self.summary
                .counters
                .suspend_progress(|| report::warn(&text));
            return Ok(());
        }
        self.top = (job.src.clone(), job.dst.clone());
        self.into_self = false;
        let made = match &job.parents_of {
            Some(base) => self.make_parents(&job.src, base)?,
            None => Vec::new(),
        };
        let node = Node {
            follow,
            top: true,
            fresh: false,
        };
        let result = self.copy_entry(src, &src_st, dst, node);
        // The directories --parents made get their source's attributes after their contents.
        let preserve = self.opts.preserve;
        for (dir, st) in made.iter().rev() {
            if preserve.mode || preserve.ownership || preserve.timestamps {
                let fd = rustix::fs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
                    .map_err(|e| Error::io(Op::Access, dir, e))?;
                metadata::apply(fd.as_fd(), None, st, &preserve, None, dir)?;
            }
        }
        // GNU records what the name is now (a symlink made is recorded as the symlink), so later
        // operands neither overwrite it nor write through it; not after a failure or a skip,
        // when what is there was not made by this run.
        if into_directory
            && result.as_ref().is_ok_and(|&made| made)
            && let Ok(st) = dst.stat(false)
        {
            self.written.insert(name_key(&job.dst, &st));
        }
        result.map(|_| ())
    }

    /// Copies one file of any type; `node.follow` says whether `src_st` followed a symlink.
    /// For a non-directory, GNU's decisions about the destination come first (overwrite.rs),
    /// then a second name of a hard-linked source is linked, then the file is made.
    pub(crate) fn copy_node(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
    ) -> Result<(), Error> {
        self.copy_entry(src, src_st, dst, node).map(|_| ())
    }

    /// `copy_node`, saying whether the destination was made (not left alone by -n, -u, -i or
    /// a hard link onto itself): only what a run made is "just created" for later operands.
    fn copy_entry(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
    ) -> Result<bool, Error> {
        let kind = file_type(src_st);
        if kind == FileType::Directory {
            return self.copy_dir(src, src_st, dst, node).map(|()| true);
        }
        let mut prepared = match self.prepare(src, src_st, dst, node)? {
            Decision::Skip => return Ok(false),
            // GNU records even a kept pair, and links a later name of the file to it.
            Decision::Kept => {
                if !self.link_again(src_st, dst, node.follow)? {
                    self.links.insert(id(src_st), dst.shown.to_path_buf());
                }
                return Ok(false);
            }
            Decision::Go(prepared) => prepared,
        };
        let track = self.tracks_links(src_st, node);
        let queueable = kind == FileType::RegularFile
            && self.opts.make == Make::Copy
            && self.pool.is_some()
            && !track
            && !prepared.replaced;
        // GNU prints the -v line before making the file; a file a copying thread may take
        // prints it when done.
        if !queueable {
            self.announce(src.shown, dst.shown, &mut prepared);
        }
        let as_data = self.opts.make == Make::Copy
            && !track
            && (kind == FileType::RegularFile
                || (kind != FileType::Symlink
                    && (!self.opts.recursive || self.opts.copy_contents)));
        let backup = prepared.backup.clone();
        // A queued file is copied, or fails and puts its backup back, on another thread.
        let result = if as_data {
            self.copy_regular(src, src_st, dst, node, queueable, prepared)
        } else {
            self.make_node(src, src_st, dst, node, (track, prepared))
        };
        if let Err(e) = result {
            // GNU's un_backup: the user keeps the file they had.
            self.restore_backup(dst, backup.as_deref());
            return Err(e);
        }
        Ok(true)
    }

    /// Makes a non-directory whose destination is decided: a link to an earlier copy of the
    /// same file (`track`, --preserve=links), a link to the source (-l, -s), a symlink, a
    /// special file, or a copy of the data.
    fn make_node(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
        (track, prepared): (bool, Prepared),
    ) -> Result<(), Error> {
        let kind = file_type(src_st);
        if track && self.link_again(src_st, dst, node.follow)? {
            return Ok(());
        }
        match (self.opts.make, kind) {
            (Make::HardLink, _) => self.hard_link(src, dst, node.follow)?,
            (Make::Symlink, _) => self.symbolic_link(src, src_st, dst)?,
            (_, FileType::Symlink) => self.copy_symlink(src, src_st, dst, &prepared)?,
            (_, FileType::RegularFile) => {
                self.copy_regular(src, src_st, dst, node, false, prepared)?
            }
            _ if self.opts.recursive && !self.opts.copy_contents => {
                self.make_special(src_st, dst)?
            }
            _ => self.copy_regular(src, src_st, dst, node, false, prepared)?,
        }
        if track {
            self.links.insert(id(src_st), dst.shown.to_path_buf());
        }
        Ok(())
    }

    /// How symlinks are followed for a file: -H follows command-line operands only, so below
    /// them it means -P (GNU's copy_dir sets DEREF_NEVER for the walk).
    pub(crate) fn deref(&self, top: bool) -> Deref {
        match self.opts.deref {
            Deref::CommandLine if !top => Deref::Never,
            deref => deref,
        }
    }

    /// Whether this file's copy is remembered so that later names of the same source file are
    /// linked to it (`--preserve=links`). GNU remembers every file met through a followed
    /// symlink too: under -L two names can reach one file whose link count is 1.
    fn tracks_links(&self, src_st: &Stat, node: Node) -> bool {
        let opts = self.opts;
        opts.preserve.links
            && opts.make != Make::HardLink
            && (src_st.st_nlink > 1
                || opts.deref == Deref::Always
                || (node.top && opts.deref == Deref::CommandLine))
    }
}

/// How a node was reached.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// Its stat followed a symlink (so opening it must follow too).
    pub(crate) follow: bool,
    /// It was named on the command line.
    pub(crate) top: bool,
    /// Its destination directory was just created by this copy, so nothing can be at the
    /// destination name but what another process put there meanwhile, which the exclusive
    /// create (O_EXCL, or mkdir) then refuses: the destination is not looked at first.
    pub(crate) fresh: bool,
}

/// Maps an engine's failure to the message for this file.
pub(crate) fn engine_error(
    src: &Path,
    dst: &Path,
    chosen: Method,
    method: Method,
    e: EngineError,
) -> Error {
    let refused = |reason: String| Error::MethodRefused {
        method: chosen.name(),
        src: src.to_path_buf(),
        dst: dst.to_path_buf(),
        reason,
    };
    match e {
        EngineError::Unsupported(errno) => refused(crate::error::strerror(errno)),
        EngineError::NoProgress => refused(format!(
            "{} copied nothing, but the file has data",
            method.name()
        )),
        EngineError::Read(errno) => Error::io(Op::Read, src, errno),
        EngineError::Write(errno) => Error::io(Op::Write, dst, errno),
        EngineError::Interrupted => Error::Interrupted,
        EngineError::Transfer(errno) => Error::Copying {
            src: src.to_path_buf(),
            dst: dst.to_path_buf(),
            errno,
        },
    }
}
