//! --parents: the directories of a source's own path, recreated below the target directory.

use crate::copy::session::Session;
use crate::error::{Error, Op};
use crate::fs::file_type;
use crate::report;
use rustix::fs::{FileType, Mode, Stat};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

impl Session<'_> {
    /// --parents: creates the directories of `src`'s own path below `base` (GNU's
    /// make_dir_parents_private), each with its source directory's permission bits. Returns
    /// the ones whose attributes are applied afterwards (those it made, and under -p the
    /// existing ones too), with their sources' stat.
    pub(crate) fn make_parents(
        &mut self,
        src: &Path,
        base: &Path,
    ) -> Result<Vec<(PathBuf, Stat)>, Error> {
        let bytes = src.as_os_str().as_bytes();
        let mut made = Vec::new();
        let mut end = 0;
        while let Some(slash) = bytes[end..].iter().position(|&b| b == b'/') {
            let cut = end + slash;
            end = cut + 1;
            let prefix = &bytes[..cut];
            let rel = prefix
                .iter()
                .position(|&b| b != b'/')
                .map_or(&prefix[..0], |start| &prefix[start..]);
            if rel.is_empty() || bytes[end..].iter().all(|&b| b == b'/') {
                continue;
            }
            let src_dir = Path::new(std::ffi::OsStr::from_bytes(prefix));
            let dst_dir = crate::fs::concat(base, std::ffi::OsStr::from_bytes(rel));
            let src_st = rustix::fs::stat(src_dir).map_err(|e| Error::io(Op::Stat, src_dir, e))?;
            let preserve = self.opts.preserve;
            match rustix::fs::stat(&dst_dir) {
                // An existing directory gets its source's attributes too, when they are
                // preserved (GNU's re_protect walks every directory of the path).
                Ok(st) if file_type(&st) == FileType::Directory => {
                    if preserve.mode || preserve.ownership || preserve.timestamps {
                        made.push((dst_dir, src_st));
                    }
                    continue;
                }
                Ok(_) => {
                    return Err(Error::ParentNotDirectory(dst_dir));
                }
                Err(_) => {}
            }
            let bits = self.opts.preserve.creation_bits(src_st.st_mode, true);
            rustix::fs::mkdir(&dst_dir, Mode::from_raw_mode(bits))
                .map_err(|e| Error::io(Op::MakeDirectory, &dst_dir, e))?;
            if self.opts.verbose {
                // GNU prints these lines unquoted.
                report::parent_made(src_dir, &dst_dir);
            }
            made.push((dst_dir, src_st));
        }
        Ok(made)
    }
}
