//! Regular files: the destination decided, both ends opened, the data moved (clone, extents
//! or whole), attributes applied, and under --atomic the rename into place; in a parallel tree
//! copy the file is handed to a copying thread once its source is open.

use crate::copy::atomic;
use crate::copy::clone::Reflink;
use crate::copy::dirfd::DirFds;
use crate::copy::durable;
use crate::copy::entry::{DestDir, Entry, Opened, Prepared};
use crate::copy::failure::engine_error;
use crate::copy::guard::DirGuard;
use crate::copy::metadata;
use crate::copy::queue::{Shown, Task};
use crate::copy::resume::{self, Found, Open};
use crate::copy::session::Session;
use crate::engine::reserve;
use crate::engine::sparse::{self, Layout};
use crate::engine::{self, Transfer};
use crate::error::{Error, Op};
use crate::fs::{At, file_type, id};
use crate::options::{Method, Options, ReflinkMode, Sparse};
use crate::report;
use crate::report::counters::{Fallback, Outcome, Reason};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

impl Session<'_> {
    /// Copies a regular file, or reads a special file as data; `opened`: the source, when the
    /// walk opened it already. With `may_queue`, a regular file met in a parallel tree copy
    /// goes to a copying thread once its source is open, so the refusals and unreadable
    /// sources are reported in walk order, as in a sequential copy.
    pub(crate) fn copy_regular(
        &mut self,
        entry: Entry<'_>,
        opened: Opened,
        may_queue: bool,
        mut prepared: Prepared,
    ) -> Result<(), Error> {
        let Entry {
            src,
            src_st,
            dst,
            node,
            ..
        } = entry;
        // GNU prints the -v line before it opens the source (a queued file prints it later).
        let src_fd = opened
            .map_or_else(|| open_source(src, src_st, node.follow), Ok)
            .inspect_err(|_| self.announce(src.shown, dst.shown, &mut prepared))?;
        let dir = walk_dir(entry);
        let dest = DestDir {
            dev: dir.as_ref().map(|(dir, _)| dir.dst_dev),
            birth: dir
                .as_ref()
                .filter(|_| self.wants_birth())
                .map(|(dir, fds)| dir.birth(fds)),
        };
        let queueable = !self.opts.attributes_only && file_type(src_st) == FileType::RegularFile;
        if may_queue
            && queueable
            && let Some(pool) = self.pool
            && let Some((dir, fds)) = dir
        {
            let task = Task {
                dir,
                fds,
                shown: Shown::new(src.shown, dst.shown, src.name.as_os_str()),
                src_st: *src_st,
                src_fd,
                prepared,
            };
            return match pool.submit(task) {
                None => Ok(()),
                // The queue is full: this thread copies the file itself.
                Some(task) => self.write_to(entry, task.src_fd, task.prepared, dest),
            };
        }
        self.write_to(entry, src_fd, prepared, dest)
    }

    /// Opens the destination decided on (`prepared.existing`: the existing file to overwrite)
    /// and copies the opened source into it; `dest`: what is known of its directory.
    pub(crate) fn write_to(
        &mut self,
        entry: Entry<'_>,
        src_fd: OwnedFd,
        mut prepared: Prepared,
        dest: DestDir,
    ) -> Result<(), Error> {
        let Entry {
            src, src_st, dst, ..
        } = entry;
        self.announce(src.shown, dst.shown, &mut prepared);
        // A signal before the destination is touched leaves it as it was: the -v line just
        // written may itself have met a closed pipe (SIGPIPE, which kills cp at that write),
        // and truncating the old file then would lose it for nothing.
        if crate::signals::pending().is_some() {
            return Err(Error::Interrupted);
        }
        let method = self.opts.method;
        let refused = method.refuses(file_type(src_st));
        if let Some(errno) = refused.or_else(|| self.refused_onto(src_fd.as_fd(), entry, &prepared))
        {
            return Err(engine_error(
                (src.shown, dst.shown),
                method,
                method,
                engine::EngineError::Unsupported(errno),
            ));
        }
        match self.open_target(entry, src_fd, &prepared, dest)? {
            Some(ends) => self.complete(entry, ends),
            None => Ok(()),
        }
    }

    /// An explicit --method=copy-file-range that the kernel would refuse for this pair (EXDEV
    /// between most filesystems), asked before an existing destination is truncated, so a
    /// refusal leaves the user's file as it was. Not under --atomic (the destination is not
    /// opened), --attributes-only (no data moves) or --reflink=always (the clone moves the
    /// data, and its refusal is the error, as GNU's).
    fn refused_onto(
        &self,
        src_fd: BorrowedFd<'_>,
        entry: Entry<'_>,
        prepared: &Prepared,
    ) -> Option<Errno> {
        let opts = self.opts;
        let overwrites = prepared
            .existing
            .is_some_and(|st| file_type(&st) == FileType::RegularFile);
        if opts.method != Method::CopyFileRange
            || !overwrites
            || opts.atomic
            || opts.attributes_only
            || opts.reflink == ReflinkMode::Always
        {
            return None;
        }
        let dst = entry.dst;
        let flags = OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = rustix::fs::openat(dst.dir, dst.name, flags, Mode::empty()).ok()?;
        engine::copy_file_range::refused(src_fd, fd.as_fd())
    }

    /// Whether what new files are born with matters: owner or mode to preserve.
    pub(crate) fn wants_birth(&self) -> bool {
        self.opts.preserve.ownership || self.opts.preserve.mode
    }

    /// Opens the destination decided on (a temporary file beside it under --atomic). `None`
    /// when nothing more is to be done (--attributes-only).
    fn open_target<'d>(
        &mut self,
        entry: Entry<'d>,
        src_fd: OwnedFd,
        prepared: &Prepared,
        dest: DestDir,
    ) -> Result<Option<Ends<'d>>, Error> {
        let Entry { src_st, dst, .. } = entry;
        let mut dst_st = prepared.existing;
        let birth = dest.birth;
        // Nothing there but a symlink to nothing: refused as without --atomic, or under
        // POSIXLY_CORRECT its target is created as without --atomic (no old data to keep).
        let dangling = self.opts.atomic
            && dst_st.is_none()
            && rustix::fs::readlinkat(dst.dir, dst.name, Vec::new()).is_ok();
        if dangling && !self.opts.overwrite.through_dangling {
            return Err(Error::DanglingSymlink(dst.shown.to_path_buf()));
        }
        if self.opts.atomic && !self.opts.attributes_only && !dangling {
            let new_mode = metadata::creation_mode(src_st, birth, &self.opts.preserve);
            let how = match (prepared.renew, self.opts.overwrite.force) {
                (true, _) => atomic::Replace::Renew,
                (false, true) => atomic::Replace::KeepOrForce,
                (false, false) => atomic::Replace::Keep,
            };
            let preserve = &self.opts.preserve;
            // A destination that is not a regular file is written in place (InPlace).
            if let atomic::Target::Temp { temp, fd, new } =
                atomic::prepare(dst, dst_st.as_ref(), new_mode, how, preserve)?
            {
                // A temporary file replacing an old one is born 0600 and given its attributes.
                return Ok(Some(Ends {
                    src: src_fd,
                    dst: fd,
                    new,
                    temp: Some(temp),
                    resume: None,
                    born: if new { birth } else { None },
                    dst_dev: dest.dev,
                }));
            }
        }
        let src_end = (src_fd.as_fd(), src_st);
        let found = resume::decide(
            src_end,
            (dst, dst_st.as_ref()),
            self.opts,
            &mut self.resolutions,
        );
        let keep = found.is_some_and(|f| f != Found::Restart);
        let dst_fd = self.create_or_open(entry, &mut dst_st, birth, keep)?;
        let ends = Ends {
            src: src_fd,
            dst: dst_fd,
            new: dst_st.is_none(),
            temp: None,
            // Under -f an existing file that could not be opened was made anew.
            resume: found.filter(|_| dst_st.is_some()),
            born: if dst_st.is_none() { birth } else { None },
            dst_dev: dest.dev,
        };
        if self.opts.attributes_only {
            self.finish_attributes_only(entry, ends)?;
            return Ok(None);
        }
        Ok(Some(ends))
    }

    /// Opens the destination in place: the existing file (`dst_st`), or a new one. Under -f
    /// an existing one that cannot be opened is removed and created anew, and `dst_st` says
    /// what became of it.
    fn create_or_open(
        &mut self,
        entry: Entry<'_>,
        dst_st: &mut Option<Stat>,
        birth: Option<metadata::Birth>,
        keep: bool,
    ) -> Result<OwnedFd, Error> {
        let Entry { src_st, dst, .. } = entry;
        let open = Open::new(dst_st.is_some(), keep);
        Ok(
            match open_destination(dst, src_st, open, birth, self.opts) {
                // It vanished meanwhile: GNU creates it.
                Err(Error::Io {
                    errno: Errno::NOENT,
                    ..
                }) if dst_st.is_some() => {
                    *dst_st = None;
                    open_destination(dst, src_st, Open::Create, birth, self.opts)?
                }
                // -f: a destination that cannot be opened is removed and created anew. Not
                // when a signal cut the open short (a FIFO waiting for a reader): that is no
                // reason to remove what is there.
                Err(e)
                    if dst_st.is_some()
                        && self.opts.overwrite.force
                        && !crate::copy::failure::interrupted(&e) =>
                {
                    match rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty()) {
                        Ok(()) if self.opts.verbose => report::removed(dst.shown),
                        Ok(()) | Err(Errno::NOENT) => {}
                        Err(e) => return Err(Error::io(Op::Remove, dst.shown, e)),
                    }
                    *dst_st = None;
                    open_destination(dst, src_st, Open::Create, birth, self.opts)?
                }
                result => result?,
            },
        )
    }

    /// Moves the data into the opened destination, closes it, applies the attributes, and
    /// under --atomic renames the temporary file into place.
    fn complete(&mut self, entry: Entry<'_>, mut ends: Ends<'_>) -> Result<(), Error> {
        let Entry { src_st, dst, .. } = entry;
        let Some(temp) = ends.temp.take() else {
            let preserve = self.opts.preserve;
            // A failure leaves the mode GNU's copy would have been left with.
            let as_gnu = |_: &Error| {
                metadata::born_as_gnu(ends.dst.as_fd(), src_st, &preserve, ends.born);
            };
            let done = self
                .move_data(entry, dst, &ends, ends.new)
                .inspect_err(as_gnu)?;
            self.after_data(entry, dst, &ends)?;
            durable::close(ends.dst, dst.shown)?;
            if resume::count(&mut self.summary, ends.resume, src_st, done.outcome.bytes) {
                self.done(src_st, done);
            }
            return Ok(());
        };
        // --atomic: the destination is replaced only when its data and attributes are
        // complete (and synced, with --fsync). Any failure, or a signal stopping the copy,
        // drops the temporary file, which removes it: the destination is left untouched.
        let at = temp.at(dst.shown);
        let done = self.move_data(entry, at, &ends, true)?;
        // The replaced file's attributes, then the source's preserved ones over them, as on
        // a file written in place.
        temp.after_data(ends.dst.as_fd(), &self.opts.preserve, dst.shown)?;
        self.after_data(entry, at, &ends)?;
        durable::close(ends.dst, dst.shown)?;
        temp.commit(self.opts.fsync, dst.shown)?;
        self.done(src_st, done);
        Ok(())
    }

    /// Moves the data: clone, extents or whole. `dst` names the file being written (a
    /// temporary one under --atomic); `empty`: it was created by this copy.
    fn move_data(
        &mut self,
        entry: Entry<'_>,
        dst: At<'_>,
        ends: &Ends<'_>,
        empty: bool,
    ) -> Result<Done, Error> {
        let Entry { src, src_st, .. } = entry;
        let kept = resume::skip_to(ends.resume, ends.src.as_fd(), ends.dst.as_fd(), dst.shown)?;
        resume::show_kept(&mut self.summary.counters, ends.resume, src_st);
        if ends.resume == Some(Found::Complete) {
            return Ok(Done {
                outcome: resume::nothing_moved(self.opts.method),
                reflink: Reflink::NotTried,
                layout: Layout::Dense,
            });
        }
        self.summary.counters.file_started(src.shown);
        let between_files = crate::copy::session::between_files(src_st, ends.dst.as_fd(), empty);
        let transfer = Transfer {
            src: ends.src.as_fd(),
            dst: ends.dst.as_fd(),
            bufsize: self.opts.bufsize,
            blksize: u64::try_from(src_st.st_blksize).unwrap_or(0),
            dst_blksize: std::cell::OnceCell::new(),
            limit: u64::MAX,
            zeros_to_holes: false,
            src_regular: file_type(src_st) == FileType::RegularFile,
            punch_holes: self.opts.sparse == Sparse::Always,
            may_share: self.opts.reflink != ReflinkMode::Never,
            cross_device: ends
                .dst_dev
                .is_some_and(|d| self.cross.contains(&(src_st.st_dev, d))),
            shown: self.opts.debug || self.opts.stats.is_some(),
            nocache: self.opts.nocache,
            from: kept,
            ends_short: self.ends_short((ends.src.as_fd(), src_st), between_files),
            finishes: between_files && src_st.st_size > 0,
        };
        let method = self.opts.method;
        let (cloned, reflink) = if kept > 0 {
            (None, Reflink::NotTried)
        } else {
            self.try_clone(&transfer, entry, ends.dst_dev)?
        };
        let mut layout = sparse::layout(src_st, self.opts.sparse, method, transfer.dst, empty);
        let outcome = match cloned {
            Some(outcome) => {
                layout = Layout::Dense;
                outcome
            }
            None => {
                let mut outcome = self
                    .copy_data(&transfer, src_st, &mut layout)
                    .map_err(|(used, e)| engine_error((src.shown, dst.shown), method, used, e))?;
                self.note_fallbacks(&mut outcome, (src_st.st_dev, ends.dst_dev), &reflink);
                outcome
            }
        };
        Ok(Done {
            outcome,
            reflink,
            layout,
        })
    }

    /// Moves the data with the method asked for: the extents only (holes kept), or the whole
    /// file, with its size reserved first. `layout` says which was done.
    fn copy_data(
        &mut self,
        transfer: &Transfer<'_>,
        src_st: &Stat,
        layout: &mut Layout,
    ) -> Result<Outcome, (Method, engine::EngineError)> {
        let method = self.opts.method;
        let counters = &mut self.summary.counters;
        let zeros = *layout == Layout::ExtentsAndZeros;
        let result = match *layout {
            Layout::Dense => None,
            _ => sparse::copy_extents(transfer, method, zeros, counters),
        };
        if let Some(result) = result {
            return result;
        }
        *layout = Layout::Dense;
        let regular = file_type(src_st) == FileType::RegularFile;
        let size = regular.then(|| u64::try_from(src_st.st_size).unwrap_or(0));
        let reserved = size.map_or(0, |size| reserve::reserve(transfer.dst, size));
        let result = engine::copy_sized(transfer, size, method, counters);
        reserve::release(transfer.dst, reserved);
        result.map_err(|(used, e)| (used, sparse::dense_failure(transfer, src_st, e)))
    }

    /// Remembers a pair of filesystems copy_file_range refused as two (EXDEV), so `auto` does
    /// not ask again for every file of a tree, and puts a refused clone first in the list of
    /// fallbacks. `devs`: the source's and the destination directory's filesystems.
    fn note_fallbacks(
        &mut self,
        outcome: &mut Outcome,
        (src_dev, dst_dev): (u64, Option<u64>),
        reflink: &Reflink,
    ) {
        let exdev = Reason::Refused(Errno::XDEV);
        if let Some(dst_dev) = dst_dev
            && outcome
                .fallbacks
                .iter()
                .any(|f| f.from == Method::CopyFileRange && f.reason == exdev)
        {
            self.cross.insert((src_dev, dst_dev));
        }
        // Only --debug and --stats show fallbacks: no list is grown per file without.
        let shown = self.opts.debug || self.opts.stats.is_some();
        if let Reflink::Refused(reason) = *reflink
            && shown
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
    }

    /// After the data: the preserved attributes, then the sync and the check asked for.
    fn after_data(&mut self, entry: Entry<'_>, dst: At<'_>, ends: &Ends<'_>) -> Result<(), Error> {
        let Entry { src, src_st, .. } = entry;
        let (src_fd, dst_fd, new) = (&ends.src, &ends.dst, ends.new);
        let preserve = self.opts.preserve;
        let to = (dst_fd.as_fd().into(), dst.shown);
        metadata::apply(to, (Some(src_fd.as_fd()), src_st), &preserve, ends.made())?;
        metadata::give_back(to, src_st, &preserve, ends.born, new)?;
        if self.opts.fsync {
            durable::sync_file(dst_fd.as_fd(), dst.shown)?;
            if new && !self.opts.atomic {
                durable::sync_dir(dst.dir, dst.name, dst.shown)?;
            }
        }
        if self.opts.verify && file_type(src_st) == FileType::RegularFile {
            durable::verify(src_fd.as_fd(), dst, src.shown, self.opts.nocache)?;
        }
        self.behind.add(dst_fd.as_fd(), src_st);
        Ok(())
    }

    /// Counts a finished file and prints its --debug line.
    fn done(&mut self, src_st: &Stat, done: Done) {
        self.summary.counters.file_finished();
        self.summary.add(
            &done.outcome,
            crate::report::stats::file_class(src_st.st_mode),
        );
        if self.opts.debug {
            crate::report::stats::debug(
                &done.outcome,
                done.reflink.debug_name(),
                done.layout.debug_name(),
            );
        }
    }
}

