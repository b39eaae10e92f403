//! The user's choice of how the bytes of a file are moved (`--method`, `--reflink`).

/// How the bytes of a file are moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Auto,
    ReadWrite,
    Sendfile,
    CopyFileRange,
    /// splice(2) through a pipe: chosen by --method only, never by `auto` (see splice.rs).
    Splice,
    /// FICLONE: share the source's extents (chosen by --reflink, never by --method).
    Reflink,
}

impl Method {
    /// The error the kernel is certain to give this method for a source of this type, before
    /// anything is moved: copy_file_range takes regular files only, sendfile reads no pipe or
    /// socket. Known in advance, the refusal comes before the destination is opened (and
    /// truncated).
    pub(crate) fn refuses(self, source: rustix::fs::FileType) -> Option<rustix::io::Errno> {
        use rustix::fs::FileType;
        let refused = match self {
            Method::CopyFileRange => source != FileType::RegularFile,
            Method::Sendfile => matches!(source, FileType::Fifo | FileType::Socket),
            _ => false,
        };
        refused.then_some(rustix::io::Errno::INVAL)
    }

    /// The name used on the command line and in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::ReadWrite => "read-write",
            Method::Sendfile => "sendfile",
            Method::CopyFileRange => "copy-file-range",
            Method::Splice => "splice",
            Method::Reflink => "reflink",
        }
    }
}
