//! Files that are not copied byte by byte: symlinks recreated as symlinks, FIFOs and device
//! nodes recreated with mknod, and second names of hard-linked files linked again.

use crate::copy::acl;
use crate::copy::entry::Prepared;
use crate::copy::metadata;
use crate::copy::session::Session;
use crate::error::{Error, Op};
use crate::fs::handle::Handle;
use crate::fs::{At, file_type};
use crate::options::{Preserve, Update};
use crate::report;
use rustix::fs::{AtFlags, FileType, Mode, Stat};
use rustix::io::Errno;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

impl Session<'_> {
    /// Recreates a symlink with the same target (its own owner and times under -a). Only -f
    /// replaces something still in the way (GNU's force_symlinkat).
    pub(crate) fn copy_symlink(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        prepared: &Prepared,
    ) -> Result<(), Error> {
        let target = rustix::fs::readlinkat(src.dir, src.name, Vec::new())
            .map_err(|e| Error::io(Op::ReadLink, src.shown, e))?;
        let target = std::ffi::OsStr::from_bytes(target.to_bytes()).to_os_string();
        let make = |d: At<'_>| rustix::fs::symlinkat(&target, d.dir, d.name);
        if let Err(errno) = force(dst, make, self.opts.overwrite.force) {
            // -u: a destination that is already this very symlink is fine (GNU).
            let same = self.opts.overwrite.update != Update::All
                && prepared
                    .existing
                    .is_some_and(|st| file_type(&st) == FileType::Symlink)
                && rustix::fs::readlinkat(dst.dir, dst.name, Vec::new())
                    .is_ok_and(|t| t.to_bytes() == target.as_bytes());
            if !same {
                return Err(Error::io(Op::CreateSymlink, dst.shown, errno));
            }
        }
        let preserve = self.opts.preserve;
        metadata::apply_symlink(dst, src_st, &preserve)?;
        Ok(())
    }

    /// Recreates a FIFO, socket or device node (`-R` without `--copy-contents`); something
    /// still in the way is an error, as in GNU cp.
    pub(crate) fn make_special(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
    ) -> Result<(), Error> {
        let kind = file_type(src_st);
        let op = if kind == FileType::Fifo {
            Op::CreateFifo
        } else {
            Op::CreateSpecial
        };
        let preserve = self.opts.preserve;
        // GNU's mknod asks for the source's set-id and sticky bits whatever is preserved, and
        // sets a mode later through the ACL, which leaves them (what the kernel keeps of them).
        // With the owner kept, group and other bits wait for the chown (omitted_permissions),
        // which leaves the setgid bit of a node without group execute.
        let bits = Preserve::creation_bits(src_st.st_mode, false) | (src_st.st_mode & 0o7000);
        let omitted = if preserve.ownership { bits & 0o077 } else { 0 };
        let mode = Mode::from_raw_mode(bits & !omitted);
        let mut made = rustix::fs::mknodat(dst.dir, dst.name, kind, mode, src_st.st_rdev);
        if made.is_err() && kind == FileType::Fifo {
            // GNU falls back on mkfifo, and says why that failed: a filesystem that fails
            // mknod half-way (a FUSE one that leaves a file behind) is then "File exists".
            made = rustix::fs::mknodat(dst.dir, dst.name, kind, mode, 0);
        }
        made.map_err(|e| Error::io(op, dst.shown, e))?;
        if !(preserve.mode || preserve.ownership || preserve.timestamps || preserve.default_mode) {
            return Ok(());
        }
        // Opening a FIFO or device could block or act; attributes go by name instead.
        let owned = metadata::apply_node(dst, src_st, &preserve)?;
        match node_mode(src_st, dst, &preserve, (owned, omitted))? {
            Some((mode, Op::RestorePermissions)) => rustix::fs::chmodat(
                dst.dir,
                dst.name,
                Mode::from_raw_mode(mode),
                AtFlags::empty(),
            )
            .map_err(|e| Error::io(Op::RestorePermissions, dst.shown, e)),
            Some((mode, Op::CopyAcl)) => {
                copy_node_acl(src, dst, mode).map_err(|e| Error::io(Op::CopyAcl, dst.shown, e))
            }
            Some((mode, op)) => {
                set_node_mode_acl(dst, mode).map_err(|e| Error::io(op, dst.shown, e))
            }
            None => Ok(()),
        }
    }

    /// Under `--preserve=links` (and for -u, see overwrite.rs), links `dst` to the copy of an
    /// earlier name of the same source file, replacing whatever is there (GNU's
    /// create_hard_link with replace). Returns false when this is the first name met.
    pub(crate) fn link_again(
        &mut self,
        src_st: &Stat,
        dst: At<'_>,
        follow: bool,
    ) -> Result<bool, Error> {
        let Some((first, shown)) = self.links.get(&crate::fs::id(src_st)).cloned() else {
            return Ok(false);
        };
        let flags = if follow {
            AtFlags::SYMLINK_FOLLOW
        } else {
            AtFlags::empty()
        };
        let link = |d: At<'_>| rustix::fs::linkat(rustix::fs::CWD, &first, d.dir, d.name, flags);
        let replaced = force(dst, link, true).map_err(|errno| Error::HardLink {
            dst: dst.shown.to_path_buf(),
            target: shown,
            errno,
        })?;
        if replaced && self.opts.verbose {
            report::removed(dst.shown);
        }
        Ok(true)
    }
}

