//! The walk over a source tree, by directory file descriptors.
//!
//! Every entry is opened relative to its parent's descriptor (openat, O_NOFOLLOW,
//! O_DIRECTORY), so a symlink swapped into the tree during the copy cannot redirect reads or
//! writes outside it. Entries are visited in inode order, as GNU cp does (it reads directories
//! faster on most filesystems, and it makes `-v` output and partial results the same).
//!
//! The walk is a loop over a stack of levels, not a recursion, so that only the deepest
//! levels keep their descriptors open (the budget's window, dirfd.rs): a level whose
//! descriptors were closed is opened again when the walk comes back to it. A tree of any
//! depth copies within the limit on open files, and its paths are kept once per level, in
//! one buffer per side, not once per directory.

use crate::copy::directory::{Carry, Level};
use crate::copy::dirfd::{Budget, DirFds, Shown};
use crate::copy::entry::{Entry, Node, Opened};
use crate::copy::guard::DirGuard;
use crate::copy::session::Session;
use crate::error::{Error, Op};
use crate::fs::ids::{NumMap, NumSet};
use crate::fs::{At, Id, file_type};
use crate::options::{Deref, Make};
use rustix::fs::{FileType, Mode, OFlags, Stat};
use std::ffi::OsStr;
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

/// An entry's status, and the entry itself when it was opened to be stat'ed.
type Looked = (Stat, Opened);

/// Opens a directory entry recorded as a regular file, and stats the open file: one call
/// less than stat then open, and the status is the opened file's by construction. `None`
/// when that does not work out (the entry changed, or cannot be opened): the caller then
/// takes the usual way, which reports any error at the point GNU cp does.
///
/// The listing may be old by then: an entry replaced by a FIFO since would block the open
/// until a writer came, where GNU, which looks at the type right before opening, makes a
/// FIFO. So the open does not wait (O_NONBLOCK); a FIFO or device found is closed again.
fn open_recorded_file(at: At<'_>) -> Option<(OwnedFd, Stat)> {
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let fd = rustix::fs::openat(at.dir, at.name, flags, Mode::empty()).ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    (file_type(&st) == FileType::RegularFile).then_some((fd, st))
}

/// The destination directories a parallel walk entered, each with whether it was entered
/// twice (through a kept directory symlink or a bind mount), while anything copied into it
/// may still be pending: a directory finished (see `DirGuard::watch`) is forgotten, unless it
/// was entered twice, so that the memory follows what is pending, not the size of the tree
/// (it grew by about 60 bytes per directory of the tree).
#[derive(Default)]
struct Entered {
    dirs: NumMap<Id, (Weak<()>, bool)>,
    /// The size at which finished directories are forgotten next.
    sweep_at: usize,
}

impl Entered {
    /// Records entering `dir`, watched by `alive`; whether it was entered before and may
    /// still be pending (then it is marked as entered twice).
    fn enter(&mut self, dir: Id, alive: Weak<()>) -> bool {
        if let Some((_, twice)) = self.dirs.get_mut(&dir) {
            *twice = true;
            return true;
        }
        if self.dirs.len() >= self.sweep_at {
            self.dirs
                .retain(|_, (alive, twice)| *twice || alive.strong_count() > 0);
            // Twice what is left: the sweeps cost a constant time per directory entered.
            self.sweep_at = (2 * self.dirs.len()).max(256);
        }
        self.dirs.insert(dir, (alive, false));
        false
    }

    /// Whether `dir` was entered and may still be pending.
    fn holds(&self, dir: Id) -> bool {
        self.dirs.contains_key(&dir)
    }

    /// Whether `dir` was entered twice.
    fn twice(&self, dir: Id) -> bool {
        self.dirs.get(&dir).is_some_and(|&(_, twice)| twice)
    }
}

/// A walk in progress.
struct Walk {
    levels: Vec<Level>,
    /// The deepest level's paths; each level's paths begin those of the levels below it.
    src: PathBuf,
    dst: PathBuf,
    /// Levels that keep their descriptors open.
    window: usize,
    /// In a parallel copy, the destination directories entered.
    entered: Entered,
    carry: Carry,
}

