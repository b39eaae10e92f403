//! A directory being filled, and its attributes applied once everything below it is in place.
//!
//! Each queued file holds its directory's guard, and each guard its parent's; the last one to
//! let go applies the attributes, so directory times are set after their contents, in a
//! parallel copy as in a sequential one (see parallel.rs). Guards hold no descriptors of their
//! own: a directory whose descriptors were all closed is opened again to be finished (dirfd.rs).

use crate::copy::dirfd::{DirFds, Place, Shown};
use crate::copy::metadata::{self, Birth};
use crate::error::{Error, Op};
use crate::options::Preserve;
use crate::report;
use rustix::fs::{Mode, Stat};
use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// A directory being filled, and what to do when it is complete.
pub(crate) struct DirGuard {
    /// Its descriptors while anyone holds them (the walk, for the levels it keeps open, and
    /// queued files).
    fds: Mutex<Weak<DirFds>>,
    /// The top directory of a walk keeps its descriptors: any other can be opened again from
    /// there, level by level.
    keep: Option<Arc<DirFds>>,
    /// The destination directory's filesystem (st_dev).
    pub(crate) dst_dev: u64,
    /// What files created in the destination directory are born with, learnt when first
    /// needed (attributes to preserve).
    birth: OnceLock<Birth>,
    finish: Option<Finish>,
    /// Where it is: its names, and its parent's guard, kept alive until this directory is
    /// finished, so the parent finishes after it.
    site: Site,
    /// It could not be opened again (the error was reported): it is not finished.
    lost: AtomicBool,
    /// Where a failure to finish counts when a copying thread finishes the directory.
    failures: Option<Arc<AtomicU64>>,
    /// Dropped with the guard, after the directory is finished: see `watch`.
    alive: Arc<()>,
}

/// Where a directory is in the walk.
pub(crate) struct Site {
    pub(crate) shown: Arc<Shown>,
    pub(crate) place: Place,
    pub(crate) parent: Option<Arc<DirGuard>>,
    /// Its guard keeps its descriptors: the top of a walk (every other directory can be
    /// opened again from there), or one finished at once.
    pub(crate) top: bool,
}

/// The attributes a directory gets once its contents are in place.
pub(crate) struct Finish {
    pub(crate) src_st: Stat,
    /// The mode to restore when the directory was created wider (u+rwx) to be filled.
    pub(crate) restore: Option<u32>,
    pub(crate) preserve: Preserve,
    /// The copy created the directory (not an existing one merged into).
    pub(crate) created: bool,
}

impl DirGuard {
    pub(crate) fn new(
        fds: &Arc<DirFds>,
        dst_dev: u64,
        finish: Finish,
        site: Site,
        failures: Option<Arc<AtomicU64>>,
    ) -> DirGuard {
        DirGuard {
            fds: Mutex::new(Arc::downgrade(fds)),
            keep: site.top.then(|| Arc::clone(fds)),
            dst_dev,
            birth: OnceLock::new(),
            finish: Some(finish),
            site,
            lost: AtomicBool::new(false),
            failures,
            alive: Arc::new(()),
        }
    }

    /// A handle that dies once the directory is finished, its attributes applied: from then
    /// on nothing copied into it, or below it, is pending. (A `Weak` of the guard itself dies
    /// as the last holder starts finishing, too early.)
    pub(crate) fn watch(&self) -> Weak<()> {
        Arc::downgrade(&self.alive)
    }

    /// Its names, for messages and for opening it again.
    pub(crate) fn shown(&self) -> &Arc<Shown> {
        &self.site.shown
    }

    /// What it must be when opened again.
    pub(crate) fn place(&self) -> &Place {
        &self.site.place
    }

    /// Its descriptors, if anyone holds them.
    pub(crate) fn current(&self) -> Option<Arc<DirFds>> {
        if let Some(fds) = &self.keep {
            return Some(Arc::clone(fds));
        }
        self.fds.lock().ok()?.upgrade()
    }

    /// Records `fds`, opened again, as its descriptors.
    pub(crate) fn set_current(&self, fds: &Arc<DirFds>) {
        if let Ok(mut slot) = self.fds.lock() {
            *slot = Arc::downgrade(fds);
        }
    }

    /// Marks it as not to be finished: it could not be opened again, and that was reported.
    pub(crate) fn lose(&self) {
        self.lost.store(true, Ordering::Relaxed);
    }

    /// What files created in the destination directory (`fds.dst`) are born with.
    pub(crate) fn birth(&self, fds: &DirFds) -> Birth {
        *self.birth.get_or_init(|| Birth::of(fds.dst.as_fd()))
    }

    /// Opens it again from its nearest ancestor with open descriptors (the top of the walk
    /// at the farthest), one level at a time, each checked to be the directory first opened.
    pub(crate) fn reopen(&self) -> Result<Arc<DirFds>, Error> {
        let mut chain = Vec::new();
        let mut at = self;
        let mut fds = loop {
            if let Some(fds) = at.current() {
                break fds;
            }
            chain.push(at);
            match &at.site.parent {
                Some(parent) => at = parent,
                None => return Err(Error::Replaced(at.site.shown.dst())),
            }
        };
        for guard in chain.iter().rev() {
            fds = Arc::new(guard.site.place.open_below(&fds, &guard.site.shown)?);
        }
        Ok(fds)
    }

