//! The state of a run that lives across its files: options, counters, what was copied and
//! written (GNU's src_info, dest_info, remember_copied), and the copying threads' queue. Nothing
//! here belongs to one file: per-file values travel in an `Entry` (entry.rs).

use crate::copy::dirfd::Shown;
use crate::copy::entry::Prepared;
use crate::copy::queue::Pool;
use crate::engine::nocache::Behind;
use crate::error::{Error, Op};
use crate::fs::backup::beside;
use crate::fs::ids::{NumMap, NumSet};
use crate::fs::{At, file_type, magic};
use crate::fs::{DestKey, Id, NameKey};
use crate::options::{Deref, Options};
use crate::report;
use crate::report::counters::Counters;
use crate::report::stats::Summary;
use rustix::fs::{FileType, Stat};
use rustix::fs::{Mode, OFlags};
use std::collections::HashSet;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// State that lives across the jobs of one run.
pub(crate) struct Session<'a> {
    pub(crate) opts: &'a Options,
    /// Totals for `--stats`.
    pub(crate) summary: Summary,
    /// Sources already copied (GNU's src_info): a repeat is skipped with a warning.
    pub(crate) seen_sources: HashSet<NameKey>,
    /// Destinations written in this run (GNU's dest_info): never overwritten by a later source.
    pub(crate) written: HashSet<DestKey>,
    /// Command-line directories and the first directory each operand creates, by identity,
    /// with the destination they map to (GNU's remember_copied): meeting one again is a
    /// directory copied into itself, or a source named twice (see directory.rs).
    pub(crate) dirs: NumMap<Id, Arc<Shown>>,
    /// Sources with several names already copied (`--preserve=links`), and their copies:
    /// the path to link from (see `reachable`) and the path as shown.
    pub(crate) links: NumMap<Id, (PathBuf, PathBuf)>,
    /// Source filesystems (st_dev) that refused FICLONE as unsupported.
    pub(crate) no_clone: NumSet<u64>,
    /// Pairs of filesystems (source, destination) between which copy_file_range failed
    /// with EXDEV: `auto` does not ask again for every file of a tree.
    pub(crate) cross: NumSet<(u64, u64)>,
    /// Source filesystems (st_dev) on which a short transfer is the end of the file
    /// (fs::magic::short_means_end), asked once each.
    pub(crate) short_ends: NumMap<u64, bool>,
    /// Destination filesystems' timestamp resolutions, learnt for -u (fs::newer).
    pub(crate) resolutions: crate::fs::newer::Resolutions,
    /// The copying threads' queue, in a parallel tree copy.
    pub(crate) pool: Option<&'a Pool>,
    /// --nocache: this thread's copies whose pages are still to be dropped.
    pub(crate) behind: Behind,
    /// --parents: the last leading directory of the latest operand that had any was made by
    /// it (GNU's new_dst, see `make_parents`).
    pub(crate) parents_made: bool,
    /// The directory operands are copied into, as named, and opened (see `operands_dir`).
    target: Option<(PathBuf, Option<Arc<OwnedFd>>)>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(opts: &'a Options, counters: Counters) -> Session<'a> {
        let mut summary = Summary::new(counters);
        summary.resumed.asked = opts.resume.is_some();
        Session {
            opts,
            summary,
            seen_sources: HashSet::new(),
            written: HashSet::new(),
            dirs: NumMap::default(),
            links: NumMap::default(),
            no_clone: NumSet::default(),
            cross: NumSet::default(),
            short_ends: NumMap::default(),
            resolutions: Default::default(),
            pool: None,
            behind: Behind::new(opts.nocache, crate::copy::dirfd::may_hold()),
            target: None,
            parents_made: false,
        }
    }

    /// The directory `into` (the target of every operand), opened the first time it is
    /// asked for and kept for the run, as GNU's target_dirfd (O_PATH, following a symlink).
    /// None where it cannot be opened: the caller then goes by its path.
    pub(crate) fn operands_dir(&mut self, into: &Path) -> Option<Arc<OwnedFd>> {
        if let Some((named, fd)) = &self.target
            && named == into
        {
            return fd.clone();
        }
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(into, flags, Mode::empty())
            .ok()
            .map(Arc::new);
        self.target = Some((into.to_path_buf(), fd.clone()));
        fd
    }

    /// Records the copy `shown` of a source with several names (`id`) for its later names.
    pub(crate) fn remember_link(&mut self, id: Id, shown: &Path) {
        let path = self.reachable(shown);
        self.links.insert(id, (path, shown.to_path_buf()));
    }

    /// A path to `shown`, a destination below the directory operands go into, that goes
    /// through that directory as opened (its descriptor's /proc/self/fd link), as GNU links
    /// from dst_dirfd: an operand that replaced a symlink named as the target (`ln -s . d`)
    /// leaves the target's path leading elsewhere, and a later name was linked to an
    /// unrelated file there. Other paths as they are.
    fn reachable(&self, shown: &Path) -> PathBuf {
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        if let Some((into, Some(fd))) = &self.target {
            let (into, path) = (into.as_os_str().as_bytes(), shown.as_os_str().as_bytes());
            let into = crate::fs::one_trailing_slash(into);
            let rest = path
                .strip_prefix(into)
                .map(|r| r.strip_prefix(b"/").unwrap_or(r));
            if let Some(rest) = rest.filter(|r| {
                !r.is_empty() && (into.ends_with(b"/") || path.get(into.len()) == Some(&b'/'))
            }) {
                let mut out = format!("/proc/self/fd/{}/", fd.as_raw_fd()).into_bytes();
                out.extend_from_slice(rest);
                return PathBuf::from(std::ffi::OsString::from_vec(out));
            }
        }
        shown.to_path_buf()
    }

    /// Prints an error without tearing the progress bar, and counts it. After a signal,
    /// errors are the signal's doing (EINTR from a blocked open...) and are not printed.
    pub(crate) fn fail(&mut self, e: &Error) {
        self.summary.failures += 1;
        if matches!(e, Error::Interrupted) || crate::signals::pending().is_some() {
            return;
        }
        report::error(e);
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

    /// How symlinks are followed for a file: -H follows command-line operands only, so below
    /// them it means -P (GNU's copy_dir sets DEREF_NEVER for the walk).
    pub(crate) fn deref(&self, top: bool) -> Deref {
        match self.opts.deref {
            Deref::CommandLine if !top => Deref::Never,
            deref => deref,
        }
    }

    /// The source's size when a short transfer from it at that size is its end (engine's
    /// Transfer::ends_short): a regular file that says it has data, on a filesystem where
    /// transfers stop short only at end of file. `None` for /proc and /sys files (they say 0).
    /// Only from a regular file into one (`between_files`): a pipe, socket or terminal takes
    /// what it has room for, and sendfile's short count is then its doing, not the source's
    /// end (a source grown past its size would lose the rest).
    pub(crate) fn ends_short(
        &mut self,
        (src, src_st): (BorrowedFd<'_>, &Stat),
        between_files: bool,
    ) -> Option<u64> {
        let size = u64::try_from(src_st.st_size)
            .ok()
            .filter(|&size| size > 0)?;
        if !between_files {
            return None;
        }
        self.page_cache_fs(src, src_st).then_some(size)
    }

    /// Whether `fd` (of status `st`) is on a filesystem whose reads go through the page cache
    /// and stop short only at end of file (magic::short_means_end), learnt once per device.
    pub(crate) fn page_cache_fs(&mut self, fd: BorrowedFd<'_>, st: &Stat) -> bool {
        *self
            .short_ends
            .entry(st.st_dev)
            .or_insert_with(|| magic::of(fd).is_some_and(magic::short_means_end))
    }

    /// After a failed copy, puts back the backup made of the destination (GNU's un_backup):
    /// the user keeps the file they had, not a partial copy.
    pub(crate) fn restore_backup(&mut self, dst: At<'_>, backup: Option<&Path>) {
        let Some(shown) = backup else {
            return;
        };
        let Some(name) = shown.file_name() else {
            return;
        };
        let from = beside(dst.name, &name.to_os_string());
        match rustix::fs::renameat(dst.dir, &from, dst.dir, dst.name) {
            Ok(()) if self.opts.verbose => report::unbackup(shown, dst.shown),
            Ok(()) => {}
            Err(e) => self.fail(&Error::io(Op::Unbackup, dst.shown, e)),
        }
    }
}

/// Whether a copy runs from a regular file into one (`created` by this copy, or found so):
/// it ends, where one into a FIFO, a device or a socket may wait for a reader for ever (and
/// one from a /proc file, which says it is empty, may block: Transfer::finishes asks for a
/// size too).
pub(crate) fn between_files(src_st: &Stat, dst: BorrowedFd<'_>, created: bool) -> bool {
    file_type(src_st) == FileType::RegularFile
        && (created
            || rustix::fs::fstat(dst).is_ok_and(|st| file_type(&st) == FileType::RegularFile))
}
