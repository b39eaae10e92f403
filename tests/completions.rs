//! The shell completions complete: each enumerated option's words, files where an operand may
//! go (options only after `-`), never a hidden option. bash is driven through the generated
//! script; zsh, fish and elvish where they are installed; every script names every word.

mod util;

use std::process::Command;
use util::{Scratch, fastcp};

/// The words each enumerated option takes, as its argmatch list has them.
const WORDS: &[(&str, &[&str])] = &[
    (
        "method",
        &[
            "auto",
            "read-write",
            "sendfile",
            "copy-file-range",
            "splice",
        ],
    ),
    ("sparse", &["never", "auto", "always"]),
    ("reflink", &["auto", "always", "never"]),
    ("stats", &["text", "json"]),
    ("progress", &["auto", "always", "never"]),
    (
        "backup",
        &[
            "none", "off", "simple", "never", "existing", "nil", "numbered", "t",
        ],
    ),
    ("update", &["all", "none", "older"]),
    (
        "completions",
        &["bash", "zsh", "fish", "elvish", "powershell"],
    ),
];

fn script(shell: &str) -> String {
    let out = fastcp().args(["--completions", shell]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "--completions {shell}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs bash's completion function for the words `line` (the last is the one completed, split
/// at `=` as COMP_WORDBREAKS splits it) in `dir`, and returns COMPREPLY, one word a line, then
/// the compopt calls the function made.
fn bash_complete(dir: &std::path::Path, file: &std::path::Path, line: &[&str]) -> String {
    let driver = r#"
        source "$1"; shift
        compopt() { echo "compopt $*"; }
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _fastcp fastcp "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let out = Command::new("bash")
        .current_dir(dir)
        .args(["-c", driver, "bash"])
        .arg(file)
        .args(line)
        .output()
        .unwrap();
    assert!(out.status.success(), "{line:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.is_empty()).collect()
}

#[test]
fn bash_completes_values_files_and_options_as_getopt_reads_them() {
    let s = Scratch::new();
    let file = s.write("fastcp.bash", script("bash").as_bytes());
    s.write("w/foo.txt", b"");
    s.write("w/fob.txt", b"");
    s.write("w/dir/x", b"");
    let dir = s.join("w");
    let run = |line: &[&str]| bash_complete(&dir, &file, line);
    for (option, words) in WORDS {
        let long = format!("--{option}");
        // `--name=` (bash makes `=` a word of its own), and `--name=PREFIX`.
        assert_eq!(lines(&run(&["fastcp", &long, "="])), *words, "{long}=");
        let first = &words[0][..1];
        let want: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| w.starts_with(first))
            .collect();
        assert_eq!(
            lines(&run(&["fastcp", &long, "=", first])),
            want,
            "{long}={first}"
        );
    }
    // Options that need an argument take the next word; --method and --sparse complete there.
    assert_eq!(
        lines(&run(&["fastcp", "-r", "--method", ""])),
        WORDS[0].1,
        "--method "
    );
    assert_eq!(lines(&run(&["fastcp", "--sparse", "al"])), ["always"]);
    // Without `=` in COMP_WORDBREAKS the value comes in the word, and so does the reply.
    assert_eq!(lines(&run(&["fastcp", "--stats=j"])), ["--stats=json"]);
    // An optional argument is only ever `--name=value`: `--stats ` is followed by operands.
    assert_eq!(run(&["fastcp", "--stats", ""]), "\n");
    // Operands: nothing of its own, so bash lists files (`complete -o default`), as for cp.
    for line in [
        &["fastcp", ""][..],
        &["fastcp", "foo.txt", ""],
        &["fastcp", "fo"],
        &["fastcp", "-r", "dir", ""],
        &["fastcp", "--", "--me"],
        &["fastcp", "-S", "~", ""],
        &["fastcp", "--sparse=always", ""],
    ] {
        assert_eq!(run(line), "\n", "{line:?}");
    }
    // -t completes directories, also as the last letter of a cluster.
    assert_eq!(run(&["fastcp", "-rt", ""]), "compopt -o filenames\ndir\n");
    // A size or a count: no words and no file names.
    assert_eq!(run(&["fastcp", "--bufsize", ""]), "compopt +o default\n\n");
    // Options after `-`, and never the hidden --generate.
    let options = run(&["fastcp", "-"]);
    for option in [
        "--method",
        "--sparse",
        "--generate-man",
        "--completions",
        "-r",
    ] {
        assert!(lines(&options).contains(&option), "{option}: {options}");
    }
    assert!(!lines(&options).contains(&"--generate"), "{options}");
    assert_eq!(lines(&run(&["fastcp", "--gen"])), ["--generate-man"]);
}

#[test]
fn bash_completion_loads_and_falls_back_to_files() {
    let s = Scratch::new();
    let file = s.write("fastcp.bash", script("bash").as_bytes());
    let out = Command::new("bash")
        .arg("-c")
        .arg("source \"$1\" && complete -p fastcp")
        .arg("bash")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "complete -o default -F _fastcp fastcp\n"
    );
}

/// Every script names every word of every enumerated option, and no script offers --generate.
#[test]
fn every_shell_knows_every_word() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let text = script(shell);
        for (option, words) in WORDS {
            for word in *words {
                assert!(text.contains(word), "{shell}: --{option}'s {word} missing");
            }
        }
        // zsh: operands are files (clap_complete's `*::` made the first one a command name).
        assert!(
            shell != "zsh" || text.contains("'*:file:_files'"),
            "zsh operands"
        );
        let hidden = text.replace("--generate-man", "");
        assert!(!hidden.contains("--generate"), "{shell} offers --generate");
    }
}

