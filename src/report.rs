//! What the user sees: messages prefixed with the program name, and the `--stats` summary.

use crate::engine::{Call, Counters, Fallback, Outcome};
use crate::error::Error;
use crate::options::StatsFormat;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

static PROGRAM: OnceLock<String> = OnceLock::new();

/// Sets the name messages start with: argv[0] as given, as GNU's error() prints it, so a `cp`
/// symlink to fastcp speaks as `cp`.
pub(crate) fn set_program_name(name: String) {
    let _ = PROGRAM.set(name);
}

pub(crate) fn program_name() -> &'static str {
    PROGRAM.get().map_or("fastcp", String::as_str)
}

/// Prints an error the way GNU cp does, with the usage hint where GNU gives one.
pub(crate) fn error(e: &Error) {
    let prog = program_name();
    let mut text = format!("{prog}: {e}\n");
    if e.wants_usage_hint() {
        text.push_str(&format!("Try '{prog} --help' for more information.\n"));
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Prints a warning: the copy goes on and the exit status does not change.
pub(crate) fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "{}: warning: {text}", program_name());
}

/// Totals over a run, for `--stats`.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Regular-file copies that finished.
    pub(crate) files: u64,
    /// Bytes written by them.
    pub(crate) bytes: u64,
    /// Calls made, per kind.
    pub(crate) counters: Counters,
    /// How many files each method finished.
    methods: BTreeMap<&'static str, u64>,
    /// Each distinct fallback (from, to, reason) and how often it happened.
    fallbacks: BTreeMap<(&'static str, &'static str, String), u64>,
}

impl Summary {
    /// Adds a finished file.
    pub(crate) fn add(&mut self, outcome: &Outcome) {
        self.files += 1;
        self.bytes += outcome.bytes;
        *self.methods.entry(outcome.method.name()).or_default() += 1;
        for f in &outcome.fallbacks {
            self.note_fallback(f);
        }
    }

    fn note_fallback(&mut self, f: &Fallback) {
        let key = (f.from.name(), f.to.name(), f.reason.clone());
        *self.fallbacks.entry(key).or_default() += 1;
    }

    /// Renders the summary in `format`.
    pub(crate) fn render(&self, format: StatsFormat, elapsed: Duration) -> String {
        match format {
            StatsFormat::Text => self.text(elapsed),
            StatsFormat::Json => self.json(elapsed),
        }
    }

    fn text(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.bytes as f64 / secs / 1e6
        } else {
            0.0
        };
        let mut out = format!(
            "files: {}\nbytes: {}\nelapsed: {:.6} s\nthroughput: {:.1} MB/s\n",
            self.files, self.bytes, secs, rate
        );
        for (method, n) in &self.methods {
            out.push_str(&format!("method {method}: {n} files\n"));
        }
        for ((from, to, reason), n) in &self.fallbacks {
            out.push_str(&format!("fallback {from} -> {to}: {reason} ({n} files)\n"));
        }
        for call in Call::ALL {
            let s = self.counters.get(call);
            if s.calls > 0 {
                out.push_str(&format!(
                    "{}: {} calls, {} bytes, largest {}, smallest {}\n",
                    call.name(),
                    s.calls,
                    s.bytes,
                    s.max,
                    s.min
                ));
            }
        }
        out
    }

    fn json(&self, elapsed: Duration) -> String {
        let methods: Vec<String> = self
            .methods
            .iter()
            .map(|(m, n)| format!("{}:{n}", json_string(m)))
            .collect();
        let fallbacks: Vec<String> = self
            .fallbacks
            .iter()
            .map(|((from, to, reason), n)| {
                format!(
                    "{{\"from\":{},\"to\":{},\"reason\":{},\"files\":{n}}}",
                    json_string(from),
                    json_string(to),
                    json_string(reason)
                )
            })
            .collect();
        let calls: Vec<String> = Call::ALL
            .iter()
            .map(|call| {
                let s = self.counters.get(*call);
                format!(
                    "{}:{{\"calls\":{},\"bytes\":{},\"max\":{},\"min\":{}}}",
                    json_string(call.name()),
                    s.calls,
                    s.bytes,
                    s.max,
                    s.min
                )
            })
            .collect();
        format!(
            "{{\"files\":{},\"bytes\":{},\"elapsed_seconds\":{:.6},\"methods\":{{{}}},\"fallbacks\":[{}],\"syscalls\":{{{}}}}}\n",
            self.files,
            self.bytes,
            elapsed.as_secs_f64(),
            methods.join(","),
            fallbacks.join(","),
            calls.join(",")
        )
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
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
