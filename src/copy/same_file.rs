//! Whether an existing destination may be written when it could be the source itself: GNU cp's
//! `same_file_ok` (copy.c), the check that keeps `cp a a`, a symlink onto its target and a
//! backup of the source from destroying the data.

use crate::copy::entry::Entry;
use crate::fs::names::{directory_of, same_name_followed};
use crate::fs::{At, dir_and_base, file_type, id};
use crate::options::{Deref, Make, Options};
use rustix::fs::{AtFlags, FileType, Stat};
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
    /// GNU goes on here, taking the two names for two directory entries, but they are one
    /// through a symlink (`f` and `l/f`, l a link to `.`), and going on would move aside or
    /// unlink the source before reading it. -u, -n and -i have their say as GNU's; where GNU
    /// would then act on the destination, it is "the same file".
    OneEntry,
}

fn is_link(st: &Stat) -> bool {
    file_type(st) == FileType::Symlink
}

/// `src_st` and `dst_st` are the stats the decision looked at (following symlinks or not, as
/// the options say); `deref` is how symlinks are followed for this file (-H follows only
/// command-line operands: below them it is -P, as in GNU's copy_dir).
pub(crate) fn same_file_ok(
    (opts, deref): (&Options, Deref),
    entry: Entry<'_>,
    dst_st: &Stat,
) -> Verdict {
    let Entry {
        src, src_st, dst, ..
    } = entry;
    let names = Names {
        src,
        dst,
        target: entry.target,
    };
    let hard_link = opts.make == Make::HardLink;
    // GNU returns early here, before backups are considered (its FIXME): -l onto itself is a
    // quiet success.
    if id(src_st) == id(dst_st) && hard_link {
        return Verdict::Done;
    }
    let ends = match ends((deref, opts), names, (src_st, dst_st)) {
        Ok(ends) => ends,
        Err(verdict) => return verdict,
    };
    let merged = file_type(src_st) == FileType::Directory;
    if let Some(verdict) = moved_aside((deref, opts), names, &ends, merged) {
        return verdict;
    }
    let (src_link, dst_link) = (&ends.src, &ends.dst);
    if !is_link(src_link) && !is_link(dst_link) {
        if id(src_link) != id(dst_link) {
            return Verdict::Proceed;
        }
        if hard_link {
            return Verdict::Done;
        }
    }
    // Recreating a destination symlink is fine.
    if opts.make == Make::Symlink && is_link(dst_link) {
        return Verdict::Proceed;
    }
    if deref == Deref::Never {
        return through_links(names, &ends, hard_link);
    }
    Verdict::SameFile
}

/// The two ends as entries, symlinks not followed, and whether they are one file.
struct Ends {
    src: Stat,
    dst: Stat,
    same: bool,
}

/// The verdict where the destination is moved aside (a backup) or removed first
/// (--remove-destination), which keeps the source unless both are one entry. `None`: those
/// options are off, or they decide nothing here. `merged`: a directory, which is merged into
/// and never moved aside.
fn moved_aside(
    (deref, opts): (Deref, &Options),
    names: Names<'_>,
    ends: &Ends,
    merged: bool,
) -> Option<Verdict> {
    let (src_link, dst_link) = (&ends.src, &ends.dst);
    if opts.overwrite.backup.is_some() {
        if !ends.same {
            // Moving aside a destination that a followed source symlink points to would
            // leave the source dangling.
            if deref != Deref::Never && is_link(src_link) && !is_link(dst_link) {
                return Some(Verdict::SameFile);
            }
            return Some(Verdict::Proceed);
        }
        // Where GNU's names differ but are one entry through a symlink (`cp -b f l/f`, l a
        // link to `.`), GNU moves the source aside, fails to read it, and puts it back:
        // refused (`OneEntry`). Not where the source is not read (-s: the backup keeps the
        // data, as GNU's), nor for a directory merged into itself: its entries are looked
        // at one by one, as GNU does.
        if names.as_gnu() {
            return Some(Verdict::SameFile);
        }
        return Some(go_on(merged || names.safe_to_go_on(opts)));
    }
    if !opts.overwrite.remove_destination {
        return None;
    }
    if is_link(dst_link) {
        return Some(Verdict::Proceed);
    }
    // Two names of one file: the destination name is removed first, so the source keeps its
    // data (mv refuses here; cp goes on). GNU also goes on where the names are one entry
    // through a symlink (`f l/f`, l a link to `.`), unlinks the source's name and fails to
    // read it: not fastcp (with -s, nothing is read, and the file's other name keeps it; a
    // directory is merged into, not removed).
    (ends.same && dst_link.st_nlink > 1 && !names.as_gnu())
        .then(|| go_on(merged || names.safe_to_go_on(opts)))
}

