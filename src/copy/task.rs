//! A queued regular file, copied on whichever thread takes it, and waiting for the queue to
//! empty before a decision that must see every earlier copy complete (parallel.rs).

use crate::copy::entry::{DestDir, Entry, Node};
use crate::copy::guard::DirGuard;
use crate::copy::queue::Task;
use crate::copy::session::Session;
use crate::fs::At;
use std::os::fd::AsFd;
use std::path::Path;

impl Session<'_> {
    /// Copies one queued file (on whichever thread takes it), then lets its directory go.
    /// After a signal the file is not copied, but its directory still finishes.
    pub(crate) fn run_task(&mut self, task: Task) {
        let Task {
            dir,
            fds,
            shown,
            src_st,
            src_fd,
            prepared,
        } = task;
        // The entry's name ends its paths (the walk joined them), so it needs no copy of its own.
        let name = shown.name();
        if crate::signals::pending().is_none()
            && let Some(src_dir) = fds.src.as_ref()
            && !name.is_empty()
        {
            let name = Path::new(name);
            let src = At {
                dir: src_dir.as_fd(),
                name,
                shown: shown.src(),
            };
            let dst = At {
                dir: fds.dst.as_fd(),
                name,
                shown: shown.dst(),
            };
            let dest = DestDir {
                dev: Some(dir.dst_dev),
                birth: self.wants_birth().then(|| dir.birth(&fds)),
            };
            let entry = Entry {
                src,
                src_st: &src_st,
                dst,
                // Opened and decided by the walk: nothing is looked at again.
                node: Node {
                    follow: false,
                    top: false,
                    fresh: false,
                },
                parent: None,
                target: None,
            };
            let backup = prepared.backup.clone();
            if let Err(e) = self.write_to(entry, src_fd, prepared, dest) {
                self.fail(&e);
                self.restore_backup(dst, backup.as_deref());
            }
        }
        DirGuard::release(dir, fds, (shown.dst(), name));
    }

    /// In a parallel copy, waits until every queued file is copied (copying what is still
    /// queued on this thread meanwhile); at once otherwise.
    pub(crate) fn settle(&mut self) {
        if let Some(pool) = self.pool {
            pool.settle(|task| self.run_task(task));
        }
    }
}
