//! Sizing the whole job for the progress bar, a little at a time, on the copying thread.
//!
//! The total of a recursive copy is the size and the number of every file below its sources
//! whose data is copied. Walking the trees first would delay the copy, so the display starts
//! without a total, and each update spends a few milliseconds walking further until the total
//! is known.

use rustix::fs::{AtFlags, Mode, OFlags};
use std::ffi::OsString;
use std::fs::FileType;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Entries looked at between two looks at the clock.
const ENTRIES_PER_CHECK: u32 = 64;

/// The sizes counted so far, and what is left to look at.
#[derive(Debug)]
pub(crate) struct Tally {
    /// Command-line sources not looked at yet (last first).
    sources: Vec<PathBuf>,
    /// Directories being counted, innermost last, with the entries left to look at. Each is
    /// read whole and closed at once: a descriptor held per level would take from the copy's
    /// (a deep tree would take them all).
    dirs: Vec<(PathBuf, std::vec::IntoIter<(OsString, FileType)>)>,
    recursive: bool,
    /// Special files (FIFOs, devices) are read as data: top-level operands of a copy that is
    /// not recursive, and every one under --copy-contents.
    specials: bool,
    total: u64,
    files: u64,
    /// Files counted whose size cannot be known before they are read (a FIFO, a device).
    unsized_files: u64,
}

impl Tally {
    pub(crate) fn new(mut sources: Vec<PathBuf>, recursive: bool, specials: bool) -> Tally {
        sources.reverse();
        Tally {
            sources,
            dirs: Vec::new(),
            recursive,
            specials,
            total: 0,
            files: 0,
            unsized_files: 0,
        }
    }

    /// The files counted so far (all of them, once `total` is known).
    pub(crate) fn files(&self) -> u64 {
        self.files
    }

    /// Every file counted has a size known in advance: `total` is the bytes to copy, not
    /// just a lower bound.
    pub(crate) fn sized(&self) -> bool {
        self.unsized_files == 0
    }

    /// The total, once every source has been looked at.
    pub(crate) fn total(&self) -> Option<u64> {
        self.done().then_some(self.total)
    }

    fn done(&self) -> bool {
        self.sources.is_empty() && self.dirs.is_empty()
    }

    /// Counts for about `budget` (`Duration::MAX`: to the end).
    pub(crate) fn step(&mut self, budget: Duration) {
        let until = Instant::now().checked_add(budget);
        let mut seen = 0u32;
        // The deepest directory, opened for this step only: its files are stat'ed by name in
        // it, not by their whole path (the path walk was half of the sizing's time).
        let mut open: Option<OwnedFd> = None;
        while !self.done() {
            seen = seen.wrapping_add(1);
            if seen.is_multiple_of(ENTRIES_PER_CHECK) && until.is_some_and(|t| Instant::now() >= t)
            {
                return;
            }
            if let Some((dir, entries)) = self.dirs.last_mut() {
                match entries.next() {
                    Some((name, t)) if t.is_dir() => {
                        let below = dir.join(name);
                        open = None;
                        self.enter(below);
                    }
                    Some((name, t)) if t.is_file() => {
                        if open.is_none() {
                            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                            open = rustix::fs::open(dir.as_path(), flags, Mode::empty()).ok();
                        }
                        let size = match &open {
                            Some(fd) => rustix::fs::statat(fd, &name, AtFlags::SYMLINK_NOFOLLOW)
                                .map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0)),
                            None => {
                                std::fs::symlink_metadata(dir.join(name)).map_or(0, |m| m.len())
                            }
                        };
                        self.total += size;
                        self.files += 1;
                    }
                    Some((_, t)) if self.specials && !t.is_symlink() => self.unsized_file(),
                    Some(_) => {}
                    None => {
                        open = None;
                        self.dirs.pop();
                    }
                }
            } else if let Some(src) = self.sources.pop() {
                match std::fs::metadata(&src) {
                    Ok(m) if m.is_dir() && self.recursive => self.enter(src),
                    Ok(m) if m.is_file() => {
                        self.total += m.len();
                        self.files += 1;
                    }
                    Ok(m) if !m.is_dir() && self.specials => self.unsized_file(),
                    _ => {}
                }
            }
        }
    }

    fn unsized_file(&mut self) {
        self.files += 1;
        self.unsized_files += 1;
    }

    fn enter(&mut self, dir: PathBuf) {
        if let Ok(read) = std::fs::read_dir(&dir) {
            let entries: Vec<_> = read
                .filter_map(|e| {
                    e.ok()
                        .and_then(|e| Some((e.file_name(), e.file_type().ok()?)))
                })
                .collect();
            self.dirs.push((dir, entries.into_iter()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_files_below_directories_only_when_recursive() {
        let dir = std::env::temp_dir().join(format!("fastcp-tally-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/one"), [0u8; 100]).unwrap();
        std::fs::write(dir.join("a/b/two"), [0u8; 20]).unwrap();
        std::fs::write(dir.join("three"), [0u8; 3]).unwrap();
        let sources = vec![dir.join("a"), dir.join("three")];
        let mut tally = Tally::new(sources.clone(), true, false);
        tally.step(Duration::from_secs(5));
        assert_eq!((tally.total(), tally.files()), (Some(123), 3));
        let mut flat = Tally::new(sources, false, true);
        flat.step(Duration::from_secs(5));
        assert_eq!((flat.total(), flat.files()), (Some(3), 1));
        // A budget of nothing still makes progress and ends.
        let mut slow = Tally::new(vec![dir.join("a")], true, false);
        while slow.total().is_none() {
            slow.step(Duration::ZERO);
        }
        assert_eq!((slow.total(), slow.files()), (Some(120), 2));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Regression: the sizing kept one directory open per level between redraws, on the
    /// copying thread: in a deep tree it took the descriptors the copy needed ("Too many open
    /// files"). Between steps it now holds none, however deep it is.
    #[test]
    fn holds_no_directory_open_between_steps() {
        let root = std::env::temp_dir().join(format!("fastcp-tally-deep-{}", std::process::id()));
        let mut dir = root.clone();
        for _ in 0..30 {
            dir.push("d");
            std::fs::create_dir_all(&dir).unwrap();
            for f in 0..40 {
                std::fs::write(dir.join(format!("f{f}")), [0u8; 2]).unwrap();
            }
        }
        // Descriptors open on the tree (other tests run in this process at the same time).
        let open_here = || {
            std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .filter(|target| target.starts_with(&root))
                .count()
        };
        let mut tally = Tally::new(vec![root.clone()], true, false);
        let mut deepest = 0;
        while tally.total().is_none() {
            tally.step(Duration::ZERO);
            deepest = deepest.max(tally.dirs.len());
            assert_eq!(open_here(), 0, "{} levels in", tally.dirs.len());
        }
        assert!(deepest > 20, "{deepest}");
        assert_eq!(tally.total(), Some(30 * 40 * 2));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
