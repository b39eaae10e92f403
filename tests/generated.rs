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

/// The man page documents every option and has the sections people look for, each once: the
/// option groups are subsections of OPTIONS (clap_mangen made each a section, and its
/// "Attributes" sat beside our ATTRIBUTES).
#[test]
fn man_page_has_real_sections() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let man = std::fs::read_to_string(root.join("man/fastcp.1")).unwrap();
    let heads = |macro_: &str| -> Vec<String> {
        man.lines()
            .filter_map(|l| l.strip_prefix(macro_))
            .map(|h| h.trim_matches('"').to_string())
            .collect()
    };
    let headings = heads(".SH ");
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "BACKUPS",
        "METHODS",
        "ATTRIBUTES",
        "STATISTICS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(
            headings.iter().any(|h| h == section),
            "no {section} section in {headings:?}"
        );
    }
    for (i, h) in headings.iter().enumerate() {
        assert!(!headings[..i].contains(h), "two {h} sections: {headings:?}");
    }
    let subsections = heads(".SS ");
    for group in [
        "Where to copy",
        "Attributes",
        "How to copy",
        "Seeing what happens",
        "Comparing methods",
        "Other",
    ] {
        assert!(
            subsections.iter().any(|h| h == group),
            "no {group} subsection in {subsections:?}"
        );
    }
    let options = man.find(".SH OPTIONS").unwrap();
    let after = man[options..].find("\n.SH ").unwrap() + options;
    assert!(
        man[options..after].matches(".SS ").count() == subsections.len(),
        "the option groups are not all under OPTIONS"
    );
    let name = man.lines().skip_while(|l| *l != ".SH NAME").nth(1);
    assert_eq!(
        name,
        Some("fastcp \\- copy files, choosing how the kernel moves the bytes")
    );
    for variable in ["VERSION_CONTROL", "SIMPLE_BACKUP_SUFFIX", "POSIXLY_CORRECT"] {
        assert!(
            man.contains(&format!(".TP\n\\fB{variable}\\fR")),
            "{variable} not in ENVIRONMENT"
        );
    }
    for words in ["none, off", "numbered, t", "existing, nil", "simple, never"] {
        assert!(man.contains(words), "backup words {words}");
    }
    let examples = man.find(".SH EXAMPLES").unwrap();
    assert!(
        man[examples..].starts_with(".SH EXAMPLES\n.TP\n"),
        "EXAMPLES is not an indented list"
    );
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
        "generate\\-man",
        "completions",
    ] {
        assert!(
            man.contains(&format!("\\-\\-{option}")),
            "--{option} undocumented"
        );
    }
    assert!(man.contains("0x7ffff000"));
    assert!(man.contains("copy_file_range(2)") || man.contains("copy_file_range\\fR(2)"));
}