/// Makes a link with `make`; when a name is in the way and `replace` is set, makes it under a
/// temporary name beside it and renames that over it (gnulib's force_linkat and
/// force_symlinkat: the name is never missing). Returns whether something was replaced.
fn force(
    dst: At<'_>,
    make: impl Fn(At<'_>) -> rustix::io::Result<()>,
    replace: bool,
) -> Result<bool, Errno> {
    match make(dst) {
        Ok(()) => return Ok(false),
        Err(Errno::EXIST) if replace => {}
        Err(e) => return Err(e),
    }
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = match dst.name.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new(""),
    };
    let mut tries = 0;
    let temp = loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(".fastcp{}.{n}", std::process::id());
        let temp = dir.join(name);
        let at = At {
            dir: dst.dir,
            name: &temp,
            shown: dst.shown,
        };
        match make(at) {
            Ok(()) => break temp,
            Err(Errno::EXIST) if tries < 100 => tries += 1,
            Err(e) => return Err(e),
        }
    };
    let renamed = rustix::fs::renameat(dst.dir, &temp, dst.dir, dst.name);
    // Also after a successful rename: when both names were already one file, rename does
    // nothing and the temporary name is still there.
    let _ = rustix::fs::unlinkat(dst.dir, &temp, AtFlags::empty());
    renamed.map(|()| true)
}

impl Session<'_> {
    /// -l: makes `dst` another name of the source file; -f and -i replace a name in the way.
    pub(crate) fn hard_link(
        &mut self,
        src: At<'_>,
        dst: At<'_>,
        follow: bool,
    ) -> Result<(), Error> {
        let flags = if follow {
            AtFlags::SYMLINK_FOLLOW
        } else {
            AtFlags::empty()
        };
        let link = |d: At<'_>| rustix::fs::linkat(src.dir, src.name, d.dir, d.name, flags);
        let policy = &self.opts.overwrite;
        let replace = policy.force || policy.ask == Some(true);
        force(dst, link, replace).map_err(|errno| Error::HardLink {
            dst: dst.shown.to_path_buf(),
            target: src.shown.to_path_buf(),
            errno,
        })?;
        Ok(())
    }

    /// -s: makes `dst` a symbolic link to the source as it was named. A relative name only
    /// means the source from the current directory, so GNU refuses it elsewhere.
    pub(crate) fn symbolic_link(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
    ) -> Result<(), Error> {
        let target = src.shown.as_os_str().to_os_string();
        if !target.as_bytes().starts_with(b"/") && !in_current_directory(dst.shown) {
            return Err(Error::RelativeSymlink(dst.shown.to_path_buf()));
        }
        let link = |d: At<'_>| rustix::fs::symlinkat(&target, d.dir, d.name);
        force(dst, link, self.opts.overwrite.force).map_err(|errno| Error::SymbolicLink {
            dst: dst.shown.to_path_buf(),
            target: src.shown.to_path_buf(),
            errno,
        })?;
        // GNU gives the link the source's times (not its owner: dest_is_symlink).
        let times_only = Preserve {
            ownership: false,
            ..self.opts.preserve
        };
        metadata::apply_symlink(dst, src_st, &times_only).map(|_| ())
    }
}

