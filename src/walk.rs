//! Recursion over a source tree, by directory file descriptors.
//!
//! Every entry is opened relative to its parent's descriptor (openat, O_NOFOLLOW,
//! O_DIRECTORY), so a symlink swapped into the tree during the copy cannot redirect reads or
//! writes outside it. Entries are visited in inode order, as GNU cp does (it reads directories
//! faster on most filesystems, and it makes `-v` output and partial results the same).

use crate::copy::{At, Node, Session, file_type, id};
use crate::error::{Error, Op};
use crate::metadata;
use crate::options::{Deref, Make};
use crate::plan::concat;
use crate::pool::{DirGuard, Finish};
use rustix::fs::{FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

/// The entries of a directory, `.` and `..` left out, in inode order, with the type the
/// directory records for each (`Unknown` on filesystems that record none).
fn entries(dir: &OwnedFd, shown: &Path) -> Result<Entries, Error> {
    let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); 32 << 10];
    let mut reader = rustix::fs::RawDir::new(dir, &mut buf);
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
    let name = |start: usize, len: usize| &names[start..start + len];
    list.sort_by(|a, b| (a.0, name(a.1, a.2)).cmp(&(b.0, name(b.1, b.2))));
    Ok(Entries { names, list })
}

/// A directory's entries but `.` and `..`, in inode order then by name (the order GNU cp
/// reads them in): their names in one buffer, not one allocation each.
struct Entries {
    names: Vec<u8>,
    /// Each entry's inode, where its name starts in `names` and its length, and the type
    /// getdents recorded.
    list: Vec<(u64, usize, usize, FileType)>,
}

impl Entries {
    fn iter(&self) -> impl Iterator<Item = (&OsStr, FileType)> {
        self.list.iter().map(|&(_, start, len, kind)| {
            (OsStr::from_bytes(&self.names[start..start + len]), kind)
        })
    }
}

/// Opens a directory entry recorded as a regular file, and stats the open file: one call
/// less than stat then open, and the status is the opened file's by construction. `None`
/// when that does not work out (the entry changed, or cannot be opened): the caller then
/// takes the usual way, which reports any error at the point GNU cp does.
fn open_recorded_file(at: At<'_>) -> Option<(OwnedFd, Stat)> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(at.dir, at.name, flags, Mode::empty()).ok()?;
    let st = rustix::fs::fstat(&fd).ok()?;
    (file_type(&st) == FileType::RegularFile).then_some((fd, st))
}

fn open_dir(at: At<'_>, follow: bool) -> rustix::io::Result<OwnedFd> {
    let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    if !follow {
        flags |= OFlags::NOFOLLOW;
    }
    rustix::fs::openat(at.dir, at.name, flags, Mode::empty())
}

/// What became of the destination directory.
struct Target {
    fd: OwnedFd,
    /// Its filesystem (st_dev).
    dev: u64,
    /// Created by this copy (not merged into an existing one).
    created: bool,
    /// The mode to restore after filling, when it had to be widened to u+rwx.
    restore: Option<u32>,
}

