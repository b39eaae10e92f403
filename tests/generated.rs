//! The checked-in man page and completions are what the current command line generates
//! (rust-analyzer's ensure_file_contents pattern): a stale file fails here, and the message
//! says how to refresh it.

mod util;

use util::{Scratch, fastcp};

#[test]
fn man_page_and_completions_are_fresh() {
    let s = Scratch::new();
    fastcp().arg("--generate").arg(s.path()).assert().success();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for rel in [
        "man/fastcp.1",
        "completions/fastcp.bash",
        "completions/_fastcp",
        "completions/fastcp.fish",
        "completions/fastcp.elv",
        "completions/_fastcp.ps1",
    ] {
        let fresh = std::fs::read(s.join(rel)).unwrap();
        let checked_in = std::fs::read(root.join(rel)).unwrap_or_default();
        if fresh != checked_in {
            stale.push(rel);
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run `cargo run -- --generate .` and commit"
    );
}

/// The man page documents every option and has the sections people look for.
#[test]
fn man_page_has_real_sections() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let man = std::fs::read_to_string(root.join("man/fastcp.1")).unwrap();
    let headings: Vec<&str> = man
        .lines()
        .filter_map(|l| l.strip_prefix(".SH "))
        .map(|h| h.trim_matches('"'))
        .collect();
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "WHERE TO COPY",
        "HOW TO COPY",
        "SEEING WHAT HAPPENS",
        "COMPARING METHODS",
        "METHODS",
        "STATISTICS",
        "EXIT STATUS",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(
            headings.contains(&section),
            "no {section} section in {headings:?}"
        );
    }
    for option in [
        "target\\-directory",
        "no\\-target\\-directory",
        "method",
        "bufsize",
        "progress",
        "stats",
        "debug",
        "compare",
        "methods",
        "bufsizes",
        "runs",
        "cold",
    ] {
        assert!(
            man.contains(&format!("\\-\\-{option}")),
            "--{option} undocumented"
        );
    }
    assert!(man.contains("0x7ffff000"));
    assert!(man.contains("copy_file_range(2)") || man.contains("copy_file_range\\fR(2)"));
}
