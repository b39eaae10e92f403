//! The decisions about a source directory before it is copied: one that is its own
//! destination, and one met again (GNU's remember_copied for directories): a copy into
//! itself, an operand named twice, or a second path to a directory already copied.

use crate::copy::{At, Node, Session, id};
use crate::error::Error;
use crate::options::Deref;
use crate::quote::quote;
use crate::report;
use crate::same_file::{Verdict, same_entry, same_file_ok};
use rustix::fs::Stat;

impl Session<'_> {
    /// Whether the directory `src` is to be copied to `dst`: false when GNU leaves it with a
    /// warning; an error when copying it would be wrong.
    pub(crate) fn dir_decision(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
    ) -> Result<bool, Error> {
        // `cp -rT d d`: a directory onto itself (-l onto itself is a quiet success).
        if !node.fresh
            && self.opts.overwrite.ask != Some(false)
            && let Ok(dst_st) = dst.stat(false)
        {
            match same_file_ok((self.opts, self.deref(node.top)), src, src_st, dst, &dst_st) {
                Verdict::Proceed => {}
                Verdict::Done => return Ok(false),
                Verdict::SameFile => {
                    return Err(Error::SameFile {
                        src: src.shown.to_path_buf(),
                        dst: dst.shown.to_path_buf(),
                    });
                }
            }
        }
        // Command-line directories are remembered with their destinations; below them,
        // directories are only looked up.
        let key = id(src_st);
        let earlier = match self.dirs.get(&key) {
            Some(earlier) => earlier.clone(),
            None => {
                if node.top {
                    self.dirs.insert(key, dst.shown.to_path_buf());
                }
                return Ok(true);
            }
        };
        let earlier_at = At {
            dir: rustix::fs::CWD,
            name: &earlier,
            shown: &earlier,
        };
        if same_entry(src, earlier_at) {
            self.into_self = true;
            return Err(Error::IntoItself {
                src: self.top.0.clone(),
                dst: self.top.1.clone(),
            });
        }
        if same_entry(dst, earlier_at) {
            let text = format!(
                "source directory {} specified more than once",
                quote(self.top.0.as_os_str())
            );
            self.summary
                .counters
                .suspend_progress(|| report::warn(&text));
            return Ok(false);
        }
        let followed =
            self.opts.deref == Deref::Always || (node.top && self.opts.deref == Deref::CommandLine);
        if !followed {
            return Err(Error::HardLinkToDirectory {
                dst: dst.shown.to_path_buf(),
                dir: earlier.clone(),
            });
        }
        Ok(true)
    }
}
