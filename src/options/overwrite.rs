//! What happens to destinations that exist: -i, -n, -u, -f, --remove-destination, --backup.

use super::{argmatch, argmatch_os};
use crate::error::Error;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// What to do with a destination that exists (`-i`, `-n`, `-u`, `-b`...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Overwrite {
    /// Some(true): ask (-i); Some(false): never overwrite (-n); None: overwrite.
    pub(crate) ask: Option<bool>,
    /// Remove a destination that cannot be opened, and try again (-f).
    pub(crate) force: bool,
    /// Which existing destinations to replace (-u).
    pub(crate) update: Update,
    /// Remove the destination before copying (--remove-destination).
    pub(crate) remove_destination: bool,
    /// How to name backups of replaced destinations (-b, --backup).
    pub(crate) backup: Option<Backup>,
    /// The simple backup suffix (-S, SIMPLE_BACKUP_SUFFIX, `~`): any bytes but `/`.
    pub(crate) suffix: OsString,
    /// Create a dangling symlink's target when writing through it (POSIXLY_CORRECT, as GNU).
    pub(crate) through_dangling: bool,
}

/// `--update`: which existing destinations are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Update {
    All,
    None,
    Older,
}

/// GNU's version-control kinds of backup names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backup {
    /// `file~`
    Simple,
    /// `file.~N~`
    Numbered,
    /// Numbered if numbered backups exist already, else simple.
    Existing,
}

/// -i/-n, -f, -u, --remove-destination, --backup and -S as given.
pub(crate) struct RawOverwrite {
    pub(crate) ask: Option<bool>,
    pub(crate) force: bool,
    pub(crate) update: Option<String>,
    pub(crate) remove_destination: bool,
    /// The last `--backup=CONTROL`, or Some("") for -b and --backup without one.
    pub(crate) backup: Option<OsString>,
    /// -S: makes backups even without -b.
    pub(crate) suffix: Option<OsString>,
}

pub(super) const BACKUP_CONTROLS: [(&str, Option<Backup>); 8] = [
    ("none", None),
    ("off", None),
    ("simple", Some(Backup::Simple)),
    ("never", Some(Backup::Simple)),
    ("existing", Some(Backup::Existing)),
    ("nil", Some(Backup::Existing)),
    ("numbered", Some(Backup::Numbered)),
    ("t", Some(Backup::Numbered)),
];

/// `--update=WHEN` (GNU 9.3's; 9.1's --update takes no argument).
pub(super) fn update_arg(value: &str) -> Result<Update, Error> {
    argmatch(value, "--update", &UPDATE)
}

pub(super) const UPDATE: [(&str, Update); 3] = [
    ("all", Update::All),
    ("none", Update::None),
    ("older", Update::Older),
];

impl Overwrite {
    pub(super) fn new(raw: RawOverwrite) -> Result<Overwrite, Error> {
        let update = raw.update.as_deref().map_or(Ok(Update::All), update_arg)?;
        // GNU 9.1: -S alone makes backups too, of the type VERSION_CONTROL names.
        let control = match (raw.backup, &raw.suffix) {
            (Some(control), _) => Some(control),
            (None, Some(_)) => Some(OsString::new()),
            (None, None) => None,
        };
        let backup = match control.as_deref() {
            None => None,
            Some(v) if v.is_empty() => match std::env::var_os("VERSION_CONTROL") {
                Some(v) if !v.is_empty() => argmatch_os(&v, "$VERSION_CONTROL", &BACKUP_CONTROLS)?,
                _ => Some(Backup::Existing),
            },
            Some(v) => argmatch_os(v, "backup type", &BACKUP_CONTROLS)?,
        };
        // gnulib's set_simple_backup_suffix (9.1): the suffix must be its own last component,
        // so an empty one, or one with a slash before other characters, is `~`; trailing
        // slashes are kept (and the backup then fails, as in GNU).
        let suffix = raw
            .suffix
            .or_else(|| std::env::var_os("SIMPLE_BACKUP_SUFFIX"))
            .filter(|s| one_component(s.as_bytes()))
            .unwrap_or_else(|| "~".into());
        Ok(Overwrite {
            ask: raw.ask,
            force: raw.force,
            update,
            remove_destination: raw.remove_destination,
            backup,
            suffix,
            through_dangling: std::env::var_os("POSIXLY_CORRECT").is_some(),
        })
    }
}

/// Whether `s` is its own last component as gnulib's last_component sees it: not empty, no
/// leading slash, and no slash but trailing ones.
fn one_component(s: &[u8]) -> bool {
    let body = s
        .iter()
        .rposition(|&b| b != b'/')
        .map_or(&s[..0], |end| &s[..=end]);
    !body.is_empty() && !body.contains(&b'/')
}
