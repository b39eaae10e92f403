//! Starting and finishing one directory of a walk: GNU's checks for a directory met again,
//! its destination created or merged into, its listing, and its own attributes applied once
//! its contents are in place.

use crate::copy::dirfd::{DirFds, DstDir, Place, Shown, open_dir};
use crate::copy::entry::{Entry, Node};
use crate::copy::guard::{DirGuard, Finish, Site};
use crate::copy::metadata;
use crate::copy::queue::Pool;
use crate::copy::session::Session;
use crate::error::misuse::Warning;
use crate::error::{Error, Op};
use crate::fs::ids::NumSet;
use crate::fs::names::{same_name, same_name_followed};
use crate::fs::{At, Id, file_type, id};
use crate::options::{Deref, Preserve};
use crate::report;
use rustix::fs::{AtFlags, FileType, Mode, Stat};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The entries of a directory, `.` and `..` left out, in inode order, with the type the
/// directory records for each (`Unknown` on filesystems that record none).
fn entries(
    dir: &OwnedFd,
    shown: &Path,
    buf: &mut [std::mem::MaybeUninit<u8>],
) -> Result<Entries, Error> {
    let mut reader = rustix::fs::RawDir::new(dir, buf);
    let mut names = Vec::new();
    let mut list = Vec::new();
    while let Some(entry) = reader.next() {
        let entry = entry.map_err(|e| Error::io(Op::Access, shown, e))?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            list.push((entry.ino(), names.len(), name.len(), entry.file_type()));
            names.extend_from_slice(name);
        }
    }
    // By inode only, keeping the directory's order among names of one file, as GNU's
    // savedir (glibc's qsort is a stable merge sort): it decides which of two hard links
    // met by -u or --preserve=links is the first.
    list.sort_by_key(|entry| entry.0);
    Ok(Entries { names, list })
}

/// A directory's entries but `.` and `..`, in inode order, ties in directory order (the order GNU cp
/// reads them in): their names in one buffer, not one allocation each.
pub(crate) struct Entries {
    names: Vec<u8>,
    /// Each entry's inode, where its name starts in `names` and its length, and the type
    /// getdents recorded.
    list: Vec<(u64, usize, usize, FileType)>,
}

impl Entries {
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn get(&self, index: usize) -> (&OsStr, FileType) {
        let (_, start, len, kind) = self.list[index];
        (OsStr::from_bytes(&self.names[start..start + len]), kind)
    }
}

fn open_at(at: At<'_>, follow: bool) -> rustix::io::Result<OwnedFd> {
    open_dir(at.dir, at.name, follow)
}

/// What became of the destination directory.
struct Target {
    fd: DstDir,
    /// Its filesystem (st_dev).
    dev: u64,
    /// Its identity.
    id: Id,
    /// Created by this copy (not merged into an existing one).
    created: bool,
    /// The mode to restore after filling, when it had to be widened to u+rwx.
    restore: Option<u32>,
}

/// One directory being walked.
pub(crate) struct Level {
    pub(crate) guard: Arc<DirGuard>,
    pub(crate) entries: Entries,
    /// The next entry to copy.
    pub(crate) next: usize,
    /// Its descriptors, while it is among the walk's `window` deepest levels (the guard of
    /// the top one keeps them too).
    pub(crate) fds: Option<Arc<DirFds>>,
    /// The source directory's filesystem (-x).
    pub(crate) src_dev: u64,
    /// Its destination was created by this copy: nothing is there to look at first.
    pub(crate) fresh: bool,
    /// The lengths of its source and destination paths in the walk's buffers.
    pub(crate) lens: (usize, usize),
    /// GNU's first_dir_created for this directory's entries (copy.c, copy_dir): the value
    /// every entry starts from (`Carry::created` once this directory itself was made), and
    /// whether any entry's copy ended with it set, handed to the parent when this level is
    /// left.
    pub(crate) first: (bool, bool),
}

