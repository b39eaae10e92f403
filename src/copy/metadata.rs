//! Attributes after the data: timestamps, owner, extended attributes and permission bits, in
//! the order GNU cp applies them (times first: the others touch only the ctime; the mode last,
//! since chown clears setuid bits), stopping at the first that fails, as GNU's
//! require_preserve does. A directory gets them once its contents are in place.

use crate::copy::acl::{as_acl_leaves, copy_acls, set_mode_acl};
use crate::error::{Error, Op};
use crate::fs::handle::Handle;
use crate::fs::xattr::{list_xattrs, read_xattr};
use crate::fs::{At, magic};
use crate::options::{Preserve, XattrErrors};
use rustix::fs::{AtFlags, Gid, Mode, Stat, Timestamps, Uid};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Permission bits chmod can set, setuid/setgid/sticky included.
pub(crate) const MODE_BITS: u32 = 0o7777;

/// The process umask, read once (reading it means setting it, so it is put back at once).
pub(crate) fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let old = rustix::process::umask(Mode::empty());
        rustix::process::umask(old);
        old.as_raw_mode()
    })
}

/// Group and other bits held back at creation while the owner is still root's: set once the
/// chown is done. A file born with the source's owner (`owned`) needs no chown, and nothing
/// is held back.
pub(crate) fn held_back(preserve: &Preserve, bits: u32, owned: bool) -> u32 {
    if preserve.ownership && !owned {
        bits & 0o077
    } else {
        0
    }
}

/// What a file created in a directory is born with, as far as that is certain. GNU cp learns
/// it from an fstat of each new file; this is learnt once per directory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Birth {
    /// Its owner and group: the creator's, the group the directory's when that is setgid.
    pub(crate) owner: Option<(u32, u32)>,
    /// Its permission bits are the ones asked for less the umask (no default ACL decides).
    pub(crate) umask_only: bool,
}

/// Filesystems on which a new file is always its creator's (no mount option gives files to
/// someone else, as vfat's uid= or NFS's root squashing do): ext2/3/4, XFS, btrfs, tmpfs.
const CREATORS_OWN: [u64; 4] = [magic::EXT4, magic::XFS, magic::BTRFS, magic::TMPFS];

impl Birth {
    /// What files created in the directory `dir` are born with. Unknown (nothing certain) on
    /// other filesystems, or when the group could come from a `grpid` mount option. Where its
    /// default ACL cannot be asked for (`dir` opened O_PATH: fgetxattr says EBADF), each new
    /// file's mode is looked at, not assumed.
    pub(crate) fn of(dir: BorrowedFd<'_>) -> Birth {
        let (Ok(st), Some(fs)) = (rustix::fs::fstat(dir), magic::of(dir)) else {
            return Birth::default();
        };
        if !CREATORS_OWN.contains(&fs) {
            return Birth::default();
        }
        let egid = rustix::process::getegid().as_raw();
        let group = if st.st_mode & 0o2000 != 0 || st.st_gid == egid {
            Some(st.st_gid)
        } else {
            None
        };
        let acl = rustix::fs::fgetxattr_query(dir, "system.posix_acl_default");
        Birth {
            owner: group.map(|gid| (rustix::process::geteuid().as_raw(), gid)),
            umask_only: matches!(acl, Err(Errno::NODATA | Errno::NOTSUP)),
        }
    }

    /// Whether a file born so already has `src`'s owner and group.
    pub(crate) fn owns_like(born: Option<Birth>, src: &Stat) -> bool {
        born.and_then(|b| b.owner) == Some((src.st_uid, src.st_gid))
    }
}

/// The mode a new destination is created with: the source's permission bits (which the umask
/// then narrows), less the group and other bits held back until a preserved owner is set.
/// Nothing is held back for a file born with the source's owner, where the umask alone
/// decides its bits; under a default ACL GNU's bits held back stay off where the umask would
/// have taken them (its give-back looks at the umask), so they are held back there too.
pub(crate) fn creation_mode(src_st: &Stat, birth: Option<Birth>, preserve: &Preserve) -> Mode {
    let bits = Preserve::creation_bits(src_st.st_mode, false);
    let owned = Birth::owns_like(birth, src_st) && birth.is_some_and(|b| b.umask_only);
    Mode::from_raw_mode(bits & !held_back(preserve, bits, owned))
}

