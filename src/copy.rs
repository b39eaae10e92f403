//! Copies one job: the checks GNU cp makes before writing, the regular-file copy (open, create,
//! engine, close, attributes), and the dispatch to directories, symlinks and special files.

use crate::clone::Reflink;
use crate::durable;
use crate::engine::{self, EngineError, Fallback, Method, Transfer};
use crate::error::{Error, Op};
use crate::metadata;
use crate::options::{Deref, Make, Options, ReflinkMode};
use crate::overwrite::Decision;
use crate::plan::Job;
use crate::pool::{DirGuard, Pool, Task};
use crate::quote::quote;
use crate::report::{self, Summary};
use crate::sparse::{self, Layout};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file's identity: device and inode.
pub(crate) type Id = (u64, u64);

pub(crate) fn id(st: &Stat) -> Id {
    (st.st_dev, st.st_ino)
}

pub(crate) fn file_type(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode)
}

/// A file to work on: a name inside an open directory (the current directory for command-line
/// operands), and the whole path shown in messages.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) dir: BorrowedFd<'a>,
    pub(crate) name: &'a Path,
    pub(crate) shown: &'a Path,
}

impl At<'_> {
    /// `stat`, following a final symlink or not.
    pub(crate) fn stat(&self, follow: bool) -> rustix::io::Result<Stat> {
        let flags = if follow {
            AtFlags::empty()
        } else {
            AtFlags::SYMLINK_NOFOLLOW
        };
        rustix::fs::statat(self.dir, self.name, flags)
    }
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
    pub(crate) opts: &'a Options,
    /// Totals for `--stats`.
    pub(crate) summary: Summary,
    /// Sources already copied (GNU's src_info): a repeat is skipped with a warning.
    seen_sources: HashSet<NameKey>,
    /// Destinations written in this run (GNU's dest_info): never overwritten by a later source.
    written: HashSet<NameKey>,
    /// Directories by identity, source and created, and the destination they map to (GNU's
    /// remember_copied): meeting one again means a directory is being copied into itself.
    pub(crate) dirs: HashMap<Id, PathBuf>,
    /// Sources with several names already copied (`--preserve=links`), and their copies.
    pub(crate) links: HashMap<Id, PathBuf>,
    /// The command-line pair being copied, for GNU's "into itself" message.
    pub(crate) top: (PathBuf, PathBuf),
    /// Set when a directory met itself: the rest of that operand is abandoned, as GNU does.
    pub(crate) into_self: bool,
    /// The source directories being copied, outermost first: meeting one again below itself
    /// (through a followed symlink) is a cycle.
    pub(crate) ancestors: Vec<Id>,
    /// The backup made of the destination being written, for the -v line.
    pub(crate) backup: Option<PathBuf>,
    /// Source filesystems (st_dev) that refused FICLONE as unsupported.
    pub(crate) no_clone: HashSet<u64>,
    /// The filesystem of the destination directory of the file being copied, when known (in
    /// a tree walk).
    pub(crate) dst_dev: Option<u64>,
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
    pub(crate) fn new(opts: &'a Options, counters: engine::Counters) -> Session<'a> {
        Session {
            opts,
            summary: Summary::new(counters),
            seen_sources: HashSet::new(),
            written: HashSet::new(),
            dirs: HashMap::new(),
            links: HashMap::new(),
            top: (PathBuf::new(), PathBuf::new()),
            into_self: false,
            ancestors: Vec::new(),
            backup: None,
            no_clone: HashSet::new(),
            dst_dev: None,
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

    /// Prints `'src' -> 'dst'` for -v (with the backup just made, if any).
    pub(crate) fn verbose(&mut self, src: &Path, dst: &Path) {
        let backup = self.backup.take();
        if self.opts.verbose {
            report::verbose(src, dst, backup.as_deref());
        }
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
        let dst = At {
            dir: cwd,
            name: &job.dst,
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
        if into_directory && !is_dir && !self.seen_sources.insert(name_key(&job.src, &src_st)) {
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
        let result = self.copy_node(src, &src_st, dst, node);
        // The directories --parents made get their source's attributes after their contents.
        let preserve = self.opts.preserve;
        for (dir, st) in made.iter().rev() {
            if preserve.mode || preserve.ownership || preserve.timestamps {
                let fd = rustix::fs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
                    .map_err(|e| Error::io(Op::Access, dir, e))?;
                metadata::apply(fd.as_fd(), None, st, &preserve, dir)?;
            }
        }
        result?;
        if into_directory
            && !is_dir
            && let Ok(st) = dst.stat(true)
        {
            self.written.insert(name_key(&job.dst, &st));
        }
        Ok(())
    }

    /// Copies one file of any type; `node.follow` says whether `src_st` followed a symlink.
    pub(crate) fn copy_node(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
    ) -> Result<(), Error> {
        let kind = file_type(src_st);
        if kind == FileType::Directory {
            return self.copy_dir(src, src_st, dst, node);
        }
        match self.opts.make {
            Make::HardLink => return self.hard_link(src, src_st, dst, node.follow),
            Make::Symlink => return self.symbolic_link(src, src_st, dst),
            Make::Copy => {}
        }
        // GNU remembers every file met through a followed symlink too: under -L two names
        // can reach one file whose link count is 1.
        let track = self.opts.preserve.links
            && (src_st.st_nlink > 1
                || self.opts.deref == Deref::Always
                || (node.top && self.opts.deref == Deref::CommandLine));
        if track && self.link_again(src, src_st, dst)? {
            return Ok(());
        }
        match kind {
            FileType::Symlink => self.copy_symlink(src, src_st, dst)?,
            // A file whose other names will be linked to its copy is copied here and now.
            FileType::RegularFile => self.copy_regular(src, src_st, dst, node, !track)?,
            _ if self.opts.recursive && !self.opts.copy_contents => {
                self.make_special(src, src_st, dst)?
            }
            _ => self.copy_regular(src, src_st, dst, node, false)?,
        }
        if track {
            self.links.insert(id(src_st), dst.shown.to_path_buf());
        }
        Ok(())
    }

    /// Copies a regular file, or reads a special file as data. With `may_queue`, a regular
    /// file met in a parallel tree copy goes to a copying thread once both ends are open, so
    /// the refusals and open errors come in walk order, as in a sequential copy.
    fn copy_regular(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
        may_queue: bool,
    ) -> Result<(), Error> {
        let Some(dst_st) = self.decide(src, src_st, dst, node)? else {
            return Ok(());
        };
        let src_fd = match self.opened.take() {
            Some((opened, fd)) if opened == id(src_st) => fd,
            _ => open_source(src, src_st, node.follow)?,
        };
        self.dst_dev = self.walk_dir(src, dst).map(|dir| dir.dst_dev);
        if may_queue
            && let Some(pool) = self.pool
            && let Some(dir) = self.queueable(src, src_st, dst)
        {
            let task = Task {
                dir,
                name: src.name.as_os_str().to_os_string(),
                src_path: src.shown.to_path_buf(),
                dst_path: dst.shown.to_path_buf(),
                src_st: *src_st,
                src_fd,
                dst_st,
                backup: self.backup.take(),
            };
            return match pool.submit(task) {
                None => Ok(()),
                // The queue is full: this thread copies the file itself.
                Some(task) => {
                    self.backup = task.backup;
                    self.write_to(src, src_st, dst, task.src_fd, task.dst_st)
                }
            };
        }
        self.write_to(src, src_st, dst, src_fd, dst_st)
    }

    /// Opens the destination decided on (`dst_st`: the existing file to overwrite) and copies
    /// the opened source into it.
    pub(crate) fn write_to(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        src_fd: OwnedFd,
        dst_st: Option<Stat>,
    ) -> Result<(), Error> {
        match self.open_target(src, src_st, dst, src_fd, dst_st)? {
            Some(opened) => self.complete(src, src_st, dst, opened),
            None => Ok(()),
        }
    }

    /// Looks at the destination and decides what to do: `None` to skip the file, or the
    /// existing destination to overwrite (`Some(None)`: create a new file).
    fn decide(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
    ) -> Result<Option<Option<Stat>>, Error> {
        let dst_st = if node.fresh {
            None
        } else {
            destination(src, src_st, dst)?
        };
        if node.top
            && let Some(st) = &dst_st
            && self.written.contains(&name_key(dst.shown, st))
        {
            return Err(Error::JustCreated {
                dst: dst.shown.to_path_buf(),
                src: src.shown.to_path_buf(),
            });
        }
        if let Some(st) = &dst_st {
            return Ok(match self.existing(src_st, dst, st)? {
                Decision::Skip => None,
                Decision::Create => Some(None),
                Decision::Overwrite => Some(dst_st),
            });
        }
        Ok(Some(None))
    }

    /// The directory being walked, when the copy is parallel and `src` and `dst` are its
    /// entries: a regular file there may be copied by another thread.
    fn queueable(&self, src: At<'_>, src_st: &Stat, dst: At<'_>) -> Option<Arc<DirGuard>> {
        if self.opts.attributes_only || file_type(src_st) != FileType::RegularFile {
            return None;
        }
        self.walk_dir(src, dst).map(Arc::clone)
    }

    /// The directory being walked, when `src` and `dst` are its entries.
    fn walk_dir(&self, src: At<'_>, dst: At<'_>) -> Option<&Arc<DirGuard>> {
        let dir = self.dir.as_ref()?;
        let same = |a: BorrowedFd<'_>, b: BorrowedFd<'_>| a.as_raw_fd() == b.as_raw_fd();
        let in_walk = dir.src.as_ref().is_some_and(|fd| same(fd.as_fd(), src.dir))
            && same(dir.dst.as_fd(), dst.dir)
            && src.name == dst.name;
        in_walk.then_some(dir)
    }

    /// Opens the destination decided on (a temporary file beside it under --atomic). `None`
    /// when nothing more is to be done (--attributes-only).
    fn open_target(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        src_fd: OwnedFd,
        mut dst_st: Option<Stat>,
    ) -> Result<Option<Opened>, Error> {
        if self.opts.atomic && !self.opts.attributes_only {
            let name = durable::temp_name(dst.name);
            let temp = At {
                dir: dst.dir,
                name: &name,
                shown: dst.shown,
            };
            let fd = open_destination(temp, src_st, false, self.opts)?;
            return Ok(Some(Opened {
                src: src_fd,
                dst: fd,
                new: dst_st.is_none(),
                temp: Some(Temp { name, old: dst_st }),
            }));
        }
        let dst_fd = match open_destination(dst, src_st, dst_st.is_some(), self.opts) {
            // -f: a destination that cannot be opened is removed and created anew.
            Err(_) if dst_st.is_some() && self.opts.overwrite.force => {
                rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty())
                    .map_err(|e| Error::io(Op::Remove, dst.shown, e))?;
                dst_st = None;
                open_destination(dst, src_st, false, self.opts)?
            }
            result => result?,
        };
        if self.opts.attributes_only {
            self.finish_attributes_only(src_fd.as_fd(), src_st, dst_fd, dst, src)?;
            return Ok(None);
        }
        Ok(Some(Opened {
            src: src_fd,
            dst: dst_fd,
            new: dst_st.is_none(),
            temp: None,
        }))
    }

    /// Moves the data into the opened destination, closes it, applies the attributes, and
    /// under --atomic renames the temporary file into place.
    fn complete(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        opened: Opened,
    ) -> Result<(), Error> {
        let Opened {
            src: src_fd,
            dst: dst_fd,
            new,
            temp,
        } = opened;
        let Some(temp) = temp else {
            let done = self.fill(src, src_st, &src_fd, dst, &dst_fd, new)?;
            close(dst_fd, dst.shown)?;
            self.done(src, src_st, dst, done);
            return Ok(());
        };
        // --atomic: the destination is replaced only when its data and attributes are
        // complete (and synced, with --fsync). Any failure or signal removes the temporary
        // file and leaves the destination untouched.
        let at = At {
            dir: dst.dir,
            name: &temp.name,
            shown: dst.shown,
        };
        let result = (|| {
            // An existing destination keeps its permission bits, as when written in place.
            if let Some(old) = temp.old
                && !self.opts.preserve.mode
            {
                let mode = Mode::from_raw_mode(old.st_mode & metadata::MODE_BITS);
                rustix::fs::fchmod(&dst_fd, mode)
                    .map_err(|e| Error::io(Op::PreservePermissions, dst.shown, e))?;
            }
            let done = self.fill(src, src_st, &src_fd, at, &dst_fd, new)?;
            close(dst_fd, dst.shown)?;
            rustix::fs::renameat(dst.dir, &temp.name, dst.dir, dst.name)
                .map_err(|e| Error::io(Op::CreateRegular, dst.shown, e))?;
            if self.opts.fsync {
                durable::sync_dir(dst.dir, dst.name, dst.shown)?;
            }
            Ok(done)
        })();
        match result {
            Ok(done) => {
                self.done(src, src_st, dst, done);
                Ok(())
            }
            Err(e) => {
                temp.remove(dst.dir);
                Err(e)
            }
        }
    }

    /// Moves the data (clone, extents or whole), applies the attributes, and syncs and
    /// verifies as asked. `dst` names the file being written (a temporary one under --atomic).
    fn fill(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        src_fd: &OwnedFd,
        dst: At<'_>,
        dst_fd: &OwnedFd,
        new: bool,
    ) -> Result<Done, Error> {
        let transfer = Transfer {
            src: src_fd.as_fd(),
            dst: dst_fd.as_fd(),
            bufsize: self.opts.bufsize,
            blksize: u64::try_from(src_st.st_blksize).unwrap_or(0),
            dst_blksize: std::cell::OnceCell::new(),
            limit: u64::MAX,
            zeros_to_holes: false,
            may_share: self.opts.reflink != ReflinkMode::Never,
            cross_device: self
                .dst_dev
                .is_some_and(|d| self.cross.contains(&(src_st.st_dev, d))),
        };
        let method = self.opts.method;
        let (cloned, reflink) = self.try_clone(&transfer, src_st, src.shown, dst.shown)?;
        let mut layout = sparse::layout(src_st, self.opts.sparse, method);
        let outcome = match cloned {
            Some(outcome) => {
                layout = Layout::Dense;
                outcome
            }
            None => {
                let counters = &mut self.summary.counters;
                let zeros = layout == Layout::ExtentsAndZeros;
                let result = match layout {
                    Layout::Dense => None,
                    _ => sparse::copy_extents(&transfer, method, zeros, counters),
                };
                let result = result.unwrap_or_else(|| {
                    layout = Layout::Dense;
                    engine::copy(&transfer, method, counters)
                });
                let mut outcome = result
                    .map_err(|(used, e)| engine_error(src.shown, dst.shown, method, used, e))?;
                let exdev = engine::errno_name(Errno::XDEV);
                if let Some(dst_dev) = self.dst_dev
                    && outcome
                        .fallbacks
                        .iter()
                        .any(|f| f.from == Method::CopyFileRange && f.reason == exdev)
                {
                    self.cross.insert((src_st.st_dev, dst_dev));
                }
                if let Reflink::Refused(reason) = &reflink {
                    // The clone's refusal led to the first method tried after it.
                    let next = outcome.fallbacks.first().map_or(outcome.method, |f| f.from);
                    outcome.fallbacks.insert(
                        0,
                        Fallback {
                            from: Method::Reflink,
                            to: next,
                            reason: reason.clone(),
                        },
                    );
                }
                outcome
            }
        };
        let preserve = self.opts.preserve;
        metadata::apply(
            dst_fd.as_fd(),
            Some(src_fd.as_fd()),
            src_st,
            &preserve,
            dst.shown,
        )?;
        let bits = preserve.creation_bits(src_st.st_mode, false);
        if new && !preserve.mode && metadata::held_back(&preserve, bits) != 0 {
            let mode = Mode::from_raw_mode(bits & !metadata::umask());
            rustix::fs::fchmod(dst_fd, mode)
                .map_err(|e| Error::io(Op::PreservePermissions, dst.shown, e))?;
        }
        if self.opts.fsync {
            durable::sync_file(dst_fd.as_fd(), dst.shown)?;
            if new && !self.opts.atomic {
                durable::sync_dir(dst.dir, dst.name, dst.shown)?;
            }
        }
        if self.opts.verify && file_type(src_st) == FileType::RegularFile {
            durable::verify(src_fd.as_fd(), dst, src.shown)?;
        }
        Ok(Done {
            outcome,
            reflink,
            layout,
        })
    }

    /// Counts a finished file and prints its -v and --debug lines.
    fn done(&mut self, src: At<'_>, src_st: &Stat, dst: At<'_>, done: Done) {
        self.summary
            .add(&done.outcome, report::file_class(src_st.st_mode));
        self.verbose(src.shown, dst.shown);
        if self.opts.debug {
            report::debug(
                &done.outcome,
                done.reflink.debug_name(),
                done.layout.debug_name(),
            );
        }
    }
}

/// A regular file's two ends, open and ready for the data.
struct Opened {
    src: OwnedFd,
    dst: OwnedFd,
    /// The destination was created, not an existing file opened to be overwritten.
    new: bool,
    /// --atomic: the temporary file being written instead of the destination.
    temp: Option<Temp>,
}

/// The temporary file --atomic writes, and the destination it will replace, if any.
struct Temp {
    name: PathBuf,
    old: Option<Stat>,
}

impl Temp {
    fn remove(&self, dir: BorrowedFd<'_>) {
        let _ = rustix::fs::unlinkat(dir, &self.name, AtFlags::empty());
    }
}

/// What `fill` did, for the report once the file is in place.
struct Done {
    outcome: engine::Outcome,
    reflink: Reflink,
    layout: Layout,
}

impl Session<'_> {
    /// --attributes-only: the file exists (created empty, or left as it was), and gets the
    /// preserved attributes; no data moves.
    fn finish_attributes_only(
        &mut self,
        src_fd: BorrowedFd<'_>,
        src_st: &Stat,
        dst_fd: OwnedFd,
        dst: At<'_>,
        src: At<'_>,
    ) -> Result<(), Error> {
        let preserve = self.opts.preserve;
        metadata::apply(dst_fd.as_fd(), Some(src_fd), src_st, &preserve, dst.shown)?;
        close(dst_fd, dst.shown)?;
        self.verbose(src.shown, dst.shown);
        Ok(())
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

/// Looks at the destination before anything is opened: the same-file, directory and dangling
/// symlink refusals all happen here, so a refused copy never truncates anything.
fn destination(src: At<'_>, src_st: &Stat, dst: At<'_>) -> Result<Option<Stat>, Error> {
    match dst.stat(true) {
        Ok(st) => {
            if id(&st) == id(src_st) {
                return Err(Error::SameFile {
                    src: src.shown.to_path_buf(),
                    dst: dst.shown.to_path_buf(),
                });
            }
            if file_type(&st) == FileType::Directory {
                return Err(Error::OverwriteDirectory(dst.shown.to_path_buf()));
            }
            Ok(Some(st))
        }
        Err(Errno::NOENT) => match dst.stat(false) {
            // stat says nothing is there but lstat finds a link: it dangles. GNU refuses to
            // create the file it points to (POSIX allows either; GNU chose safety).
            Ok(st) if file_type(&st) == FileType::Symlink => {
                Err(Error::DanglingSymlink(dst.shown.to_path_buf()))
            }
            _ => Ok(None),
        },
        Err(e) => Err(Error::io(Op::Stat, dst.shown, e)),
    }
}

/// Opens the source and checks it is still the file that was examined. A name reached without
/// following symlinks is opened with O_NOFOLLOW, so a symlink swapped in meanwhile is refused.
fn open_source(src: At<'_>, src_st: &Stat, follow: bool) -> Result<OwnedFd, Error> {
    let mut flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::openat(src.dir, src.name, flags, Mode::empty())
        .map_err(|e| Error::io(Op::OpenRead, src.shown, e))?;
    let now = rustix::fs::fstat(&fd).map_err(|e| Error::io(Op::Fstat, src.shown, e))?;
    if id(&now) != id(src_st) {
        return Err(Error::Replaced(src.shown.to_path_buf()));
    }
    Ok(fd)
}

/// Opens an existing destination for overwriting (it keeps its inode and mode) or creates a
/// new one exclusively with the source's permission bits, which the umask then narrows: a
/// file that others could not read never becomes readable to them, not even for a moment.
/// When the owner will be preserved, group and other bits wait until the chown is done.
fn open_destination(
    dst: At<'_>,
    src_st: &Stat,
    exists: bool,
    opts: &Options,
) -> Result<OwnedFd, Error> {
    let preserve = &opts.preserve;
    let base = OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    let result = if exists {
        // --attributes-only leaves an existing file's data alone.
        let trunc = if opts.attributes_only {
            OFlags::empty()
        } else {
            OFlags::TRUNC
        };
        rustix::fs::openat(dst.dir, dst.name, base | trunc, Mode::empty())
    } else {
        let bits = preserve.creation_bits(src_st.st_mode, false);
        let mode = Mode::from_raw_mode(bits & !metadata::held_back(preserve, bits));
        rustix::fs::openat(
            dst.dir,
            dst.name,
            base | OFlags::CREATE | OFlags::EXCL,
            mode,
        )
    };
    result.map_err(|e| {
        // open("x/", O_CREAT) says EISDIR; GNU reports what the user did wrong: the name
        // with a slash cannot be a regular file.
        let e = if e == Errno::ISDIR && dst.shown.as_os_str().as_bytes().ends_with(b"/") {
            Errno::NOTDIR
        } else {
            e
        };
        Error::io(Op::CreateRegular, dst.shown, e)
    })
}

/// Closes the destination and reports the error close may carry (NFS, quotas): data that did
/// not reach the file must not be reported as copied.
fn close(fd: OwnedFd, path: &Path) -> Result<(), Error> {
    // SAFETY: the descriptor comes from an OwnedFd we own and is not used again.
    unsafe { rustix::io::try_close(fd.into_raw_fd()) }.map_err(|e| Error::io(Op::Close, path, e))
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
