//! Any argument list gives a clean usage error or a correct run: exit status 0 or 1, GNU-style
//! messages, never a panic (a property test over argument vectors, run in a scratch directory
//! holding a few files, directories, links and a device node).
//!
//! Every word names something inside the scratch directory, `..` included (the fixture is one
//! level down): a word may land anywhere on the command line, so any path in the list may
//! become the destination, with --remove-destination, -s or --atomic beside it.

mod util;

use proptest::prelude::*;
use std::os::unix::fs::symlink;
use util::{Scratch, fastcp};

/// The words arguments are made of: every option, some with bad values, and the fixture's
/// names (existing, missing, odd).
const WORDS: &[&str] = &[
    "-a",
    "-r",
    "-R",
    "-p",
    "-d",
    "-L",
    "-P",
    "-H",
    "-l",
    "-s",
    "-f",
    "-i",
    "-n",
    "-u",
    "-b",
    "-v",
    "-x",
    "-T",
    "-t",
    "-S",
    "--",
    "-",
    "-z",
    "--recursive",
    "--archive",
    "--parents",
    "--preserve",
    "--preserve=all",
    "--preserve=bogus",
    "--no-preserve=mode",
    "--sparse=always",
    "--sparse=never",
    "--sparse=x",
    "--reflink",
    "--reflink=never",
    "--reflink=x",
    "--method=sendfile",
    "--method=read-write",
    "--method=copy-file-range",
    "--method=x",
    "--bufsize=1",
    "--bufsize=7",
    "--bufsize=0",
    "--bufsize=1G",
    "--stats",
    "--stats=json",
    "--debug",
    "--progress=always",
    "--attributes-only",
    "--remove-destination",
    "--backup=numbered",
    "--update=none",
    "--atomic",
    "--fsync",
    "--verify",
    "--copy-contents",
    "--strip-trailing-slashes",
    "--compare",
    "--runs=1",
    "--methods=sendfile",
    "--bufsizes=4K",
    "--generate",
    "--generate-man",
    "--completions=bash",
    "--to-socket",
    "--stats=json:st",
    "--stats=t:d/st",
    "--unknown",
    "a",
    "b",
    "d",
    "d/",
    "e",
    "l",
    "missing",
    "new",
    "d/sub",
    ".",
    "..",
    "null",
    "fifo-not-here",
    "sp ace",
];

/// The fixture, in `w/` of the scratch directory, so that `..` is still inside it. `null` is
/// this test's own null device (1, 3): as root, `-s --remove-destination a /dev/null` once
/// replaced the machine's /dev/null with a link to `a`.
fn fixture(s: &Scratch) -> std::path::PathBuf {
    s.write("w/a", b"alpha");
    s.write("w/b", b"beta");
    s.write("w/d/f", b"f");
    s.write("w/d/sub/g", b"g");
    s.write("w/sp ace", b"space");
    symlink("a", s.join("w/l")).unwrap();
    s.char_device("w/null", 1, 3);
    s.join("w")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]
    #[test]
    fn no_argument_list_makes_fastcp_panic(picks in proptest::collection::vec(0..WORDS.len(), 0..7)) {
        let s = Scratch::new();
        let work = fixture(&s);
        let args: Vec<&str> = picks.iter().map(|&i| WORDS[i]).collect();
        // stdin is closed: -i reads "no".
        let out = fastcp()
            .current_dir(&work)
            .args(&args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(!stderr.contains("panicked") && !stderr.contains("internal error"), "{args:?}: {stderr}");
        prop_assert!(matches!(out.status.code(), Some(0) | Some(1)), "{args:?}: {:?} {stderr}", out.status);
        // A failure always says what failed.
        prop_assert!(out.status.code() == Some(0) || !stderr.is_empty(), "{args:?}: silent failure");
    }
}
