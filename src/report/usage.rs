//! CPU time and peak memory of this process, from getrusage(2) and /proc/self/status.
//!
//! rustix has no getrusage wrapper, so this one call goes through libc.

use std::time::Duration;

/// Resource usage of the process so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// CPU time spent in user space.
    pub(crate) user: Duration,
    /// CPU time spent in the kernel on our behalf.
    pub(crate) system: Duration,
    /// Peak resident set size, in KiB.
    pub(crate) max_rss_kib: u64,
}

fn duration(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

impl Usage {
    /// The usage of this process now (zero if the kernel will not say).
    pub(crate) fn now() -> Usage {
        // SAFETY: getrusage writes one rusage struct into the zeroed value we pass.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: RUSAGE_SELF with a valid pointer cannot fault.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
            return Usage::default();
        }
        Usage {
            user: duration(ru.ru_utime),
            system: duration(ru.ru_stime),
            max_rss_kib: peak_rss_kib().unwrap_or(u64::try_from(ru.ru_maxrss).unwrap_or(0)),
        }
    }
}

/// The peak resident set of this program's own memory (VmHWM). getrusage's ru_maxrss also
/// counts the process that forked us, before it called exec: a shell's is small, but a test
/// harness or a build tool can make it tens of MiB that fastcp never used.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_memory_is_this_programs_own() {
        let peak = super::peak_rss_kib().expect("Linux reports VmHWM");
        assert!(peak > 0 && peak < 1 << 30);
    }
}
