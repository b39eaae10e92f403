//! What the user sees: messages prefixed with the program name, and the `--stats` summary.

pub(crate) mod compare;
pub(crate) mod counters;
pub(crate) mod progress;
pub(crate) mod progress_line;
pub(crate) mod stats;
pub(crate) mod status;
pub(crate) mod tally;
pub(crate) mod units;
pub(crate) mod usage;

use crate::error::Error;
use crate::error::quote::quote;
use rustix::io::Errno;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

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
    if matches!(e, Error::Unreported) {
        return;
    }
    let prog = program_name();
    let mut text = format!("{prog}: ").into_bytes();
    text.extend(e.to_bytes());
    text.push(b'\n');
    if e.wants_usage_hint() {
        text.extend(format!("Try '{prog} --help' for more information.\n").bytes());
    }
    err_bytes(&text);
}

/// Set when a write to stdout failed (the reason `exit_status` gives is LAST_ERRNO's).
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// What was printed to stdout and not yet written (see `out`).
static PENDING_OUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// The block stdout is written in when it is not a terminal: C stdio's buffer for a pipe or
/// a file (st_blksize, 4 KiB on Linux).
const OUT_BLOCK: usize = 4096;

/// Writes `text` to stdout as GNU cp's C stdio does: at once on a terminal, otherwise
/// gathered and written a block at a time, before any message on stderr (gnulib's error()
/// flushes stdout first, so the two keep their order in one log) and at the end of the run.
/// So `cp -v ... | head -1` ends as cp's does: a few -v lines do not meet the closed pipe
/// while the copy runs (fastcp wrote each line at once, and was ended by SIGPIPE after one
/// file where cp copied them all). A failed write (`-v >/dev/full`, a closed pipe) does not
/// stop the copy; as gnulib's close_stdout, `exit_status` reports it when the run ends.
pub(crate) fn out(text: &str) {
    out_bytes(text.as_bytes());
}

/// `out` for bytes that need not be UTF-8 (names as they are).
fn out_bytes(text: &[u8]) {
    static TERMINAL: OnceLock<bool> = OnceLock::new();
    if *TERMINAL.get_or_init(|| rustix::termios::isatty(rustix::stdio::stdout())) {
        progress::lifted_for_stdout(|| write_out(text));
        return;
    }
    let Ok(mut pending) = PENDING_OUT.lock() else {
        return;
    };
    pending.extend_from_slice(text);
    // C stdio writes a full buffer only when more comes (exactly 4 KiB waits).
    if pending.len() > OUT_BLOCK {
        let full = pending.len() / OUT_BLOCK * OUT_BLOCK;
        write_out(&pending[..full]);
        pending.drain(..full);
    }
}

/// Writes what `out` gathered.
pub(crate) fn flush_out() {
    if let Ok(mut pending) = PENDING_OUT.lock()
        && !pending.is_empty()
    {
        write_out(&pending);
        pending.clear();
    }
}

/// The errno of the last write to stdout, written at exit (C stdio's fclose): 0 when it
/// succeeded or had nothing to write.
static LAST_ERRNO: AtomicI32 = AtomicI32::new(0);

/// `flush_out` at exit: what fails there is the reason `exit_status` gives.
pub(crate) fn flush_out_at_exit() {
    LAST_ERRNO.store(0, Ordering::Relaxed);
    flush_out();
}

/// Set when stdout was closed at start: /dev/null stands in for it, so that no file fastcp
/// opens becomes descriptor 1 and receives -v lines, and writing it fails as cp's does.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Notes that stdout was closed when fastcp started (`cp -v a b >&-`): its -v output then
/// fails with EBADF, and the run with "write error: Bad file descriptor", as cp's.
pub(crate) fn stdout_was_closed() {
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
}

fn write_out(bytes: &[u8]) {
    let errno = if STDOUT_CLOSED.load(Ordering::Relaxed) {
        libc::EBADF
    } else {
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
            Ok(()) => return,
            Err(e) => e.raw_os_error().unwrap_or(libc::EIO),
        }
    };
    STDOUT_FAILED.store(true, Ordering::Relaxed);
    LAST_ERRNO.store(errno, Ordering::Relaxed);
}

/// The exit status of a run that would end with `code`: a failure, reported as GNU's
/// `write error: ...`, when stdout could not be written (main flushes it first, and acts on
/// a SIGPIPE that flush met).
pub(crate) fn exit_status(code: ExitCode) -> ExitCode {
    if STDOUT_FAILED.load(Ordering::Relaxed) {
        let last = LAST_ERRNO.load(Ordering::Relaxed);
        error(&Error::StdoutWrite(
            (last != 0).then(|| Errno::from_raw_os_error(last)),
        ));
        return ExitCode::FAILURE;
    }
    if STDERR_FAILED.load(Ordering::Relaxed) {
        return ExitCode::FAILURE;
    }
    code
}

/// Writes `text` to stderr, ignoring errors for the same reason.
pub(crate) fn err(text: &str) {
    err_bytes(text.as_bytes());
}

/// `err` for bytes that need not be UTF-8.
fn err_bytes(text: &[u8]) {
    flush_out();
    // That flush met a closed pipe (SIGPIPE): cp dies in it, before its message.
    if crate::signals::pending() == Some(libc::SIGPIPE) {
        return;
    }
    // A progress line on the terminal is lifted off first, so the message gets a line of its own.
    progress::lifted(|| status::lifted(|| err_raw(text)));
}

/// Set when a write to stderr failed: cp's close_stdout ends such a run with status 1, one
/// that only asked a -i question or warned too.
static STDERR_FAILED: AtomicBool = AtomicBool::new(false);

/// Set when stderr was closed at start (`cp -i a b 2>&-`): /dev/null stands in for it, and
/// writing it fails as cp's does.
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Notes that stderr was closed when fastcp started.
pub(crate) fn stderr_was_closed() {
    STDERR_CLOSED.store(true, Ordering::Relaxed);
}

/// Writes `text` to stderr as it is (a message, or a -i question), noting a failure.
pub(crate) fn err_raw(text: &[u8]) {
    let mut stderr = std::io::stderr();
    if STDERR_CLOSED.load(Ordering::Relaxed)
        || stderr
            .write_all(text)
            .and_then(|()| stderr.flush())
            .is_err()
    {
        STDERR_FAILED.store(true, Ordering::Relaxed);
    }
}

/// Prints a warning: the copy goes on, and the exit status changes only if stderr cannot be
/// written (as cp's).
pub(crate) fn warn(warning: &impl std::fmt::Display) {
    err(&format!("{}: warning: {warning}\n", program_name()));
}

/// The -v line for a directory --parents made: GNU prints these unquoted.
pub(crate) fn parent_made(src: &Path, dst: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let (src, dst) = (src.as_os_str().as_bytes(), dst.as_os_str().as_bytes());
    out_bytes(&[src, b" -> ".as_slice(), dst, b"\n".as_slice()].concat());
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
