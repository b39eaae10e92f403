//! What a run counts and reports about moving data: system calls per kind, bytes, and what
//! `auto` tried before the method that worked. The engines record into these; report/ sits
//! below engine/ so that the engines can count without the reports knowing about engines.

use super::progress::{BYTES_PER_CHECK, CALLS_PER_CHECK, LARGEST_CALL, Progress};
use crate::options::Method;
use rustix::io::Errno;
use std::sync::{Arc, Mutex};

/// The system calls that move data, counted per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Read,
    Write,
    Sendfile,
    CopyFileRange,
    Ficlone,
    /// Both directions: file to pipe, and pipe to file.
    Splice,
}

impl Call {
    pub(crate) const ALL: [Call; 6] = [
        Call::Read,
        Call::Write,
        Call::Sendfile,
        Call::CopyFileRange,
        Call::Ficlone,
        Call::Splice,
    ];

    /// The system call's own name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Call::Read => "read",
            Call::Write => "write",
            Call::Sendfile => "sendfile",
            Call::CopyFileRange => "copy_file_range",
            Call::Ficlone => "ficlone",
            Call::Splice => "splice",
        }
    }
}

/// Count of calls of one kind and of the bytes they moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CallStats {
    /// Calls made, including the final one that returned 0.
    pub(crate) calls: u64,
    /// Bytes moved by all of them.
    pub(crate) bytes: u64,
    /// Largest count one call moved.
    pub(crate) max: u64,
    /// Smallest non-zero count one call moved (0 when none moved anything).
    pub(crate) min: u64,
    /// Calls that moved at least one byte.
    pub(crate) data_calls: u64,
}

/// Per-kind call statistics, summed over every file of a run, and the progress display that
/// written bytes are reported to. Each copying thread has its own; they share the display.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters {
    per_call: [CallStats; 6],
    /// The progress display, when one may be drawn.
    progress: Option<Arc<Mutex<Progress>>>,
    /// Bytes written, calls made and files finished since the display last heard of them.
    unreported: (u64, u64, u64),
}

impl Counters {
    /// Counters that also report written bytes to `progress`.
    pub(crate) fn with_progress(progress: Option<Progress>) -> Counters {
        Counters {
            progress: progress.map(|p| Arc::new(Mutex::new(p))),
            ..Counters::default()
        }
    }

    /// Fresh counters for another copying thread, reporting to the same display.
    pub(crate) fn sibling(&self) -> Counters {
        Counters {
            progress: self.progress.clone(),
            ..Counters::default()
        }
    }

    /// The most one call should move by default: a progress display hears of bytes only
    /// between calls, and one copy_file_range or sendfile call may otherwise move 2 GiB.
    pub(crate) fn largest_call(&self) -> usize {
        if self.progress.is_some() {
            LARGEST_CALL
        } else {
            usize::MAX
        }
    }

    /// Adds the calls another thread counted.
    pub(crate) fn merge(&mut self, mut other: Counters) {
        other.report_progress();
        for (mine, theirs) in self.per_call.iter_mut().zip(other.per_call) {
            mine.calls += theirs.calls;
            mine.bytes += theirs.bytes;
            mine.data_calls += theirs.data_calls;
            mine.max = mine.max.max(theirs.max);
            if theirs.min > 0 && (mine.min == 0 || theirs.min < mine.min) {
                mine.min = theirs.min;
            }
        }
    }

    /// Ends the progress display, if any.
    pub(crate) fn finish_progress(&mut self) {
        self.report_progress();
        if let Some(p) = &self.progress
            && let Ok(mut p) = p.lock()
        {
            p.finish();
        }
    }

    /// Hands the bytes written since the last time to the display.
    fn report_progress(&mut self) {
        let (bytes, calls, files) = std::mem::take(&mut self.unreported);
        if calls > 0
            && let Some(p) = &self.progress
            && let Ok(mut p) = p.lock()
        {
            p.advance(bytes, files);
        }
    }

    /// Notes the file whose data this thread starts to copy, for the display. Once per file,
    /// and skipped while another thread holds the display.
    pub(crate) fn file_started(&mut self, name: &std::path::Path) {
        if let Some(p) = &self.progress
            && let Ok(mut p) = p.try_lock()
        {
            p.set_name(name);
        }
    }

