//! Any argument list gives a clean usage error or a correct run: exit status 0 or 1, GNU-style
//! messages, never a panic (a property test over argument vectors, run in a scratch directory
//! holding a few files, directories and links).

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
    // A copy of /dev/null's device node, in the scratch directory: the real one was passed
    // here once, and a run as root (--atomic, --compare, --remove-destination, --backup)
    // replaced it with a regular file, for every process on the machine.
    "null",
    "fifo-not-here",
    "sp ace",
];

fn fixture(s: &Scratch) {
    s.write("a", b"alpha");
    s.write("b", b"beta");
    s.write("d/f", b"f");
    s.write("d/sub/g", b"g");
    s.write("sp ace", b"space");
    symlink("a", s.join("l")).unwrap();
    let _ = std::process::Command::new("mknod")
        .arg(s.join("null"))
        .args(["c", "1", "3"])
        .status();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]
    #[test]
    fn no_argument_list_makes_fastcp_panic(picks in proptest::collection::vec(0..WORDS.len(), 0..7)) {
        let s = Scratch::new();
        fixture(&s);
        let args: Vec<&str> = picks.iter().map(|&i| WORDS[i]).collect();
        // stdin is closed: -i reads "no".
        let out = fastcp()
            .current_dir(s.path())
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
