//! Why an engine stopped, and how the error of a call that reads and writes at once is sorted:
//! "not for this pair of files" (a refusal `auto` falls back from) apart from real failures.

use rustix::io::Errno;

/// Why an engine stopped without finishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineError {
    /// The kernel refused the method for this pair of files before any byte moved.
    Unsupported(Errno),
    /// The method reported end of file at once, but the source has data (procfs on some kernels).
    NoProgress,
    /// Reading the source failed.
    Read(Errno),
    /// Writing the destination failed.
    Write(Errno),
    /// Giving the destination its length (a source that ends in a hole) failed.
    Extend(Errno),
    /// Writing the zeros of a hole between two extents failed (a dense copy of a file with
    /// holes, where GNU writes them apart from the data).
    WriteZeros(Errno),
    /// Deallocating a hole left in the destination failed (--sparse=always).
    Deallocate(Errno),
    /// A call that reads and writes at once failed, and the error does not say which side.
    Transfer(Errno),
    /// SIGINT, SIGTERM or SIGHUP arrived: the copy stops where it stands.
    Interrupted,
}

/// Errors after which a combined call may be retried another way: the kernel says "not for
/// this pair of files" (copy_file_range(2) and sendfile(2) ERRORS), not "this data is bad".
pub(super) fn means_unsupported(errno: Errno) -> bool {
    [
        Errno::XDEV,
        Errno::INVAL,
        Errno::NOSYS,
        Errno::OPNOTSUPP,
        Errno::PERM,
        Errno::ACCESS,
        Errno::TXTBSY,
        Errno::BADF,
        Errno::NOTTY,
    ]
    .contains(&errno)
}

/// Sorts the error of a call that both reads and writes (sendfile, copy_file_range), made
/// after `copied` bytes: only before the first byte can it be a refusal.
pub(super) fn classify(errno: Errno, copied: u64) -> EngineError {
    if copied == 0 && means_unsupported(errno) {
        EngineError::Unsupported(errno)
    } else if [
        Errno::NOSPC,
        Errno::DQUOT,
        Errno::FBIG,
        Errno::PIPE,
        Errno::ROFS,
    ]
    .contains(&errno)
    {
        EngineError::Write(errno)
    } else {
        EngineError::Transfer(errno)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full disk and an exhausted quota are write errors ("error writing 'f'"), never a
    /// reason to fall back, even on the first call.
    #[test]
    fn full_disk_and_quota_are_write_errors() {
        for errno in [Errno::NOSPC, Errno::DQUOT, Errno::FBIG] {
            assert_eq!(classify(errno, 0), EngineError::Write(errno));
            assert_eq!(classify(errno, 4096), EngineError::Write(errno));
        }
        assert_eq!(
            classify(Errno::XDEV, 0),
            EngineError::Unsupported(Errno::XDEV)
        );
        assert_eq!(classify(Errno::XDEV, 1), EngineError::Transfer(Errno::XDEV));
    }
}
