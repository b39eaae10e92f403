//! What `--stats` prints: words a person reads (`1 call`, one line for clones the filesystem
//! cannot make, ASCII without a UTF-8 locale), and JSON a script can take as the last line of
//! stderr or from the file of `--stats=json:FILE`.

mod util;

use util::{Scratch, fastcp, pattern, stats_json};

fn stderr_of(cmd: &mut util::Cmd) -> (Option<i32>, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Regression: "write: 1 calls", "ficlone: 1 calls".
#[test]
fn one_call_is_said_in_the_singular() {
    let s = Scratch::new();
    let a = s.write("a", &pattern(1000, 1));
    let (code, text) = stderr_of(
        fastcp()
            // A buffer of the file's size: one read fills it, a second finds the end.
            .args(["--stats", "--method=read-write", "--bufsize=1000"])
            .arg(&a)
            .arg(s.join("b")),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("1 file, 1000 bytes"), "{text}");
    assert!(text.contains("\nwrite: 1 call (1 moved data)"), "{text}");
    assert!(text.contains("\nread: 2 calls (1 moved data)"), "{text}");
    assert!(!text.contains(" 1 calls"), "{text}");
}

/// Regression: every file of a tree on ext4 or tmpfs added to a "fallback reflink →
/// copy-file-range: EOPNOTSUPP (N)" line, as if something had gone wrong; a filesystem
/// without clones is what --reflink=auto expects, and it is said once.
#[test]
fn a_filesystem_without_clones_is_said_once_not_as_a_fallback() {
    let s = Scratch::new();
    for i in 0..5 {
        s.write(format!("tree/f{i}"), &pattern(100 + i, i as u64));
    }
    let (code, text) = stderr_of(
        fastcp()
            .args(["-r", "--stats"])
            .arg(s.join("tree"))
            .arg(s.join("copy")),
    );
    assert_eq!(code, Some(0), "{text}");
    if text.contains("regular files: reflink") {
        return util::skip("the scratch filesystem makes clones");
    }
    assert!(text.contains("5 files, "), "{text}");
    assert!(!text.contains("fallback reflink"), "{text}");
    let said: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("reflink: "))
        .collect();
    assert_eq!(
        said,
        ["reflink: not supported on this filesystem"],
        "{text}"
    );
    // JSON keeps every record: scripts count the refusals there.
    let out = fastcp()
        .args(["-r", "--stats=json"])
        .arg(s.join("tree"))
        .arg(s.join("copy2"))
        .output()
        .unwrap();
    let stats = stats_json(&out.stderr);
    assert_eq!(stats["fallbacks"][0]["from"], "reflink", "{stats}");
    assert_eq!(stats["fallbacks"][0]["files"], 5, "{stats}");
}

/// The arrow of a fallback line is U+2192 only in a UTF-8 locale (LC_ALL, then LC_CTYPE,
/// then LANG, as setlocale reads them); otherwise `->`, as GNU's quotes are ASCII there.
#[test]
fn the_fallback_arrow_is_ascii_without_a_utf8_locale() {
    let s = Scratch::new();
    // /proc refuses copy_file_range across filesystems: one fallback to sendfile.
    let run = |env: &[(&str, &str)], to: &str| {
        let mut cmd = fastcp();
        for name in ["LC_ALL", "LC_CTYPE", "LANG"] {
            cmd.env_remove(name);
        }
        for (name, value) in env {
            cmd.env(name, value);
        }
        stderr_of(cmd.arg("--stats").arg("/proc/version").arg(s.join(to))).1
    };
    let ascii = "fallback copy-file-range -> sendfile: EXDEV (1)";
    let utf8 = "fallback copy-file-range \u{2192} sendfile: EXDEV (1)";
    for (env, want) in [
        (&[("LC_ALL", "C")][..], ascii),
        (&[][..], ascii),
        (&[("LANG", "C.UTF-8")][..], utf8),
        (&[("LC_CTYPE", "C.utf8")][..], utf8),
        // A locale that is not installed is the C locale, for cp as for fastcp.
        (&[("LANG", "xx_NO.UTF-8")][..], ascii),
        (&[("LC_ALL", "C"), ("LANG", "C.UTF-8")][..], ascii),
        (&[("LC_ALL", ""), ("LANG", "C.UTF-8")][..], utf8),
    ] {
        let text = run(env, "v");
        assert!(text.contains(want), "{env:?}: {text}");
        std::fs::remove_file(s.join("v")).unwrap();
    }
}

