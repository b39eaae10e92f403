//! What getopt_long(3) refuses, worded as glibc prints it: byte for byte, since an option is
//! printed as typed and need not be UTF-8 (`-é` is "invalid option -- '\xC3'").

use std::fmt;

/// What getopt_long(3) refuses, worded as glibc prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BadOption {
    /// A long option that no name starts with: the word as typed, with any `=value`.
    Unrecognized(Vec<u8>),
    /// A byte of a cluster that is not an option letter (getopt works on bytes: one byte of
    /// a multibyte character).
    InvalidLetter(u8),
    /// A prefix of several options: the word as typed, and their names in table order.
    Ambiguous(Vec<u8>, Vec<&'static str>),
    /// A long option that takes no argument was given one.
    NoArgument(&'static str),
    /// A long option without its mandatory argument.
    LongNeedsArgument(&'static str),
    /// A letter without its mandatory argument.
    LetterNeedsArgument(u8),
}

impl BadOption {
    /// The message, with the option's bytes as typed.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let quoted = |before: &str, what: &[u8], after: &str| {
            [before.as_bytes(), what, after.as_bytes()].concat()
        };
        match self {
            BadOption::Unrecognized(word) => quoted("unrecognized option '", word, "'"),
            BadOption::InvalidLetter(l) => quoted("invalid option -- '", &[*l], "'"),
            BadOption::Ambiguous(word, names) => {
                let mut text = quoted("option '", word, "' is ambiguous; possibilities:");
                for name in names {
                    text.extend(format!(" '--{name}'").bytes());
                }
                text
            }
            BadOption::NoArgument(name) => {
                format!("option '--{name}' doesn't allow an argument").into_bytes()
            }
            BadOption::LongNeedsArgument(name) => {
                format!("option '--{name}' requires an argument").into_bytes()
            }
            BadOption::LetterNeedsArgument(l) => {
                quoted("option requires an argument -- '", &[*l], "'")
            }
        }
    }
}

impl fmt::Display for BadOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}