impl Session<'_> {
    /// Copies a directory and everything below it. Errors on entries are reported and the walk
    /// goes on; the directory's own attributes are applied after its contents.
    pub(crate) fn copy_dir(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
    ) -> Result<(), Error> {
        if self.ancestors.contains(&id(src_st)) {
            return Err(Error::Fatal(format!(
                "cannot copy cyclic symbolic link {}",
                crate::quote::quote(src.shown.as_os_str())
            )));
        }
        self.ancestors.push(id(src_st));
        let result = self.copy_dir_checked(src, src_st, dst, node);
        self.ancestors.pop();
        result
    }

    fn copy_dir_checked(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
    ) -> Result<(), Error> {
        if !self.dir_decision(src, src_st, dst, node)? {
            return Ok(());
        }
        // GNU creates the directory before reading the source, so an unreadable source
        // directory still leaves its (empty) copy with the source's mode.
        let target = self.target_dir(src, src_st, dst, node)?;
        if target.created {
            self.verbose(src.shown, dst.shown);
        }
        let finish = self.finish_of(&target, src_st, dst.shown);
        let listed = open_dir(src, node.follow)
            .map_err(|e| Error::io(Op::Access, src.shown, e))
            .and_then(|fd| entries(&fd, src.shown).map(|names| (fd, names)));
        let (src_fd, names) = match listed {
            Ok(listed) => listed,
            Err(e) => {
                let dst = (target.fd, target.dev);
                let guard = DirGuard::new(None, dst, finish, self.dir.clone(), self.pool);
                DirGuard::finish_if_last(Arc::new(guard))?;
                return Err(e);
            }
        };
        let guard = DirGuard::new(
            Some(src_fd),
            (target.fd, target.dev),
            finish,
            self.dir.clone(),
            self.pool,
        );
        let guard = Arc::new(guard);
        let outer = self.dir.replace(Arc::clone(&guard));
        let follow = self.opts.deref == Deref::Always;
        let Some(src_dir) = guard.src.as_ref().map(|fd| fd.as_fd()) else {
            unreachable!("the guard was made with the listed directory");
        };
        // Regular files are opened at once (the copy needs them open anyway), unless symlinks
        // are followed (the recorded type is the link's) or only links are made (-l, -s).
        let open_early = !follow && self.opts.make == Make::Copy;
        for (name, kind) in names.iter() {
            if self.into_self || crate::signals::pending().is_some() {
                break;
            }
            let src_path = concat(src.shown, name);
            let dst_path = concat(dst.shown, name);
            let name = Path::new(name);
            let child_src = At {
                dir: src_dir,
                name,
                shown: &src_path,
            };
            let child_dst = At {
                dir: guard.dst.as_fd(),
                name,
                shown: &dst_path,
            };
            let early = if open_early && kind == FileType::RegularFile {
                open_recorded_file(child_src)
            } else {
                None
            };
            let stat = match early {
                Some((fd, st)) => {
                    self.opened = Some((id(&st), fd));
                    Ok(st)
                }
                None => child_src.stat(follow),
            };
            let result = stat
                .map_err(|e| Error::io(Op::Stat, &src_path, e))
                .and_then(|st| {
                    if self.opts.one_file_system
                        && file_type(&st) == FileType::Directory
                        && st.st_dev != src_st.st_dev
                    {
                        return self.mount_point(child_src, &st, child_dst);
                    }
                    let node = Node {
                        follow,
                        top: false,
                        fresh: target.created,
                    };
                    self.copy_node(child_src, &st, child_dst, node)
                });
            // Not taken when the file was linked or skipped.
            self.opened = None;
            if let Err(e) = result {
                self.fail(&e);
            }
        }
        self.dir = outer;
        DirGuard::finish_if_last(guard)
    }

    /// What finishing the directory `target` takes.
    fn finish_of(&self, target: &Target, src_st: &Stat, shown: &Path) -> Finish {
        Finish {
            src_st: *src_st,
            shown: shown.to_path_buf(),
            restore: target.restore,
            preserve: self.opts.preserve,
        }
    }

    /// Creates the destination directory, or opens the existing one to merge into.
    fn target_dir(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        node: Node,
    ) -> Result<Target, Error> {
        // Inside the tree a symlink in the destination is not a directory (GNU cp 9.1), unless
        // --keep-directory-symlink; a command-line destination is followed.
        let follow = node.top || self.opts.keep_directory_symlink;
        let mut want = None;
        let mut dev = 0;
        let existing = if node.fresh {
            Err(Errno::NOENT)
        } else {
            dst.stat(follow)
        };
        match existing {
            Ok(st) if file_type(&st) == FileType::Directory => dev = st.st_dev,
            Ok(_) => {
                return Err(Error::OverwriteNonDirectory {
                    dst: dst.shown.to_path_buf(),
                    src: src.shown.to_path_buf(),
                });
            }
            Err(Errno::NOENT) => {
                let preserve = self.opts.preserve;
                let bits = preserve.creation_bits(src_st.st_mode, true);
                // Created open to its owner, who must fill it even when the source is
                // read-only, closed to others until the chown is done, and never writable by
                // others while it is filled (GNU's omitted permissions); the final bits come
                // after the contents.
                let held = match metadata::held_back(&preserve, bits, false) {
                    0 => bits & 0o022,
                    held => held,
                };
                let mode = Mode::from_raw_mode((bits & !held) | 0o700);
                rustix::fs::mkdirat(dst.dir, dst.name, mode)
                    .map_err(|e| Error::io(Op::CreateDirectory, dst.shown, e))?;
                want = Some((bits, held));
            }
            Err(e) => return Err(Error::io(Op::Stat, dst.shown, e)),
        }
        let fd = open_dir(dst, follow).map_err(|e| Error::io(Op::Access, dst.shown, e))?;
        let mut restore = None;
        if let Some((bits, held)) = want {
            let st = rustix::fs::fstat(&fd).map_err(|e| Error::io(Op::Fstat, dst.shown, e))?;
            dev = st.st_dev;
            // Remember the first directory this operand creates, so meeting it in the source
            // means "into itself" (GNU's first_dir_created_per_command_line_arg).
            if !self.first_dir_created {
                self.first_dir_created = true;
                self.dirs.insert(id(&st), dst.shown.to_path_buf());
            }
            // As GNU cp: what mkdir made of the bits asked for (the umask, or the parent's
            // default ACL, masks each bit; u+rwx were added only to fill it), and the bits
            // held back, less the umask.
            let want = (st.st_mode & bits & !held & 0o777) | (held & !metadata::umask());
            if st.st_mode & 0o777 != want {
                // Keep the set-id and sticky bits the kernel gave it (inherited setgid).
                restore = Some((st.st_mode & 0o7000) | want);
            }
        }
        Ok(Target {
            fd,
            dev,
            created: want.is_some(),
            restore,
        })
    }

    /// A directory on another filesystem under -x: created, not entered (GNU cp).
    fn mount_point(&mut self, src: At<'_>, src_st: &Stat, dst: At<'_>) -> Result<(), Error> {
        let node = Node {
            follow: false,
            top: false,
            fresh: false,
        };
        let target = self.target_dir(src, src_st, dst, node)?;
        if target.created {
            self.verbose(src.shown, dst.shown);
        }
        let finish = self.finish_of(&target, src_st, dst.shown);
        let src_fd = open_dir(src, false).ok();
        let dst = (target.fd, target.dev);
        DirGuard::finish_if_last(Arc::new(DirGuard::new(src_fd, dst, finish, None, None)))
    }
}

/// Applies a directory's final attributes once its contents are in place.
pub(crate) fn finish_dir(guard: &DirGuard, finish: &Finish) -> Result<(), Error> {
    let preserve = finish.preserve;
    let src_fd = guard.src.as_ref().map(|fd| fd.as_fd());
    let shown = &finish.shown;
    metadata::apply(
        guard.dst.as_fd(),
        src_fd,
        &finish.src_st,
        &preserve,
        None,
        shown,
    )?;
    // After the chown (which clears set-id bits); chmod changes only the ctime, so the
    // times just set stay.
    if !preserve.mode
        && let Some(mode) = finish.restore
    {
        rustix::fs::fchmod(&guard.dst, Mode::from_raw_mode(mode))
            .map_err(|e| Error::io(Op::PreservePermissions, shown, e))?;
    }
    Ok(())
}
