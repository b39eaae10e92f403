//! Whether an existing destination may be written when it could be the source itself: GNU cp's
//! `same_file_ok` (copy.c), the check that keeps `cp a a`, a symlink onto its target and a
//! backup of the source from destroying the data.

use crate::fs::{At, file_type, id};
use crate::options::{Deref, Make, Options};
use rustix::fs::{FileType, Stat};
use std::path::Path;

/// The verdict on a destination that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Go on with the copy.
    Proceed,
    /// Nothing to do and nothing wrong (a hard link onto itself): the file is done.
    Done,
    /// Writing would destroy the source: "'a' and 'b' are the same file".
    SameFile,
}

fn is_link(st: &Stat) -> bool {
    file_type(st) == FileType::Symlink
}

/// `src_st` and `dst_st` are the stats the decision looked at (following symlinks or not, as
/// the options say); `deref` is how symlinks are followed for this file (-H follows only
/// command-line operands: below them it is -P, as in GNU's copy_dir).
pub(crate) fn same_file_ok(
    (opts, deref): (&Options, Deref),
    src: At<'_>,
    src_st: &Stat,
    dst: At<'_>,
    dst_st: &Stat,
) -> Verdict {
    let hard_link = opts.make == Make::HardLink;
    let backups = opts.overwrite.backup.is_some();
    let unlink_first = opts.overwrite.remove_destination;
    let same = id(src_st) == id(dst_st);
    // GNU returns early here, before backups are considered (its FIXME): -l onto itself is a
    // quiet success.
    if same && hard_link {
        return Verdict::Done;
    }
    let (src_link, dst_link, same_link) = match ends((deref, opts), (src, src_st), (dst, dst_st)) {
        Ok(ends) => ends,
        Err(verdict) => return verdict,
    };
    // A backup moves the destination aside, so the source survives, unless both are one
    // entry (the backup would rename the source itself).
    if backups {
        if !same_link {
            // Moving aside a destination that a followed source symlink points to would
            // leave the source dangling.
            if deref != Deref::Never && is_link(&src_link) && !is_link(&dst_link) {
                return Verdict::SameFile;
            }
            return Verdict::Proceed;
        }
        return verdict(!same_entry(src, dst));
    }
    if unlink_first {
        if is_link(&dst_link) {
            return Verdict::Proceed;
        }
        // Two names of one file: the destination name is removed first, so the source keeps
        // its data (mv refuses here; cp goes on).
        if same_link && dst_link.st_nlink > 1 && !same_entry(src, dst) {
            return Verdict::Proceed;
        }
    }
    if !is_link(&src_link) && !is_link(&dst_link) {
        if id(&src_link) != id(&dst_link) {
            return Verdict::Proceed;
        }
        if hard_link {
            return Verdict::Done;
        }
    }
    // Recreating a destination symlink is fine.
    if opts.make == Make::Symlink && is_link(&dst_link) {
        return Verdict::Proceed;
    }
    if deref == Deref::Never {
        let followed = |at: At<'_>, st: &Stat| {
            if is_link(st) {
                at.stat(true).ok()
            } else {
                Some(*st)
            }
        };
        let (Some(s), Some(d)) = (followed(src, &src_link), followed(dst, &dst_link)) else {
            return Verdict::Proceed;
        };
        if id(&s) != id(&d) {
            return Verdict::Proceed;
        }
        if hard_link {
            return if is_link(&dst_link) {
                Verdict::Proceed
            } else {
                Verdict::Done
            };
        }
    }
    Verdict::SameFile
}

/// The two ends as entries (not followed), and whether they are one file: what GNU's
/// same_file_ok looks at after its first checks. `Err`: the verdict is already known.
fn ends(
    (deref, opts): (Deref, &Options),
    (src, src_st): (At<'_>, &Stat),
    (dst, dst_st): (At<'_>, &Stat),
) -> Result<(Stat, Stat, bool), Verdict> {
    let backups = opts.overwrite.backup.is_some();
    let unlink_first = opts.overwrite.remove_destination;
    let same = id(src_st) == id(dst_st);
    if deref == Deref::Never {
        let same_link = same;
        if is_link(src_st) && is_link(dst_st) {
            // Two symlinks are distinct files unless they are one directory entry.
            let one_entry = same_entry(src, dst);
            if !one_entry {
                if backups {
                    return Err(Verdict::Proceed);
                }
                if same_link {
                    return Err(Verdict::Done);
                }
            }
            return Err(verdict(!one_entry));
        }
        Ok((*src_st, *dst_st, same))
    } else {
        if !same {
            return Err(Verdict::Proceed);
        }
        let (Ok(d), Ok(s)) = (dst.stat(false), src.stat(false)) else {
            return Err(Verdict::Proceed);
        };
        let same_link = id(&s) == id(&d);
        // Two symlinks to one file are fine when the destination link is removed first;
        // otherwise writing through it would truncate the source.
        if is_link(&s) && is_link(&d) && unlink_first {
            return Err(Verdict::Proceed);
        }
        Ok((s, d, same_link))
    }
}

fn verdict(ok: bool) -> Verdict {
    if ok {
        Verdict::Proceed
    } else {
        Verdict::SameFile
    }
}

/// Whether two names are one directory entry: the same last component in the same directory
/// (GNU's same_nameat), however the directory is spelled.
pub(crate) fn same_entry(a: At<'_>, b: At<'_>) -> bool {
    let (a_dir, a_base) = crate::fs::dir_and_base(a.name);
    let (b_dir, b_base) = crate::fs::dir_and_base(b.name);
    if a_base != b_base {
        return false;
    }
    let parent = |at: At<'_>, dir: &Path| {
        rustix::fs::statat(at.dir, dir, rustix::fs::AtFlags::empty()).map(|st| id(&st))
    };
    matches!((parent(a, a_dir), parent(b, b_dir)), (Ok(x), Ok(y)) if x == y)
}
