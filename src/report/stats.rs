//! The `--stats` summary (text or JSON) and the `--debug` line of each file.

use super::counters::{Call, Counters, Fallback, Outcome, Reason};
use super::out;
use super::units::human_bytes;
use super::usage::Usage;
use crate::options::{Method, StatsFormat};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

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
    methods: BTreeMap<(&'static str, &'static str), u64>,
    /// Each distinct fallback (from, to, reason) and how often it happened.
    fallbacks: HashMap<(&'static str, &'static str, Reason), u64>,
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
        for (key, n) in other.methods {
            *self.methods.entry(key).or_default() += n;
        }
        for (key, n) in other.fallbacks {
            *self.fallbacks.entry(key).or_default() += n;
        }
    }

    /// Adds a finished file of class `class`.
    pub(crate) fn add(&mut self, outcome: &Outcome, class: &'static str) {
        self.files += 1;
        self.bytes += outcome.bytes;
        *self
            .methods
            .entry((class, outcome.method.name()))
            .or_default() += 1;
        for f in &outcome.fallbacks {
            self.note_fallback(f);
        }
    }

    /// The fallbacks with their counts, sorted by method names and reason text.
    fn fallbacks_in_order(&self) -> Vec<((&'static str, &'static str, String), u64)> {
        let mut list: Vec<_> = self
            .fallbacks
            .iter()
            .map(|(&(from, to, reason), &n)| ((from, to, reason.to_string()), n))
            .collect();
        list.sort();
        list
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
            "{} {}, {} bytes ({}) in {:.3} s, {}/s; {} failed\n",
            s.files,
            if s.files == 1 { "file" } else { "files" },
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
        for ((class, method), n) in &s.methods {
            out.push_str(&format!("{class} files: {method} ({n})\n"));
        }
        for ((from, to, reason), n) in s.fallbacks_in_order() {
            out.push_str(&format!("fallback {from} \u{2192} {to}: {reason} ({n})\n"));
        }
        for call in Call::ALL {
            let c = s.counters.get(call);
            if c.calls > 0 {
                out.push_str(&format!(
                    "{}: {} calls ({} moved data), {} bytes, largest {}, smallest {}\n",
                    call.name(),
                    c.calls,
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
        for ((class, method), n) in &s.methods {
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
                    json_string(&reason)
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
            "{{\"files\":{},\"failures\":{},\"bytes\":{},\"elapsed_seconds\":{:.6},\"bytes_per_second\":{:.0},\"user_seconds\":{:.6},\"system_seconds\":{:.6},\"peak_rss_kib\":{},\"methods\":{{{}}},\"fallbacks\":[{}],\"syscalls\":{{{}}}}}\n",
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
            calls.join(",")
        )
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
