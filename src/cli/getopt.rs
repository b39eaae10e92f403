//! getopt_long(3) as glibc runs it for GNU cp: clusters, abbreviations, `=` for optional
//! arguments, permuted operands, and glibc's own errors. Knows no option; cli.rs gives the table.

use crate::error::BadOption;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Whether an option takes an argument (glibc's `has_arg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HasArg {
    No,
    /// The rest of the word, `--name=value`, or the next word, whatever it looks like.
    Required,
    /// Only as `--name=value`: `--name value` leaves `value` an operand.
    Optional,
}

/// One long option.
#[derive(Debug)]
pub(crate) struct Long {
    pub(crate) name: &'static str,
    pub(crate) arg: HasArg,
    /// What the option means; synonyms (`--path`, `--parents`) share it, and a prefix of
    /// synonyms only is not ambiguous, as in glibc (same `has_arg`, `flag` and `val`).
    pub(crate) key: &'static str,
    /// Abbreviations are resolved among rank 0 first, then rank 1...: GNU cp's own options are
    /// rank 0, so every abbreviation GNU accepts or rejects means the same with fastcp's added.
    pub(crate) rank: u8,
}

/// One option letter; only `No` and `Required` exist among cp's.
#[derive(Debug)]
pub(crate) struct Short {
    pub(crate) letter: u8,
    pub(crate) arg: HasArg,
    pub(crate) key: &'static str,
}

/// One option met on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) key: &'static str,
    pub(crate) value: Option<OsString>,
}

/// Walks the arguments one option at a time, as successive getopt_long calls do: the caller
/// acts on each option before the next is read, so the first error on the line is the one
/// reported. Operands are kept aside, in order, and taken with `operands` at the end.
pub(crate) struct Getopt<'t> {
    longs: &'t [Long],
    shorts: &'t [Short],
    words: VecDeque<OsString>,
    /// The option cluster being read (`-rfv`) and the offset of its next letter.
    cluster: Option<(Vec<u8>, usize)>,
    operands: Vec<OsString>,
    /// Without POSIXLY_CORRECT, options may follow operands (glibc permutes argv).
    permute: bool,
}

impl<'t> Getopt<'t> {
    /// `args` without the program name.
    pub(crate) fn new(
        longs: &'t [Long],
        shorts: &'t [Short],
        args: Vec<OsString>,
        permute: bool,
    ) -> Getopt<'t> {
        Getopt {
            longs,
            shorts,
            words: args.into(),
            cluster: None,
            operands: Vec::new(),
            permute,
        }
    }

    /// The operands, once every option has been read.
    pub(crate) fn operands(self) -> Vec<OsString> {
        self.operands
    }

    fn letter(&mut self) -> Option<Result<Found, BadOption>> {
        let (word, at) = self.cluster.take()?;
        let letter = word[at];
        let rest = word[at + 1..].to_vec();
        let more = !rest.is_empty();
        let Some(short) = self.shorts.iter().find(|s| s.letter == letter) else {
            if more {
                self.cluster = Some((word, at + 1));
            }
            return Some(Err(BadOption::InvalidLetter(letter)));
        };
        if short.arg != HasArg::Required {
            if more {
                self.cluster = Some((word, at + 1));
            }
            return Some(Ok(Found {
                key: short.key,
                value: None,
            }));
        }
        let value = if more {
            Some(OsString::from_vec(rest))
        } else {
            self.words.pop_front()
        };
        Some(match value {
            Some(value) => Ok(Found {
                key: short.key,
                value: Some(value),
            }),
            None => Err(BadOption::LetterNeedsArgument(letter)),
        })
    }

    /// `word` is `--name` or `--name=value`.
    fn long(&mut self, word: OsString) -> Result<Found, BadOption> {
        let body = &word.as_bytes()[2..];
        let (name, value) = match body.iter().position(|&b| b == b'=') {
            Some(eq) => (
                &body[..eq],
                Some(OsString::from_vec(body[eq + 1..].to_vec())),
            ),
            None => (body, None),
        };
        let option = self.lookup(name, &word)?;
        let value = match (option.arg, value) {
            (HasArg::No, Some(_)) => return Err(BadOption::NoArgument(option.name)),
            (HasArg::Required, None) => Some(
                self.words
                    .pop_front()
                    .ok_or(BadOption::LongNeedsArgument(option.name))?,
            ),
            (_, value) => value,
        };
        Ok(Found {
            key: option.key,
            value,
        })
    }

    /// The option `name` names exactly, or else abbreviates (glibc's rules, rank by rank).
    fn lookup(&self, name: &[u8], word: &OsString) -> Result<&'t Long, BadOption> {
        let longs = self.longs;
        if let Some(exact) = longs.iter().find(|l| l.name.as_bytes() == name) {
            return Ok(exact);
        }
        let ranks = longs.iter().map(|l| l.rank).max().unwrap_or(0);
        for rank in 0..=ranks {
            let mut matches = longs
                .iter()
                .filter(|l| l.rank == rank && l.name.as_bytes().starts_with(name));
            let Some(first) = matches.next() else {
                continue;
            };
            // glibc lists the first match and every later one that means something else.
            let others: Vec<&str> = matches
                .filter(|l| l.key != first.key || l.arg != first.arg)
                .map(|l| l.name)
                .collect();
            if others.is_empty() {
                return Ok(first);
            }
            let mut names = vec![first.name];
            names.extend(others);
            return Err(BadOption::Ambiguous(word.as_bytes().to_vec(), names));
        }
        Err(BadOption::Unrecognized(word.as_bytes().to_vec()))
    }
}

