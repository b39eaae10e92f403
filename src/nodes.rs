//! Files that are not copied byte by byte: symlinks recreated as symlinks, FIFOs and device
//! nodes recreated with mknod, and second names of hard-linked files linked again.

use crate::copy::{At, Session, file_type};
use crate::error::{Error, Op};
use crate::metadata;
use crate::overwrite::Decision;
use rustix::fs::{AtFlags, FileType, Mode, Stat};
use rustix::io::Errno;
use std::os::unix::ffi::OsStrExt;

impl Session<'_> {
    /// Recreates a symlink with the same target (its own owner and times under -a).
    pub(crate) fn copy_symlink(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
    ) -> Result<(), Error> {
        let target = rustix::fs::readlinkat(src.dir, src.name, Vec::new())
            .map_err(|e| Error::io(Op::ReadLink, src.shown, e))?;
        let target = std::ffi::OsStr::from_bytes(target.to_bytes()).to_os_string();
        let make = |d: At<'_>| rustix::fs::symlinkat(&target, d.dir, d.name);
        if !self.replace(src_st, dst, make, Op::CreateSymlink)? {
            return Ok(());
        }
        let preserve = self.opts.preserve;
        metadata::apply_symlink(dst.dir, dst.name, src_st, &preserve, dst.shown)?;
        self.verbose(src.shown, dst.shown);
        Ok(())
    }

    /// Recreates a FIFO, socket or device node (`-R` without `--copy-contents`).
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
        let bits = self.opts.preserve.creation_bits(src_st.st_mode, false);
        let rdev = src_st.st_rdev;
        let make =
            |d: At<'_>| rustix::fs::mknodat(d.dir, d.name, kind, Mode::from_raw_mode(bits), rdev);
        if !self.replace(src_st, dst, make, op)? {
            return Ok(());
        }
        let preserve = self.opts.preserve;
        if preserve.mode || preserve.ownership || preserve.timestamps {
            // Opening a FIFO or device could block or act; attributes go by name instead.
            metadata::apply_symlink(dst.dir, dst.name, src_st, &preserve, dst.shown)?;
            if preserve.mode {
                rustix::fs::chmodat(
                    dst.dir,
                    dst.name,
                    Mode::from_raw_mode(src_st.st_mode & metadata::MODE_BITS),
                    AtFlags::empty(),
                )
                .map_err(|e| Error::io(Op::PreservePermissions, dst.shown, e))?;
            }
        }
        self.verbose(src.shown, dst.shown);
        Ok(())
    }

    /// Under `--preserve=links`, links `dst` to the copy of an earlier name of the same source
    /// file. Returns false when this is the first name met.
    pub(crate) fn link_again(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
    ) -> Result<bool, Error> {
        let Some(first) = self.links.get(&crate::copy::id(src_st)).cloned() else {
            return Ok(false);
        };
        let link = |d: At<'_>| {
            rustix::fs::linkat(rustix::fs::CWD, &first, d.dir, d.name, AtFlags::empty())
        };
        let result = match link(dst) {
            Err(Errno::EXIST) => {
                rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty())
                    .map_err(|e| Error::io(Op::Remove, dst.shown, e))?;
                link(dst)
            }
            other => other,
        };
        result.map_err(|errno| Error::HardLink {
            dst: dst.shown.to_path_buf(),
            target: first.clone(),
            errno,
        })?;
        self.verbose(src.shown, dst.shown);
        Ok(true)
    }

    /// Creates `dst` with `make`. Something already there is dealt with as -n, -i, -u and
    /// --backup say; a non-directory in the way is then removed, as GNU cp does for files it
    /// cannot open for writing. Returns false when the existing file is kept.
    fn replace(
        &mut self,
        src_st: &Stat,
        dst: At<'_>,
        make: impl Fn(At<'_>) -> rustix::io::Result<()>,
        op: Op,
    ) -> Result<bool, Error> {
        match make(dst) {
            Ok(()) => Ok(true),
            Err(Errno::EXIST) => {
                let st = dst
                    .stat(false)
                    .map_err(|e| Error::io(Op::Stat, dst.shown, e))?;
                if file_type(&st) == FileType::Directory {
                    return Err(Error::OverwriteDirectory(dst.shown.to_path_buf()));
                }
                match self.existing(src_st, dst, &st)? {
                    Decision::Skip => return Ok(false),
                    Decision::Create => {}
                    Decision::Overwrite => {
                        rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty())
                            .map_err(|e| Error::io(Op::Remove, dst.shown, e))?
                    }
                }
                make(dst).map_err(|e| Error::io(op, dst.shown, e))?;
                Ok(true)
            }
            Err(e) => Err(Error::io(op, dst.shown, e)),
        }
    }
}