/// Whether the destination `dst` (or the directory it would be made in) lies inside the
/// directory `src_st`: its own directory or one above it, up to `/`, is that directory.
pub(crate) fn inside(dst: At<'_>, src_st: &Stat) -> bool {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let start = rustix::fs::openat(dst.dir, dst.name, flags, Mode::empty()).or_else(|_| {
        let parent = crate::fs::dir_and_base(dst.name).0;
        rustix::fs::openat(dst.dir, parent, flags, Mode::empty())
    });
    let Ok(mut dir) = start else {
        return false;
    };
    let wanted = crate::fs::id(src_st);
    // A bound on the levels, in case `..` never comes to a directory that is its own parent.
    for _ in 0..4096 {
        let Ok(st) = rustix::fs::fstat(&dir) else {
            return false;
        };
        if crate::fs::id(&st) == wanted {
            return true;
        }
        let Ok(up) = rustix::fs::openat(&dir, "..", flags, Mode::empty()) else {
            return false;
        };
        if rustix::fs::fstat(&up).is_ok_and(|above| crate::fs::id(&above) == crate::fs::id(&st)) {
            return false;
        }
        dir = up;
    }
    false
}

/// `path` cut back to its first `len` bytes (a parent's path), keeping its allocation.
fn truncate(path: &mut PathBuf, len: usize) {
    let mut bytes = std::mem::take(path).into_os_string().into_vec();
    bytes.truncate(len);
    *path = PathBuf::from(OsString::from_vec(bytes));
}

/// Both paths + `/name`, in place, with the slashes the user gave (as `fs::concat`).
/// Returns their lengths before, for `cut_back`.
fn add_name(paths: (&mut PathBuf, &mut PathBuf), name: &OsStr) -> (usize, usize) {
    let lens = (paths.0.as_os_str().len(), paths.1.as_os_str().len());
    for path in [paths.0, paths.1] {
        let mut bytes = std::mem::take(path).into_os_string().into_vec();
        if !bytes.ends_with(b"/") {
            bytes.push(b'/');
        }
        bytes.extend_from_slice(name.as_bytes());
        *path = PathBuf::from(OsString::from_vec(bytes));
    }
    lens
}

/// Both paths cut back to `lens` bytes (what `add_name` returned).
fn cut_back(paths: (&mut PathBuf, &mut PathBuf), lens: (usize, usize)) {
    truncate(paths.0, lens.0);
    truncate(paths.1, lens.1);
}