    /// Finishes the directory now, when nothing else holds it (always so when copying one by
    /// one); otherwise the last holder finishes it. `fds`: its descriptors, and `shown`
    /// its destination's path, when the caller has them.
    pub(crate) fn finish_if_last(
        guard: Arc<DirGuard>,
        fds: Option<Arc<DirFds>>,
        shown: Option<&Path>,
    ) -> Result<(), Error> {
        match Arc::try_unwrap(guard) {
            Ok(mut guard) => {
                let (fds, result) = guard.complete(fds, None, shown);
                guard.finish_parents(fds, shown);
                result
            }
            Err(_) => Ok(()),
        }
    }

    /// As `finish_if_last`, for a copying thread, which copied the file `entry` (its path
    /// and name) in it: a failure is reported here and counted.
    pub(crate) fn release(guard: Arc<DirGuard>, fds: Arc<DirFds>, entry: (&Path, &OsStr)) {
        if let Ok(mut guard) = Arc::try_unwrap(guard) {
            // The directory's path is the file's, cut back.
            let shown = guard.site.shown.path_above(entry.0, entry.1);
            let (fds, result) = guard.complete(Some(fds), None, Some(&shown));
            if let Err(e) = result {
                guard.failed(&e);
            }
            guard.finish_parents(fds, Some(&shown));
        }
    }

    /// Applies the attributes, with `fds`, or its own descriptors, or ones opened again
    /// (through `..` of `near`, a child's, when that is this directory). `shown`: its
    /// destination's path, when the caller has it (it is pieced together otherwise). Returns
    /// the descriptors used, for the parent's turn.
    fn complete(
        &mut self,
        fds: Option<Arc<DirFds>>,
        near: Option<&DirFds>,
        shown: Option<&Path>,
    ) -> (Option<Arc<DirFds>>, Result<(), Error>) {
        let Some(finish) = self.finish.take() else {
            return (fds, Ok(()));
        };
        // After a signal the directory is left as made, as by cp, which the signal ends
        // before it finishes the directory: its mode and times would say it is complete.
        if self.lost.load(Ordering::Relaxed) || crate::signals::pending().is_some() {
            return (fds, Ok(()));
        }
        let fds = match fds.or_else(|| self.current()) {
            Some(fds) => Ok(fds),
            None => match near.and_then(|child| self.site.place.open_above(child)) {
                Some(fds) => Ok(Arc::new(fds)),
                None => self.reopen(),
            },
        };
        match fds {
            Ok(fds) => {
                let result = match shown {
                    Some(shown) => finish_dir(&fds, &finish, shown),
                    None => finish_dir(&fds, &finish, &self.site.shown.dst()),
                };
                (Some(fds), result)
            }
            Err(e) => (None, Err(e)),
        }
    }

    /// Finishes the parents that nothing else holds, one after the other (a loop, not a
    /// recursion: the chain can be thousands of levels long, on a thread with a small stack).
    /// `fds` and `shown`: this directory's descriptors and path, when known.
    fn finish_parents(&mut self, mut fds: Option<Arc<DirFds>>, shown: Option<&Path>) {
        let mut up = self.site.parent.take();
        let mut child = Arc::clone(&self.site.shown);
        let mut path: Option<PathBuf> = None;
        while let Some(parent) = up {
            let Ok(mut guard) = Arc::try_unwrap(parent) else {
                break;
            };
            // Each path is its child's cut back: no path is pieced together per level.
            let below = path.take().or_else(|| shown.map(Path::to_path_buf));
            let here = match (below, child.name()) {
                (Some(below), Some(name)) => guard.site.shown.path_above(&below, name),
                _ => guard.site.shown.dst(),
            };
            // Finished before its parent is let go: opening it again may need the parent.
            let (used, result) = guard.complete(None, fds.as_deref(), Some(&here));
            if let Err(e) = result {
                guard.failed(&e);
            }
            up = guard.site.parent.take();
            fds = used;
            path = Some(here);
            child = Arc::clone(&guard.site.shown);
        }
    }

    /// Reports a failure to finish, unless a signal explains it, and counts it.
    fn failed(&self, e: &Error) {
        if let Some(failures) = &self.failures {
            failures.fetch_add(1, Ordering::Relaxed);
        }
        if crate::signals::pending().is_none() {
            report::error(e);
        }
    }
}

impl Drop for DirGuard {
    fn drop(&mut self) {
        let (fds, result) = self.complete(None, None, None);
        if let Err(e) = result {
            self.failed(&e);
        }
        self.finish_parents(fds, None);
    }
}

/// Applies a directory's final attributes once its contents are in place; `shown` is its
/// destination's path.
pub(crate) fn finish_dir(fds: &DirFds, finish: &Finish, shown: &Path) -> Result<(), Error> {
    let preserve = finish.preserve;
    let src_fd = fds.src.as_ref().map(|fd| fd.as_fd());
    let made = metadata::Made {
        new: finish.created,
        born: None,
        directory: true,
    };
    metadata::apply(
        (fds.dst.handle(), shown),
        (src_fd, &finish.src_st),
        &preserve,
        made,
    )?;
    // After the chown (which clears set-id bits); chmod changes only the ctime, so the
    // times just set stay. --no-preserve=mode: GNU's set_acl gives a directory it made its
    // default mode as a minimal ACL (dropping one its parent's default ACL gave it).
    if !preserve.mode && preserve.default_mode && finish.created {
        let mode = 0o777 & !metadata::umask();
        crate::copy::acl::set_mode_acl(fds.dst.handle(), mode)
            .map_err(|e| Error::io(Op::SetAcl, shown, e))?;
    } else if !preserve.mode
        && let Some(mode) = finish.restore
    {
        fds.dst
            .handle()
            .chmod(Mode::from_raw_mode(mode))
            .map_err(|e| Error::io(Op::RestorePermissions, shown, e))?;
    }
    Ok(())
}
