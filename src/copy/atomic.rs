//! --atomic: a regular file is written under a temporary name beside the file it replaces and
//! renamed onto it when complete, keeping what writing in place would have kept of it.
//!
//! The rule throughout: the result is what cp without --atomic gives, only never half-written.
//! A symlink is written through (the file at the end of its chain is replaced); what is not a
//! regular file (a device, a FIFO, a socket) is written in place, as there is nothing to
//! replace; a file the user could not open for writing is refused with cp's message, or with
//! -f replaced by a new file as cp -f unlinks and recreates it; the replaced file's owner,
//! group, mode, ACL, extended attributes and inode flags go to the new file. What cannot be
//! kept (another user's file, for a user who is not root) fails the file and leaves it as it
//! was: --atomic never silently gives up atomicity or an attribute. A file with other hard
//! links is replaced, not rewritten: the other names keep the old data (man page, ATOMIC
//! COPIES, says why).

use crate::copy::durable;
use crate::copy::metadata;
use crate::error::{Error, Keep, Op};
use crate::fs::{At, file_type};
use rustix::fs::{AtFlags, FileType, IFlags, Mode, OFlags, Stat, XattrFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::hash::{BuildHasher, Hasher};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The longest name a directory entry may have (NAME_MAX on Linux's filesystems).
const NAME_MAX: usize = 255;
/// Symlinks followed in one chain before giving up with ELOOP, as the kernel (MAXSYMLINKS).
const MAX_LINKS: usize = 40;
/// Names tried when the ones chosen exist already (EEXIST) before the clash is reported.
const ATTEMPTS: u32 = 100;
/// The inode flags (chattr A, c, C, d, S) a file written in place keeps and a new file does
/// not get by itself. Immutable and append-only files cannot be opened for writing, so never
/// get here; the rest belong to the filesystem (extents, inline data, encryption...).
const KEPT_FLAGS: IFlags = IFlags::NOATIME
    .union(IFlags::COMPRESSED)
    .union(IFlags::NOCOW)
    .union(IFlags::NODUMP)
    .union(IFlags::SYNC);
const ACL: &str = "system.posix_acl_access";

/// How a destination is written under --atomic.
pub(crate) enum Target<'d> {
    /// Not a regular file (a device, a FIFO, a socket): written in place, as without --atomic.
    InPlace,
    /// A temporary file, created and open for writing. `new`: created as a new destination
    /// is, with the source's bits (not given an old file's attributes).
    Temp {
        temp: Temp<'d>,
        fd: OwnedFd,
        new: bool,
    },
}

/// The temporary file, beside the entry it is to be renamed onto. Dropped before
/// [`Temp::commit`] (any failure, or a signal stopping the copy), it is removed.
pub(crate) struct Temp<'d> {
    dir: BorrowedFd<'d>,
    /// Its path from `dir`.
    pub(crate) name: PathBuf,
    /// The entry it replaces: the destination, or the name its symlinks lead to.
    target: PathBuf,
    kind: Kind,
    committed: bool,
}

/// What the temporary file is to become.
enum Kind {
    /// A new name: never renamed over a file created there meanwhile.
    New,
    /// -f: a destination cp could not open is replaced by a new file, as cp -f unlinks it.
    Forced,
    /// An existing file, whose attributes the copy keeps.
    Replace(Old),
}

/// What writing in place would keep of the replaced file.
struct Old {
    /// Its permission bits, owner and group.
    mode: u32,
    uid: u32,
    gid: u32,
    /// Its extended attributes (ACL included unless the source's mode is preserved).
    xattrs: Vec<(OsString, Vec<u8>)>,
    flags: IFlags,
}

/// How an existing regular destination is replaced.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replace {
    /// Keeping its attributes, as writing in place keeps them; one the user may not open for
    /// writing is refused, as cp refuses it.
    Keep,
    /// As `Keep`, but one the user may not open is replaced by a new file, as cp -f unlinks
    /// it and creates it again.
    KeepOrForce,
    /// By a new file, which cp creates after unlinking the old one (--remove-destination;
    /// other hard links to it while links are preserved): here the old file stays until the
    /// copy is complete. The destination is then a regular file, not a symlink.
    Renew,
}

