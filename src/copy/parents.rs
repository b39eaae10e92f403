//! --parents: the directories of a source's own path, recreated below the target directory
//! before the source is copied (GNU's make_dir_parents_private), and their attributes set
//! after it (GNU's re_protect).

use crate::copy::metadata::{MODE_BITS, times, umask};
use crate::copy::session::Session;
use crate::error::{Error, Op};
use crate::fs::file_type;
use crate::options::Preserve;
use crate::report;
use rustix::fs::{AtFlags, CWD, FileType, Gid, Mode, Stat, Uid};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A leading directory whose attributes are set after the copy (GNU's struct dir_attr).
pub(crate) struct Leading {
    dst: PathBuf,
    /// The source directory's stat; with `restore`, the mode to put back in its place.
    st: Stat,
    /// Made without -p's mode and with other bits than it is to have (GNU's restore_mode).
    restore: bool,
}

/// The leading directories of `src` (leading, doubled and trailing slashes skipped): each
/// source directory with the directory it becomes below `base`.
fn leading_dirs(src: &Path, base: &Path) -> Vec<(PathBuf, PathBuf)> {
    let bytes = src.as_os_str().as_bytes();
    let mut dirs = Vec::new();
    let mut end = 0;
    while let Some(slash) = bytes[end..].iter().position(|&b| b == b'/') {
        let cut = end + slash;
        end = cut + 1;
        let prefix = &bytes[..cut];
        let Some(start) = prefix.iter().position(|&b| b != b'/') else {
            continue;
        };
        if prefix.ends_with(b"/") || bytes[end..].iter().all(|&b| b == b'/') {
            continue;
        }
        let src_dir = PathBuf::from(OsStr::from_bytes(prefix));
        dirs.push((
            src_dir,
            crate::fs::concat(base, OsStr::from_bytes(&prefix[start..])),
        ));
    }
    dirs
}

/// The source directory's stat, which must be a directory.
fn source_dir(src_dir: &Path) -> Result<Stat, Error> {
    match rustix::fs::stat(src_dir) {
        Ok(st) if file_type(&st) == FileType::Directory => Ok(st),
        Ok(_) => Err(Error::io(Op::GetAttributes, src_dir, Errno::NOTDIR)),
        Err(e) => Err(Error::io(Op::GetAttributes, src_dir, e)),
    }
}

impl Session<'_> {
    /// --parents: creates the leading directories of `src` below `base` before anything of
    /// `src` is looked at. When the last of them exists, nothing is made and no attribute is
    /// set later (GNU: "If all dirs are present at the destination, no permissions ... will
    /// be updated"). Otherwise each one missing is made, and it, with under -p every existing
    /// one on the way too, is returned for `re_protect`. Directories made before a failure
    /// stay as made, as in GNU cp.
    ///
    /// Records in `parents_made` whether the last of them was made now, as GNU's new_dst:
    /// the operand's destination is then taken not to exist (`src/.` is a directory to make
    /// in the one just made: "File exists"). A source without leading directories leaves it
    /// as the operand before set it, as GNU's does.
    pub(crate) fn make_parents(&mut self, src: &Path, base: &Path) -> Result<Vec<Leading>, Error> {
        let dirs = leading_dirs(src, base);
        let Some((_, parent)) = dirs.last() else {
            return Ok(Vec::new());
        };
        match rustix::fs::stat(parent) {
            Ok(st) if file_type(&st) == FileType::Directory => {
                self.parents_made = false;
                return Ok(Vec::new());
            }
            Ok(_) => return Err(Error::ParentNotDirectory(parent.clone())),
            Err(_) => {}
        }
        let preserve = self.opts.preserve;
        let any = preserve.mode || preserve.ownership || preserve.timestamps;
        let mut made = Vec::new();
        for (src_dir, dst_dir) in dirs {
            let existing = rustix::fs::stat(&dst_dir).ok();
            self.parents_made = existing.is_none();
            // GNU stats the source first, so its failure is the one reported.
            let src_st = match existing {
                None => Some(source_dir(&src_dir)?),
                Some(_) if any => Some(source_dir(&src_dir)?),
                Some(_) => None,
            };
            match (existing, src_st) {
                (None, Some(st)) => made.push(self.make_one(&src_dir, dst_dir, st)?),
                (Some(st), _) if file_type(&st) != FileType::Directory => {
                    return Err(Error::ParentNotDirectory(dst_dir));
                }
                (Some(_), Some(st)) => made.push(Leading {
                    dst: dst_dir,
                    st,
                    restore: false,
                }),
                _ => {}
            }
        }
        Ok(made)
    }

    /// Makes one missing leading directory as GNU's make_dir_parents_private does: the
    /// source's bits less those -p's owner or mode must guard until set, then writable and
    /// searchable by its owner for the copy to go in.
    fn make_one(&mut self, src_dir: &Path, dst: PathBuf, src_st: Stat) -> Result<Leading, Error> {
        let preserve = self.opts.preserve;
        let mut omitted = src_st.st_mode
            & if preserve.ownership {
                0o077
            } else if preserve.mode {
                0o022
            } else {
                0
            };
        let bits = if preserve.default_mode {
            0o777
        } else {
            src_st.st_mode
        };
        rustix::fs::mkdir(&dst, Mode::from_raw_mode(bits & MODE_BITS & !omitted))
            .map_err(|e| Error::io(Op::MakeDirectory, &dst, e))?;
        if self.opts.verbose {
            report::parent_made(src_dir, &dst);
        }
        let now = rustix::fs::lstat(&dst).map_err(|e| Error::io(Op::GetAttributes, &dst, e))?;
        let mut leading = Leading {
            dst,
            st: src_st,
            restore: false,
        };
        if !preserve.mode {
            if omitted & !now.st_mode != 0 {
                omitted &= !umask();
            }
            if omitted & !now.st_mode != 0 || now.st_mode & 0o700 != 0o700 {
                leading.st.st_mode = now.st_mode | omitted;
                leading.restore = true;
            }
        }
        if now.st_mode & 0o700 != 0o700 {
            rustix::fs::chmod(
                &leading.dst,
                Mode::from_raw_mode((now.st_mode | 0o700) & MODE_BITS),
            )
            .map_err(|e| Error::io(Op::SetPermissions, &leading.dst, e))?;
        }
        Ok(leading)
    }
}

