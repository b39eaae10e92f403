//! What a copy keeps of its source's attributes: -p, -a, -d, --preserve, --no-preserve.

use super::argmatch;
use crate::error::Error;

/// One change to the preserved attributes, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttributeEvent {
    Preserve(String),
    NoPreserve(String),
    /// -a: everything, and failures to copy xattrs kept quiet (GNU's reduce_diagnostics).
    Archive,
}

/// What a failure to copy an extended attribute does (GNU cp's three behaviours).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum XattrErrors {
    /// --preserve=xattr: the file fails.
    #[default]
    Fail,
    /// --preserve=all: the error is printed and the copy counts as done.
    Report,
    /// -a: nothing is said.
    Silent,
}

/// Which attributes a copy keeps (`-p`, `-a`, `--preserve`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Preserve {
    /// Permission bits (and setuid/setgid/sticky when ownership is kept too).
    pub(crate) mode: bool,
    /// Owner and group.
    pub(crate) ownership: bool,
    /// Access and modification times, to the nanosecond.
    pub(crate) timestamps: bool,
    /// Hard links among the sources stay hard links.
    pub(crate) links: bool,
    /// Extended attributes (and so ACLs).
    pub(crate) xattr: bool,
    /// What a failure to copy an extended attribute does.
    pub(crate) xattr_errors: XattrErrors,
    /// `--preserve=context` is asked for (GNU's require_preserve_context), which GNU cp
    /// refuses on a kernel without SELinux; fastcp keeps no SELinux context.
    pub(crate) context: bool,
    /// `--no-preserve=mode` was given: new files get the default 0666/0777 less the umask
    /// instead of the source's bits.
    pub(crate) default_mode: bool,
}

/// The names `--preserve` and `--no-preserve` take.
const ATTRIBUTES: [&str; 7] = [
    "mode",
    "timestamps",
    "ownership",
    "links",
    "context",
    "xattr",
    "all",
];

impl Preserve {
    fn set(&mut self, list: &str, option: &str, on: bool) -> Result<(), Error> {
        let choices: Vec<(&str, &str)> = ATTRIBUTES.iter().map(|a| (*a, *a)).collect();
        for name in list.split(',') {
            match argmatch(name, option, &choices)? {
                "mode" => {
                    self.mode = on;
                    self.default_mode = !on;
                }
                "timestamps" => self.timestamps = on,
                "ownership" => self.ownership = on,
                "links" => self.links = on,
                "xattr" => {
                    self.xattr = on;
                    self.xattr_errors = XattrErrors::Fail;
                }
                "all" => {
                    if on && !self.xattr {
                        self.xattr_errors = XattrErrors::Report;
                    }
                    self.mode = on;
                    self.default_mode = !on;
                    self.timestamps = on;
                    self.ownership = on;
                    self.links = on;
                    self.xattr = on;
                }
                _ => self.context = on,
            }
        }
        Ok(())
    }

    /// Checks a `--preserve` or `--no-preserve` list when it is read.
    pub(super) fn check(list: &str, on: bool) -> Result<(), Error> {
        let option = if on { "--preserve" } else { "--no-preserve" };
        Preserve::default().set(list, option, on)
    }

    /// Applies `-p`, `-a`, `-d`, `--preserve` and `--no-preserve` in order.
    pub(super) fn from_events(events: &[AttributeEvent]) -> Result<Preserve, Error> {
        let mut p = Preserve::default();
        for event in events {
            match event {
                AttributeEvent::Preserve(list) => p.set(list, "--preserve", true)?,
                AttributeEvent::NoPreserve(list) => p.set(list, "--no-preserve", false)?,
                AttributeEvent::Archive => {
                    p.set("all", "--archive", true)?;
                    p.xattr_errors = XattrErrors::Silent;
                }
            }
        }
        Ok(p)
    }
}

impl Preserve {
    /// The permission bits a new file (or directory) is created with, before the umask: the
    /// source's, whatever --no-preserve=mode says, as GNU's copy_internal asks for them
    /// (`dst_mode_bits`) and only afterwards sets the default mode (`default_bits`). A copy
    /// that stops before then (a refused chown under -p, a filesystem that takes neither an
    /// ACL nor a chmod) leaves what GNU's leaves. A directory keeps its set-id and sticky bits
    /// (mkdir takes what it can of them); a file is created without them.
    pub(crate) fn creation_bits(src_mode: u32, dir: bool) -> u32 {
        if dir {
            src_mode & 0o7777
        } else {
            src_mode & 0o777
        }
    }

    /// The mode --no-preserve=mode gives a new file, before the umask: rwx for directories and
    /// sockets, rw for everything else (GNU's default_permissions in copy.c).
    pub(crate) fn default_bits(src_mode: u32) -> u32 {
        const SOCKET: u32 = 0o140000;
        const DIRECTORY: u32 = 0o040000;
        match src_mode & 0o170000 {
            SOCKET | DIRECTORY => 0o777,
            _ => 0o666,
        }
    }
}
