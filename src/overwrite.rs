//! What happens to a destination that already exists: -n and -u skip it, -i asks, --backup
//! renames it aside, --remove-destination removes it; otherwise it is overwritten in place.

use crate::copy::{At, Session};
use crate::error::{Error, Op};
use crate::options::{Backup, Update};
use crate::plan::concat;
use crate::quote::quote;
use crate::report;
use rustix::fs::{AtFlags, Stat};
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The decision for an existing destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Leave it alone; this source is done (not a failure).
    Skip,
    /// Write into it (it still exists).
    Overwrite,
    /// It was moved aside or removed: create a new file.
    Create,
}

fn mtime(st: &Stat) -> (i64, u64) {
    (st.st_mtime, st.st_mtime_nsec)
}

/// Asks `overwrite 'x'?` on stderr and reads the answer from stdin, as GNU's yesno().
fn ask(dst: &Path) -> bool {
    let _ = write!(
        std::io::stderr(),
        "{}: overwrite {}? ",
        report::program_name(),
        quote(dst.as_os_str())
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(n) if n > 0 => matches!(line.trim_start().chars().next(), Some('y' | 'Y')),
        _ => false,
    }
}

/// The next free `name.~N~`, and whether any numbered backup exists already.
fn numbered(dst: At<'_>) -> (OsString, bool) {
    let name = dst
        .name
        .file_name()
        .map(|n| n.as_bytes())
        .unwrap_or_default()
        .to_vec();
    let parent = dst.name.parent().filter(|p| !p.as_os_str().is_empty());
    let mut highest = 0u64;
    let dir_fd = match parent {
        Some(p) => rustix::fs::openat(
            dst.dir,
            p,
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .ok(),
        None => rustix::fs::openat(
            dst.dir,
            ".",
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .ok(),
    };
    if let Some(fd) = dir_fd
        && let Ok(mut dir) = rustix::fs::Dir::read_from(&fd)
    {
        let mut prefix = name.clone();
        prefix.extend_from_slice(b".~");
        while let Some(Ok(entry)) = dir.read() {
            let entry_name = entry.file_name().to_bytes();
            if let Some(rest) = entry_name.strip_prefix(prefix.as_slice())
                && let Some(digits) = rest.strip_suffix(b"~")
                && !digits.is_empty()
                && digits.iter().all(u8::is_ascii_digit)
                && let Ok(n) = std::str::from_utf8(digits).unwrap_or("0").parse::<u64>()
            {
                highest = highest.max(n);
            }
        }
    }
    let mut backup = name;
    backup.extend_from_slice(format!(".~{}~", highest + 1).as_bytes());
    (OsString::from_vec(backup), highest > 0)
}

impl Session<'_> {
    /// Decides what to do with the existing destination `dst` (its stat is `dst_st`), and
    /// moves it aside or removes it when asked to.
    pub(crate) fn existing(
        &mut self,
        src_st: &Stat,
        dst: At<'_>,
        dst_st: &Stat,
    ) -> Result<Decision, Error> {
        let policy = &self.opts.overwrite;
        if policy.ask == Some(false) {
            return Ok(Decision::Skip);
        }
        match policy.update {
            Update::None => return Ok(Decision::Skip),
            Update::Older if mtime(dst_st) >= mtime(src_st) => return Ok(Decision::Skip),
            _ => {}
        }
        if policy.ask == Some(true) {
            let shown = dst.shown.to_path_buf();
            let mut yes = false;
            self.summary.counters.suspend_progress(|| yes = ask(&shown));
            if !yes {
                return Ok(Decision::Skip);
            }
        }
        if let Some(kind) = policy.backup {
            let simple = || {
                let mut name = dst.name.file_name().unwrap_or_default().to_os_string();
                name.push(&policy.suffix);
                name
            };
            let backup_name = match kind {
                Backup::Simple => simple(),
                Backup::Numbered => numbered(dst).0,
                Backup::Existing => match numbered(dst) {
                    (name, true) => name,
                    (_, false) => simple(),
                },
            };
            let in_dir = |p: &Path| match p.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => concat(parent, &backup_name),
                _ => PathBuf::from(&backup_name),
            };
            let from = dst.name;
            let to = in_dir(dst.name);
            rustix::fs::renameat(dst.dir, from, dst.dir, &to).map_err(|e| {
                Error::Fatal(format!(
                    "cannot backup {}: {}",
                    quote(dst.shown.as_os_str()),
                    crate::error::strerror(e)
                ))
            })?;
            self.backup = Some(in_dir(dst.shown));
            return Ok(Decision::Create);
        }
        if policy.remove_destination {
            rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty())
                .map_err(|e| Error::io(Op::Remove, dst.shown, e))?;
            if self.opts.verbose {
                report::removed(dst.shown);
            }
            return Ok(Decision::Create);
        }
        Ok(Decision::Overwrite)
    }
}
