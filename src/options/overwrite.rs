//! What happens to destinations that exist: -i, -n, -u, -f, --remove-destination, --backup.

use super::argmatch;
use crate::error::Error;

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
    /// The simple backup suffix (-S, SIMPLE_BACKUP_SUFFIX, `~`).
    pub(crate) suffix: String,
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
    /// Some("") for -b or --backup without a value.
    pub(crate) backup: Option<String>,
    pub(crate) suffix: Option<String>,
}

const BACKUP_CONTROLS: [(&str, Option<Backup>); 8] = [
    ("none", None),
    ("off", None),
    ("simple", Some(Backup::Simple)),
    ("never", Some(Backup::Simple)),
    ("existing", Some(Backup::Existing)),
    ("nil", Some(Backup::Existing)),
    ("numbered", Some(Backup::Numbered)),
    ("t", Some(Backup::Numbered)),
];

impl Overwrite {
    pub(super) fn new(raw: RawOverwrite) -> Result<Overwrite, Error> {
        let update = match raw.update.as_deref() {
            None => Update::All,
            Some(v) => argmatch(
                v,
                "--update",
                &[
                    ("all", Update::All),
                    ("none", Update::None),
                    ("older", Update::Older),
                ],
            )?,
        };
        let backup = match raw.backup.as_deref() {
            None => None,
            Some("") => match std::env::var("VERSION_CONTROL") {
                Ok(v) if !v.is_empty() => argmatch(&v, "$VERSION_CONTROL", &BACKUP_CONTROLS)?,
                _ => Some(Backup::Existing),
            },
            Some(v) => argmatch(v, "backup type", &BACKUP_CONTROLS)?,
        };
        let suffix = raw
            .suffix
            .or_else(|| std::env::var("SIMPLE_BACKUP_SUFFIX").ok())
            .filter(|s| !s.is_empty() && !s.contains('/'))
            .unwrap_or_else(|| "~".to_string());
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