#[test]
fn completions_take_a_shell_as_argmatch_does() {
    let out = fastcp().args(["--completions", "ba"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("complete -o default -F _fastcp"));
    let out = fastcp().args(["--completions=tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .take(3)
            .collect::<Vec<_>>(),
        [
            format!(
                "{}: invalid argument 'tcsh' for '--completions'",
                util::fastcp_path().display()
            )
            .as_str(),
            "Valid arguments are:",
            "  - 'bash'",
        ]
    );
}

/// fish, when installed: values after `--name ` and `--name=`, files for operands.
#[test]
fn fish_completes_words_and_files() {
    if Command::new("fish").arg("--version").output().is_err() {
        return util::skip("fish is not installed");
    }
    let s = Scratch::new();
    let file = s.write("fastcp.fish", script("fish").as_bytes());
    s.write("w/foo.txt", b"");
    let complete = |line: &str| {
        let out = Command::new("fish")
            .current_dir(s.join("w"))
            .arg("-c")
            .arg(format!("source {}; complete -C'{line}'", file.display()))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        complete("fastcp --method "),
        [
            "auto",
            "copy-file-range",
            "read-write",
            "sendfile",
            "splice"
        ]
    );
    assert_eq!(
        complete("fastcp --stats="),
        ["--stats=json", "--stats=text"]
    );
    // getopt reads `--backup none` as --backup and an operand `none`.
    assert_eq!(complete("fastcp --backup "), ["foo.txt"]);
    assert_eq!(complete("fastcp "), ["foo.txt"]);
}

/// elvish, when installed: its completer, run with the two editor functions it calls stubbed
/// (the editor exists only in an interactive shell).
#[test]
fn elvish_completes_words_and_files() {
    if Command::new("elvish").arg("-version").output().is_err() {
        return util::skip("elvish is not installed");
    }
    let s = Scratch::new();
    let completer = script("elvish").replace(
        "set edit:completion:arg-completer[fastcp] = ",
        "var completer = ",
    );
    let stubs = "use str\nvar edit: = (ns [&complex-candidate~={|t &display=''| put $t} \
                 &complete-filename~={|c| put FILES:$c}])\n";
    let calls = "for line [[fastcp --method ''] [fastcp --stats=j] [fastcp ''] \
                 [fastcp foo.txt ''] [fastcp --backup ''] [fastcp --backup=n]] {\n\
                 echo (str:join ' ' [($completer $@line)])\n}\n";
    let file = s.write("t.elv", format!("{stubs}{completer}{calls}").as_bytes());
    let out = Command::new("elvish")
        .arg("-norc")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "auto read-write sendfile copy-file-range splice\n--stats=text --stats=json\nFILES:\n\
         FILES:\nFILES:\n--backup=none --backup=off --backup=simple --backup=never \
         --backup=existing --backup=nil --backup=numbered --backup=t\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