    /// Notes `bytes` and `files` that --resume found already copied, for the display: done,
    /// but not moved (the rate is of bytes moved). Once per kept file, so told at once.
    pub(crate) fn kept(&mut self, bytes: u64, files: u64) {
        if let Some(p) = &self.progress
            && let Ok(mut p) = p.lock()
        {
            p.keep(bytes, files);
        }
    }

    /// Notes a file copied to the end, for the display: counted as a call, so that a tree of
    /// empty files moves the display too.
    pub(crate) fn file_finished(&mut self) {
        if self.progress.is_some() {
            self.unreported.2 += 1;
            self.unreported.1 += 1;
            if self.unreported.1 >= CALLS_PER_CHECK {
                self.report_progress();
            }
        }
    }

    /// Notes one call of `call` that moved `moved` bytes. This runs once per system call, so
    /// it costs two adds and a compare: the display hears of the bytes only every few dozen
    /// calls (or after a large one), and looks at the clock only then.
    pub(crate) fn record(&mut self, call: Call, moved: usize) {
        let s = &mut self.per_call[call as usize];
        let moved = moved as u64;
        s.calls += 1;
        s.bytes += moved;
        s.max = s.max.max(moved);
        if moved > 0 {
            s.data_calls += 1;
            if s.min == 0 || moved < s.min {
                s.min = moved;
            }
            // A splice call moves either into its pipe or out of it: the engine says which.
            if call != Call::Read && call != Call::Splice {
                self.progressed(moved);
            }
        }
    }

    /// Notes `bytes` written to a destination, for the progress display.
    pub(crate) fn progressed(&mut self, bytes: u64) {
        if self.progress.is_some() {
            self.unreported.0 += bytes;
            self.unreported.1 += 1;
            if self.unreported.0 >= BYTES_PER_CHECK || self.unreported.1 >= CALLS_PER_CHECK {
                self.report_progress();
            }
        }
    }

    pub(crate) fn get(&self, call: Call) -> CallStats {
        self.per_call[call as usize]
    }
}

/// Why `auto` left a method (or a clone was not made), shown as strace names errnos
/// (`EXDEV`). A plain value: recording one costs no allocation per file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Reason {
    /// The kernel refused, with this errno.
    Refused(Errno),
    /// The method copied nothing from a source that has data.
    NothingFromData,
    /// The method stopped where a read still finds data (engine::read_on).
    EndedEarly,
    /// The method copied nothing and the source cannot be probed.
    NothingUnprobed,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errno = match self {
            Reason::NothingFromData => {
                return f.write_str("copied nothing from a source with data");
            }
            Reason::EndedEarly => {
                return f.write_str("stopped where a read still finds data");
            }
            Reason::NothingUnprobed => {
                return f.write_str("copied nothing and the source cannot be probed");
            }
            Reason::Refused(errno) => *errno,
        };
        let known = [
            (Errno::XDEV, "EXDEV"),
            (Errno::INVAL, "EINVAL"),
            (Errno::NOSYS, "ENOSYS"),
            (Errno::OPNOTSUPP, "EOPNOTSUPP"),
            (Errno::PERM, "EPERM"),
            (Errno::ACCESS, "EACCES"),
            (Errno::TXTBSY, "ETXTBSY"),
            (Errno::BADF, "EBADF"),
            (Errno::NOTTY, "ENOTTY"),
        ];
        match known.iter().find(|(e, _)| *e == errno) {
            Some((_, name)) => f.write_str(name),
            None => write!(f, "errno {}", errno.raw_os_error()),
        }
    }
}

/// One step down `auto`'s chain, for --debug and --stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fallback {
    pub(crate) from: Method,
    pub(crate) to: Method,
    pub(crate) reason: Reason,
}

/// What a finished copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Bytes written to the destination.
    pub(crate) bytes: u64,
    /// The method that moved the data.
    pub(crate) method: Method,
    /// Methods tried first and refused, in order.
    pub(crate) fallbacks: Vec<Fallback>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_keep_min_and_max() {
        let mut c = Counters::default();
        c.record(Call::Read, 10);
        c.record(Call::Read, 3);
        c.record(Call::Read, 0);
        let s = c.get(Call::Read);
        assert_eq!(
            (s.calls, s.bytes, s.max, s.min, s.data_calls),
            (3, 13, 10, 3, 2)
        );
    }
}