/// Whether this process may give files away (root, or CAP_CHOWN in practice).
fn privileged() -> bool {
    rustix::process::geteuid().is_root()
}

/// The source's access and modification times, to the nanosecond.
pub(crate) fn times(st: &Stat) -> Timestamps {
    Timestamps {
        last_access: rustix::fs::Timespec {
            tv_sec: st.st_atime,
            tv_nsec: i64::try_from(st.st_atime_nsec).unwrap_or(0),
        },
        last_modification: rustix::fs::Timespec {
            tv_sec: st.st_mtime,
            tv_nsec: i64::try_from(st.st_mtime_nsec).unwrap_or(0),
        },
    }
}

/// Gives `fd` the source's owner and group. Returns whether it worked: an unprivileged user
/// may not give files away, and GNU cp then keeps quiet (EPERM/EINVAL) and drops setuid bits.
fn chown(fd: Handle<'_>, src: &Stat, shown: &Path) -> Result<bool, Error> {
    let owner = Some(Uid::from_raw(src.st_uid));
    let group = Some(Gid::from_raw(src.st_gid));
    match fd.chown(owner, group) {
        Ok(()) => Ok(true),
        Err(e) if e == Errno::PERM || e == Errno::INVAL => {
            // Keep at least the group, which a member may set (GNU's set_owner tries it
            // whoever runs it; a refusal is reported only where the user could give files
            // away: root on a filesystem that says no).
            let _ = fd.chown(None, group);
            if privileged() {
                return Err(Error::io(Op::PreserveOwnership, shown, e));
            }
            Ok(false)
        }
        Err(e) => Err(Error::io(Op::PreserveOwnership, shown, e)),
    }
}