/// Whether `path` names an entry of the current directory (its parent is `.` by identity).
/// When either cannot be looked at, GNU says yes: the link's creation then fails with the
/// reason ("cannot create symbolic link ...: No such file or directory").
fn in_current_directory(path: &std::path::Path) -> bool {
    match path.parent() {
        None => true,
        Some(p) if p.as_os_str().is_empty() => true,
        Some(p) => match (rustix::fs::stat(p), rustix::fs::stat(".")) {
            (Ok(a), Ok(b)) => crate::fs::id(&a) == crate::fs::id(&b),
            _ => true,
        },
    }
}

/// The mode a new node gets after its owner and times, and how GNU sets it: copy_acl with the
/// mode preserved (Op::CopyAcl), set_acl with the default mode under --no-preserve=mode
/// (Op::SetAcl), both as an ACL; a chmod giving back the bits held back for the owner
/// (Op::RestorePermissions): `omitted`, those not asked for at mknod.
fn node_mode(
    src_st: &Stat,
    dst: At<'_>,
    preserve: &Preserve,
    (owned, omitted): (bool, u32),
) -> Result<Option<(u32, Op)>, Error> {
    let now = || {
        rustix::fs::statat(dst.dir, dst.name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| Error::io(Op::Stat, dst.shown, e))
    };
    Ok(Some(if preserve.mode && owned {
        (src_st.st_mode & metadata::MODE_BITS, Op::CopyAcl)
    } else if preserve.mode {
        // Not owned: GNU sets the source's mode without its set-id and sticky bits through
        // the ACL, which leaves what the kernel kept of those the node was made with (and
        // a chmod where there are no ACLs clears them).
        (src_st.st_mode & 0o777, Op::CopyAcl)
    } else if preserve.default_mode {
        (
            Preserve::default_bits(src_st.st_mode) & !metadata::umask(),
            Op::SetAcl,
        )
    } else if omitted & !metadata::umask() != 0 {
        // What the chown left of the set-id bits, and the bits held back.
        let now = now()?.st_mode;
        let rwx = (now & 0o700) | omitted;
        (
            (now & 0o7000) | (rwx & !metadata::umask()),
            Op::RestorePermissions,
        )
    } else {
        return Ok(None);
    }))
}

/// Sets `mode` on the node `dst` as an ACL (acl::set_mode_acl), reached without opening it.
fn set_node_mode_acl(dst: At<'_>, mode: u32) -> rustix::io::Result<()> {
    let fd = open_path(dst)?;
    let handle = Handle::path_only(std::os::fd::AsFd::as_fd(&fd));
    acl::set_mode_acl(handle, mode)
}

/// GNU's copy_acl by name onto a node: the source node's own access ACL where it has one
/// (then a chmod only for set-id and sticky bits), else `mode` as a minimal ACL.
fn copy_node_acl(src: At<'_>, dst: At<'_>, mode: u32) -> rustix::io::Result<()> {
    let src_fd = open_path(src)?;
    let acl = Handle::path_only(std::os::fd::AsFd::as_fd(&src_fd)).xattr(acl::ACCESS_ACL);
    let Ok(acl) = acl else {
        return set_node_mode_acl(dst, mode);
    };
    let fd = open_path(dst)?;
    let handle = Handle::path_only(std::os::fd::AsFd::as_fd(&fd));
    acl::set_acl_and_mode(handle, &acl, false, mode)
}

/// `at` opened O_PATH, not followed: a node reached without opening it.
fn open_path(at: At<'_>) -> rustix::io::Result<std::os::fd::OwnedFd> {
    let flags =
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC;
    rustix::fs::openat(at.dir, at.name, flags, Mode::empty())
}
