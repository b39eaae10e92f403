//! Sizing the whole job for the progress bar, a little at a time, on the copying thread.
//!
//! The total of a recursive copy is the size of every regular file below its sources. Walking
//! the trees first would delay the copy, so the bar starts without a total, and each redraw
//! spends a few milliseconds walking further until the total is known.

use std::fs::ReadDir;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Entries looked at between two looks at the clock.
const ENTRIES_PER_CHECK: u32 = 64;

/// The sizes counted so far, and what is left to look at.
#[derive(Debug)]
pub(crate) struct Tally {
    /// Command-line sources not looked at yet (last first).
    sources: Vec<PathBuf>,
    /// Directories being read, innermost last.
    dirs: Vec<ReadDir>,
    recursive: bool,
    total: u64,
}

impl Tally {
    pub(crate) fn new(mut sources: Vec<PathBuf>, recursive: bool) -> Tally {
        sources.reverse();
        Tally {
            sources,
            dirs: Vec::new(),
            recursive,
            total: 0,
        }
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
        while !self.done() {
            seen = seen.wrapping_add(1);
            if seen.is_multiple_of(ENTRIES_PER_CHECK) && until.is_some_and(|t| Instant::now() >= t)
            {
                return;
            }
            if let Some(dir) = self.dirs.last_mut() {
                match dir.next() {
                    Some(Ok(entry)) => match entry.file_type() {
                        Ok(t) if t.is_dir() => self.enter(entry.path()),
                        Ok(t) if t.is_file() => {
                            self.total += entry.metadata().map_or(0, |m| m.len());
                        }
                        _ => {}
                    },
                    Some(Err(_)) => {}
                    None => {
                        self.dirs.pop();
                    }
                }
            } else if let Some(src) = self.sources.pop() {
                match std::fs::metadata(&src) {
                    Ok(m) if m.is_dir() && self.recursive => self.enter(src),
                    Ok(m) if m.is_file() => self.total += m.len(),
                    _ => {}
                }
            }
        }
    }

    fn enter(&mut self, dir: PathBuf) {
        if let Ok(read) = std::fs::read_dir(dir) {
            self.dirs.push(read);
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
        let mut tally = Tally::new(sources.clone(), true);
        tally.step(Duration::from_secs(5));
        assert_eq!(tally.total(), Some(123));
        let mut flat = Tally::new(sources, false);
        flat.step(Duration::from_secs(5));
        assert_eq!(flat.total(), Some(3));
        // A budget of nothing still makes progress and ends.
        let mut slow = Tally::new(vec![dir.join("a")], true);
        while slow.total().is_none() {
            slow.step(Duration::ZERO);
        }
        assert_eq!(slow.total(), Some(120));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
