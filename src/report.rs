//! What the user sees: messages prefixed with the program name, and the `--stats` summary.

use crate::engine::{Call, Counters, Fallback, Method, Outcome, Reason};
use crate::error::Error;
use crate::options::StatsFormat;
use crate::quote::quote;
use crate::usage::Usage;
use rustix::io::Errno;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering};
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

/// The first error writing stdout (an errno), 0 while there is none.
static STDOUT_ERROR: AtomicI32 = AtomicI32::new(0);

/// Writes `text` to stdout. A failed write (`-v >/dev/full`, a closed pipe) does not stop the
/// copy; as gnulib's close_stdout, `exit_status` reports it when the run ends.
pub(crate) fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(e) = written {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        let _ = STDOUT_ERROR.compare_exchange(0, errno, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// The exit status of a run that would end with `code`: a failure, reported as GNU's
/// `write error: ...`, when stdout could not be written.
pub(crate) fn exit_status(code: ExitCode) -> ExitCode {
    match STDOUT_ERROR.load(Ordering::Relaxed) {
        0 => code,
        errno => {
            error(&Error::StdoutWrite(Errno::from_raw_os_error(errno)));
            ExitCode::FAILURE
        }
    }
}

/// Writes `text` to stderr, ignoring errors for the same reason.
pub(crate) fn err(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Prints a warning: the copy goes on and the exit status does not change.
pub(crate) fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "{}: warning: {text}", program_name());
}

/// `'src' -> 'dst'`, GNU cp's -v line, on stdout, with the backup made if any.
pub(crate) fn verbose(src: &Path, dst: &Path, backup: Option<&Path>) {
    let mut line = format!("{} -> {}", quote(src.as_os_str()), quote(dst.as_os_str()));
    if let Some(b) = backup {
        line.push_str(&format!(" (backup: {})", quote(b.as_os_str())));
    }
    line.push('\n');
    out(&line);
}

/// GNU cp's -v line for a backup put back after a failed copy.
pub(crate) fn unbackup(backup: &Path, dst: &Path) {
    out(&format!(
        "{} -> {} (unbackup)\n",
        quote(backup.as_os_str()),
        quote(dst.as_os_str())
    ));
}

/// The --debug line of later GNU cp for a destination left alone (-n, -u, -i answered no).
pub(crate) fn skipped(dst: &Path) {
    out(&format!("skipped {}\n", quote(dst.as_os_str())));
}

/// GNU cp's -v line for --remove-destination.
pub(crate) fn removed(path: &Path) {
    out(&format!("removed {}\n", quote(path.as_os_str())));
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

/// A byte count for people: 1.5 GiB.
pub(crate) fn human_bytes(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", units[unit])
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

/// GNU cp's -i question (overwrite_ok in copy.c): plain for a destination the user can write,
/// with its mode for one they cannot (`replacing`: it would be removed, not written).
pub(crate) fn overwrite_prompt(dst: &Path, unwritable: Option<u32>, replacing: bool) -> String {
    let prog = program_name();
    let name = quote(dst.as_os_str());
    let Some(mode) = unwritable else {
        return format!("{prog}: overwrite {name}? ");
    };
    let bits = mode & 0o7777;
    let perms = permission_string(mode);
    if replacing {
        format!("{prog}: replace {name}, overriding mode {bits:04o} ({perms})? ")
    } else {
        format!("{prog}: unwritable {name} (mode {bits:04o}, {perms}); try anyway? ")
    }
}

/// The nine `ls -l` permission characters of a mode, set-id and sticky bits included.
fn permission_string(mode: u32) -> String {
    let bit = |mask: u32, c: char| if mode & mask != 0 { c } else { '-' };
    let special = |x: u32, s: u32, lower: char, upper: char| match (mode & x != 0, mode & s != 0) {
        (true, true) => lower,
        (false, true) => upper,
        (true, false) => 'x',
        (false, false) => '-',
    };
    [
        bit(0o400, 'r'),
        bit(0o200, 'w'),
        special(0o100, 0o4000, 's', 'S'),
        bit(0o040, 'r'),
        bit(0o020, 'w'),
        special(0o010, 0o2000, 's', 'S'),
        bit(0o004, 'r'),
        bit(0o002, 'w'),
        special(0o001, 0o1000, 't', 'T'),
    ]
    .iter()
    .collect()
}
