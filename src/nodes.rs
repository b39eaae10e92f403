//! Files that are not copied byte by byte: symlinks recreated as symlinks, FIFOs and device
//! nodes recreated with mknod, and second names of hard-linked files linked again.

use crate::copy::{At, Session, file_type};
use crate::error::{Error, Op};
use crate::metadata;
use rustix::fs::{AtFlags, FileType, Mode, Stat};
use rustix::io::Errno;

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
        let target =
            std::ffi::OsStr::new(std::str::from_utf8(target.to_bytes()).unwrap_or_default())
                .to_os_string();
        let target = if target.is_empty() {
            return Err(Error::io(Op::ReadLink, src.shown, Errno::ILSEQ));
        } else {
            target
        };
        self.replace(
            dst,
            |d| rustix::fs::symlinkat(&target, d.dir, d.name),
            Op::CreateSymlink,
        )?;
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
        self.replace(
            dst,
            |d| rustix::fs::mknodat(d.dir, d.name, kind, Mode::from_raw_mode(bits), rdev),
            op,
        )?;
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

    /// Creates `dst` with `make`; an existing non-directory in the way is removed first, as
    /// GNU cp does for files it cannot open for writing.
    fn replace(
        &mut self,
        dst: At<'_>,
        make: impl Fn(At<'_>) -> rustix::io::Result<()>,
        op: Op,
    ) -> Result<(), Error> {
        match make(dst) {
            Ok(()) => Ok(()),
            Err(Errno::EXIST) => {
                if let Ok(st) = dst.stat(false)
                    && file_type(&st) == FileType::Directory
                {
                    return Err(Error::OverwriteDirectory(dst.shown.to_path_buf()));
                }
                rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty())
                    .map_err(|e| Error::io(Op::Remove, dst.shown, e))?;
                make(dst).map_err(|e| Error::io(op, dst.shown, e))
            }
            Err(e) => Err(Error::io(op, dst.shown, e)),
        }
    }
}