/// Sets the attributes of the leading directories `make_parents` returned, the deepest first,
/// after the copy (failed or not), in GNU's re_protect order: times, owner, then the mode (the
/// chown clears set-id bits). Stops at the first failure.
pub(crate) fn re_protect(leading: &[Leading], preserve: &Preserve) -> Result<(), Error> {
    for dir in leading.iter().rev() {
        let (dst, st) = (&dir.dst, &dir.st);
        if preserve.timestamps {
            rustix::fs::utimensat(CWD, dst, &times(st), AtFlags::empty())
                .map_err(|e| Error::io(Op::PreserveTimes, dst, e))?;
        }
        if preserve.ownership {
            let (uid, gid) = (Uid::from_raw(st.st_uid), Gid::from_raw(st.st_gid));
            let nofollow = AtFlags::SYMLINK_NOFOLLOW;
            match rustix::fs::chownat(CWD, dst, Some(uid), Some(gid), nofollow) {
                Ok(()) => {}
                // Not ours to give away: GNU keeps quiet and keeps at least the group.
                Err(Errno::PERM | Errno::INVAL) if !rustix::process::geteuid().is_root() => {
                    let _ = rustix::fs::chownat(CWD, dst, None, Some(gid), nofollow);
                }
                Err(e) => return Err(Error::io(Op::PreserveOwnership, dst, e)),
            }
        }
        let mode = Mode::from_raw_mode(st.st_mode & MODE_BITS);
        if preserve.mode {
            // GNU's copy_acl sets only the permission bits when the source has no set-id or
            // sticky bit: the setgid bit a directory inherited from a setgid parent stays.
            let kept = match st.st_mode & 0o7000 {
                0 => rustix::fs::lstat(dst).map_or(0, |now| now.st_mode & 0o7000),
                _ => 0,
            };
            let mode = mode | Mode::from_raw_mode(kept);
            rustix::fs::chmod(dst, mode).map_err(|e| Error::io(Op::CopyAcl, dst, e))?;
        } else if dir.restore {
            rustix::fs::chmod(dst, mode).map_err(|e| Error::io(Op::PreservePermissions, dst, e))?;
        }
    }
    Ok(())
}