/// What the walk of one command-line operand carries from one directory to the next.
pub(crate) struct Carry {
    /// The command-line pair being copied, for GNU's "into itself" message.
    pub(crate) top: (PathBuf, PathBuf),
    /// A directory met itself: the rest of the operand is abandoned, as GNU does.
    pub(crate) into_self: bool,
    /// The directory the operand is copied into (GNU's dst_dirfd), when there is one: a
    /// destination name below it is looked at from there, the directory itself followed.
    pub(crate) target: Option<PathBuf>,
    /// The source directories being copied (the walk's levels): meeting one again below
    /// itself (through a followed symlink) is a cycle.
    pub(crate) ancestors: NumSet<Id>,
    /// GNU's first_dir_created for the entry being copied: set once a directory was created
    /// and remembered (see `created`). Each entry of a directory starts from that
    /// directory's value (`Level::first`), not from its sibling's, as GNU's copy_dir does:
    /// a flag carried over from a sibling left a directory made inside the source
    /// unremembered, and the walk copied it into itself without end.
    pub(crate) created: bool,
    /// The buffer directories are read into (getdents).
    pub(crate) buffer: Vec<std::mem::MaybeUninit<u8>>,
}

impl Session<'_> {
    /// Starts copying a directory: the checks, its destination, its listing. A directory
    /// that cannot be listed is finished at once, and the error returned. `None`: a source
    /// directory named twice, skipped.
    pub(crate) fn enter(
        &mut self,
        entry: Entry<'_>,
        shown: Arc<Shown>,
        carry: &mut Carry,
    ) -> Result<Option<Level>, Error> {
        let Entry {
            src, src_st, dst, ..
        } = entry;
        if !self.dir_onto_itself(entry)? {
            return Ok(None);
        }
        // GNU refuses a non-directory in the way before it looks at what this run copied
        // ("will not create hard link" comes after "cannot overwrite non-directory").
        if !entry.node.fresh
            && dst
                .stat(self.opts.keep_directory_symlink)
                .is_ok_and(|st| file_type(&st) != FileType::Directory)
        {
            return Err(Error::OverwriteNonDirectory {
                dst: dst.shown.to_path_buf(),
                src: src.shown.to_path_buf(),
            });
        }
        let mut remembered = false;
        if !self.met(entry, &shown, carry, &mut remembered)? {
            return Ok(None);
        }
        // GNU creates the directory before reading the source, so an unreadable source
        // directory still leaves its (empty) copy with the source's mode.
        let cyclic = carry.ancestors.contains(&id(src_st));
        let target = match self.target_dir(entry, cyclic) {
            Ok(target) => target,
            Err(e) => {
                // Nothing was created for it to be remembered by (GNU's forget_created).
                if remembered {
                    self.dirs.remove(&id(src_st));
                }
                return Err(e);
            }
        };
        if target.created {
            self.created(&target, &shown, &mut carry.created);
            self.verbose(src.shown, dst.shown);
        }
        self.list(entry, target, shown, carry).map(Some)
    }

    /// Reads the source directory of `entry` and makes it a level of the walk, its
    /// destination `target` ready. A directory that cannot be listed is finished at once.
    fn list(
        &mut self,
        entry: Entry<'_>,
        target: Target,
        shown: Arc<Shown>,
        carry: &mut Carry,
    ) -> Result<Level, Error> {
        let Entry {
            src,
            src_st,
            dst,
            node,
            parent,
            ..
        } = entry;
        let finish = self.finish_of(&target, src_st);
        let site = Site {
            shown,
            place: Place {
                follow: (node.follow, self.opts.keep_directory_symlink),
                ids: (id(src_st), target.id),
            },
            parent: parent.cloned(),
            top: parent.is_none(),
        };
        let failures = self.pool.map(Pool::failure_counter);
        let listed = open_at(src, node.follow)
            .map_err(|e| Error::io(Op::Access, src.shown, e))
            .and_then(|fd| entries(&fd, src.shown, &mut carry.buffer).map(|names| (fd, names)));
        let (src_fd, names) = match listed {
            Ok(listed) => listed,
            Err(e) => {
                let fds = Arc::new(DirFds {
                    src: None,
                    dst: target.fd,
                });
                let guard = DirGuard::new(&fds, target.dev, finish, site, failures);
                // Both are reported, the listing's first (GNU's order).
                let finished =
                    DirGuard::finish_if_last(Arc::new(guard), Some(fds), Some(dst.shown));
                if let Err(later) = finished {
                    self.fail(&e);
                    return Err(later);
                }
                return Err(e);
            }
        };
        let fds = Arc::new(DirFds {
            src: Some(src_fd),
            dst: target.fd,
        });
        let guard = DirGuard::new(&fds, target.dev, finish, site, failures);
        carry.ancestors.insert(id(src_st));
        Ok(Level {
            guard: Arc::new(guard),
            entries: names,
            next: 0,
            fds: Some(fds),
            src_dev: src_st.st_dev,
            fresh: target.created,
            lens: (0, 0),
            first: (carry.created, false),
        })
    }

    /// Remembers the first directory an operand creates (GNU's
    /// first_dir_created_per_command_line_arg): meeting it in the source means "into itself".
    fn created(&mut self, target: &Target, shown: &Arc<Shown>, first: &mut bool) {
        if !*first {
            self.dirs.insert(target.id, Arc::clone(shown));
            *first = true;
        }
    }

    /// GNU's remember_copied for directories: a command-line directory is remembered with
    /// its destination, and so is the first directory each operand creates; any directory
    /// that is one of those again is copied into itself, a source named twice (skipped with
    /// a warning: `Ok(false)`), or a second name of one directory, refused unless symlinks
    /// are followed. Other directories are not remembered, as in GNU (`--parents a/b a/b/c`
    /// copies a/b/c twice). `Ok(true)`: go on; `remembered` says whether it was just noted.
    fn met(
        &mut self,
        entry: Entry<'_>,
        shown: &Arc<Shown>,
        carry: &mut Carry,
        remembered: &mut bool,
    ) -> Result<bool, Error> {
        let Entry {
            src,
            src_st,
            dst,
            node,
            ..
        } = entry;
        let key = id(src_st);
        let earlier = match self.dirs.get(&key) {
            Some(earlier) => earlier.dst(),
            None => {
                if node.top {
                    self.dirs.insert(key, Arc::clone(shown));
                    *remembered = true;
                }
                return Ok(true);
            }
        };
        let target = carry.target.as_deref();
        // Where GNU would go on into the directory met again (-L, -H on the command line,
        // -l), a name that is the same entry only through a symlink is "into itself" too:
        // GNU then nests copies until the path grows too long for the kernel (4,096 bytes),
        // and fastcp, which has no such limit, would fill the disk.
        let goes_on = self.deref(node.top) == Deref::Always
            || (node.top && self.opts.deref == Deref::CommandLine);
        if same_name((src.shown, None), (&earlier, target))
            || (goes_on && same_name_followed(At::cwd(src.shown), At::cwd(&earlier)))
        {
            carry.into_self = true;
            return Err(Error::IntoItself {
                src: carry.top.0.clone(),
                dst: carry.top.1.clone(),
            });
        }
        if same_name((dst.shown, target), (&earlier, target)) {
            report::warn(&Warning::SourceDirectoryTwice(carry.top.0.clone()));
            return Ok(false);
        }
        if goes_on {
            return Ok(true);
        }
        Err(Error::HardLinkToDirectory {
            dst: dst.shown.to_path_buf(),
            dir: earlier.to_path_buf(),
        })
    }

    /// What finishing the directory `target` takes.
    fn finish_of(&self, target: &Target, src_st: &Stat) -> Finish {
        Finish {
            src_st: *src_st,
            restore: target.restore,
            preserve: self.opts.preserve,
            created: target.created,
        }
    }

    /// Creates the destination directory, or opens the existing one to merge into. A source
    /// directory that is one of its own ancestors (`cyclic`: reached through a followed
    /// symlink) is refused there, after what GNU looks at first: whether the destination is
    /// a non-directory, and before anything is made.
    fn target_dir(&mut self, entry: Entry<'_>, cyclic: bool) -> Result<Target, Error> {
        let Entry {
            src,
            src_st,
            dst,
            node,
            ..
        } = entry;
        // A symlink in the destination is not a directory (GNU cp 9.1 looks with lstat), unless
        // --keep-directory-symlink: following it would write the copy wherever it points. A
        // symlink named as the target directory was followed when the operands were planned.
        let follow = self.opts.keep_directory_symlink;
        let mut want = None;
        let mut dev = 0;
        let mut dst_id = (0, 0);
        let existing = if node.fresh {
            Err(Errno::NOENT)
        } else {
            dst.stat(follow)
        };
        let is_dir = |st: &Stat| file_type(st) == FileType::Directory;
        let fits = existing.as_ref().is_ok_and(is_dir)
            || existing.as_ref().is_err_and(|&e| e == Errno::NOENT);
        if cyclic && fits {
            return Err(Error::CyclicSymlink(src.shown.to_path_buf()));
        }
        match existing {
            Ok(st) if is_dir(&st) => (dev, dst_id) = (st.st_dev, id(&st)),
            Ok(_) => {
                return Err(Error::OverwriteNonDirectory {
                    dst: dst.shown.to_path_buf(),
                    src: src.shown.to_path_buf(),
                });
            }
            // -f: GNU takes a symlink loop (`loop/`, which even lstat follows) for something
            // to overwrite, and its mkdir then finds it there (EEXIST).
            Err(e) if e == Errno::NOENT || (e == Errno::LOOP && self.opts.overwrite.force) => {
                let preserve = self.opts.preserve;
                let bits = Preserve::creation_bits(src_st.st_mode, true);
                // Created closed to others until the chown is done, and never writable by
                // others while it is filled (GNU's omitted permissions); the final bits come
                // after the contents.
                let held = match metadata::held_back(&preserve, bits, false) {
                    0 => bits & 0o022,
                    held => held,
                };
                let mode = Mode::from_raw_mode(bits & !held);
                rustix::fs::mkdirat(dst.dir, dst.name, mode)
                    .map_err(|e| Error::io(Op::CreateDirectory, dst.shown, e))?;
                want = Some((bits, held, fill(dst)?));
            }
            Err(e) => return Err(Error::io(Op::Stat, dst.shown, e)),
        }
        let fd = DstDir::open(dst.dir, dst.name, follow)
            .map_err(|e| Error::io(Op::Access, dst.shown, e))?;
        let mut restore = None;
        if let Some((bits, held, made)) = want {
            let st = rustix::fs::fstat(&fd).map_err(|e| Error::io(Op::Fstat, dst.shown, e))?;
            (dev, dst_id) = (st.st_dev, id(&st));
            // As GNU cp: what mkdir made of the bits asked for (the umask, or the parent's
            // default ACL, masks each bit), and the bits held back, less the umask.
            let want = (made & bits & !held & 0o777) | (held & !metadata::umask());
            if st.st_mode & 0o777 != want {
                // Keep the set-id and sticky bits the kernel gave it (inherited setgid).
                restore = Some((st.st_mode & 0o7000) | want);
            }
        }
        Ok(Target {
            fd,
            dev,
            id: dst_id,
            created: want.is_some(),
            restore,
        })
    }

    /// A directory on another filesystem under -x: created, not entered (GNU cp).
    pub(crate) fn mount_point(
        &mut self,
        entry: Entry<'_>,
        shown: Arc<Shown>,
        first: &mut bool,
    ) -> Result<(), Error> {
        let entry = Entry {
            node: Node {
                follow: false,
                top: false,
                fresh: false,
            },
            ..entry
        };
        let Entry {
            src, src_st, dst, ..
        } = entry;
        let target = self.target_dir(entry, false)?;
        if target.created {
            self.created(&target, &shown, first);
            self.verbose(src.shown, dst.shown);
        }
        let finish = self.finish_of(&target, src_st);
        let fds = Arc::new(DirFds {
            src: open_at(src, false).ok(),
            dst: target.fd,
        });
        let site = Site {
            shown,
            place: Place {
                follow: (false, false),
                ids: (id(src_st), target.id),
            },
            parent: None,
            top: true,
        };
        let guard = DirGuard::new(&fds, target.dev, finish, site, None);
        DirGuard::finish_if_last(Arc::new(guard), Some(fds), Some(dst.shown))
    }
}

/// Makes the directory `dst` just made searchable and writable by its owner, who must fill
/// it even when the source is read-only, as GNU does: a chmod adding u+rwx where mkdir left
/// any out. The chmod is GNU's too in what the kernel does with it: it drops a setgid bit
/// inherited from the parent when the user is not in the directory's group, and files made
/// in it then get the user's group (fastcp made it with u+rwx and kept the bit: another
/// group). Returns the mode mkdir gave it.
fn fill(dst: At<'_>) -> Result<u32, Error> {
    let made = rustix::fs::statat(dst.dir, dst.name, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| Error::io(Op::Stat, dst.shown, e))?;
    if made.st_mode & 0o700 != 0o700 {
        let mode = Mode::from_raw_mode((made.st_mode & 0o7777) | 0o700);
        rustix::fs::chmodat(dst.dir, dst.name, mode, AtFlags::empty())
            .map_err(|e| Error::io(Op::SetPermissions, dst.shown, e))?;
    }
    Ok(made.st_mode)
}
