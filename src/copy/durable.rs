//! Making a copy last and checking it: fsync (--fsync) and reading it back (--verify).

use crate::engine::nocache::Rereads;
use crate::error::{Error, Op};
use crate::fs::At;
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::os::fd::{AsFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::path::Path;

/// fdatasync: the data (and the size) are on the disk before the file is reported done.
pub(crate) fn sync_file(fd: BorrowedFd<'_>, shown: &Path) -> Result<(), Error> {
    rustix::fs::fdatasync(fd).map_err(|e| Error::io(Op::Write, shown, e))
}

/// fsync of the directory holding the new entry `name` (relative to `dir`): without it the
/// name may vanish in a crash even though the data was synced.
pub(crate) fn sync_dir(dir: BorrowedFd<'_>, name: &Path, shown: &Path) -> Result<(), Error> {
    let parent = match name.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fd = match rustix::fs::openat(
        dir,
        parent,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        // A directory its user may not read (0300) cannot be opened to be synced, and fsync
        // and syncfs refuse an O_PATH descriptor: every filesystem's writes are flushed
        // instead, as sync(1) does, which includes this directory's.
        Err(Errno::ACCESS) => {
            rustix::fs::sync();
            return Ok(());
        }
        Err(e) => return Err(Error::io(Op::Access, shown, e)),
    };
    match rustix::fs::fsync(&fd) {
        // Some filesystems cannot sync a directory; the data sync is what they offer.
        Ok(()) | Err(Errno::INVAL | Errno::ROFS) => Ok(()),
        Err(e) => Err(Error::io(Op::Write, shown, e)),
    }
}

/// Reads the source and the finished copy back and compares them; a difference is an error
/// naming the file and the first differing byte. Under --nocache (`nocache`) the reads are
/// dropped from the page cache behind them, as the copy's are.
pub(crate) fn verify(
    src: BorrowedFd<'_>,
    dst: At<'_>,
    src_shown: &Path,
    nocache: bool,
) -> Result<(), Error> {
    let copy = rustix::fs::openat(
        dst.dir,
        dst.name,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::io(Op::OpenRead, dst.shown, e))?;
    let mut rereads = Rereads::new(nocache, src, 0);
    let result = compare(src, copy.as_fd(), (src_shown, dst.shown), rereads.as_mut());
    if let Some(rereads) = rereads {
        rereads.finish(src, copy.as_fd());
    }
    result
}

/// Reads two files from their first byte and fails at the first byte where they differ or
/// one of them ends (--verify, and every copy --compare makes). pread leaves the offsets alone.
pub(crate) fn same_bytes(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    src_shown: &Path,
    dst_shown: &Path,
) -> Result<(), Error> {
    compare(src, dst, (src_shown, dst_shown), None)
}

/// `same_bytes`, each chunk dropped from the page cache after it is read with `rereads`.
fn compare(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    (src_shown, dst_shown): (&Path, &Path),
    mut rereads: Option<&mut Rereads>,
) -> Result<(), Error> {
    const CHUNK: usize = 1 << 20;
    let (mut a, mut b) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let mut offset: u64 = 0;
    loop {
        let n = read_at(src, &mut a, offset).map_err(|e| Error::io(Op::Read, src_shown, e))?;
        let m = read_at(dst, &mut b, offset).map_err(|e| Error::io(Op::Read, dst_shown, e))?;
        if let Some(rereads) = rereads.as_deref_mut() {
            rereads.read(src, dst, offset + n.max(m) as u64);
        }
        let common = n.min(m);
        let differs = a[..common]
            .iter()
            .zip(&b[..common])
            .position(|(x, y)| x != y);
        if let Some(at) = differs.or((n != m).then_some(common)) {
            return Err(Error::VerifyFailed {
                src: src_shown.to_path_buf(),
                dst: dst_shown.to_path_buf(),
                at: offset + at as u64,
            });
        }
        if n == 0 {
            return Ok(());
        }
        offset += n as u64;
    }
}

/// Fills `buf` from `offset` unless the file ends first.
fn read_at(fd: BorrowedFd<'_>, buf: &mut [u8], offset: u64) -> rustix::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::io::pread(fd, &mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Closes the destination and reports the error close may carry (NFS, quotas): data that did
/// not reach the file must not be reported as copied.
pub(crate) fn close(fd: OwnedFd, path: &Path) -> Result<(), Error> {
    // SAFETY: the descriptor comes from an OwnedFd we own and is not used again.
    unsafe { rustix::io::try_close(fd.into_raw_fd()) }.map_err(|e| Error::io(Op::Close, path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    /// The first differing byte is named, and a copy that ends early differs where it ends.
    #[test]
    fn same_bytes_names_the_first_difference() {
        let src = file(b"abcdef");
        let check = |copy: &tempfile::NamedTempFile| {
            same_bytes(
                src.as_file().as_fd(),
                copy.as_file().as_fd(),
                Path::new("s"),
                Path::new("d"),
            )
            .map_err(|e| e.to_string())
        };
        assert_eq!(check(&file(b"abcdef")), Ok(()));
        let differs = "verification failed: 'd' differs from 's' at byte 3";
        assert_eq!(check(&file(b"abcXef")), Err(differs.to_string()));
        assert_eq!(check(&file(b"abc")), Err(differs.to_string()));
        let longer = "verification failed: 'd' differs from 's' at byte 6";
        assert_eq!(check(&file(b"abcdefg")), Err(longer.to_string()));
    }
}