/// Decides how `dst` is written and creates the temporary file. `dst_st`: the destination
/// to overwrite (its stat follows symlinks), `None` for a new name; `new_mode`: the mode a
/// new destination is created with.
pub(crate) fn prepare<'d>(
    dst: At<'d>,
    dst_st: Option<&Stat>,
    new_mode: Mode,
    how: Replace,
    preserve: &crate::options::Preserve,
) -> Result<Target<'d>, Error> {
    let Some(st) = dst_st else {
        return fresh(dst, Kind::New, new_mode);
    };
    if file_type(st) != FileType::RegularFile {
        return Ok(Target::InPlace);
    }
    if how == Replace::Renew {
        return fresh(dst, Kind::Forced, new_mode);
    }
    let target = resolve(dst)?;
    // Opened as cp opens it to write in place (without truncating): what the user may not
    // write is refused in cp's words, or with -f replaced, as cp -f unlinks and recreates.
    let flags = OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOCTTY;
    let old = match rustix::fs::openat(dst.dir, &target, flags, Mode::empty()) {
        Ok(fd) => fd,
        // Removed meanwhile: created anew under the name given, as cp does (a symlink left
        // dangling then refuses with EEXIST, as cp's exclusive create does).
        Err(Errno::NOENT) => return fresh(dst, Kind::New, new_mode),
        Err(e)
            if how == Replace::KeepOrForce
                && e != Errno::INTR
                && crate::signals::pending().is_none() =>
        {
            return fresh(dst, Kind::Forced, new_mode);
        }
        Err(e) => return Err(Error::io(Op::CreateRegular, dst.shown, e)),
    };
    let st = rustix::fs::fstat(&old).map_err(|e| Error::io(Op::Fstat, dst.shown, e))?;
    if file_type(&st) != FileType::RegularFile {
        return Ok(Target::InPlace);
    }
    let old = Old::read(old.as_fd(), st, preserve.mode, dst.shown)?;
    // Only its owner (and root) can open it until its attributes are set.
    let kind = Kind::Replace(old);
    let (name, fd) = create(dst.dir, &target, Mode::from_raw_mode(0o600))
        .map_err(|e| kind.error(Keep::Create, dst.shown, e))?;
    let temp = Temp {
        dir: dst.dir,
        name,
        target,
        kind,
        committed: false,
    };
    temp.before_data(fd.as_fd(), dst.shown)?;
    Ok(Target::Temp {
        temp,
        fd,
        new: false,
    })
}

/// A temporary file for a destination created anew, beside the name given.
fn fresh(dst: At<'_>, kind: Kind, mode: Mode) -> Result<Target<'_>, Error> {
    let (name, fd) =
        create(dst.dir, dst.name, mode).map_err(|e| kind.error(Keep::Create, dst.shown, e))?;
    Ok(Target::Temp {
        temp: Temp {
            dir: dst.dir,
            name,
            target: dst.name.to_path_buf(),
            kind,
            committed: false,
        },
        fd,
        new: true,
    })
}

impl Kind {
    /// The error for a temporary file that could not be created or renamed: cp's words where
    /// cp fails the same way (its exclusive create of a new name, the unlink of -f).
    fn error(&self, keep: Keep, shown: &Path, e: Errno) -> Error {
        match self {
            Kind::New => Error::io(Op::CreateRegular, shown, e),
            Kind::Forced if keep == Keep::Rename || matches!(e, Errno::ACCESS | Errno::PERM) => {
                Error::io(Op::Remove, shown, e)
            }
            Kind::Forced => Error::io(Op::CreateRegular, shown, e),
            Kind::Replace(_) => Error::Atomic {
                dst: shown.to_path_buf(),
                keep,
                errno: e,
            },
        }
    }
}

impl Old {
    /// Reads what is to be kept from the open file. An attribute that cannot be read fails
    /// the copy, which would otherwise lose it.
    fn read(
        fd: BorrowedFd<'_>,
        st: Stat,
        mode_preserved: bool,
        shown: &Path,
    ) -> Result<Old, Error> {
        let fail = |keep, e| Error::Atomic {
            dst: shown.to_path_buf(),
            keep,
            errno: e,
        };
        let names = crate::fs::xattr::list_xattrs(fd).map_err(|e| fail(Keep::Xattrs, e))?;
        let mut xattrs = Vec::new();
        for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let name = OsStr::from_bytes(name);
            if !kept_xattr(name, mode_preserved) {
                continue;
            }
            match crate::fs::xattr::read_xattr(fd, name) {
                Ok(value) => xattrs.push((name.to_os_string(), value)),
                Err(Errno::NODATA) => {}
                Err(e) => return Err(fail(Keep::Xattr(name.to_os_string()), e)),
            }
        }
        // Filesystems without inode flags (tmpfs, NFS) have none to keep.
        let flags = rustix::fs::ioctl_getflags(fd).map_or(IFlags::empty(), |f| f & KEPT_FLAGS);
        Ok(Old {
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
            xattrs,
            flags,
        })
    }

    fn has_acl(&self) -> bool {
        self.xattrs.iter().any(|(name, _)| name == ACL)
    }
}

