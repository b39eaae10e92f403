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
