//! What happens to a destination that already exists, decided before anything is written, in
//! GNU cp's order (copy_internal in copy.c): the same-file check, -u, -n and -i, the
//! directory refusals, "just-created" destinations, then a backup, or removal, or neither.

use crate::copy::entry::{Decision, Entry, Prepared};
use crate::copy::resume;
use crate::copy::same_file::{Verdict, same_file_ok};
use crate::copy::session::Session;
use crate::error::{Error, Op};
use crate::fs::backup::{backup_name, beside, simple_name};
use crate::fs::{At, dest_key, dir_and_base, file_type};
use crate::options::{Backup, Deref, Make, Update};
use crate::report;
use rustix::fs::{Access, AtFlags, FileType, Stat};
use rustix::io::Errno;
use std::cmp::Ordering;
use std::io::BufRead;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Asks whether to overwrite `dst` on stderr and reads the answer from stdin, as GNU's
/// overwrite_ok() and yesno(); `unwritable` is the mode of a destination the user could not
/// write, and `replacing` whether it would be removed rather than written.
fn ask(dst: &Path, unwritable: Option<u32>, replacing: bool) -> bool {
    report::err_raw(report::overwrite_prompt(dst, unwritable, replacing).as_bytes());
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        // GNU's yesno: rpmatch with the C locale's ^[yY]; a leading blank means no.
        Ok(n) if n > 0 => matches!(line.as_bytes().first(), Some(b'y' | b'Y')),
        _ => false,
    }
}

