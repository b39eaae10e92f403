//! Clones (--reflink): trying FICLONE before any method, and what became of the attempt.

use crate::copy::entry::Entry;
use crate::copy::failure::engine_error;
use crate::copy::session::Session;
use crate::engine::{self, EngineError, Transfer};
use crate::error::Error;
use crate::fs::file_type;
use crate::options::Method;
use crate::options::ReflinkMode;
use rustix::fs::FileType;
use rustix::io::Errno;

/// What became of the attempt to clone a file (for --debug and --stats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reflink {
    NotTried,
    Cloned,
    /// The filesystem refused, for this reason.
    Refused(crate::report::counters::Reason),
}

impl Reflink {
    pub(crate) fn debug_name(&self) -> &'static str {
        match self {
            Reflink::NotTried => "no",
            Reflink::Cloned => "yes",
            Reflink::Refused(_) => "unsupported",
        }
    }
}

impl Session<'_> {
    /// Clones the file when --reflink asks (always), or allows it and no method was chosen
    /// (auto, the default, as GNU cp 9). An explicit --method is a request to measure that
    /// method, so it is not bypassed by a clone unless --reflink=always says so.
    pub(crate) fn try_clone(
        &mut self,
        transfer: &Transfer<'_>,
        entry: Entry<'_>,
        dst_dev: Option<u64>,
    ) -> Result<(Option<crate::report::counters::Outcome>, Reflink), Error> {
        let src_st = entry.src_st;
        let (src, dst) = (entry.src.shown, entry.dst.shown);
        let wanted = match self.opts.reflink {
            ReflinkMode::Always => true,
            ReflinkMode::Auto => self.opts.method == Method::Auto,
            ReflinkMode::Never => false,
        };
        if !wanted || file_type(src_st) != FileType::RegularFile {
            return Ok((None, Reflink::NotTried));
        }
        // A filesystem without clones (ext4, tmpfs) refuses every file of a tree alike: it
        // is asked once, not once per file.
        let unsupported = Errno::OPNOTSUPP;
        if self.opts.reflink == ReflinkMode::Auto && self.no_clone.contains(&src_st.st_dev) {
            return Ok((
                None,
                Reflink::Refused(crate::report::counters::Reason::Refused(unsupported)),
            ));
        }
        // Nor between two filesystems already found to be two (EXDEV), in a tree.
        let pair = dst_dev.map(|d| (src_st.st_dev, d));
        if self.opts.reflink == ReflinkMode::Auto
            && pair.is_some_and(|pair| self.cross.contains(&pair))
        {
            return Ok((
                None,
                Reflink::Refused(crate::report::counters::Reason::Refused(Errno::XDEV)),
            ));
        }
        match engine::copy(transfer, Method::Reflink, &mut self.summary.counters) {
            Ok(outcome) => Ok((Some(outcome), Reflink::Cloned)),
            Err((_, EngineError::Unsupported(errno)))
                if self.opts.reflink == ReflinkMode::Always =>
            {
                Err(Error::CloneFailed {
                    dst: dst.to_path_buf(),
                    src: src.to_path_buf(),
                    errno,
                })
            }
            Err((_, EngineError::Unsupported(errno))) => {
                if errno == unsupported {
                    self.no_clone.insert(src_st.st_dev);
                }
                if let (Errno::XDEV, Some(pair)) = (errno, pair) {
                    self.cross.insert(pair);
                }
                Ok((
                    None,
                    Reflink::Refused(crate::report::counters::Reason::Refused(errno)),
                ))
            }
            Err((used, e)) => Err(engine_error((src, dst), self.opts.method, used, e)),
        }
    }
}