/// The JSON object is the last line of stderr, after the error messages of the run.
#[test]
fn json_is_the_last_line_of_stderr() {
    let s = Scratch::new();
    let a = s.write("a", &pattern(5000, 3));
    let dir = s.mkdir("dir");
    let (code, text) = stderr_of(
        fastcp()
            .args(["-v", "--stats=json"])
            .arg(&a)
            .arg(s.join("missing"))
            .arg(&dir),
    );
    assert_eq!(code, Some(1), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("cannot stat"), "{text}");
    let stats: serde_json::Value = serde_json::from_str(lines[1]).expect("last line is JSON");
    assert_eq!(
        (stats["files"].as_u64(), stats["failures"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(text.ends_with("}\n"), "{text}");
}

/// `--stats=FORMAT:FILE` appends the summary to FILE and prints nothing on stderr; FORMAT
/// may be abbreviated as argmatch allows. Runs add up: one JSON object per line.
#[test]
fn stats_are_appended_to_a_file_when_one_is_named() {
    let s = Scratch::new();
    let a = s.write("a", &pattern(70_000, 4));
    let json = s.join("stats.json");
    let mut arg = std::ffi::OsString::from("--stats=j:");
    arg.push(&json);
    for (n, to) in ["b", "c"].into_iter().enumerate() {
        let (code, text) = stderr_of(fastcp().arg(&arg).arg(&a).arg(s.join(to)));
        assert_eq!((code, text.as_str()), (Some(0), ""));
        let written = std::fs::read_to_string(&json).unwrap();
        assert!(
            written.ends_with("}\n") && written.lines().count() == n + 1,
            "{written}"
        );
        for line in written.lines() {
            let stats: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(stats["bytes"], 70_000);
        }
    }
    let mut arg = std::ffi::OsString::from("--stats=text:");
    arg.push(s.join("stats.txt"));
    let (code, text) = stderr_of(fastcp().arg(arg).arg(&a).arg(s.join("d")));
    assert_eq!((code, text.as_str()), (Some(0), ""));
    let written = std::fs::read_to_string(s.join("stats.txt")).unwrap();
    assert!(written.starts_with("1 file, 70000 bytes"), "{written}");
    assert!(!written.contains('{'), "{written}");
}

/// Regression (data loss): the stats FILE was created empty before the copy, so naming a
/// source (or a file in a source tree, or a symlink to one) emptied it and copied nothing;
/// naming a destination that -n protects emptied it; naming the destination wrote the
/// summary over the start of the copy; and --compare's source was emptied before its runs.
/// FILE is only ever appended to: every byte that was there is still there.
#[test]
fn a_stats_file_that_is_a_source_or_a_destination_loses_nothing() {
    let s = Scratch::new();
    let data = pattern(50_000, 8);
    let stats_arg = |file: &std::path::Path| {
        let mut arg = std::ffi::OsString::from("--stats=json:");
        arg.push(file);
        arg
    };
    let starts_with_data = |path: &std::path::Path| {
        let now = std::fs::read(path).unwrap();
        assert!(now.len() > data.len(), "{path:?}: {} bytes", now.len());
        assert_eq!(&now[..data.len()], &data[..], "{path:?}");
        assert!(now.ends_with(b"}\n"), "{path:?}");
    };
    // The source itself, and through a symlink.
    let src = s.write("src", &data);
    std::os::unix::fs::symlink("src", s.join("link")).unwrap();
    for (stats, to) in [(s.join("src"), "copy1"), (s.join("link"), "copy2")] {
        let before = std::fs::read(&src).unwrap();
        let (code, text) = stderr_of(fastcp().arg(stats_arg(&stats)).arg(&src).arg(s.join(to)));
        assert_eq!(code, Some(0), "{text}");
        assert_eq!(std::fs::read(s.join(to)).unwrap(), before, "{to}");
        starts_with_data(&src);
    }
    // A file inside a recursive source.
    let inner = s.write("tree/inner", &data);
    let (code, text) = stderr_of(
        fastcp()
            .arg("-r")
            .arg(stats_arg(&inner))
            .arg(s.join("tree"))
            .arg(s.join("tree2")),
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(std::fs::read(s.join("tree2/inner")).unwrap(), data);
    starts_with_data(&inner);
    // A destination -n keeps, and the destination being written.
    let kept = s.write("kept", &data);
    let other = s.write("other", b"other");
    let (code, text) = stderr_of(
        fastcp()
            .arg("-n")
            .arg(stats_arg(&kept))
            .arg(&other)
            .arg(&kept),
    );
    assert_eq!(code, Some(0), "{text}");
    starts_with_data(&kept);
    let out = s.join("out");
    let (code, text) = stderr_of(fastcp().arg(stats_arg(&out)).arg(&src).arg(&out));
    assert_eq!(code, Some(0), "{text}");
    starts_with_data(&out);
    // --compare's source.
    let csrc = s.write("csrc", &data);
    let out = fastcp()
        .args([
            "--compare",
            "--runs=1",
            "--methods=read-write",
            "--bufsizes=4K",
        ])
        .arg(stats_arg(&csrc))
        .arg(&csrc)
        .arg(s.join("cdst"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(std::fs::read(s.join("cdst")).unwrap(), data);
    starts_with_data(&csrc);
}

/// A FILE that cannot be created fails before anything is copied (as a script would want:
/// no copy made without its record), with cp's words for a file it cannot create.
#[test]
fn a_stats_file_that_cannot_be_created_stops_the_copy_before_it_starts() {
    let s = Scratch::new();
    let a = s.write("a", &pattern(10, 5));
    let mut arg = std::ffi::OsString::from("--stats=json:");
    arg.push(s.join("no/such/dir/stats.json"));
    let (code, text) = stderr_of(fastcp().arg(arg).arg(&a).arg(s.join("b")));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("cannot create regular file") && text.contains("No such file or directory"),
        "{text}"
    );
    assert!(!s.join("b").exists());
}

/// `json:` names no file and `jsn:x` no format: usage errors in argmatch's words.
#[test]
fn a_bad_format_or_an_empty_file_name_is_a_usage_error() {
    let s = Scratch::new();
    let a = s.write("a", &pattern(10, 6));
    for (arg, shown) in [("--stats=json:", "json:"), ("--stats=jsn:x", "jsn")] {
        let (code, text) = stderr_of(
            fastcp()
                .env("LC_ALL", "C")
                .arg(arg)
                .arg(&a)
                .arg(s.join("b")),
        );
        assert_eq!(code, Some(1), "{text}");
        assert!(
            text.contains(&format!("invalid argument '{shown}' for '--stats'")),
            "{text}"
        );
        assert!(text.contains("Try '"), "{text}");
        assert!(!s.join("b").exists());
    }
}

/// The format is optional and, as getopt has it, only after `=`: `--stats json a` copies a
/// file named `json`.
#[test]
fn a_format_after_a_space_is_an_operand() {
    let s = Scratch::new();
    let json = s.write("json", b"named json\n");
    let (code, text) = stderr_of(
        fastcp()
            .current_dir(s.path())
            .args(["--stats", "json", "out"]),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("1 file, 11 bytes"), "{text}");
    assert_eq!(
        std::fs::read(s.join("out")).unwrap(),
        std::fs::read(json).unwrap()
    );
}

/// `--compare --stats=json:FILE`: the table's JSON goes to FILE, stdout stays empty; a FILE
/// that cannot be created fails before the first run.
#[test]
fn compare_json_goes_to_the_named_file() {
    let s = Scratch::new();
    let a = s.write("a", &pattern(100_000, 7));
    let json = s.join("compare.json");
    let mut arg = std::ffi::OsString::from("--stats=json:");
    arg.push(&json);
    let out = fastcp()
        .args(["--compare", "--runs=1", "--methods=sendfile,read-write"])
        .arg(arg)
        .arg(&a)
        .arg(s.join("b"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(stats["rows"].as_array().map(Vec::len), Some(7), "{stats}");
    let mut arg = std::ffi::OsString::from("--stats=json:");
    arg.push(s.join("no/such/compare.json"));
    let out = fastcp()
        .args(["--compare", "--runs=1", "--methods=sendfile"])
        .arg(arg)
        .arg(&a)
        .arg(s.join("c"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!s.join("c").exists());
}
