//! One file being copied, and what is decided for it: the values that travel with a file from
//! the walk to the copy, passed down explicitly rather than left on the session.

use crate::copy::guard::DirGuard;
use crate::copy::metadata::Birth;
use crate::fs::At;
use rustix::fs::Stat;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file to copy: its source and the status looked at, its destination, how it was reached.
#[derive(Clone, Copy)]
pub(crate) struct Entry<'e> {
    pub(crate) src: At<'e>,
    pub(crate) src_st: &'e Stat,
    pub(crate) dst: At<'e>,
    pub(crate) node: Node,
    /// The directory being walked, when the file is one of its entries (a regular file there
    /// may go to a copying thread, which keeps the directory open until it is done).
    pub(crate) parent: Option<&'e Arc<DirGuard>>,
    /// The directory a command-line operand is copied into, for the operand itself (GNU's
    /// dst_dirfd): its destination's name is looked at from there. `None` below it, and
    /// where no operand is a directory to copy into.
    pub(crate) target: Option<&'e Path>,
}

/// The source of a file, when the walk opened it already (its status is the open file's).
pub(crate) type Opened = Option<OwnedFd>;

/// What is known of the directory a regular file is created in, in a tree walk.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DestDir {
    /// Its filesystem (st_dev).
    pub(crate) dev: Option<u64>,
    /// What a file created in it is born with, with owner or mode to preserve.
    pub(crate) birth: Option<Birth>,
}

/// How a node was reached.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    /// Its stat followed a symlink (so opening it must follow too).
    pub(crate) follow: bool,
    /// It was named on the command line.
    pub(crate) top: bool,
    /// Its destination directory was just created by this copy, so nothing can be at the
    /// destination name but what another process put there meanwhile, which the exclusive
    /// create (O_EXCL, or mkdir) then refuses: the destination is not looked at first.
    pub(crate) fresh: bool,
}

/// The decision about a destination, before anything is written.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Leave it alone; this source is done (not a failure): -n, -i answered no, a hard link
    /// onto itself.
    Skip,
    /// -u kept a destination that is not older; a later name of a hard-linked source is still
    /// linked to it (GNU).
    Kept,
    /// Go on and make the copy.
    Go(Prepared),
}

/// What the decision left at the destination name.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// The destination that is still there, to be written over (its status as looked at);
    /// `None` when nothing is there: it did not exist, or was moved aside or removed.
    pub(crate) existing: Option<Stat>,
    /// The backup made of it, for the -v line.
    pub(crate) backup: Option<PathBuf>,
    /// The -v line was printed.
    pub(crate) announced: bool,
    /// The old destination was moved aside or removed: its copy is made at once, not queued,
    /// so that a signal never leaves many names removed and not yet rewritten (GNU loses at
    /// most the one file it is copying).
    pub(crate) replaced: bool,
    /// The destination is a symlink written through: the file it leads to may be one another
    /// copy of this run writes or reads (`T/f1 -> f2`, or a link back into the source), so
    /// it is copied at once, once every queued copy is done, not queued, as one by one.
    pub(crate) through_link: bool,
    /// Under --atomic, the destination (`existing`) cp would unlink before the copy is
    /// replaced by a new file only once the copy is complete (atomic::Replace::Renew).
    pub(crate) renew: bool,
}
