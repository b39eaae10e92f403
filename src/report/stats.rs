//! The `--stats` summary (text or JSON) and the `--debug` line of each file.

use super::counters::{Call, Counters, Fallback, Outcome, Reason};
use super::out;
use super::units::human_bytes;
use super::usage::Usage;
use crate::error::{Error, Op};
use crate::options::{Method, StatsFormat};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the summary goes: stderr (after everything else printed there), stdout (--compare's
/// table), or the file of `--stats=FORMAT:FILE`. The file is opened (created if need be)
/// before the copy starts, so a name that cannot be written fails before anything is copied;
/// it is appended to, never emptied: a FILE that is also a source or a destination of the
/// copy loses nothing, and a script's runs add up to one JSON object per line.
#[derive(Debug)]
pub(crate) enum Destination {
    Stderr,
    /// The --compare table's place.
    Stdout,
    File(PathBuf, std::fs::File),
}

impl Destination {
    /// The file named, created or emptied now, or else `otherwise`.
    pub(crate) fn open(file: Option<&Path>, otherwise: Destination) -> Result<Destination, Error> {
        let Some(path) = file else {
            return Ok(otherwise);
        };
        match std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            Ok(f) => Ok(Destination::File(path.to_path_buf(), f)),
            Err(e) => Err(Error::io(Op::CreateRegular, path, errno(&e))),
        }
    }

    /// Writes the summary; a file is closed here, and its errors are reported.
    pub(crate) fn write(self, text: &str) -> Result<(), Error> {
        match self {
            Destination::Stderr => {
                super::err(text);
                Ok(())
            }
            Destination::Stdout => {
                super::out(text);
                Ok(())
            }
            Destination::File(path, mut f) => f
                .write_all(text.as_bytes())
                .and_then(|()| f.flush())
                .map_err(|e| Error::io(Op::Write, &path, errno(&e))),
        }
    }
}

fn errno(e: &std::io::Error) -> rustix::io::Errno {
    rustix::io::Errno::from_io_error(e).unwrap_or(rustix::io::Errno::IO)
}

/// GNU cp's `--debug` line for one file (after its -v line), plus the method fastcp used, on
/// stdout.
pub(crate) fn debug(outcome: &Outcome, reflink: &str, sparse: &str) {
    let tried_cfr = outcome.method == Method::CopyFileRange
        || outcome
            .fallbacks
            .iter()
            .any(|f| f.from == Method::CopyFileRange);
    // After a clone GNU copies no data, so it never learns about offload or holes.
    let (offload, sparse) = if outcome.method == Method::Reflink {
        ("unknown", "unknown")
    } else if outcome.method == Method::CopyFileRange {
        ("yes", sparse)
    } else if tried_cfr {
        ("unsupported", sparse)
    } else {
        ("avoided", sparse)
    };
    let mut text = format!(
        "copy offload: {offload}, reflink: {reflink}, sparse detection: {sparse}\nmethod: {}",
        outcome.method.name()
    );
    if !outcome.fallbacks.is_empty() {
        let tried: Vec<String> = outcome
            .fallbacks
            .iter()
            .map(|f| format!("{}: {}", f.from.name(), f.reason))
            .collect();
        text.push_str(&format!(" (after {})", tried.join(", ")));
    }
    text.push('\n');
    out(&text);
}

/// The kind of source a file was, for reporting which method served which kind.
pub(crate) fn file_class(mode: u32) -> &'static str {
    use rustix::fs::FileType;
    match FileType::from_raw_mode(mode) {
        FileType::RegularFile => "regular",
        FileType::Fifo => "fifo",
        FileType::CharacterDevice => "character-device",
        FileType::BlockDevice => "block-device",
        FileType::Socket => "socket",
        _ => "other",
    }
}

/// Totals over a run, for `--stats`.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Copies that finished.
    pub(crate) files: u64,
    /// Sources that failed.
    pub(crate) failures: u64,
    /// Bytes written by the finished copies.
    pub(crate) bytes: u64,
    /// Calls made, per kind.
    pub(crate) counters: Counters,
    /// How many files of each class each method finished.
    methods: Methods,
    /// Each distinct fallback (from, to, reason) and how often it happened.
    fallbacks: HashMap<(&'static str, &'static str, Reason), u64>,
    /// What --resume kept and wrote again.
    pub(crate) resumed: Resumed,
}

