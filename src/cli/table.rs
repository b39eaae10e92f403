//! getopt_long's view of fastcp's options: which long names, letters and arguments exist.

use crate::cli::getopt::HasArg::{self, No, Optional, Required};
use crate::cli::getopt::{Long, Short};

const fn long(name: &'static str, arg: HasArg, key: &'static str, rank: u8) -> Long {
    Long {
        name,
        arg,
        key,
        rank,
    }
}

const fn gnu(name: &'static str, arg: HasArg) -> Long {
    long(name, arg, name, 0)
}

const fn own(name: &'static str, arg: HasArg) -> Long {
    long(name, arg, name, 1)
}

/// The --compare settings and --generate: an abbreviation reaches them only when it fits no
/// other option (`--meth` is --method, `--bu` --bufsize).
const fn last(name: &'static str, arg: HasArg) -> Long {
    long(name, arg, name, 2)
}

/// getopt_long's table: GNU cp 9.1's long options in its order (the order glibc lists an
/// ambiguous prefix's possibilities in), then fastcp's. A key is the long name clap knows, or
/// `-X` for an option with a letter only. `--update` takes GNU 9.3's optional WHEN.
pub(super) const LONGS: &[Long] = &[
    gnu("archive", No),
    gnu("attributes-only", No),
    gnu("backup", Optional),
    gnu("copy-contents", No),
    gnu("dereference", No),
    gnu("force", No),
    gnu("interactive", No),
    gnu("link", No),
    gnu("no-clobber", No),
    gnu("no-dereference", No),
    gnu("no-preserve", Required),
    gnu("no-target-directory", No),
    gnu("one-file-system", No),
    gnu("parents", No),
    long("path", No, "parents", 0),
    gnu("preserve", Optional),
    gnu("recursive", No),
    gnu("remove-destination", No),
    gnu("sparse", Required),
    gnu("reflink", Optional),
    gnu("strip-trailing-slashes", No),
    gnu("suffix", Required),
    gnu("symbolic-link", No),
    gnu("target-directory", Required),
    gnu("update", Optional),
    gnu("verbose", No),
    gnu("context", Optional),
    gnu("help", No),
    gnu("version", No),
    own("keep-directory-symlink", No),
    own("debug", No),
    own("method", Required),
    own("bufsize", Required),
    own("jobs", Required),
    own("progress", Optional),
    own("stats", Optional),
    own("atomic", No),
    own("resume", Optional),
    own("fsync", No),
    own("verify", No),
    own("nocache", No),
    own("compare", No),
    last("methods", Required),
    last("bufsizes", Required),
    last("runs", Required),
    last("cold", No),
    last("to-socket", No),
    last("completions", Required),
    last("generate", Required),
    // After --generate: `--gen` kept meaning --generate when --generate-man came.
    long("generate-man", No, "generate-man", 3),
];

const fn letter(letter: u8, arg: HasArg, key: &'static str) -> Short {
    Short { letter, arg, key }
}

/// GNU cp's letters ("abdfHilLnprst:uvxPRS:TZ"), and fastcp's -j.
pub(super) const SHORTS: &[Short] = &[
    letter(b'a', No, "archive"),
    letter(b'b', No, "-b"),
    letter(b'd', No, "-d"),
    letter(b'f', No, "force"),
    letter(b'H', No, "-H"),
    letter(b'i', No, "interactive"),
    letter(b'l', No, "link"),
    letter(b'L', No, "dereference"),
    letter(b'n', No, "no-clobber"),
    letter(b'p', No, "-p"),
    letter(b'r', No, "recursive"),
    letter(b's', No, "symbolic-link"),
    letter(b't', Required, "target-directory"),
    letter(b'u', No, "update"),
    letter(b'v', No, "verbose"),
    letter(b'x', No, "one-file-system"),
    letter(b'P', No, "no-dereference"),
    letter(b'R', No, "recursive"),
    letter(b'S', Required, "suffix"),
    letter(b'T', No, "no-target-directory"),
    letter(b'Z', No, "-Z"),
    letter(b'j', Required, "jobs"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    /// What clap's definition says an option takes.
    fn has_arg(arg: &Arg) -> HasArg {
        match arg.get_num_args() {
            Some(r) if r.max_values() == 0 => No,
            Some(r) if r.min_values() == 0 => Optional,
            Some(_) => Required,
            None if matches!(
                arg.get_action(),
                ArgAction::SetTrue | ArgAction::Help | ArgAction::Version
            ) =>
            {
                No
            }
            None => Required,
        }
    }

    /// An option's letter and its aliases.
    fn letters(arg: &Arg) -> Vec<char> {
        let mut all: Vec<char> = arg.get_short().into_iter().collect();
        all.extend(arg.get_all_short_aliases().unwrap_or_default());
        all
    }

    /// getopt's table and clap's definition name the same options, taking the same arguments:
    /// an option added to one and not the other fails here.
    #[test]
    fn getopt_table_matches_the_clap_definition() {
        let cmd = super::super::command();
        let mut longs = 0;
        for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
            if let Some(name) = arg.get_long() {
                longs += 1;
                let entry = LONGS.iter().find(|l| l.name == name && l.key == name);
                let entry = entry.unwrap_or_else(|| panic!("--{name} not in LONGS"));
                assert_eq!(entry.arg, has_arg(arg), "--{name}");
            }
            let key = arg.get_long().map(String::from);
            for short in letters(arg) {
                let entry = SHORTS.iter().find(|s| char::from(s.letter) == short);
                let entry = entry.unwrap_or_else(|| panic!("-{short} not in SHORTS"));
                let want = key.clone().unwrap_or(format!("-{short}"));
                assert_eq!(entry.key, want, "-{short}");
                // A letter never takes an optional argument: `-u` is --update without WHEN.
                let want = match has_arg(arg) {
                    Optional => No,
                    other => other,
                };
                assert_eq!(entry.arg, want, "-{short}");
            }
        }
        let synonyms = LONGS.iter().filter(|l| l.name != l.key).count();
        assert_eq!(
            LONGS.len(),
            longs + synonyms,
            "LONGS has options clap lacks"
        );
        let letters = cmd.get_arguments().flat_map(letters).count();
        assert_eq!(SHORTS.len(), letters, "SHORTS has letters clap lacks");
    }
}
