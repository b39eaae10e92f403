//! Generates the man page and shell completions from the clap definition (`--generate DIR`).

use crate::error::{Error, Op};
use clap_complete::Shell;
use std::path::Path;

/// The generated files: relative path and contents.
pub(crate) fn files() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut man = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(crate::cli::command()).render(&mut man);
    out.push(("man/fastcp.1".to_string(), man));
    for (shell, name) in [
        (Shell::Bash, "fastcp.bash"),
        (Shell::Zsh, "_fastcp"),
        (Shell::Fish, "fastcp.fish"),
        (Shell::Elvish, "fastcp.elv"),
        (Shell::PowerShell, "_fastcp.ps1"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut crate::cli::command(), "fastcp", &mut buf);
        out.push((format!("completions/{name}"), buf));
    }
    out
}

/// Writes every generated file below `dir`.
pub(crate) fn write_all(dir: &Path) -> Result<(), Error> {
    for (rel, contents) in files() {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(&path, e))?;
        }
        std::fs::write(&path, contents).map_err(|e| io(&path, e))?;
    }
    Ok(())
}

fn io(path: &Path, e: std::io::Error) -> Error {
    let errno = rustix::io::Errno::from_io_error(&e).unwrap_or(rustix::io::Errno::IO);
    Error::io(Op::CreateRegular, path, errno)
}