/// How many files of each class each method finished: a list, not a map, since a run has a
/// handful of pairs and a file's is looked up as it finishes (a tree's files find theirs
/// first or second).
#[derive(Debug, Default)]
struct Methods(Vec<((&'static str, &'static str), u64)>);

impl Methods {
    fn add(&mut self, key: (&'static str, &'static str), n: u64) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, count)) => *count += n,
            None => self.0.push((key, n)),
        }
    }

    /// The pairs by class, then method name.
    fn sorted(&self) -> Vec<((&'static str, &'static str), u64)> {
        let mut list = self.0.clone();
        list.sort_unstable();
        list
    }
}

/// What --resume found in existing destinations (`asked`: the run had --resume).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Resumed {
    pub(crate) asked: bool,
    /// Destinations found complete, not written, and their bytes.
    pub(crate) complete_files: u64,
    pub(crate) complete_bytes: u64,
    /// Destinations continued from their end, and the bytes they held (not sent again).
    pub(crate) continued_files: u64,
    pub(crate) continued_bytes: u64,
    /// Existing destinations copied again from the start, and the bytes written to them.
    pub(crate) recopied_files: u64,
    pub(crate) recopied_bytes: u64,
}

impl Resumed {
    fn merge(&mut self, other: Resumed) {
        self.asked |= other.asked;
        self.complete_files += other.complete_files;
        self.complete_bytes += other.complete_bytes;
        self.continued_files += other.continued_files;
        self.continued_bytes += other.continued_bytes;
        self.recopied_files += other.recopied_files;
        self.recopied_bytes += other.recopied_bytes;
    }

    fn text(&self) -> String {
        format!(
            "resume: {} complete ({} bytes kept), {} continued ({} bytes kept), {} copied again ({} bytes)\n",
            plural(self.complete_files, "file", "files"),
            self.complete_bytes,
            self.continued_files,
            self.continued_bytes,
            self.recopied_files,
            self.recopied_bytes
        )
    }

    fn json(&self) -> String {
        format!(
            "{{\"complete_files\":{},\"complete_bytes\":{},\"continued_files\":{},\"continued_bytes\":{},\"recopied_files\":{},\"recopied_bytes\":{}}}",
            self.complete_files,
            self.complete_bytes,
            self.continued_files,
            self.continued_bytes,
            self.recopied_files,
            self.recopied_bytes
        )
    }
}

/// Everything `--stats` prints, gathered at the end of the run.
pub(crate) struct Measured<'a> {
    pub(crate) summary: &'a Summary,
    pub(crate) elapsed: Duration,
    pub(crate) usage: Usage,
}

impl Summary {
    pub(crate) fn new(counters: Counters) -> Summary {
        Summary {
            counters,
            ..Summary::default()
        }
    }

    /// Adds what another copying thread counted.
    pub(crate) fn merge(&mut self, other: Summary) {
        self.files += other.files;
        self.failures += other.failures;
        self.bytes += other.bytes;
        self.counters.merge(other.counters);
        self.resumed.merge(other.resumed);
        for (key, n) in other.methods.0 {
            self.methods.add(key, n);
        }
        for (key, n) in other.fallbacks {
            *self.fallbacks.entry(key).or_default() += n;
        }
    }

    /// Adds a finished file of class `class`.
    pub(crate) fn add(&mut self, outcome: &Outcome, class: &'static str) {
        self.files += 1;
        self.bytes += outcome.bytes;
        self.methods.add((class, outcome.method.name()), 1);
        for f in &outcome.fallbacks {
            self.note_fallback(f);
        }
    }

    /// The fallbacks with their counts, sorted by method names and reason text.
    fn fallbacks_in_order(&self) -> Vec<((&'static str, &'static str, Reason), u64)> {
        let mut list: Vec<_> = self.fallbacks.iter().map(|(&key, &n)| (key, n)).collect();
        list.sort_by_cached_key(|((from, to, reason), _)| (*from, *to, reason.to_string()));
        list
    }

    /// One line per kind of fallback, with the number of files. A clone the filesystem cannot
    /// make is what `--reflink=auto` expects on most filesystems: said once, not as a fallback.
    fn fallback_lines(&self) -> String {
        let arrow = if crate::error::quote::utf8_locale() {
            "\u{2192}"
        } else {
            "->"
        };
        let mut lines = String::new();
        let mut said = Vec::new();
        for ((from, to, reason), n) in self.fallbacks_in_order() {
            match clone_unsupported(reason) {
                Some(why) if from == Method::Reflink.name() => {
                    if !said.contains(&why) {
                        lines.push_str(&format!("reflink: {why}\n"));
                        said.push(why);
                    }
                }
                _ => lines.push_str(&format!("fallback {from} {arrow} {to}: {reason} ({n})\n")),
            }
        }
        lines
    }

