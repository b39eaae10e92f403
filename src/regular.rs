//! Regular files: the destination decided, both ends opened, the data moved (clone, extents
//! or whole), attributes applied, and under --atomic the rename into place; in a parallel tree
//! copy the file is handed to a copying thread once its source is open.

use crate::clone::Reflink;
use crate::copy::{At, Node, Session, engine_error, file_type, id, name_key};
use crate::dirfd::DirFds;
use crate::durable;
use crate::engine::{self, Fallback, Method, Transfer};
use crate::error::{Error, Op};
use crate::metadata;
use crate::options::{Options, ReflinkMode};
use crate::overwrite::Decision;
use crate::pool::{DirGuard, Task};
use crate::report;
use crate::reserve;
use crate::sparse::{self, Layout};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

impl<'a> Session<'a> {
    /// Copies a regular file, or reads a special file as data. With `may_queue`, a regular
    /// file met in a parallel tree copy goes to a copying thread once its source is open, so
    /// the refusals and unreadable sources are reported in walk order, as in a sequential copy.
    pub(crate) fn copy_regular(
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
        // A file with two names in the destination (a hard link, a symlink written through)
        // is written by one thread at a time, in walk order.
        if let Some(pool) = self.pool
            && let Some(st) = &dst_st
            && pool.overwriting(id(st))
        {
            let backup = self.backup.take();
            pool.settle(self);
            self.backup = backup;
        }
        let src_fd = match self.opened.take() {
            Some((opened, fd)) if opened == id(src_st) => fd,
            _ => open_source(src, src_st, node.follow)?,
        };
        let dir = self.walk_dir(src, dst);
        self.dst_dev = dir.as_ref().map(|(dir, _)| dir.dst_dev);
        self.birth = dir
            .as_ref()
            .filter(|_| self.wants_birth())
            .map(|(dir, fds)| dir.birth(fds));
        let queueable = !self.opts.attributes_only && file_type(src_st) == FileType::RegularFile;
        if may_queue
            && queueable
            && let Some(pool) = self.pool
            && let Some((dir, fds)) = dir
        {
            let task = Task {
                dir,
                fds,
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

    /// Whether what new files are born with matters: owner or mode to preserve.
    pub(crate) fn wants_birth(&self) -> bool {
        self.opts.preserve.ownership || self.opts.preserve.mode
    }

    /// The directory being walked and its descriptors, when `src` and `dst` are its entries
    /// (a regular file there may be copied by another thread in a parallel copy).
    fn walk_dir(&self, src: At<'_>, dst: At<'_>) -> Option<(Arc<DirGuard>, Arc<DirFds>)> {
        let dir = self.dir.as_ref()?;
        let fds = dir.current()?;
        let same = |a: BorrowedFd<'_>, b: BorrowedFd<'_>| a.as_raw_fd() == b.as_raw_fd();
        let in_walk = fds.src.as_ref().is_some_and(|fd| same(fd.as_fd(), src.dir))
            && same(fds.dst.as_fd(), dst.dir)
            && src.name == dst.name;
        in_walk.then(|| (Arc::clone(dir), fds))
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
            self.born = self.birth;
            let fd = open_destination(temp, src_st, false, self.born, self.opts)?;
            return Ok(Some(Opened {
                src: src_fd,
                dst: fd,
                new: dst_st.is_none(),
                temp: Some(Temp { name, old: dst_st }),
            }));
        }
        let birth = self.birth;
        let dst_fd = match open_destination(dst, src_st, dst_st.is_some(), birth, self.opts) {
            // -f: a destination that cannot be opened is removed and created anew.
            Err(_) if dst_st.is_some() && self.opts.overwrite.force => {
                rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty())
                    .map_err(|e| Error::io(Op::Remove, dst.shown, e))?;
                dst_st = None;
                open_destination(dst, src_st, false, birth, self.opts)?
            }
            result => result?,
        };
        self.born = if dst_st.is_none() { birth } else { None };
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
            shown: self.opts.debug || self.opts.stats.is_some(),
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
                let mut reserved = 0;
                let result = result.unwrap_or_else(|| {
                    layout = Layout::Dense;
                    if file_type(src_st) == FileType::RegularFile {
                        let size = u64::try_from(src_st.st_size).unwrap_or(0);
                        reserved = reserve::reserve(transfer.dst, size);
                    }
                    engine::copy(&transfer, method, counters)
                });
                reserve::release(transfer.dst, reserved);
                let mut outcome = result
                    .map_err(|(used, e)| engine_error(src.shown, dst.shown, method, used, e))?;
                let exdev = engine::Reason::Refused(Errno::XDEV);
                if let Some(dst_dev) = self.dst_dev
                    && outcome
                        .fallbacks
                        .iter()
                        .any(|f| f.from == Method::CopyFileRange && f.reason == exdev)
                {
                    self.cross.insert((src_st.st_dev, dst_dev));
                }
                // Only --debug and --stats show fallbacks: no list is grown per file without.
                if let Reflink::Refused(reason) = reflink
                    && transfer.shown
                {
                    // The clone's refusal led to the first method tried after it.
                    let next = outcome.fallbacks.first().map_or(outcome.method, |f| f.from);
                    outcome.fallbacks.insert(
                        0,
                        Fallback {
                            from: Method::Reflink,
                            to: next,
                            reason,
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
            self.born,
            dst.shown,
        )?;
        let bits = preserve.creation_bits(src_st.st_mode, false);
        let owned = metadata::Birth::owns_like(self.born, src_st);
        if new && !preserve.mode && metadata::held_back(&preserve, bits, owned) != 0 {
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
        metadata::apply(
            dst_fd.as_fd(),
            Some(src_fd),
            src_st,
            &preserve,
            self.born,
            dst.shown,
        )?;
        close(dst_fd, dst.shown)?;
        self.verbose(src.shown, dst.shown);
        Ok(())
    }
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
    birth: Option<metadata::Birth>,
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
        let owned = metadata::Birth::owns_like(birth, src_st);
        let mode = Mode::from_raw_mode(bits & !metadata::held_back(preserve, bits, owned));
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
