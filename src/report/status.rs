//! `--compare`'s status on stderr: one line redrawn in place on a terminal (lifted off for
//! any message, cleared when the comparison ends however it ends), or a plain line per run
//! for a log.

use crate::options::ProgressMode;
use std::io::Write;
use std::sync::Mutex;

/// The status line now on the terminal, if any: every message lifts it first (`lifted`).
static SHOWN: Mutex<Option<String>> = Mutex::new(None);

/// Erases the terminal line the cursor is on: back to its start, then clear to its end.
const ERASE: &str = "\r\x1b[K";

/// Runs `f` (which prints a message) with the status line lifted off the terminal, and
/// draws the line again below the message.
pub(crate) fn lifted(f: impl FnOnce()) {
    let Ok(shown) = SHOWN.lock() else {
        return f();
    };
    match shown.as_deref() {
        Some(line) => {
            let _ = std::io::stderr().write_all(ERASE.as_bytes());
            f();
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        None => f(),
    }
}

/// Where the status goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Off,
    Terminal,
    Lines,
}

/// The status display of one comparison; dropping it clears the line.
pub(crate) struct Status {
    mode: Mode,
    width: usize,
}

impl Status {
    /// A status display: none under --progress=never.
    pub(crate) fn new(progress: ProgressMode) -> Status {
        let stderr = rustix::stdio::stderr();
        let terminal = rustix::termios::isatty(stderr);
        let mode = match progress {
            ProgressMode::Never => Mode::Off,
            _ if terminal => Mode::Terminal,
            _ => Mode::Lines,
        };
        // A terminal that does not know its width says 0.
        let width = match rustix::termios::tcgetwinsize(stderr).map(|w| w.ws_col) {
            Ok(0) | Err(_) => 80,
            Ok(columns) => usize::from(columns).max(20),
        };
        Status { mode, width }
    }

    /// Shows `text` as the run that starts now (a terminal only: a log hears of it when done).
    pub(crate) fn starting(&self, text: &str) {
        if self.mode != Mode::Terminal {
            return;
        }
        // One column short of the width, so the terminal never wraps the line.
        let text: String = text.chars().take(self.width - 1).collect();
        if let Ok(mut shown) = SHOWN.lock() {
            let _ = write!(std::io::stderr(), "{ERASE}{text}");
            *shown = Some(text);
        }
    }

    /// Notes the run that ended (a log only: a terminal shows the next run instead).
    pub(crate) fn finished(&self, text: &str) {
        if self.mode == Mode::Lines {
            let _ = writeln!(std::io::stderr(), "{text}");
        }
    }
}

impl Drop for Status {
    fn drop(&mut self) {
        if let Ok(mut shown) = SHOWN.lock()
            && shown.take().is_some()
        {
            let _ = std::io::stderr().write_all(ERASE.as_bytes());
        }
    }
}