/// The xattrs and, with the mode, the ACLs (GNU's copy_acl, which the xattrs leave out).
/// Returns how many were set (the mode a file was born with may be changed by them), whether
/// the access ACL was, and an ACL the destination refused, which fails the file after its mode and times are set, as in
/// GNU cp. An xattr failure is reported as --preserve asked.
fn extended(
    (src_fd, src): (BorrowedFd<'_>, &Stat),
    (fd, shown): (Handle<'_>, &Path),
    preserve: &Preserve,
    born: Option<Birth>,
) -> Result<(usize, bool, Option<Error>), Error> {
    let mut copied = 0;
    let mut acls = false;
    // The source's xattr names, when listed: the ACLs need no asking for then.
    let mut listed = None;
    if preserve.xattr {
        let result = match list_xattrs(src_fd) {
            Ok(names) => {
                let result = copy_xattrs(src_fd, fd, &names, shown);
                listed = Some(names);
                result
            }
            Err(e) => Err(Error::io(Op::PreservePermissions, shown, e)),
        };
        match result {
            Ok(n) => copied = n,
            Err(e) => {
                // Some may have been set before the failure.
                copied = 1;
                match preserve.xattr_errors {
                    XattrErrors::Fail => return Err(e),
                    XattrErrors::Report => crate::report::error(&e),
                    XattrErrors::Silent => {}
                }
            }
        }
    }
    let mut acl_failure = None;
    if preserve.mode {
        // A file born where no default ACL applies has no ACL of its own to drop.
        let inherited = !born.is_some_and(|b| b.umask_only);
        match copy_acls(src_fd, (fd, shown), src, listed.as_deref(), inherited) {
            Ok(set) => {
                copied += set.count;
                acls = set.access;
            }
            Err(e) => {
                // The mode is still set (gnulib chmods when the ACL fails).
                copied += 1;
                acl_failure = Some(e);
            }
        }
    }
    Ok((copied, acls, acl_failure))
}

/// What is known of a destination as this copy made it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Made {
    /// Created by this copy (GNU's new_dst), not an existing file or directory written into.
    pub(crate) new: bool,
    /// A file this copy just created with `preserve.creation_bits` (less what `held_back`
    /// held), born as this says (in a tree walk).
    pub(crate) born: Option<Birth>,
    /// A directory (given its attributes once its contents are in place), not a regular file.
    pub(crate) directory: bool,
}

/// Applies the preserved attributes of `src` to the open destination `fd`. What a file was
/// born with (`made.born`) is not set again (two calls, each a journal transaction on ext4,
/// saved per file under -a).
pub(crate) fn apply(
    (fd, shown): (Handle<'_>, &Path),
    (src_fd, src): (Option<BorrowedFd<'_>>, &Stat),
    preserve: &Preserve,
    made: Made,
) -> Result<(), Error> {
    let born = made.born;
    // A failure before the mode is set leaves the file as GNU would have it then.
    let failed = |e: Error| {
        born_as_gnu(fd.fd(), src, preserve, born);
        Err(e)
    };
    if preserve.timestamps
        && let Err(e) = fd.set_times(&times(src))
    {
        return failed(Error::io(Op::SetTimes, shown, e));
    }
    let mut owned = true;
    let owned_at_birth = Birth::owns_like(born, src);
    if preserve.ownership && !owned_at_birth && !owned_already(fd, src, made) {
        if !made.new && preserve.mode {
            narrow_before_chown(fd, src, shown)?;
        }
        owned = match chown(fd, src, shown) {
            Ok(owned) => owned,
            Err(e) => return failed(e),
        };
    }
    let (copied, acls, acl_failure) = match src_fd {
        Some(src_fd) => match extended((src_fd, src), (fd, shown), preserve, born) {
            Ok(done) => done,
            Err(e) => return failed(e),
        },
        None => (0, false, None),
    };
    if preserve.mode {
        let set = set_mode(fd, src, preserve, (made, owned, copied, acls));
        // An ACL refused is what gnulib reports, whatever its chmod after it said.
        if let Some(e) = acl_failure {
            return Err(e);
        }
        set.map_err(|e| Error::io(Op::CopyAcl, shown, e))?;
    }
    acl_failure.map_or(Ok(()), Err)
}

/// A destination whose owner is not known from its birth (an existing one, a command-line
/// operand's, one made on a filesystem where the creator's owner is not certain) that has the
/// source's owner and group already: GNU does not chown it (nor clear its set-id bits). GNU
/// asks a regular file after creating it; a directory it has just made is given its owner
/// whatever it was born with (copy_internal's `new_dst ||`), so a chown that fails there
/// (ENOSYS on a FUSE filesystem) is said for a directory and not for a regular file.
fn owned_already(fd: Handle<'_>, src: &Stat, made: Made) -> bool {
    if made.born.is_some_and(|b| b.owner.is_some()) {
        // Born with a known owner, which is not the source's.
        return false;
    }
    if made.new && made.directory {
        return false;
    }
    fd.stat()
        .is_ok_and(|st| (st.st_uid, st.st_gid) == (src.st_uid, src.st_gid))
}

/// Before an existing destination is given to the source's owner, GNU's set_owner narrows
/// its permission bits to the owner's bits both modes share (`& 0700`), so that nobody the
/// old bits let in can write it while it changes hands. Where that is refused for want of
/// privilege, GNU fails the file without a word (owner_failure_ok), and so does fastcp.
fn narrow_before_chown(fd: Handle<'_>, src: &Stat, shown: &Path) -> Result<(), Error> {
    let old = fd.stat().map_err(|e| Error::io(Op::Fstat, shown, e))?;
    let narrow = as_acl_leaves(fd, old.st_mode & src.st_mode & 0o700, &old);
    match set_mode_acl(fd, narrow) {
        Ok(()) => Ok(()),
        Err(Errno::PERM | Errno::INVAL) if !privileged() => Err(Error::Unreported),
        Err(e) => Err(Error::io(Op::ClearPermissions, shown, e)),
    }
}

/// The source's permission bits on `fd`, unless it was born with exactly them. `owned`: the
/// owner could be kept (GNU drops the set-id and sticky bits otherwise); `copied`: xattrs or
/// ACLs were set, which may have changed the bits; `acls`: the access ACL was among them (or
/// may have been), which then holds the bits: a minimal ACL would replace it.
fn set_mode(
    fd: Handle<'_>,
    src: &Stat,
    preserve: &Preserve,
    (made, owned, copied, acls): (Made, bool, usize, bool),
) -> rustix::io::Result<()> {
    let born = made.born;
    let mut mode = src.st_mode & MODE_BITS;
    if !owned {
        mode &= !0o7000;
    }
    // Born with exactly these bits: asked for them all (nothing set-id, nothing held back),
    // the umask took none, no default ACL or copied ACL changed them.
    let bits = Preserve::creation_bits(src.st_mode, false);
    let as_born = born.is_some_and(|b| b.umask_only)
        && copied == 0
        && mode == bits
        && held_back(preserve, bits, Birth::owns_like(born, src)) == 0
        && bits & umask() == 0;
    // GNU sets the mode through an ACL where the filesystem has them (gnulib's
    // set_permissions chmods only a mode with set-id or sticky bits), and that leaves the
    // set-id and sticky bits the file has when the source has none: a directory's (a setgid
    // parent's, inherited at mkdir), an existing destination's.
    let dir = src.st_mode & 0o170000 == 0o040000;
    if (dir || !made.new)
        && let Ok(now) = fd.stat()
    {
        mode = as_acl_leaves(fd, mode, &now);
    }
    if as_born {
        return Ok(());
    }
    if acls {
        // The access ACL copied holds the permission bits already; gnulib chmods only for
        // set-id and sticky bits.
        if mode & 0o7000 == 0 {
            return Ok(());
        }
        return fd.chmod(Mode::from_raw_mode(mode));
    }
    set_mode_acl(fd, mode)
}

/// A file this copy created with its group and other bits, where GNU creates it without them
/// until its owner is set (`held_back`; fastcp knew no chown was needed): when the copy fails
/// before the mode is set, the file is left with the bits GNU's would have (`cp -a` onto a
/// full disk leaves a partial file 0600, not 0644). Best effort: the failure is reported.
pub(crate) fn born_as_gnu(
    fd: BorrowedFd<'_>,
    src: &Stat,
    preserve: &Preserve,
    born: Option<Birth>,
) {
    let bits = Preserve::creation_bits(src.st_mode, false);
    let gnu_held = held_back(preserve, bits, false) & !umask();
    let umask_only = born.is_some_and(|b| b.umask_only);
    if umask_only && Birth::owns_like(born, src) && gnu_held != 0 {
        let _ = rustix::fs::fchmod(fd, Mode::from_raw_mode(bits & !gnu_held & !umask()));
    }
}

/// With the owner preserved but not the mode, GNU's copy_reg creates a new file (`new`)
/// without its group and other bits (its omitted_permissions) and, when the umask leaves any
/// of them, chmods it at the end to the mode it would have had less the umask, whatever a
/// default ACL made of it. fastcp holds them back only until a chown (`held_back`), so the
/// chmod is skipped only for a file born with exactly that mode (its owner's, no default
/// ACL: `born` as for `apply`).
pub(crate) fn give_back(
    (fd, shown): (Handle<'_>, &Path),
    src: &Stat,
    preserve: &Preserve,
    born: Option<Birth>,
    new: bool,
) -> Result<(), Error> {
    let bits = Preserve::creation_bits(src.st_mode, false);
    let umask_only = born.is_some_and(|b| b.umask_only);
    if new && preserve.default_mode && !preserve.mode {
        // --no-preserve=mode: GNU's set_acl gives every new file its default mode as a
        // minimal ACL, one a default ACL gave it dropped; not set again where it was born so.
        let mode = Preserve::default_bits(src.st_mode) & !umask();
        let owned = Birth::owns_like(born, src);
        if umask_only && held_back(preserve, bits, owned) == 0 && bits & !umask() == mode {
            return Ok(());
        }
        return set_mode_acl(fd, mode).map_err(|e| Error::io(Op::SetAcl, shown, e));
    }
    let as_born = Birth::owns_like(born, src) && umask_only;
    let omitted = held_back(preserve, bits, false) & !umask();
    if new && !preserve.mode && omitted != 0 && !as_born {
        fd.chmod(Mode::from_raw_mode(bits & !umask()))
            .map_err(|e| Error::io(Op::RestorePermissions, shown, e))?;
    }
    Ok(())
}

/// Applies owner and times to a symlink itself (`-a`): symlinks have no mode of their own.
/// GNU gives a symlink its owner as it makes it, and its times at the end.
pub(crate) fn apply_symlink(dst: At<'_>, src: &Stat, preserve: &Preserve) -> Result<bool, Error> {
    let owned = !preserve.ownership || chown_at(dst, src, true)?;
    if preserve.timestamps {
        times_at(dst, src)?;
    }
    Ok(owned)
}

/// Applies times and owner to a FIFO, socket or device node by name (opening one could block
/// or act), in GNU's order for them: the times first. Returns whether the owner was kept.
pub(crate) fn apply_node(dst: At<'_>, src: &Stat, preserve: &Preserve) -> Result<bool, Error> {
    if preserve.timestamps {
        times_at(dst, src)?;
    }
    Ok(!preserve.ownership || chown_at(dst, src, false)?)
}

/// Gives the entry `dst` itself (not what a symlink names) the source's owner and group.
/// Returns whether that worked, as `chown` does. A node's refusal tries the group alone, as
/// GNU's set_owner does; a symlink's does not (GNU's lchown of it), and its failure names it
/// unquoted, as GNU's copy_internal does.
fn chown_at(dst: At<'_>, src: &Stat, symlink: bool) -> Result<bool, Error> {
    let owner = Some(Uid::from_raw(src.st_uid));
    let group = Some(Gid::from_raw(src.st_gid));
    let nofollow = AtFlags::SYMLINK_NOFOLLOW;
    let op = if symlink {
        Op::PreserveLinkOwnership
    } else {
        Op::PreserveOwnership
    };
    match rustix::fs::chownat(dst.dir, dst.name, owner, group, nofollow) {
        Ok(()) => Ok(true),
        Err(e @ (Errno::PERM | Errno::INVAL)) => {
            if !symlink {
                let _ = rustix::fs::chownat(dst.dir, dst.name, None, group, nofollow);
            }
            if privileged() {
                return Err(Error::io(op, dst.shown, e));
            }
            Ok(false)
        }
        Err(e) => Err(Error::io(op, dst.shown, e)),
    }
}

/// Gives the entry `dst` itself the source's access and modification times.
fn times_at(dst: At<'_>, src: &Stat) -> Result<(), Error> {
    rustix::fs::utimensat(dst.dir, dst.name, &times(src), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| Error::io(Op::SetTimes, dst.shown, e))
}

/// Extended attributes the xattr copy leaves out, as GNU cp's libattr does by default
/// (/etc/xattr.conf): ACLs, which belong to the permissions, and ones only the kernel or
/// another system may write.
fn not_copied(name: &[u8]) -> bool {
    const EXACT: [&[u8]; 9] = [
        b"system.nfs4_acl",
        b"system.nfs4acl",
        b"system.posix_acl_access",
        b"system.posix_acl_default",
        b"trusted.SGI_ACL_DEFAULT",
        b"trusted.SGI_ACL_FILE",
        b"trusted.SGI_CAP_FILE",
        b"trusted.SGI_MAC_FILE",
        b"security.evm",
    ];
    const PREFIX: [&[u8]; 4] = [b"trusted.SGI_DMI_", b"xfsroot.", b"user.Beagle.", b"afs."];
    EXACT.contains(&name) || PREFIX.iter().any(|p| name.starts_with(p))
}

/// Copies the extended attributes `names` lists but those `not_copied` leaves out. A
/// destination without xattrs is not an error, as in GNU cp. Returns how many were set.
fn copy_xattrs(
    src: BorrowedFd<'_>,
    dst: Handle<'_>,
    names: &[u8],
    shown: &Path,
) -> Result<usize, Error> {
    let mut copied = 0;
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if not_copied(name) {
            continue;
        }
        let name = OsStr::from_bytes(name);
        let Ok(value) = read_xattr(src, name) else {
            continue;
        };
        match dst.set_xattr(name, &value) {
            Ok(()) => copied += 1,
            Err(Errno::NOTSUP | Errno::NODATA) => return Ok(copied),
            Err(e) => return Err(Error::io(Op::PreservePermissions, shown, e)),
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    /// Errors after the data are reported, never swallowed: an fd that cannot be changed
    /// (O_PATH) makes each attribute step fail with its own message.
    #[test]
    fn attribute_failures_are_errors() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let st = rustix::fs::stat(file.path()).unwrap();
        let fd = rustix::fs::open(file.path(), rustix::fs::OFlags::PATH, Mode::empty()).unwrap();
        // A source of another owner: the chown is not skipped.
        let mut other = st;
        other.st_uid += 1;
        let cases = [
            (
                Preserve {
                    mode: true,
                    ..Preserve::default()
                },
                "preserving permissions for",
            ),
            (
                Preserve {
                    timestamps: true,
                    ..Preserve::default()
                },
                "preserving times for",
            ),
            (
                Preserve {
                    ownership: true,
                    ..Preserve::default()
                },
                "failed to preserve ownership for",
            ),
        ];
        for (preserve, message) in cases {
            let err = apply(
                (fd.as_fd().into(), Path::new("x")),
                (None, &other),
                &preserve,
                Made::default(),
            )
            .unwrap_err();
            assert!(err.to_string().starts_with(message), "{err}");
        }
    }
}