/// Whether the replaced file's xattr `name` goes to the new file. Not file capabilities,
/// which writing removes (the kernel's killpriv), nor IMA/EVM data, which describe the old
/// contents; nor the ACL when the source's mode is preserved (the copy gets the source's).
fn kept_xattr(name: &OsStr, mode_preserved: bool) -> bool {
    let name = name.as_bytes();
    let rewritten: [&[u8]; 3] = [b"security.capability", b"security.ima", b"security.evm"];
    let acl = name == ACL.as_bytes() || name == b"system.nfs4_acl";
    !(rewritten.contains(&name) || acl && mode_preserved)
}

impl Temp<'_> {
    /// The temporary file as a place to write, shown as the destination in messages.
    pub(crate) fn at<'a>(&'a self, shown: &'a Path) -> At<'a> {
        At {
            dir: self.dir,
            name: &self.name,
            shown,
        }
    }

    /// Before the data: the replaced file's owner and group, so only its owner can open the
    /// new one (given even when the source's are preserved: where that chown is refused, the
    /// file keeps them, as a file written in place does), and its inode flags (No_COW takes
    /// effect only on an empty file).
    fn before_data(&self, fd: BorrowedFd<'_>, shown: &Path) -> Result<(), Error> {
        let Kind::Replace(old) = &self.kind else {
            return Ok(());
        };
        let fail = |keep, e| self.kind.error(keep, shown, e);
        let (uid, gid) = (old.uid, old.gid);
        let owner = Some(rustix::fs::Uid::from_raw(uid));
        if let Err(e) = rustix::fs::fchown(fd, owner, Some(rustix::fs::Gid::from_raw(gid))) {
            // Born with them already (a filesystem that refuses chown may still agree).
            let now = rustix::fs::fstat(fd).map_err(|e| fail(Keep::Owner, e))?;
            if (now.st_uid, now.st_gid) != (uid, gid) {
                return Err(fail(Keep::Owner, e));
            }
        }
        if !old.flags.is_empty() {
            let now = rustix::fs::ioctl_getflags(fd).unwrap_or(IFlags::empty());
            rustix::fs::ioctl_setflags(fd, now | old.flags).map_err(|e| fail(Keep::Flags, e))?;
        }
        Ok(())
    }

    /// After the data, before the source's preserved attributes go over them (as they would
    /// over a file written in place): the replaced file's xattrs and ACL, and its mode as
    /// writing leaves it.
    pub(crate) fn after_data(
        &self,
        fd: BorrowedFd<'_>,
        preserve: &crate::options::Preserve,
        shown: &Path,
    ) -> Result<(), Error> {
        let Kind::Replace(old) = &self.kind else {
            return Ok(());
        };
        let fail = |keep, e| self.kind.error(keep, shown, e);
        for (name, value) in &old.xattrs {
            rustix::fs::fsetxattr(fd, name, value, XattrFlags::empty())
                .map_err(|e| fail(Keep::Xattr(name.clone()), e))?;
        }
        if !preserve.mode {
            // An ACL inherited from the directory's default ACL is not the old file's.
            if !old.has_acl() {
                match rustix::fs::fremovexattr(fd, ACL) {
                    Ok(()) | Err(Errno::NODATA | Errno::NOTSUP | Errno::INVAL) => {}
                    Err(e) => return Err(fail(Keep::Mode, e)),
                }
            }
            let mode = Mode::from_raw_mode(written_mode(old.mode));
            rustix::fs::fchmod(fd, mode).map_err(|e| fail(Keep::Mode, e))?;
        }
        Ok(())
    }

    /// Renames the complete file onto its target; with `sync`, syncs the directory after.
    pub(crate) fn commit(mut self, sync: bool, shown: &Path) -> Result<(), Error> {
        let renamed = match self.kind {
            Kind::New => crate::fs::rename_new(self.dir, &self.name, &self.target),
            _ => rustix::fs::renameat(self.dir, &self.name, self.dir, &self.target),
        };
        renamed.map_err(|e| self.kind.error(Keep::Rename, shown, e))?;
        self.committed = true;
        if sync {
            durable::sync_dir(self.dir, &self.target, shown)?;
        }
        Ok(())
    }
}

impl Drop for Temp<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = rustix::fs::unlinkat(self.dir, &self.name, AtFlags::empty());
        }
    }
}