/// GNU's `quotef`: a name bare when the shell would take it as is, quoted otherwise.
fn quotef(path: &std::path::Path) -> String {
    let bytes = path.as_os_str().as_bytes();
    let plain = !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-+,:@%=".contains(b));
    if plain {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        crate::quote::quote(path.as_os_str())
    }
}

impl Session<'_> {
    /// -l: makes `dst` another name of the source file.
    pub(crate) fn hard_link(
        &mut self,
        src: At<'_>,
        src_st: &Stat,
        dst: At<'_>,
        follow: bool,
    ) -> Result<(), Error> {
        let flags = if follow {
            AtFlags::SYMLINK_FOLLOW
        } else {
            AtFlags::empty()
        };
        let link = |d: At<'_>| rustix::fs::linkat(src.dir, src.name, d.dir, d.name, flags);
        let failed = |errno| Error::HardLink {
            dst: dst.shown.to_path_buf(),
            target: src.shown.to_path_buf(),
            errno,
        };
        if self.make_link(src_st, dst, link, failed)? {
            self.verbose(src.shown, dst.shown);
        }
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
            return Err(Error::Fatal(format!(
                "{}: can make relative symbolic links only in current directory",
                quotef(dst.shown)
            )));
        }
        let link = |d: At<'_>| rustix::fs::symlinkat(&target, d.dir, d.name);
        let failed = |errno| Error::SymbolicLink {
            dst: dst.shown.to_path_buf(),
            target: src.shown.to_path_buf(),
            errno,
        };
        if self.make_link(src_st, dst, link, failed)? {
            self.verbose(src.shown, dst.shown);
        }
        Ok(())
    }

    /// Makes a link with `link`. When a name is in the way: the source itself is fine as it
    /// is, a directory is refused, and a file is replaced only under -f (or moved aside by
    /// --backup, or kept by -n/-u/-i), as GNU cp. Returns whether a link was made.
    fn make_link(
        &mut self,
        src_st: &Stat,
        dst: At<'_>,
        link: impl Fn(At<'_>) -> rustix::io::Result<()>,
        failed: impl Fn(Errno) -> Error,
    ) -> Result<bool, Error> {
        match link(dst) {
            Ok(()) => return Ok(true),
            Err(Errno::EXIST) => {}
            Err(e) => return Err(failed(e)),
        }
        let st = dst
            .stat(false)
            .map_err(|e| Error::io(Op::Stat, dst.shown, e))?;
        if crate::copy::id(&st) == crate::copy::id(src_st) {
            return Ok(false);
        }
        if file_type(&st) == FileType::Directory {
            return Err(Error::OverwriteDirectory(dst.shown.to_path_buf()));
        }
        match self.existing(src_st, dst, &st)? {
            Decision::Skip => return Ok(false),
            Decision::Create => {}
            Decision::Overwrite if self.opts.overwrite.force => {
                rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty())
                    .map_err(|e| Error::io(Op::Remove, dst.shown, e))?;
            }
            Decision::Overwrite => return Err(failed(Errno::EXIST)),
        }
        link(dst).map_err(failed)?;
        Ok(true)
    }
}

/// Whether `path` names an entry of the current directory (its parent is `.` by identity).
fn in_current_directory(path: &std::path::Path) -> bool {
    match path.parent() {
        None => true,
        Some(p) if p.as_os_str().is_empty() => true,
        Some(p) => match (rustix::fs::stat(p), rustix::fs::stat(".")) {
            (Ok(a), Ok(b)) => crate::copy::id(&a) == crate::copy::id(&b),
            _ => false,
        },
    }
}
