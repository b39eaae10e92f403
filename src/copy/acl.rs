//! POSIX ACLs as GNU cp (gnulib's acl module) sets them: a mode as a minimal access ACL, a
//! source's ACLs copied, and what the kernel leaves of a mode set so.

use crate::error::{Error, Op};
use crate::fs::handle::Handle;
use crate::fs::xattr::read_xattr;
use rustix::fs::{Mode, Stat};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::fd::BorrowedFd;
use std::path::Path;

/// The xattr a file's access ACL is kept in.
pub(crate) const ACCESS_ACL: &str = "system.posix_acl_access";

/// The permission bits of `mode` as a minimal access ACL in the kernel's xattr form: version
/// 2, then (tag, permissions, id) for the owner, the group and the others.
fn minimal_acl(mode: u32) -> [u8; 28] {
    let mut acl = [0u8; 28];
    acl[..4].copy_from_slice(&2u32.to_le_bytes());
    for (i, (tag, shift)) in [(0x01u16, 6), (0x04, 3), (0x20, 0)].into_iter().enumerate() {
        let at = 4 + 8 * i;
        let perm = u16::try_from((mode >> shift) & 7).unwrap_or(0);
        acl[at..at + 2].copy_from_slice(&tag.to_le_bytes());
        acl[at + 2..at + 4].copy_from_slice(&perm.to_le_bytes());
        acl[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    }
    acl
}

/// Sets `mode` on `fd` as gnulib's set_permissions does (GNU's copy_acl, set_acl and
/// set_owner's narrowing): the permission bits as a minimal access ACL, which the kernel
/// turns into the mode, dropping an ACL the file had (one a default ACL gave it) and
/// keeping its set-id and sticky bits; then a chmod only for a mode that has some. Where
/// the filesystem has no ACLs, a chmod. A filesystem that refuses chmod but takes ACLs
/// (bindfs --chmod-deny) so gets GNU's modes.
pub(crate) fn set_mode_acl(fd: Handle<'_>, mode: u32) -> rustix::io::Result<()> {
    set_acl_and_mode(fd, &minimal_acl(mode), true, mode)
}

/// Gives `fd` the access ACL `acl` (`minimal`: one that says no more than the mode), then
/// `mode` by chmod only where it has set-id or sticky bits, as gnulib's set_permissions.
/// Where ACLs are not supported a minimal one is a chmod; a fuller one is an error, after
/// the chmod is tried too (gnulib reports the ACL's error).
pub(crate) fn set_acl_and_mode(
    fd: Handle<'_>,
    acl: &[u8],
    minimal: bool,
    mode: u32,
) -> rustix::io::Result<()> {
    let chmod = || fd.chmod(Mode::from_raw_mode(mode));
    match fd.set_xattr(OsStr::new(ACCESS_ACL), acl) {
        Ok(()) if mode & 0o7000 == 0 => Ok(()),
        Ok(()) => chmod(),
        Err(e) if minimal && no_acl(e) => chmod(),
        Err(e) => {
            let _ = chmod();
            Err(e)
        }
    }
}

/// `mode` as GNU's qset_acl leaves it on `fd`, whose status is `now`: where the filesystem
/// has ACLs, a mode without set-id or sticky bits is set as an ACL, which leaves those the
/// file has (gnulib's set_permissions chmods only a mode that has some).
pub(crate) fn as_acl_leaves(fd: Handle<'_>, mode: u32, now: &Stat) -> u32 {
    if mode & 0o7000 == 0 && now.st_mode & 0o7000 != 0 && acls_supported(fd) {
        mode | (now.st_mode & 0o7000)
    } else {
        mode
    }
}

/// Whether the filesystem of `fd` has POSIX ACLs (an access ACL can be asked for).
fn acls_supported(fd: Handle<'_>) -> bool {
    match fd.xattr_size(ACCESS_ACL) {
        Ok(_) => true,
        Err(e) => e == Errno::NODATA,
    }
}

/// Whether an xattr call's error means "no ACL here": none set, or none supported (GNU's
/// acl_errno_valid counts ENOSYS and EINVAL with ENOTSUP).
pub(crate) fn no_acl(e: Errno) -> bool {
    matches!(
        e,
        Errno::NODATA | Errno::NOTSUP | Errno::NOSYS | Errno::INVAL
    )
}

/// The ACL names a file of `st`'s type can have: the access ACL, and a directory's default.
fn acl_names(st: &Stat) -> &'static [&'static str] {
    if st.st_mode & 0o170000 == 0o040000 {
        &[ACCESS_ACL, "system.posix_acl_default"]
    } else {
        &[ACCESS_ACL]
    }
}

/// Gives `dst` the ACLs of `src` (the access ACL, and a directory's default one), and with
/// `inherited` removes those `src` does not have: ones inherited from the destination
/// directory's default ACL, or an overwritten file's own. GNU cp gives the copy the source's
/// ACLs or none (the mode then says it all). `listed`: the source's xattr names, when known,
/// so an ACL missing from them is not asked for. Returns what was set.
pub(crate) fn copy_acls(
    src: BorrowedFd<'_>,
    (dst, shown): (Handle<'_>, &Path),
    st: &Stat,
    listed: Option<&[u8]>,
    inherited: bool,
) -> Result<Copied, Error> {
    let mut copied = Copied::default();
    for name in acl_names(st) {
        let has = |names: &[u8]| names.split(|b| *b == 0).any(|n| n == name.as_bytes());
        let value = match listed.is_none_or(has).then(|| read_xattr(src, *name)) {
            Some(Ok(value)) => Some(value),
            Some(Err(e)) if !no_acl(e) => return Err(Error::io(Op::CopyAcl, shown, e)),
            Some(Err(_)) | None => None,
        };
        let access = *name == ACCESS_ACL;
        let done = match value {
            Some(value) => match dst.set_xattr(OsStr::new(name), &value) {
                Ok(()) => {
                    copied.count += 1;
                    copied.access |= access;
                    Ok(())
                }
                // A default ACL where ACLs are not supported: GNU, whose access ACL could
                // not be set either, never gets to it (the mode says it all).
                Err(e) if !access && no_acl(e) => Ok(()),
                Err(e) => Err(e),
            },
            // A minimal access ACL replaces one the file has (set_mode_acl, which `apply`
            // calls when no access ACL was copied); a directory's default ACL is removed.
            None if inherited && !access => dst
                .remove_xattr(OsStr::new(name))
                .or_else(|e| if no_acl(e) { Ok(()) } else { Err(e) }),
            None => Ok(()),
        };
        done.map_err(|e| Error::io(Op::CopyAcl, shown, e))?;
    }
    Ok(copied)
}

/// The ACLs `copy_acls` set.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Copied {
    /// How many (the access ACL, a directory's default one).
    pub(crate) count: usize,
    /// The access ACL was one of them: it holds the permission bits now.
    pub(crate) access: bool,
}
