//! GNU's quoting for messages (gnulib quotearg): `shell-escape-always` for file names, `locale`
//! for option arguments.
//!
//! GNU cp quotes every name it prints with `quoteaf`: `'a b'`, `"a'b"`, `'a'$'\n''b'`. Scripts and
//! people compare our messages with cp's, so the same rules apply here byte for byte.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::sync::OnceLock;

/// Whether the locale's character set is UTF-8, learnt as GNU's programs learn it:
/// setlocale(LC_CTYPE, "") (LC_ALL, then LC_CTYPE, then LANG), then nl_langinfo(CODESET). A
/// locale that is named but not installed leaves the C locale, as it does for cp. main()
/// asks first, before any thread starts; the C locale is put back at once.
pub(crate) fn utf8_locale() -> bool {
    static UTF8: OnceLock<bool> = OnceLock::new();
    *UTF8.get_or_init(|| {
        // SAFETY: setlocale and nl_langinfo with valid C strings; called once (OnceLock),
        // first from main() before other threads exist. nl_langinfo's result is read before
        // the next setlocale call invalidates it.
        unsafe {
            if libc::setlocale(libc::LC_CTYPE, c"".as_ptr()).is_null() {
                return false;
            }
            let codeset = libc::nl_langinfo(libc::CODESET);
            let utf8 =
                !codeset.is_null() && std::ffi::CStr::from_ptr(codeset).to_bytes() == b"UTF-8";
            libc::setlocale(libc::LC_CTYPE, c"C".as_ptr());
            if utf8 {
                let locale =
                    libc::newlocale(libc::LC_CTYPE_MASK, c"".as_ptr(), std::ptr::null_mut());
                let _ = CTYPE.set(Ctype(locale));
            }
            utf8
        }
    })
}

/// The user's character set (LC_CTYPE from the environment), kept as a locale object for
/// `printable`: the process itself stays in the C locale. Made with `utf8_locale`'s first
/// call, in main() before any thread starts.
struct Ctype(libc::locale_t);

// SAFETY: a locale object is only read (iswprint_l) once made, which glibc allows from any
// thread.
unsafe impl Send for Ctype {}
// SAFETY: as above.
unsafe impl Sync for Ctype {}

static CTYPE: OnceLock<Ctype> = OnceLock::new();

unsafe extern "C" {
    /// glibc's iswprint in a given locale (not in the libc crate).
    fn iswprint_l(wc: libc::c_uint, locale: libc::locale_t) -> libc::c_int;
}

/// Whether the locale prints `c` (glibc's iswprint, which gnulib's quotearg asks): U+2028,
/// noncharacters and unassigned code points are escaped, as by GNU, though not controls.
fn printable(c: char) -> bool {
    match CTYPE.get() {
        // SAFETY: a valid locale object, only read.
        Some(Ctype(locale)) if !locale.is_null() => unsafe {
            iswprint_l(libc::c_uint::from(c), *locale) != 0
        },
        _ => !c.is_control(),
    }
}

/// One character of the name: printable text (kept), or bytes that must be escaped.
enum Piece<'a> {
    Text(&'a [u8]),
    Escape(&'a [u8]),
}

/// Splits a name into printable characters and escaped bytes, as the locale sees them.
fn pieces(bytes: &[u8], utf8: bool) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            let piece = &bytes[i..i + 1];
            out.push(if (0x20..0x7f).contains(&b) {
                Piece::Text(piece)
            } else {
                Piece::Escape(piece)
            });
            i += 1;
            continue;
        }
        let len = if utf8 { utf8_char_len(&bytes[i..]) } else { 0 };
        if len == 0 {
            out.push(Piece::Escape(&bytes[i..i + 1]));
            i += 1;
        } else {
            let piece = &bytes[i..i + len];
            let printable = std::str::from_utf8(piece)
                .ok()
                .and_then(|s| s.chars().next())
                .is_some_and(printable);
            out.push(if printable {
                Piece::Text(piece)
            } else {
                Piece::Escape(piece)
            });
            i += len;
        }
    }
    out
}

/// Length of the valid UTF-8 character at the start of `bytes`, or 0 when it is invalid.
fn utf8_char_len(bytes: &[u8]) -> usize {
    let want = match bytes[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return 0,
    };
    match bytes.get(..want).map(std::str::from_utf8) {
        Some(Ok(_)) => want,
        _ => 0,
    }
}

/// Characters that may stand inside both a C string and a double-quoted shell word unescaped;
/// when a name has a single quote and nothing else, GNU prints it in double quotes.
fn double_quote_safe(piece: &Piece<'_>) -> bool {
    match piece {
        Piece::Escape(_) => false,
        Piece::Text(t) if t.len() > 1 => true,
        Piece::Text(t) => {
            let c = t[0];
            c.is_ascii_alphanumeric() || b" %+,-./:@]_'".contains(&c)
        }
    }
}

/// Quotes `name` the way GNU cp's messages do.
pub(crate) fn quote(name: &OsStr) -> String {
    quote_bytes(name.as_bytes(), utf8_locale())
}