impl Session<'_> {
    /// GNU cp's decisions about the destination of a non-directory, before anything is
    /// written: looks at what is there (following a symlink only when a regular file will be
    /// written through it), refuses what would destroy the source, and applies -u, -n, -i,
    /// --backup and the removals GNU makes.
    pub(crate) fn prepare(&mut self, entry: Entry<'_>) -> Result<Decision, Error> {
        let Entry {
            src_st, dst, node, ..
        } = entry;
        let mut prepared = Prepared::default();
        // A file that a copying thread still reads or writes (a second name of it, a hard link
        // or a symlink written through, or a source that is also a destination): decide, and
        // read or write it, once that copy is done, as in walk order.
        let shared = src_st.st_nlink > 1 || node.follow;
        if let Some(pool) = self.pool
            && shared
            && pool.busy(crate::fs::id(src_st))
        {
            self.settle();
        }
        if node.fresh {
            return Ok(Decision::Go(prepared));
        }
        let follow = !self.looks_through(src_st);
        // lstat first: what is not a symlink looks the same either way, and a symlink to be
        // written through is copied in walk order (`through_link`).
        let mut looked = dst.stat(false);
        let through_link = follow
            && looked
                .as_ref()
                .is_ok_and(|st| file_type(st) == FileType::Symlink);
        if through_link {
            self.settle();
            looked = dst.stat(true);
        }
        if let (Ok(st), Some(pool)) = (&looked, self.pool)
            && pool.busy(crate::fs::id(st))
        {
            self.settle();
            looked = dst.stat(follow);
        }
        match looked {
            Ok(dst_st) => match self.existing(entry, dst_st)? {
                Decision::Go(p) => prepared = p,
                other => return Ok(other),
            },
            Err(Errno::NOENT) => {}
            // -f: a symlink loop is removed when opening it fails (copy_reg). Named with a
            // trailing slash (`loop/`), even lstat follows it: GNU still takes it for an
            // existing file, opens it, fails, and cannot remove `loop/` (ENOTDIR).
            Err(Errno::LOOP) if self.opts.overwrite.force => {
                let bare = crate::fs::without_trailing_slashes(dst.name);
                prepared.existing = dst
                    .stat(false)
                    .or_else(|_| rustix::fs::statat(dst.dir, bare, AtFlags::SYMLINK_NOFOLLOW))
                    .ok();
            }
            Err(e) => return Err(Error::io(Op::Stat, dst.shown, e)),
        }
        self.through_just_created(entry)?;
        prepared.through_link = through_link;
        Ok(Decision::Go(prepared))
    }

    /// Whether the destination is looked at without following a symlink: GNU follows it only
    /// when a regular file will be written through it (use_lstat in copy_internal).
    fn looks_through(&self, src_st: &Stat) -> bool {
        let opts = self.opts;
        let kind = file_type(src_st);
        let as_regular = !opts.recursive || opts.copy_contents;
        (kind != FileType::RegularFile
            && (!as_regular || kind == FileType::Directory || kind == FileType::Symlink))
            || opts.make != Make::Copy
            || opts.overwrite.backup.is_some()
            || opts.overwrite.remove_destination
    }

    /// The decisions about a destination that exists (`dst_st`).
    fn existing(&mut self, entry: Entry<'_>, dst_st: Stat) -> Result<Decision, Error> {
        if let Some(decision) = self.left_alone(entry, &dst_st)? {
            return Ok(decision);
        }
        let Entry {
            src,
            src_st,
            dst,
            node,
            ..
        } = entry;
        let top = node.top;
        let opts = self.opts;
        let policy = &opts.overwrite;
        if file_type(&dst_st) == FileType::Directory {
            return Err(Error::OverwriteDirectory(dst.shown.to_path_buf()));
        }
        // Two sources of one run must not write one destination: the second would destroy
        // the first's copy (`cp a/f b/f c`). Numbered backups keep both.
        if top
            && policy.backup != Some(Backup::Numbered)
            && self.written.contains(&dest_key(dst.shown, &dst_st))
        {
            return Err(Error::JustCreated {
                dst: dst.shown.to_path_buf(),
                src: src.shown.to_path_buf(),
            });
        }
        let mut prepared = Prepared {
            existing: Some(dst_st),
            ..Prepared::default()
        };
        let dots = matches!(dir_and_base(src.name).1, b"." | b"..");
        if let Some(kind) = policy.backup
            && !dots
        {
            prepared.backup = self.back_up(entry, kind)?;
            prepared.existing = None;
            prepared.replaced = true;
        } else if self.removes(src_st, &dst_st, top) {
            if self.renews(entry, &dst_st) {
                // --atomic: the old file is there until its replacement is complete.
                prepared.renew = true;
            } else {
                match rustix::fs::unlinkat(dst.dir, dst.name, AtFlags::empty()) {
                    Ok(()) | Err(Errno::NOENT) => {}
                    Err(e) => return Err(Error::io(Op::Remove, dst.shown, e)),
                }
                prepared.existing = None;
                prepared.replaced = true;
            }
            if opts.verbose {
                report::removed(dst.shown);
            }
        }
        Ok(Decision::Go(prepared))
    }

    /// The decisions that leave an existing destination alone, in GNU's order: the same-file
    /// check, -u, -n, -i. `None`: go on.
    fn left_alone(&mut self, entry: Entry<'_>, dst_st: &Stat) -> Result<Option<Decision>, Error> {
        let Entry {
            src,
            src_st,
            dst,
            node,
            ..
        } = entry;
        let opts = self.opts;
        let policy = &opts.overwrite;
        // --update=none is later GNU's -n (no same-file check either).
        let no_clobber = policy.ask == Some(false) || policy.update == Update::None;
        let same_file = || Error::SameFile {
            src: src.shown.to_path_buf(),
            dst: dst.shown.to_path_buf(),
        };
        let (mut done, mut one_entry) = (false, false);
        if !no_clobber {
            match same_file_ok((opts, self.deref(node.top)), entry, dst_st) {
                Verdict::Proceed => {}
                Verdict::Done => done = true,
                Verdict::OneEntry => one_entry = true,
                Verdict::SameFile => return Err(same_file()),
            }
            let kept = match policy.update {
                Update::All => false,
                Update::None => true,
                // GNU's utimecmp: not older, with the source's time cut to what the
                // destination's filesystem keeps when times are preserved.
                Update::Older => {
                    let truncate = opts.preserve.timestamps;
                    let order = self.resolutions.compare(dst, (dst_st, src_st), truncate);
                    order.is_some_and(Ordering::is_ge)
                        && !resume::unfinished((src, src_st), dst, dst_st, opts)
                }
            };
            if kept {
                self.skipped(dst);
                return Ok(Some(Decision::Kept));
            }
        }
        if no_clobber || (policy.ask == Some(true) && !self.confirm(dst, dst_st)) {
            self.skipped(dst);
            return Ok(Some(Decision::Skip));
        }
        if one_entry {
            return Err(same_file());
        }
        Ok(done.then_some(Decision::Skip))
    }

    /// --debug says when an existing destination is left as it was (as later GNU cp does).
    fn skipped(&self, dst: At<'_>) {
        if self.opts.debug {
            report::skipped(dst.shown);
        }
    }

    /// Whether an existing non-directory destination is removed before the copy, as GNU
    /// does: --remove-destination; a destination with other hard links when links are
    /// preserved (writing it would change them too: `cp -al` snapshots rely on this); and
    /// anything but a regular file copied without following symlinks (it is recreated).
    fn removes(&self, src_st: &Stat, dst_st: &Stat, top: bool) -> bool {
        let opts = self.opts;
        opts.overwrite.remove_destination
            || (!opts.attributes_only
                && ((opts.preserve.links && dst_st.st_nlink > 1)
                    || (self.deref(top) == Deref::Never
                        && file_type(src_st) != FileType::RegularFile)))
    }

    /// Whether a destination cp removes before the copy is, under --atomic, replaced by the
    /// copy once it is complete instead: a regular file (not through a symlink) that a
    /// regular file's contents are copied onto, in a directory that lets the user remove it
    /// (otherwise cp's unlink fails first, and so does fastcp's, with cp's message and no -v
    /// line). The result is the same new file, but a copy that fails (a full disk) or is
    /// interrupted leaves the old one.
    fn renews(&self, entry: Entry<'_>, dst_st: &Stat) -> bool {
        let opts = self.opts;
        opts.atomic
            && !opts.attributes_only
            && opts.make == Make::Copy
            && file_type(entry.src_st) == FileType::RegularFile
            && file_type(dst_st) == FileType::RegularFile
            && entry
                .dst
                .stat(false)
                .is_ok_and(|st| file_type(&st) == FileType::RegularFile)
            && may_unlink(entry.dst, dst_st)
    }

    /// -i: asks, telling the user when the destination is one they could not write.
    fn confirm(&mut self, dst: At<'_>, dst_st: &Stat) -> bool {
        let writable = file_type(dst_st) == FileType::Symlink
            || rustix::process::geteuid().is_root()
            || rustix::fs::accessat(dst.dir, dst.name, Access::WRITE_OK, AtFlags::EACCESS).is_ok();
        let unwritable = (!writable).then_some(dst_st.st_mode);
        let replacing = self.opts.overwrite.remove_destination || self.opts.overwrite.force;
        let shown = dst.shown.to_path_buf();
        let mut yes = false;
        crate::report::progress::lifted(|| yes = ask(&shown, unwritable, replacing));
        yes
    }

    /// Moves the destination aside under its backup name; `None` when it vanished meanwhile.
    fn back_up(&mut self, entry: Entry<'_>, kind: Backup) -> Result<Option<PathBuf>, Error> {
        let Entry {
            src, src_st, dst, ..
        } = entry;
        // Backup names depend on what the directory holds: every queued copy lands first,
        // as in walk order (a numbered backup would take the name of a file still queued).
        self.settle();
        let suffix = &self.opts.overwrite.suffix;
        // `cp --backup=simple a~ a` would rename a over a~, the source: GNU refuses.
        if kind != Backup::Numbered
            && dir_and_base(src.name).1 == simple_name(dst.name, suffix).as_bytes()
            && let Ok(st) = rustix::fs::statat(
                dst.dir,
                beside(dst.name, &simple_name(dst.name, suffix)),
                AtFlags::empty(),
            )
            && crate::fs::id(&st) == crate::fs::id(src_st)
        {
            return Err(Error::BackupDestroysSource {
                dst: dst.shown.to_path_buf(),
                src: src.shown.to_path_buf(),
            });
        }
        let mut backup = backup_name(dst, kind, suffix);
        loop {
            let to = beside(dst.name, &backup.name);
            // A numbered backup never replaces a file: one this copy did not see (a
            // directory it may not list) or one made meanwhile takes the next number.
            let renamed = match backup.number {
                Some(_) => crate::fs::rename_new(dst.dir, dst.name, &to),
                None => rustix::fs::renameat(dst.dir, dst.name, dst.dir, &to),
            };
            match renamed {
                Ok(()) => return Ok(Some(beside(dst.shown, &backup.name))),
                Err(Errno::NOENT) => return Ok(None),
                Err(Errno::EXIST) if backup.number.is_some() => {
                    match backup.next(dir_and_base(dst.name).1) {
                        Some(next) => backup = next,
                        None => return Err(Error::io(Op::Backup, dst.shown, Errno::EXIST)),
                    }
                }
                Err(errno) => return Err(Error::io(Op::Backup, dst.shown, errno)),
            }
        }
    }

    /// GNU never copies a command-line source through a symlink this run created (`cp -d
    /// a/l b/l c`: the second would write wherever the first's link points).
    fn through_just_created(&self, entry: Entry<'_>) -> Result<(), Error> {
        let Entry { src, dst, node, .. } = entry;
        if !node.top || self.opts.overwrite.backup.is_some() {
            return Ok(());
        }
        match dst.stat(false) {
            Ok(st)
                if file_type(&st) == FileType::Symlink
                    && self.written.contains(&dest_key(dst.shown, &st)) =>
            {
                Err(Error::ThroughJustCreated {
                    src: src.shown.to_path_buf(),
                    dst: dst.shown.to_path_buf(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// Whether the user may remove `dst`, whose status is `st`: its directory is writable and
/// searchable, and, when sticky, theirs or the file's (or they are root). What this does not
/// see (an immutable file) fails at the rename, in cp's words.
fn may_unlink(dst: At<'_>, st: &Stat) -> bool {
    let parent = match Path::new(dst.name).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Ok(dir_st) = rustix::fs::statat(dst.dir, parent, AtFlags::empty()) else {
        return false;
    };
    let me = rustix::process::geteuid();
    let sticky = dir_st.st_mode & 0o1000 != 0;
    let access = Access::WRITE_OK | Access::EXEC_OK;
    rustix::fs::accessat(dst.dir, parent, access, AtFlags::EACCESS).is_ok()
        && (!sticky || me.is_root() || [st.st_uid, dir_st.st_uid].contains(&me.as_raw()))
}