    fn note_fallback(&mut self, f: &Fallback) {
        let key = (f.from.name(), f.to.name(), f.reason);
        *self.fallbacks.entry(key).or_default() += 1;
    }
}

impl Measured<'_> {
    /// Renders the summary in `format`.
    pub(crate) fn render(&self, format: StatsFormat) -> String {
        match format {
            StatsFormat::Text => self.text(),
            StatsFormat::Json => self.json(),
        }
    }

    fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.summary.bytes as f64 / secs
        } else {
            0.0
        }
    }

    fn text(&self) -> String {
        let s = self.summary;
        let mut out = format!(
            "{}, {} bytes ({}) in {:.3} s, {}/s; {} failed\n",
            plural(s.files, "file", "files"),
            s.bytes,
            human_bytes(s.bytes as f64),
            self.elapsed.as_secs_f64(),
            human_bytes(self.rate()),
            s.failures
        );
        out.push_str(&format!(
            "cpu: user {:.3} s, system {:.3} s; peak RSS {} KiB\n",
            self.usage.user.as_secs_f64(),
            self.usage.system.as_secs_f64(),
            self.usage.max_rss_kib
        ));
        for ((class, method), n) in s.methods.sorted() {
            out.push_str(&format!("{class} files: {method} ({n})\n"));
        }
        out.push_str(&s.fallback_lines());
        if s.resumed.asked {
            out.push_str(&s.resumed.text());
        }
        for call in Call::ALL {
            let c = s.counters.get(call);
            if c.calls > 0 {
                out.push_str(&format!(
                    "{}: {} ({} moved data), {} bytes, largest {}, smallest {}\n",
                    call.name(),
                    plural(c.calls, "call", "calls"),
                    c.data_calls,
                    c.bytes,
                    c.max,
                    c.min
                ));
            }
        }
        out
    }

    fn json(&self) -> String {
        let s = self.summary;
        let mut classes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for ((class, method), n) in s.methods.sorted() {
            classes
                .entry(class)
                .or_default()
                .push(format!("{}:{n}", json_string(method)));
        }
        let methods: Vec<String> = classes
            .iter()
            .map(|(class, list)| format!("{}:{{{}}}", json_string(class), list.join(",")))
            .collect();
        let fallbacks: Vec<String> = s
            .fallbacks_in_order()
            .into_iter()
            .map(|((from, to, reason), n)| {
                format!(
                    "{{\"from\":{},\"to\":{},\"reason\":{},\"files\":{n}}}",
                    json_string(from),
                    json_string(to),
                    json_string(&reason.to_string())
                )
            })
            .collect();
        let calls: Vec<String> = Call::ALL
            .iter()
            .map(|call| {
                let c = s.counters.get(*call);
                format!(
                    "{}:{{\"calls\":{},\"data_calls\":{},\"bytes\":{},\"max\":{},\"min\":{}}}",
                    json_string(call.name()),
                    c.calls,
                    c.data_calls,
                    c.bytes,
                    c.max,
                    c.min
                )
            })
            .collect();
        format!(
            "{{\"files\":{},\"failures\":{},\"bytes\":{},\"elapsed_seconds\":{:.6},\"bytes_per_second\":{:.0},\"user_seconds\":{:.6},\"system_seconds\":{:.6},\"peak_rss_kib\":{},\"methods\":{{{}}},\"fallbacks\":[{}],\"syscalls\":{{{}}},\"resume\":{}}}\n",
            s.files,
            s.failures,
            s.bytes,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.usage.user.as_secs_f64(),
            self.usage.system.as_secs_f64(),
            self.usage.max_rss_kib,
            methods.join(","),
            fallbacks.join(","),
            calls.join(","),
            s.resumed.json()
        )
    }
}

/// `n` and the noun, singular for one.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a refused clone means when the filesystem simply has no clones, rather than a failure.
fn clone_unsupported(reason: Reason) -> Option<&'static str> {
    use rustix::io::Errno;
    match reason {
        Reason::Refused(Errno::XDEV) => Some("not possible across filesystems"),
        Reason::Refused(Errno::OPNOTSUPP | Errno::NOTTY | Errno::INVAL | Errno::NOSYS) => {
            Some("not supported on this filesystem")
        }
        _ => None,
    }
}

/// A JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
