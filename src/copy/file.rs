//! One non-directory: GNU's decisions about its destination first (existing.rs), then a later
//! name of a hard-linked source is linked to the earlier copy, then the file is made: data
//! (regular.rs), or a symlink, special file or link (special.rs).

use crate::copy::entry::{Decision, Entry, Node, Opened, Prepared};
use crate::copy::session::Session;
use crate::error::Error;
use crate::fs::{file_type, id};
use crate::options::{Deref, Make};
use rustix::fs::{FileType, Stat};

impl Session<'_> {
    /// Copies one non-directory; `opened`: its source, when the walk opened it already.
    /// Says whether the destination was made (not left alone by -n, -u, -i or a hard link
    /// onto itself): only what a run made is "just created" for later operands.
    pub(crate) fn copy_file(&mut self, entry: Entry<'_>, opened: Opened) -> Result<bool, Error> {
        let Entry {
            src_st, dst, node, ..
        } = entry;
        let mut prepared = match self.prepare(entry)? {
            Decision::Skip => return Ok(false),
            // GNU records even a kept pair, and links a later name of the file to it.
            Decision::Kept => {
                if !self.link_again(src_st, dst, node.follow)? {
                    self.remember_link(id(src_st), dst.shown);
                }
                return Ok(false);
            }
            Decision::Go(prepared) => prepared,
        };
        let kind = file_type(src_st);
        let track = self.tracks_links(src_st, node);
        let queueable = kind == FileType::RegularFile
            && self.opts.make == Make::Copy
            && self.pool.is_some()
            && !track
            && !prepared.replaced
            && !prepared.through_link
            // -v -f: a destination that cannot be opened is removed, and "removed 'x'" comes
            // right after the file's own line, in walk order.
            && !(self.opts.verbose && self.opts.overwrite.force && prepared.existing.is_some());
        // GNU prints the -v line before making the file, in walk order: a file a copying
        // thread may take too (under -v -j2 it was printed when copied, after the symlinks
        // and directories the walk made meanwhile).
        self.announce(entry.src.shown, dst.shown, &mut prepared);
        let as_data = self.opts.make == Make::Copy
            && !track
            && (kind == FileType::RegularFile
                || (kind != FileType::Symlink
                    && (!self.opts.recursive || self.opts.copy_contents)));
        let backup = prepared.backup.clone();
        // A queued file is copied, or fails and puts its backup back, on another thread.
        let result = if as_data {
            self.copy_regular(entry, opened, queueable, prepared)
        } else {
            self.make_node(entry, opened, track, prepared)
        };
        match (result, backup) {
            (Ok(()), _) => {}
            (Err(e), None) => return Err(e),
            // GNU's un_backup: the user keeps the file they had. GNU reports the failure
            // first, then puts the backup back (and -v says so): the failure is reported
            // here, in that order, and the file counted as not made.
            (Err(e), Some(backup)) => {
                self.fail(&e);
                self.restore_backup(dst, Some(&backup));
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Makes a non-directory whose destination is decided: a link to an earlier copy of the
    /// same file (`track`, --preserve=links), a link to the source (-l, -s), a symlink, a
    /// special file, or a copy of the data.
    fn make_node(
        &mut self,
        entry: Entry<'_>,
        opened: Opened,
        track: bool,
        prepared: Prepared,
    ) -> Result<(), Error> {
        let Entry {
            src,
            src_st,
            dst,
            node,
            ..
        } = entry;
        if track && self.link_again(src_st, dst, node.follow)? {
            return Ok(());
        }
        match (self.opts.make, file_type(src_st)) {
            (Make::HardLink, _) => self.hard_link(src, dst, node.follow)?,
            (Make::Symlink, _) => self.symbolic_link(src, src_st, dst)?,
            (_, FileType::Symlink) => self.copy_symlink(src, src_st, dst, &prepared)?,
            (_, FileType::RegularFile) => self.copy_regular(entry, opened, false, prepared)?,
            _ if self.opts.recursive && !self.opts.copy_contents => {
                self.make_special(src, src_st, dst)?
            }
            _ => self.copy_regular(entry, opened, false, prepared)?,
        }
        if track {
            self.remember_link(id(src_st), dst.shown);
        }
        Ok(())
    }

    /// Whether this file's copy is remembered so that later names of the same source file are
    /// linked to it (`--preserve=links`). GNU remembers every file met through a followed
    /// symlink too: under -L two names can reach one file whose link count is 1.
    fn tracks_links(&self, src_st: &Stat, node: Node) -> bool {
        let opts = self.opts;
        opts.preserve.links
            && opts.make != Make::HardLink
            && (src_st.st_nlink > 1
                || opts.deref == Deref::Always
                || (node.top && opts.deref == Deref::CommandLine))
    }
}