fn quote_bytes(bytes: &[u8], utf8: bool) -> String {
    let pieces = pieces(bytes, utf8);
    let has_single = bytes.contains(&b'\'');
    if has_single && pieces.iter().all(double_quote_safe) {
        return format!("\"{}\"", String::from_utf8_lossy(bytes));
    }
    let mut out: Vec<u8> = vec![b'\''];
    let mut in_escape = false;
    for piece in &pieces {
        match piece {
            Piece::Escape(raw) => {
                if !in_escape {
                    out.extend_from_slice(b"'$'");
                    in_escape = true;
                }
                for &b in *raw {
                    out.extend_from_slice(escape_byte(b).as_bytes());
                }
            }
            Piece::Text(b"'") => {
                out.extend_from_slice(b"'\\''");
                in_escape = false;
            }
            Piece::Text(text) => {
                if in_escape {
                    out.extend_from_slice(b"''");
                    in_escape = false;
                }
                out.extend_from_slice(text);
            }
        }
    }
    out.push(b'\'');
    String::from_utf8_lossy(&out).into_owned()
}

/// GNU's `quotef` (gnulib's shell-escape quoting, with `:` quoted too): a name bare when
/// the shell would take it as is, quoted otherwise. `#` and `~` are special only at its start,
/// `{` and `}` only alone; a character the locale prints (UTF-8) needs no quotes.
pub(crate) fn quotef(path: &std::path::Path) -> String {
    let bytes = path.as_os_str().as_bytes();
    let plain_ascii = |(i, &b): (usize, &u8)| {
        b.is_ascii_alphanumeric()
            || b"._/-+,@%]".contains(&b)
            || (i > 0 && b"#~".contains(&b))
            || (bytes.len() > 1 && b"{}".contains(&b))
    };
    let plain = !bytes.is_empty()
        && if utf8_locale() {
            std::str::from_utf8(bytes).is_ok_and(|text| {
                text.char_indices().all(|(i, c)| {
                    if c.is_ascii() {
                        plain_ascii((i, &(c as u8)))
                    } else {
                        printable(c)
                    }
                })
            })
        } else {
            bytes.iter().enumerate().all(plain_ascii)
        };
    if plain {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        quote(path.as_os_str())
    }
}

/// Quotes an option's argument as GNU's argmatch messages do (gnulib's locale_quoting_style):
/// ‘x’ in a UTF-8 locale, 'x' otherwise, with C escapes for backslashes, the closing quote and
/// what the locale cannot print.
pub(crate) fn locale_quote(arg: &[u8]) -> String {
    let utf8 = utf8_locale();
    let (open, close) = if utf8 {
        ("\u{2018}", "\u{2019}")
    } else {
        ("'", "'")
    };
    let mut out = String::from(open);
    for piece in pieces(arg, utf8) {
        match piece {
            Piece::Escape(raw) => raw.iter().for_each(|&b| out.push_str(&escape_byte(b))),
            Piece::Text(b"\\") => out.push_str("\\\\"),
            Piece::Text(text) => {
                let text = String::from_utf8_lossy(text);
                if text == close {
                    out.push('\\');
                }
                out.push_str(&text);
            }
        }
    }
    out.push_str(close);
    out
}

/// The C escape GNU uses inside `$'...'`: a letter for the usual controls, else three octal digits.
fn escape_byte(b: u8) -> String {
    match b {
        0x07 => "\\a".into(),
        0x08 => "\\b".into(),
        0x0c => "\\f".into(),
        b'\n' => "\\n".into(),
        b'\r' => "\\r".into(),
        b'\t' => "\\t".into(),
        0x0b => "\\v".into(),
        _ => format!("\\{b:03o}"),
    }
}

#[cfg(test)]
mod tests {
    use super::quote_bytes;

    // Expected strings are GNU cp 9.1's output for `cp NAME z` on a missing NAME.
    #[test]
    fn matches_gnu_examples() {
        let cases: &[(&[u8], bool, &str)] = &[
            (b"a", true, "'a'"),
            (b"a b", true, "'a b'"),
            (b"a'b", true, "\"a'b\""),
            (b"a'b c", true, "\"a'b c\""),
            (b"a'b\"c", true, "'a'\\''b\"c'"),
            (b"a\nb", true, "'a'$'\\n''b'"),
            (b"a\xffb", true, "'a'$'\\377''b'"),
            (b"a\x01\x02b", true, "'a'$'\\001\\002''b'"),
            (b"\t", true, "''$'\\t'"),
            (b"a\x7f", true, "'a'$'\\177'"),
            (b"a'\n", true, "'a'\\'''$'\\n'"),
            (b"\n'", true, "''$'\\n'\\'''"),
            (b"", true, "''"),
            ("é".as_bytes(), true, "'é'"),
            ("é".as_bytes(), false, "''$'\\303\\251'"),
            ("a'é".as_bytes(), true, "\"a'é\""),
            (b"a'#", true, "'a'\\''#'"),
        ];
        for (name, utf8, want) in cases {
            assert_eq!(quote_bytes(name, *utf8), *want, "name {name:?}");
        }
    }
}