/// A regular file's two ends, open and ready for the data.
struct Ends<'d> {
    src: OwnedFd,
    dst: OwnedFd,
    /// The destination was created, not an existing file opened to be overwritten.
    new: bool,
    /// --atomic: the temporary file being written instead of the destination.
    temp: Option<atomic::Temp<'d>>,
    /// --resume: what is kept of the existing destination.
    resume: Option<Found>,
    /// What the destination was born with, when this copy created it (in a tree walk).
    born: Option<metadata::Birth>,
    /// The destination directory's filesystem, when known (in a tree walk).
    dst_dev: Option<u64>,
}

impl Ends<'_> {
    fn made(&self) -> metadata::Made {
        metadata::Made {
            new: self.new,
            born: self.born,
            directory: false,
        }
    }
}

/// What `move_data` did, for the report once the file is in place.
struct Done {
    outcome: crate::report::counters::Outcome,
    reflink: Reflink,
    layout: Layout,
}

impl Session<'_> {
    /// --attributes-only: the file exists (created empty, or left as it was), and gets the
    /// preserved attributes; no data moves.
    fn finish_attributes_only(&mut self, entry: Entry<'_>, ends: Ends<'_>) -> Result<(), Error> {
        let Entry { src_st, dst, .. } = entry;
        let preserve = self.opts.preserve;
        let to = (ends.dst.as_fd().into(), dst.shown);
        metadata::apply(to, (Some(ends.src.as_fd()), src_st), &preserve, ends.made())?;
        metadata::give_back(to, src_st, &preserve, ends.born, ends.new)?;
        durable::close(ends.dst, dst.shown)?;
        Ok(())
    }
}