impl Session<'_> {
    /// Copies a directory and everything below it. Errors on entries are reported and the walk
    /// goes on; the directory's own attributes are applied after its contents.
    pub(crate) fn copy_dir(&mut self, entry: Entry<'_>) -> Result<(), Error> {
        // A copy into its own source reads directories it is filling: the order in which it
        // fills them decides what it finds there (and their inode order, in which it reads
        // them), so it copies one file at a time, as GNU cp, whatever -j says.
        let pool = self.pool.take();
        if pool.is_some() && !inside(entry.dst, entry.src_st) {
            self.pool = pool;
        }
        let result = self.walk_dir(entry);
        self.pool = pool;
        result
    }

    fn walk_dir(&mut self, entry: Entry<'_>) -> Result<(), Error> {
        let Entry {
            src, dst, target, ..
        } = entry;
        let shown = Arc::new(Shown::Top {
            src: src.shown.to_path_buf(),
            dst: dst.shown.to_path_buf(),
        });
        // The paths below the top drop its trailing slashes but one, as GNU's
        // file_name_concat does (`d//` + `f` is `d/f`); the top keeps them (`shown`).
        let below = |path: &Path| {
            let bytes = crate::fs::one_trailing_slash(path.as_os_str().as_bytes());
            PathBuf::from(OsStr::from_bytes(bytes))
        };
        let mut walk = Walk {
            levels: Vec::new(),
            src: below(src.shown),
            dst: below(dst.shown),
            window: Budget::new(self.opts).window,
            entered: Entered::default(),
            carry: Carry {
                top: (src.shown.to_path_buf(), dst.shown.to_path_buf()),
                into_self: false,
                target: target.map(Path::to_path_buf),
                ancestors: NumSet::default(),
                created: false,
                buffer: vec![std::mem::MaybeUninit::uninit(); 32 << 10],
            },
        };
        let top = match self.enter(entry, shown, &mut walk.carry) {
            Ok(Some(top)) => top,
            result => return result.map(|_| ()),
        };
        self.push(&mut walk, top);
        let mut result = Ok(());
        while !walk.levels.is_empty() {
            if let Some(last) = self.step(&mut walk) {
                result = last;
            }
        }
        result
    }

    /// Copies the deepest level's next entry, or leaves the level when it has none left.
    /// Returns the top directory's result once the walk leaves it.
    fn step(&mut self, walk: &mut Walk) -> Option<Result<(), Error>> {
        let depth = walk.levels.len();
        let level = walk.levels.last_mut()?;
        let stop = walk.carry.into_self || crate::signals::pending().is_some();
        if stop || level.next >= level.entries.len() {
            return self.leave(walk);
        }
        walk.carry.created = level.first.0;
        let (name, kind) = level.entries.get(level.next);
        level.next += 1;
        let Some(fds) = level.fds.as_deref() else {
            unreachable!("the deepest level is open, or has no entries left");
        };
        let Some(src_dir) = fds.src.as_ref().map(|fd| fd.as_fd()) else {
            unreachable!("a listed directory has its source open");
        };
        // The entry's paths are the level's with its name added, in place: no allocation per
        // entry. They are cut back below unless the entry became a level.
        let lens = add_name((&mut walk.src, &mut walk.dst), name);
        let child_src = At {
            dir: src_dir,
            name: Path::new(name),
            shown: &walk.src,
        };
        let child_dst = At {
            dir: fds.dst.as_fd(),
            name: Path::new(name),
            shown: &walk.dst,
        };
        let (st, opened) = match self.look(child_src, kind, &walk.entered) {
            Ok(looked) => looked,
            Err(e) => {
                self.fail(&Error::io(Op::Stat, &walk.src, e));
                cut_back((&mut walk.src, &mut walk.dst), lens);
                return None;
            }
        };
        let entry = Entry {
            src: child_src,
            src_st: &st,
            dst: child_dst,
            node: Node {
                follow: self.opts.deref == Deref::Always,
                top: false,
                fresh: level.fresh,
            },
            parent: Some(&level.guard),
            target: None,
        };
        let result = if file_type(&st) != FileType::Directory {
            self.copy_file(entry, opened).map(|_| ())
        } else {
            let shown = Arc::new(Shown::Below {
                up: Arc::clone(level.guard.shown()),
                name: name.into(),
            });
            if self.opts.one_file_system && st.st_dev != level.src_dev {
                let first = &mut walk.carry.created;
                self.mount_point(entry, shown, first)
            } else {
                let entered = self.enter(entry, shown, &mut walk.carry);
                entered.map(|child| {
                    if let Some(child) = child {
                        self.push(walk, child);
                    }
                })
            }
        };
        if let Err(e) = result {
            self.fail(&e);
        }
        // An entry that did not become a level is done: its flag goes to its directory's,
        // and the paths are its directory's again.
        if walk.levels.len() == depth {
            walk.levels[depth - 1].first.1 |= walk.carry.created;
            cut_back((&mut walk.src, &mut walk.dst), lens);
        }
        None
    }

    /// Stats an entry. One recorded as a regular file is opened at once (the copy needs it
    /// open anyway) and the open file stat'ed, unless symlinks are followed (the recorded
    /// type is the link's) or only links are made (-l, -s).
    ///
    /// What the copying threads may still be writing is read once every queued copy is done,
    /// as one by one: a followed symlink may lead into the destination (`-rL src dst` with a
    /// link to dst/src/big gave a short copy), and a source directory may be one this walk
    /// fills (`cp -a -t d . x` reads `d` after files were queued into it; `entered`).
    fn look(
        &mut self,
        src: At<'_>,
        kind: FileType,
        entered: &Entered,
    ) -> rustix::io::Result<Looked> {
        let follow = self.opts.deref == Deref::Always;
        if follow && kind == FileType::Symlink {
            self.settle();
        }
        let open_early = !follow && self.opts.make == Make::Copy;
        if open_early
            && kind == FileType::RegularFile
            && let Some((fd, st)) = open_recorded_file(src)
        {
            // Reads of a regular file ignore O_NONBLOCK on the page-cache filesystems; it
            // is cleared elsewhere (a FUSE server, or a /proc file, may honour it).
            // F_SETFL sets only the status flags, of which O_NONBLOCK is the one this open
            // asked for: one call clears it.
            if !self.page_cache_fs(fd.as_fd(), &st) {
                rustix::fs::fcntl_setfl(&fd, OFlags::empty())?;
            }
            // A second name of a file a copying thread still reads: its status once that
            // copy is done, as in walk order (the read moved its access time, which -p keeps).
            if st.st_nlink > 1 && self.pool.is_some_and(|pool| pool.busy(crate::fs::id(&st))) {
                self.settle();
                return Ok((rustix::fs::fstat(&fd)?, Some(fd)));
            }
            return Ok((st, Some(fd)));
        }
        let st = src.stat(follow)?;
        if file_type(&st) == FileType::Directory && entered.holds(crate::fs::id(&st)) {
            self.settle();
        }
        Ok((st, None))
    }

    /// Makes `level` the deepest one; the level that leaves the window closes its descriptors
    /// (queued files in it keep theirs).
    fn push(&mut self, walk: &mut Walk, mut level: Level) {
        if self.pool.is_some() {
            let dst = level.guard.place().ids.1;
            if walk.entered.enter(dst, level.guard.watch()) {
                self.settle();
            }
        }
        level.lens = (walk.src.as_os_str().len(), walk.dst.as_os_str().len());
        walk.levels.push(level);
        if let Some(out) = walk.levels.len().checked_sub(walk.window + 1) {
            walk.levels[out].fds = None;
        }
    }

    /// Leaves the deepest level: its parent gets its descriptors back (through `..` when it
    /// closed them), and the level is finished unless queued files still hold it.
    fn leave(&mut self, walk: &mut Walk) -> Option<Result<(), Error>> {
        let Level {
            guard, fds, first, ..
        } = walk.levels.pop()?;
        walk.carry.ancestors.remove(&guard.place().ids.0);
        // The top's path is as the user gave it (its guard has it), not the walk's.
        let shown = (!walk.levels.is_empty()).then_some(walk.dst.as_path());
        let result = DirGuard::finish_if_last(guard, fds.clone(), shown);
        let Some(parent) = walk.levels.last_mut() else {
            return Some(result);
        };
        parent.first.1 |= first.1;
        if parent.fds.is_none() {
            self.resume(&mut walk.levels, fds.as_deref(), walk.window);
        }
        drop(fds);
        let Some(parent) = walk.levels.last_mut() else {
            unreachable!("the parent was there");
        };
        truncate(&mut walk.src, parent.lens.0);
        truncate(&mut walk.dst, parent.lens.1);
        let aliased = walk.entered.twice(parent.guard.place().ids.1);
        if let Err(e) = result {
            self.fail(&e);
        }
        if aliased {
            self.settle();
        }
        None
    }

    /// Opens the deepest level's directories again: from the child just left through `..`,
    /// or level by level from the nearest open ancestor (then the levels opened on the way
    /// that fit in the window stay open: they come next). A level that cannot be opened, or
    /// is not the directory it was, is reported, and the rest of its entries skipped, and so
    /// are those of the levels below it.
    fn resume(&mut self, levels: &mut [Level], child: Option<&DirFds>, window: usize) {
        let Some(last) = levels.len().checked_sub(1) else {
            return;
        };
        let guard = &levels[last].guard;
        let found = guard.current().or_else(|| {
            let above = guard.place().open_above(child?)?;
            Some(Arc::new(above))
        });
        if let Some(fds) = found {
            guard.set_current(&fds);
            levels[last].fds = Some(fds);
            return;
        }
        // The top level's guard keeps its descriptors: some ancestor is open.
        let open = |level: &Level| level.fds.clone().or_else(|| level.guard.current());
        let Some((start, mut fds)) = (0..last)
            .rev()
            .find_map(|at| open(&levels[at]).map(|fds| (at, fds)))
        else {
            levels[last].guard.lose();
            levels[last].next = levels[last].entries.len();
            return;
        };
        for at in start + 1..=last {
            let level = &mut levels[at];
            match level.guard.place().open_below(&fds, level.guard.shown()) {
                Ok(below) => fds = Arc::new(below),
                Err(e) => {
                    self.fail(&e);
                    for level in &mut levels[at..] {
                        level.guard.lose();
                        level.next = level.entries.len();
                    }
                    return;
                }
            }
            if at + window > last {
                level.guard.set_current(&fds);
                level.fds = Some(Arc::clone(&fds));
            }
        }
    }
}
