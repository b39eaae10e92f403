//! A source directory that is its own destination (`cp -rT d d`, or through a symlink):
//! refused as GNU's same_file_ok refuses it, before anything is created or read.

use crate::copy::entry::Entry;
use crate::copy::same_file::{Verdict, same_file_ok};
use crate::copy::session::Session;
use crate::error::Error;

impl Session<'_> {
    /// Whether the directory `src` is to be copied onto the existing `dst`: an error when
    /// they are one directory, false for -l onto itself (a quiet success, as GNU).
    pub(crate) fn dir_onto_itself(&mut self, entry: Entry<'_>) -> Result<bool, Error> {
        let Entry { src, dst, node, .. } = entry;
        if node.fresh || self.opts.overwrite.ask == Some(false) {
            return Ok(true);
        }
        let Ok(dst_st) = dst.stat(false) else {
            return Ok(true);
        };
        match same_file_ok((self.opts, self.deref(node.top)), entry, &dst_st) {
            Verdict::Proceed => Ok(true),
            Verdict::Done => Ok(false),
            // A directory is merged into, never moved aside: no OneEntry (as SameFile).
            Verdict::SameFile | Verdict::OneEntry => Err(Error::SameFile {
                src: src.shown.to_path_buf(),
                dst: dst.shown.to_path_buf(),
            }),
        }
    }
}