/// The directory being walked and its descriptors, when the entry's source and destination
/// are its entries (a regular file there may be copied by another thread in a parallel copy).
fn walk_dir(entry: Entry<'_>) -> Option<(Arc<DirGuard>, Arc<DirFds>)> {
    let dir = entry.parent?;
    let fds = dir.current()?;
    let same = |a: BorrowedFd<'_>, b: BorrowedFd<'_>| a.as_raw_fd() == b.as_raw_fd();
    let (src, dst) = (entry.src, entry.dst);
    let in_walk = fds.src.as_ref().is_some_and(|fd| same(fd.as_fd(), src.dir))
        && same(fds.dst.as_fd(), dst.dir)
        && src.name == dst.name;
    in_walk.then(|| (Arc::clone(dir), fds))
}

/// Opens the source and checks it is still the file that was examined. A name reached without
/// following symlinks is opened with O_NOFOLLOW, so a symlink swapped in meanwhile is refused.
fn open_source(src: At<'_>, src_st: &Stat, follow: bool) -> Result<OwnedFd, Error> {
    let mut flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    // A FIFO's open waits for a writer: once a signal came, it is not begun (the signal
    // passed on to this thread may have come before it, and would not interrupt it).
    if file_type(src_st) != FileType::RegularFile && crate::signals::pending().is_some() {
        return Err(Error::Interrupted);
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
    open: Open,
    birth: Option<metadata::Birth>,
    opts: &Options,
) -> Result<OwnedFd, Error> {
    let base = OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    let result = if open != Open::Create {
        // --attributes-only leaves an existing file's data alone, and so does --resume
        // where the data is kept.
        let trunc = if opts.attributes_only || open == Open::Keep {
            OFlags::empty()
        } else {
            OFlags::TRUNC
        };
        rustix::fs::openat(dst.dir, dst.name, base | trunc, Mode::empty())
    } else {
        let mode = metadata::creation_mode(src_st, birth, &opts.preserve);
        let create = base | OFlags::CREATE;
        match rustix::fs::openat(dst.dir, dst.name, create | OFlags::EXCL, mode) {
            // A symlink whose target does not exist: creating the target through it is racy,
            // so GNU refuses, unless POSIXLY_CORRECT asks for what POSIX allows.
            Err(Errno::EXIST) if rustix::fs::readlinkat(dst.dir, dst.name, Vec::new()).is_ok() => {
                if !opts.overwrite.through_dangling {
                    return Err(Error::DanglingSymlink(dst.shown.to_path_buf()));
                }
                rustix::fs::openat(dst.dir, dst.name, create, mode)
            }
            other => other,
        }
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