impl Iterator for Getopt<'_> {
    type Item = Result<Found, BadOption>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.cluster.is_some() {
            return self.letter();
        }
        while let Some(word) = self.words.pop_front() {
            let bytes = word.as_bytes();
            if bytes == b"--" {
                self.operands.extend(self.words.drain(..));
                return None;
            }
            if bytes.starts_with(b"--") {
                return Some(self.long(word));
            }
            if bytes.len() > 1 && bytes[0] == b'-' {
                self.cluster = Some((word.into_vec(), 1));
                return self.letter();
            }
            self.operands.push(word);
            if !self.permute {
                self.operands.extend(self.words.drain(..));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONGS: &[Long] = &[
        Long {
            name: "parents",
            arg: HasArg::No,
            key: "parents",
            rank: 0,
        },
        Long {
            name: "path",
            arg: HasArg::No,
            key: "parents",
            rank: 0,
        },
        Long {
            name: "preserve",
            arg: HasArg::Optional,
            key: "preserve",
            rank: 0,
        },
        Long {
            name: "target-directory",
            arg: HasArg::Required,
            key: "target-directory",
            rank: 0,
        },
        Long {
            name: "progress",
            arg: HasArg::Optional,
            key: "progress",
            rank: 1,
        },
    ];
    const SHORTS: &[Short] = &[
        Short {
            letter: b'r',
            arg: HasArg::No,
            key: "recursive",
        },
        Short {
            letter: b't',
            arg: HasArg::Required,
            key: "target-directory",
        },
    ];

    fn run(args: &[&str], permute: bool) -> (Vec<Result<Found, BadOption>>, Vec<String>) {
        let args = args.iter().map(OsString::from).collect();
        let mut g = Getopt::new(LONGS, SHORTS, args, permute);
        let found: Vec<_> = g.by_ref().collect();
        let ops = g
            .operands()
            .into_iter()
            .map(|o| o.to_string_lossy().into_owned())
            .collect();
        (found, ops)
    }

    fn ok(key: &'static str, value: Option<&str>) -> Result<Found, BadOption> {
        Ok(Found {
            key,
            value: value.map(OsString::from),
        })
    }

    #[test]
    fn clusters_and_attached_arguments() {
        let (found, ops) = run(&["-rtd", "a", "-rt", "-x", "--", "-r"], true);
        assert_eq!(
            found,
            [
                ok("recursive", None),
                ok("target-directory", Some("d")),
                ok("recursive", None),
                ok("target-directory", Some("-x"))
            ]
        );
        assert_eq!(ops, ["a", "-r"]);
    }

    #[test]
    fn abbreviations_synonyms_and_ranks() {
        let (found, _) = run(&["--pa", "--pre", "--pro", "--t=x"], true);
        assert_eq!(
            found,
            [
                ok("parents", None),
                ok("preserve", None),
                ok("progress", None),
                ok("target-directory", Some("x"))
            ]
        );
        let (found, _) = run(&["--p=x"], true);
        assert_eq!(
            found,
            [Err(BadOption::Ambiguous(
                "--p=x".into(),
                vec!["parents", "preserve"]
            ))]
        );
    }

    #[test]
    fn optional_arguments_need_an_equals_sign() {
        let (found, ops) = run(&["--preserve", "mode", "--preserve=", "x"], true);
        assert_eq!(found, [ok("preserve", None), ok("preserve", Some(""))]);
        assert_eq!(ops, ["mode", "x"]);
    }

    #[test]
    fn posixly_correct_stops_at_the_first_operand() {
        let (found, ops) = run(&["-r", "a", "-r", "--", "b"], false);
        assert_eq!(found, [ok("recursive", None)]);
        assert_eq!(ops, ["a", "-r", "--", "b"]);
    }

    #[test]
    fn errors() {
        let (found, _) = run(&["-rq", "--x=1", "--parents=1", "--target", "-t"], true);
        assert_eq!(
            found,
            [
                ok("recursive", None),
                Err(BadOption::InvalidLetter(b'q')),
                Err(BadOption::Unrecognized("--x=1".into())),
                Err(BadOption::NoArgument("parents")),
                ok("target-directory", Some("-t")),
            ]
        );
        let (found, _) = run(&["--target"], true);
        assert_eq!(
            found,
            [Err(BadOption::LongNeedsArgument("target-directory"))]
        );
    }
}