/// The mode a file written in place is left with: without CAP_FSETID, writing drops
/// set-user-ID, and set-group-ID with group execute (the kernel's should_remove_suid).
fn written_mode(mode: u32) -> u32 {
    static ROOT: OnceLock<bool> = OnceLock::new();
    let mut mode = mode & metadata::MODE_BITS;
    if !*ROOT.get_or_init(|| rustix::process::geteuid().is_root()) {
        mode &= !0o4000;
        if mode & 0o010 != 0 {
            mode &= !0o2000;
        }
    }
    mode
}

/// The entry writing through `dst` reaches, as a path from `dst.dir`: `dst` itself, or the
/// name at the end of its chain of symlinks (each relative one read from its link's
/// directory), which is what gets replaced while the links stay links.
fn resolve(dst: At<'_>) -> Result<PathBuf, Error> {
    let mut path = dst.name.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let target = match rustix::fs::readlinkat(dst.dir, &path, Vec::new()) {
            Ok(target) => PathBuf::from(OsString::from_vec(target.into_bytes())),
            // Not a symlink: the file itself.
            Err(Errno::INVAL) => return Ok(path),
            Err(e) => return Err(Error::io(Op::Stat, dst.shown, e)),
        };
        path = match path.parent() {
            Some(parent) if target.is_relative() => parent.join(target),
            _ => target,
        };
    }
    Err(Error::io(Op::Stat, dst.shown, Errno::LOOP))
}

/// Creates the temporary file beside `beside` (O_EXCL, so nothing is ever clobbered),
/// trying other names while the ones chosen exist.
fn create(
    dir: BorrowedFd<'_>,
    beside: &Path,
    mode: Mode,
) -> rustix::io::Result<(PathBuf, OwnedFd)> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOCTTY;
    let mut keep_name = true;
    let mut attempt = 0;
    loop {
        let name = temp_name(beside, attempt, keep_name);
        match rustix::fs::openat(dir, &name, flags, mode) {
            Ok(fd) => return Ok((name, fd)),
            // A filesystem whose names are shorter than NAME_MAX: the name is left out.
            Err(Errno::NAMETOOLONG) if keep_name => keep_name = false,
            // Left by an earlier process with this pid, or someone else's.
            Err(Errno::EXIST) if attempt + 1 < ATTEMPTS => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// `.NAME.fastcp-PID-N` beside `beside`: hidden, never a name the user asked for, NAME
/// shortened (at a character boundary) so the whole fits NAME_MAX. N counts this process's
/// files; a retry takes a random one, so leftovers of an earlier process are not met in turn.
fn temp_name(beside: &Path, attempt: u32, keep_name: bool) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PID: OnceLock<u32> = OnceLock::new();
    let n = if attempt == 0 {
        COUNTER.fetch_add(1, Ordering::Relaxed)
    } else {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    let suffix = format!(".fastcp-{}-{n}", PID.get_or_init(std::process::id));
    let base = match beside.file_name() {
        Some(name) if keep_name => name.as_bytes(),
        _ => b"",
    };
    let mut end = base.len().min(NAME_MAX - 1 - suffix.len());
    while end > 0 && end < base.len() && base[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    let mut temp = Vec::with_capacity(NAME_MAX);
    if end > 0 {
        temp.push(b'.');
        temp.extend_from_slice(&base[..end]);
    }
    temp.extend_from_slice(suffix.as_bytes());
    let temp = PathBuf::from(OsString::from_vec(temp));
    match beside.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(temp),
        _ => temp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_fit_name_max_and_keep_whole_characters() {
        let long = "é".repeat(127) + "x"; // 255 bytes
        let temp = temp_name(Path::new(&format!("dir/{long}")), 0, true);
        let name = temp.file_name().unwrap().as_bytes();
        assert!(name.len() <= NAME_MAX, "{}", name.len());
        assert!(std::str::from_utf8(name).is_ok());
        assert_eq!(temp.parent(), Some(Path::new("dir")));
        let short = temp_name(Path::new("a"), 0, true);
        assert!(short.to_str().unwrap().starts_with(".a.fastcp-"));
        let bare = temp_name(Path::new(&long), 0, false);
        assert!(bare.to_str().unwrap().starts_with(".fastcp-"));
    }

    #[test]
    fn retries_take_new_names() {
        let a = temp_name(Path::new("x"), 1, true);
        let b = temp_name(Path::new("x"), 2, true);
        assert_ne!(a, b);
    }

    #[test]
    fn written_mode_drops_set_ids_as_the_kernel_does() {
        if rustix::process::geteuid().is_root() {
            assert_eq!(written_mode(0o106755), 0o6755);
        } else {
            assert_eq!(written_mode(0o106755), 0o755);
            assert_eq!(written_mode(0o102745), 0o2745);
        }
    }
}