/// Where GNU goes on: `Proceed` when that is safe, `OneEntry` when it would lose the source.
fn go_on(safe: bool) -> Verdict {
    if safe {
        Verdict::Proceed
    } else {
        Verdict::OneEntry
    }
}

/// Without following symlinks (-d), the files the two ends lead to: a copy onto a symlink to
/// the source, or of a symlink onto its target.
fn through_links(names: Names<'_>, ends: &Ends, hard_link: bool) -> Verdict {
    let followed = |at: At<'_>, st: &Stat| {
        if is_link(st) {
            at.stat(true).ok()
        } else {
            Some(*st)
        }
    };
    let (Some(s), Some(d)) = (
        followed(names.src, &ends.src),
        followed(names.dst, &ends.dst),
    ) else {
        return Verdict::Proceed;
    };
    if id(&s) != id(&d) {
        return Verdict::Proceed;
    }
    if hard_link && !is_link(&ends.dst) {
        return Verdict::Done;
    }
    if hard_link {
        return Verdict::Proceed;
    }
    Verdict::SameFile
}

/// The two ends as entries (not followed), and whether they are one file: what GNU's
/// same_file_ok looks at after its first checks. `Err`: the verdict is already known.
fn ends(
    (deref, opts): (Deref, &Options),
    names: Names<'_>,
    (src_st, dst_st): (&Stat, &Stat),
) -> Result<Ends, Verdict> {
    let Names { src, dst, .. } = names;
    let backups = opts.overwrite.backup.is_some();
    let unlink_first = opts.overwrite.remove_destination;
    let same = id(src_st) == id(dst_st);
    if deref == Deref::Never {
        let same_link = same;
        if is_link(src_st) && is_link(dst_st) {
            // Two symlinks are distinct files unless they are one directory entry.
            let one_entry = names.as_gnu();
            if !one_entry {
                // A backup would move the source aside where the two are one entry through
                // a symlink (GNU then fails and puts it back).
                if backups {
                    return Err(go_on(names.safe_to_go_on(opts)));
                }
                if same_link {
                    return Err(Verdict::Done);
                }
            }
            return Err(verdict(!one_entry));
        }
        Ok(Ends {
            src: *src_st,
            dst: *dst_st,
            same,
        })
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
        Ok(Ends {
            src: s,
            dst: d,
            same: same_link,
        })
    }
}

fn verdict(ok: bool) -> Verdict {
    if ok {
        Verdict::Proceed
    } else {
        Verdict::SameFile
    }
}

/// The two names `same_file_ok` compares, and the directory the destination is copied into
/// (for a command-line operand that has one: GNU's dst_dirfd).
#[derive(Clone, Copy)]
struct Names<'a> {
    src: At<'a>,
    dst: At<'a>,
    target: Option<&'a Path>,
}

impl Names<'_> {
    /// Whether the two names are one directory entry as GNU's same_nameat decides it: the
    /// same last component, in directories whose last components are not followed (`l/x`,
    /// l a link to `.`, is not `x`), the source's as named from the current directory and
    /// the destination's from its target, which is followed.
    fn as_gnu(self) -> bool {
        let directory = |at: At<'_>, target| {
            directory_of((at.shown, target)).or_else(|| {
                // A name too long to look up whole: from the directory it is open in.
                let dir = dir_and_base(at.name).0;
                rustix::fs::statat(at.dir, dir, AtFlags::SYMLINK_NOFOLLOW).ok()
            })
        };
        dir_and_base(self.src.shown).1 == dir_and_base(self.dst.shown).1
            && match (directory(self.src, None), directory(self.dst, self.target)) {
                (Some(x), Some(y)) => id(&x) == id(&y),
                _ => false,
            }
    }

    /// Whether moving the destination aside or removing it leaves the source to be read:
    /// they are not one entry in fact, or the copy is a symlink, which names the source and
    /// does not read it.
    fn safe_to_go_on(self, opts: &Options) -> bool {
        opts.make == Make::Symlink || !self.really()
    }

    /// Whether they are one directory entry in fact: the same last component in one
    /// directory, every symlink on the way followed.
    fn really(self) -> bool {
        same_name_followed(self.src, self.dst)
    }
}
