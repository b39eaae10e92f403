//! scripts/install into a temporary prefix: the binary, a man page that man(1) renders, and
//! completions where each shell looks; and a `cp` symlink to fastcp speaks as cp.

mod util;

use std::path::Path;
use std::process::Command;
use util::Scratch;

/// Installs the binary cargo built (no release build) under `prefix`.
fn install(prefix: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join("scripts/install"))
        .env("FASTCP_BINARY", util::fastcp_path())
        .env_remove("DESTDIR")
        .arg(prefix)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn install_puts_each_file_where_it_is_looked_for() {
    let s = Scratch::new();
    let prefix = s.join("prefix");
    install(&prefix);
    for rel in [
        "bin/fastcp",
        "share/man/man1/fastcp.1",
        "share/bash-completion/completions/fastcp",
        "share/zsh/site-functions/_fastcp",
        "share/fish/vendor_completions.d/fastcp.fish",
        "share/elvish/lib/fastcp.elv",
        "share/powershell/completions/fastcp.ps1",
    ] {
        let meta = std::fs::metadata(prefix.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert!(meta.len() > 0, "{rel} is empty");
    }
    let out = Command::new(prefix.join("bin/fastcp"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("fastcp "));

    // The bash completion loads and completes --method's words.
    let completion = prefix.join("share/bash-completion/completions/fastcp");
    let out = Command::new("bash")
        .arg("-c")
        .arg(
            "source \"$1\" && complete -p fastcp && COMP_WORDS=(fastcp --method '') \
             COMP_CWORD=2 && _fastcp && echo \"${COMPREPLY[*]}\"",
        )
        .arg("bash")
        .arg(&completion)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "complete -o default -F _fastcp fastcp\nauto read-write sendfile copy-file-range splice\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn installed_man_page_renders() {
    if Command::new("man").arg("--version").output().is_err() {
        return util::skip("man is not installed (apt-get install man-db)");
    }
    let s = Scratch::new();
    let prefix = s.join("prefix");
    install(&prefix);
    let out = Command::new("man")
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("LC_ALL", "C")
        .arg("-l")
        .arg(prefix.join("share/man/man1/fastcp.1"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("fastcp - copy files, choosing how the kernel moves the bytes"),
        "{text}"
    );
    for heading in ["OPTIONS", "BACKUPS", "ENVIRONMENT", "EXAMPLES"] {
        assert!(text.lines().any(|l| l == heading), "{heading}:\n{text}");
    }
    // groff finds nothing to warn about.
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(prefix.join("share/man/man1/fastcp.1"))
        .output();
    if let Ok(out) = out {
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A `cp` symlink speaks as cp: --help's usage lines carry argv[0] as GNU cp's do (compare a
/// symlink to /bin/cp), as the messages do.
#[test]
fn a_cp_symlink_names_itself_cp_in_help() {
    let s = Scratch::new();
    std::fs::create_dir(s.join("ours")).unwrap();
    std::fs::create_dir(s.join("gnu")).unwrap();
    std::os::unix::fs::symlink(util::fastcp_path(), s.join("ours/cp")).unwrap();
    std::os::unix::fs::symlink("/bin/cp", s.join("gnu/cp")).unwrap();
    let usage = |dir: &str| {
        let out = Command::new(format!("./{dir}/cp"))
            .current_dir(s.path())
            .env("LC_ALL", "C")
            .arg("--help")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).replace(dir, "DIR");
        let usage = text.lines().find(|l| l.starts_with("Usage:")).unwrap();
        usage.to_string()
    };
    assert_eq!(usage("ours"), usage("gnu"));
    let out = Command::new(s.join("ours/cp"))
        .arg("--bogus")
        .output()
        .unwrap();
    let cp = s.join("ours/cp");
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with(&format!("{}: ", cp.display())),
        "{out:?}"
    );
}
