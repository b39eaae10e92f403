//! The command line is read as GNU cp 9.1's getopt_long reads it: options given again (the last
//! one wins), abbreviations and their ambiguities, clusters, `=` for optional arguments, `--`,
//! options after operands, and the messages and order of errors. Each case runs GNU cp and
//! fastcp side by side and compares exit status, messages and resulting files.
//!
//! Regression: fastcp refused any option given twice (`--reflink --reflink=never`: "the argument
//! '--reflink[=<WHEN>]' cannot be used multiple times", GNU's reflink-auto.sh), knew no
//! ambiguous abbreviation (`--re`: "unrecognized option"), read `--b=simple` as unknown, took
//! -S without -b for no backup, accepted `--preserve=context` and `--reflink --sparse=never`,
//! and ignored a stdout it could not write.

mod util;

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use util::{
    Scratch, assert_same_as_gnu, assert_same_attributes_as_gnu, fastcp, fastcp_path, normalize,
    snapshot,
};

/// `a` (mode 0640, an old mtime), an existing `x`, a directory `d`, a tree `e/f`, `y/a`, and a
/// symlink `la` to `a`.
fn fixture(dir: &Path) {
    std::fs::write(dir.join("a"), b"alpha\n").unwrap();
    std::fs::set_permissions(dir.join("a"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let old = filetime::FileTime::from_unix_time(1_000_000_000, 123_456_789);
    filetime::set_file_times(dir.join("a"), old, old).unwrap();
    std::fs::write(dir.join("x"), b"x\n").unwrap();
    std::fs::create_dir(dir.join("d")).unwrap();
    std::fs::create_dir_all(dir.join("e/g")).unwrap();
    std::fs::write(dir.join("e/f"), b"f\n").unwrap();
    std::fs::create_dir(dir.join("y")).unwrap();
    std::fs::write(dir.join("y/a"), b"other a\n").unwrap();
    symlink("a", dir.join("la")).unwrap();
}

// An option given twice is accepted and the last one wins, as with getopt.
same_as_gnu! {
    fixture;
    archive_twice: ["-a", "-a", "e", "c"],
    r_and_big_r: ["-r", "-R", "e", "c"],
    recursive_three_ways: ["-R", "--recursive", "-r", "e", "c"],
    sparse_twice: ["--sparse=never", "--sparse=always", "a", "b"],
    reflink_then_never: ["--reflink", "--reflink=never", "a", "b"],
    reflink_auto_then_never: ["--reflink=auto", "--reflink=never", "a", "b"],
    interactive_twice: ["-i", "-i", "a", "b"],
    interactive_twice_on_existing: ["-i", "--interactive", "a", "x"],
    no_clobber_then_interactive: ["-n", "-i", "a", "x"],
    interactive_then_no_clobber: ["-i", "-n", "a", "x"],
    no_clobber_twice: ["-n", "--no-clobber", "a", "x"],
    force_twice: ["-f", "-f", "a", "x"],
    backup_twice: ["--backup=simple", "--backup=numbered", "a", "x"],
    backup_type_kept_by_bare_backup: ["--backup=numbered", "--backup", "a", "x"],
    backup_type_kept_by_b: ["--backup=numbered", "-b", "a", "x"],
    b_then_backup_type: ["-b", "--backup=numbered", "a", "x"],
    suffix_twice: ["-S", ".1", "-S", ".2", "-b", "a", "x"],
    suffix_alone_makes_backups: ["-S", ".old", "a", "x"],
    suffix_with_backup_none: ["--backup=none", "-S", ".old", "a", "x"],
    update_twice: ["-u", "--update", "a", "x"],
    verbose_twice: ["-v", "-v", "a", "b"],
    link_twice: ["-l", "--link", "a", "b"],
    symbolic_link_twice: ["-s", "-s", "a", "b"],
    no_target_directory_twice: ["-T", "-T", "a", "b"],
    parents_and_path: ["--parents", "--path", "y/a", "d"],
    path_alone: ["--path", "y/a", "d"],
    strip_slashes_twice: ["--strip-trailing-slashes", "--strip-trailing-slashes", "y/", "d", "-r"],
    one_file_system_twice: ["-x", "-x", "-r", "e", "c"],
    attributes_only_twice: ["--attributes-only", "--attributes-only", "a", "x"],
    remove_destination_twice: ["--remove-destination", "--remove-destination", "a", "x"],
    copy_contents_twice: ["--copy-contents", "--copy-contents", "-r", "e", "c"],
    dereference_last_wins_p: ["-L", "-P", "la", "b"],
    dereference_last_wins_l: ["-P", "-L", "la", "b"],
    dereference_last_wins_h: ["-L", "-H", "la", "b"],
    dereference_d_then_l: ["-d", "-L", "la", "b"],
    dereference_l_then_a: ["-L", "-a", "la", "b"],
    target_directory_twice: ["-t", "d", "-t", "d", "a"],
    target_directory_twice_long: ["--target-directory=d", "-td", "a"],
    target_directory_twice_others: ["-t", "d", "--target-directory", "y", "a"],
}

// Unambiguous prefixes of long options work; an exact name wins over a longer one.
same_as_gnu! {
    fixture;
    prefix_recursive: ["--rec", "e", "c"],
    prefix_backup: ["--b=simple", "a", "x"],
    prefix_backup_bare: ["--ba", "a", "x"],
    prefix_sparse: ["--sp=never", "a", "b"],
    prefix_reflink: ["--ref=never", "a", "b"],
    prefix_remove_destination: ["--rem", "a", "x"],
    prefix_suffix: ["--su=.s", "a", "x"],
    prefix_symbolic_link: ["--sy", "a", "b"],
    prefix_target_directory: ["--ta", "d", "a"],
    prefix_target_directory_equals: ["--ta=d", "a"],
    prefix_no_target_directory: ["--no-t", "a", "b"],
    prefix_no_dereference: ["--no-d", "la", "b"],
    prefix_no_preserve: ["--no-p=mode", "a", "b"],
    prefix_no_clobber: ["--no-c", "a", "x"],
    prefix_parents_or_path: ["--pa", "y/a", "d"],
    prefix_strip_trailing_slashes: ["--st", "-r", "y/", "d"],
    prefix_link: ["--li", "a", "b"],
    prefix_update: ["--u", "a", "x"],
    prefix_verbose: ["--verb", "a", "b"],
    prefix_attributes_only: ["--at", "a", "x"],
    prefix_archive: ["--ar", "e", "c"],
    prefix_dereference: ["--d", "la", "b"],
    prefix_interactive: ["--i", "a", "x"],
    prefix_force: ["--f", "a", "x"],
    prefix_one_file_system: ["--o", "-r", "e", "c"],
    prefix_copy_contents: ["--cop", "-r", "e", "c"],
    prefix_context: ["--con", "a", "b"],
    prefix_context_value: ["--cont=x", "a", "b"],
    exact_link: ["--link", "a", "b"],
}

// Ambiguous prefixes: GNU's message lists the possibilities in its table order.
same_as_gnu! {
    fixture;
    ambiguous_re: ["--re", "a", "b"],
    ambiguous_re_with_value: ["--re=x", "a", "b"],
    ambiguous_r: ["--r", "a", "b"],
    ambiguous_s: ["--s", "a", "b"],
    ambiguous_c: ["--c", "a", "b"],
    ambiguous_co: ["--co", "a", "b"],
    ambiguous_v: ["--v", "a", "b"],
    ambiguous_ver: ["--ver", "a", "b"],
    ambiguous_p: ["--p", "a", "b"],
    ambiguous_a: ["--a", "a", "b"],
    ambiguous_n: ["--n", "a", "b"],
    ambiguous_no_dash: ["--no-", "a", "b"],
    ambiguous_empty_name: ["--=x", "a", "b"],
}

// getopt's own errors, and which of several errors is reported.
same_as_gnu! {
    fixture;
    unknown_long: ["--bogus", "a", "b"],
    unknown_long_with_value: ["--bogus=1", "a", "b"],
    unknown_triple_dash: ["---x", "a", "b"],
    unknown_letter: ["-Q", "a", "b"],
    unknown_letter_in_cluster: ["-rfvQ", "a", "b"],
    missing_argument_t: ["-t"],
    missing_argument_t_in_cluster: ["-vt"],
    missing_argument_long: ["--target-directory"],
    missing_argument_prefix: ["--targ"],
    missing_argument_s: ["-S"],
    missing_argument_suffix: ["--suffix"],
    missing_argument_sparse: ["--sparse"],
    missing_argument_no_preserve: ["--no-preserve"],
    argument_not_allowed: ["--recursive=x", "a", "b"],
    argument_not_allowed_prefix: ["--rec=3", "a", "b"],
    argument_not_allowed_empty: ["--force=", "a", "x"],
    argument_not_allowed_help: ["--help=x"],
    argument_not_allowed_version: ["--version=1"],
    argument_not_allowed_synonym: ["--pa=x", "y/a", "d"],
    sparse_bogus: ["--sparse=bogus", "a", "b"],
    sparse_ambiguous: ["--sparse=a", "a", "b"],
    sparse_empty: ["--sparse=", "a", "b"],
    sparse_prefix: ["--sparse=al", "a", "b"],
    sparse_bad_then_good: ["--sparse=bad", "--sparse=auto", "a", "b"],
    reflink_empty: ["--reflink=", "a", "b"],
    reflink_prefix: ["--reflink=nev", "a", "b"],
    preserve_bogus: ["--preserve=bogus", "a", "b"],
    preserve_empty_item: ["--preserve=mode,,links", "a", "b"],
    no_preserve_empty: ["--no-preserve=", "a", "b"],
    backup_bogus: ["--backup=bogus", "a", "x"],
    backup_ambiguous: ["--backup=n", "a", "x"],
    backup_prefix: ["--backup=nu", "a", "x"],
    backup_synonym_prefix: ["--backup=s", "a", "x"],
    argument_quoted_with_escapes: ["--sparse=a\\b'c\n", "a", "b"],
    first_error_sparse: ["--sparse=bad", "--bogus"],
    first_error_unknown: ["--bogus", "--sparse=bad"],
    first_error_target_twice: ["-t", "a", "-t", "b", "--bogus"],
    first_error_unknown_before_target: ["--bogus", "-t", "a", "-t", "b"],
    links_before_backup_type: ["--backup=bad", "-l", "-s", "a", "x"],
    links_before_no_clobber: ["-l", "-s", "-b", "-n", "a", "x"],
    no_clobber_before_reflink: ["-b", "-n", "--reflink", "--sparse=never", "a", "x"],
    reflink_before_backup_type: ["--reflink", "--sparse=never", "--backup=bad", "a", "x"],
    backup_type_before_context: ["--preserve=context", "--backup=bad", "a", "x"],
    context_warning_then_error: ["--context=x", "--bogus"],
    sparse_error_before_help: ["--sparse=bad", "--help"],
    unknown_before_version: ["--bogus", "--version"],
}

// Options GNU refuses together; backups turned on by -S too.
same_as_gnu! {
    fixture;
    b_and_n: ["-b", "-n", "a", "x"],
    n_and_backup: ["-n", "--backup", "a", "x"],
    backup_type_and_n: ["--backup=numbered", "-n", "a", "x"],
    suffix_and_n: ["-S", "x", "-n", "a", "x"],
    n_and_suffix: ["-n", "-S", "x", "a", "x"],
    n_then_i_with_backup: ["-n", "-i", "-b", "a", "x"],
    hard_and_symbolic: ["-l", "-s", "a", "b"],
    reflink_and_sparse_never: ["--reflink", "--sparse=never", "a", "b"],
    reflink_always_and_sparse_always: ["--reflink=always", "--sparse=always", "a", "b"],
    reflink_auto_and_sparse_never: ["--reflink", "--reflink=auto", "--sparse=never", "a", "b"],
}

// -Z, --context and --preserve=context as GNU 9.1 on a kernel without SELinux.
same_as_gnu! {
    fixture;
    z_alone: ["-Z", "a", "b"],
    z_in_cluster: ["-Zv", "a", "b"],
    z_takes_no_argument: ["-Zfoo", "a", "b"],
    context_bare: ["--context", "a", "b"],
    context_with_value: ["--context=foo", "a", "b"],
    context_empty_value: ["--context=", "a", "b"],
    preserve_context: ["--preserve=context", "a", "b"],
    no_preserve_context: ["--no-preserve=context", "a", "b"],
    preserve_then_no_preserve_context: ["--preserve=context", "--no-preserve=context", "a", "b"],
    archive_and_preserve_context: ["-a", "--preserve=context", "a", "b"],
    preserve_all_without_context: ["--preserve=all", "a", "b"],
    z_and_preserve_context: ["-Z", "--preserve=context", "a", "b"],
    context_value_and_preserve_context: ["--context=x", "--preserve=context", "a", "b"],
}

// Optional arguments need `=`; clusters; `--`; operands anywhere.
same_as_gnu! {
    fixture;
    backup_value_is_an_operand: ["--backup", "simple", "a", "x"],
    preserve_value_is_an_operand: ["--preserve", "mode", "a", "b"],
    reflink_value_is_an_operand: ["--reflink", "never", "a", "b"],
    context_value_is_an_operand: ["--context", "x", "a", "b"],
    // `y` has one entry: -v lists a directory's entries in inode order, which differs
    // between the two fixtures GNU and fastcp get.
    cluster_rfv: ["-rfv", "y", "c"],
    cluster_with_target: ["-tdv", "a"],
    cluster_target_then_operands: ["-vtd", "a", "x"],
    suffix_attached: ["-S~~", "-b", "a", "x"],
    suffix_starting_with_dash: ["-S", "-x", "-b", "a", "x"],
    suffix_after_b_in_cluster: ["-bS.bak", "a", "x"],
    target_starting_with_dash: ["-t", "-x", "a"],
    target_taking_double_dash: ["-t", "--", "a"],
    double_dash_then_dash_operand: ["--", "-a"],
    double_dash_then_dash_destination: ["--", "a", "-b"],
    options_after_operands: ["a", "b", "-v"],
    double_dash_then_option_like_operand: ["a", "--", "-v"],
    double_dash_twice: ["-v", "--", "--", "b"],
    lone_dash: ["-"],
    lone_double_dash: ["--"],
}

#[test]
fn repeated_and_abbreviated_preserve_keep_the_same_attributes() {
    // (arguments, whether the copy keeps the source's times)
    for (args, times) in [
        (
            &["-p", "--no-preserve=mode", "--preserve=mode", "a", "d"][..],
            true,
        ),
        (
            &["--preserve=mode", "--preserve=timestamps", "a", "d"],
            true,
        ),
        (&["--pres=mode,timestamps", "a", "d"], true),
        (
            &["--preserve=all", "--no-preserve=timestamps", "a", "d"],
            false,
        ),
        (&["-p", "-p", "a", "d"], true),
        (&["--preserve", "--no-p=all", "--preserve", "a", "d"], true),
        (&["-a", "--no-preserve=all", "e", "d"], false),
        (&["--no-preserve=mode", "a", "d"], false),
    ] {
        let into = args[args.len() - 1];
        assert_same_attributes_as_gnu(fixture, args, into, times);
    }
}

/// `program` with the clean environment of util's commands, as a std Command (whose stdout
/// can be set).
fn command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("LC_ALL", "C");
    cmd
}

/// Variables added to the clean environment.
type Env = [(&'static str, &'static str)];

/// What a run printed and left behind.
type Outcome = (Option<i32>, String, String, BTreeMap<PathBuf, util::Entry>);

/// Runs GNU cp and fastcp with `env` added, stdout on `stdout()` when given, and compares.
fn assert_same_with(env: &[(&str, &str)], stdout: Option<fn() -> Stdio>, args: &[&str]) {
    let run = |program: &Path| -> Outcome {
        let dir = Scratch::new();
        fixture(dir.path());
        let mut cmd = command(program);
        cmd.current_dir(dir.path())
            .args(args)
            .envs(env.iter().copied());
        if let Some(out) = stdout {
            cmd.stdout(out());
        }
        let output = cmd.output().unwrap();
        let name = program.to_string_lossy();
        (
            output.status.code(),
            normalize(&output.stderr, &name),
            normalize(&output.stdout, &name),
            snapshot(dir.path()),
        )
    };
    let gnu = run(Path::new("/bin/cp"));
    let fast = run(&fastcp_path());
    assert_eq!(fast, gnu, "{env:?} {args:?}");
}

#[test]
fn posixly_correct_stops_options_at_the_first_operand() {
    for args in [
        &["a", "b", "-v"][..],
        &["-v", "a", "d"],
        &["a", "--", "d"],
        &["-v", "--", "a", "-v"],
    ] {
        assert_same_with(&[("POSIXLY_CORRECT", "1")], None, args);
        assert_same_with(&[("POSIXLY_CORRECT", "")], None, args);
    }
}

#[test]
fn version_control_and_backup_suffix_from_the_environment() {
    let cases: &[(&Env, &[&str])] = &[
        (&[("VERSION_CONTROL", "numbered")], &["-b", "a", "x"]),
        (&[("VERSION_CONTROL", "t")], &["--backup=", "a", "x"]),
        (&[("VERSION_CONTROL", "t")], &["--backup=simple", "a", "x"]),
        (&[("VERSION_CONTROL", "t")], &["-S", ".s", "a", "x"]),
        (&[("VERSION_CONTROL", "bogus")], &["-b", "a", "x"]),
        (&[("VERSION_CONTROL", "bogus")], &["a", "x"]),
        (&[("VERSION_CONTROL", "")], &["-b", "a", "x"]),
        (&[("SIMPLE_BACKUP_SUFFIX", ".bak")], &["-b", "a", "x"]),
        (&[("SIMPLE_BACKUP_SUFFIX", ".bak")], &["-S", ".s", "a", "x"]),
        (&[("SIMPLE_BACKUP_SUFFIX", "a/b")], &["-b", "a", "x"]),
        (&[("SIMPLE_BACKUP_SUFFIX", "")], &["-b", "a", "x"]),
    ];
    for (env, args) in cases {
        assert_same_with(env, None, args);
    }
}

fn dev_full() -> Stdio {
    // Opened for writing as stdout only, as a shell's `>/dev/full` does; never a copy operand.
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    )
}

/// Regression: a stdout that cannot be written was ignored (exit 0, no message); GNU reports
/// `write error` at exit and fails.
#[test]
fn unwritable_stdout_is_a_write_error() {
    for args in [&["-v", "a", "b"][..], &["-rv", "e", "c"], &["a", "b"]] {
        assert_same_with(&[], Some(dev_full), args);
    }
    for flag in ["--help", "--version"] {
        let out = command(&fastcp_path())
            .arg(flag)
            .stdout(dev_full())
            .output();
        let gnu = command(Path::new("/bin/cp"))
            .arg(flag)
            .stdout(dev_full())
            .output();
        let (out, gnu) = (out.unwrap(), gnu.unwrap());
        assert_eq!(out.status.code(), gnu.status.code(), "{flag}");
        assert_eq!(
            normalize(&out.stderr, &fastcp_path().to_string_lossy()),
            normalize(&gnu.stderr, "/bin/cp"),
            "{flag}"
        );
    }
}

/// `alias cp='fastcp -i'` makes `cp -i` a repeated option.
#[test]
fn an_alias_with_i_accepts_i_again() {
    assert_same_as_gnu(fixture, &["-i", "-i", "-v", "a", "b"]);
}

/// --help and --version act when read: what follows is not read, what precedes is.
#[test]
fn help_and_version_stop_the_reading() {
    for args in [
        &["--help", "--bogus"][..],
        &["--he", "-t", "a", "-t", "b"],
        &["--vers"],
    ] {
        let s = Scratch::new();
        let out = fastcp().current_dir(s.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(out.stderr.is_empty(), "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_shows_big_r_and_small_r() {
    let out = fastcp().arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().find(|l| l.contains("--recursive")).unwrap();
    assert!(line.contains("-R,") && line.contains("-r"), "{line}");
    assert!(text.contains("-Z") && text.contains("--context"));
}

/// Runs fastcp in a fresh fixture and returns (status, stderr, the method `--stats=json` saw).
fn own_options(args: &[&str]) -> (i32, String, Option<String>) {
    let s = Scratch::new();
    fixture(s.path());
    let out = fastcp().current_dir(s.path()).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let method = stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["methods"]["regular"].as_object().cloned())
        .and_then(|m| m.keys().next().cloned());
    (out.status.code().unwrap_or(-1), stderr, method)
}

/// fastcp's own options follow the same rules: given again, the last wins; abbreviated, they
/// work where no GNU option shares the prefix; the first bad argument is the one reported.
#[test]
fn own_options_repeat_and_abbreviate() {
    let method = |args: &[&str]| {
        let mut all = vec!["--stats=json"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["a", "b"]);
        let (code, stderr, method) = own_options(&all);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        method.unwrap_or_default()
    };
    assert_eq!(
        method(&["--method=splice", "--method=sendfile"]),
        "sendfile"
    );
    assert_eq!(
        method(&["--method", "splice", "--method=read-write"]),
        "read-write"
    );
    assert_eq!(method(&["--meth=sendfile"]), "sendfile");
    assert_eq!(method(&["--me", "read-write"]), "read-write");
    assert_eq!(method(&["--meth=sendfile", "--metho=splice"]), "splice");
    for ok in [
        &["--bufsize=1", "--bufsize=4K", "--buf=8K", "a", "b"][..],
        &["-j", "1", "-j2", "--jobs=3", "--j=1", "-r", "e", "c"],
        &["--stats", "--stats=json", "--sta=text", "a", "b"],
        &[
            "--progress=never",
            "--progress=never",
            "--pro=never",
            "a",
            "b",
        ],
        &["--atomic", "--atomic", "--ato", "a", "b"],
        &["--fsync", "--fsync", "--fs", "a", "b"],
        &["--verify", "--verify", "--veri", "a", "b"],
        &["--debug", "--debug", "--deb", "a", "b"],
        &["--keep-directory-symlink", "--k", "a", "b"],
        &[
            "--compare",
            "--com",
            "--runs=1",
            "--ru=1",
            "--methods=sendfile",
            "a",
            "b",
        ],
        &[
            "--compare",
            "--bufsizes=4K",
            "--bufs=8K",
            "--col",
            "--cold",
            "--runs=1",
            "a",
            "b",
        ],
    ] {
        let (code, stderr, _) = own_options(ok);
        assert_eq!(code, 0, "{ok:?}: {stderr}");
    }
    for (bad, first) in [
        (
            &["--method=x", "--method=auto", "a", "b"][..],
            "'x' for '--method'",
        ),
        (&["--jobs=0", "--bogus"], "invalid number of jobs"),
        (&["--bogus", "--jobs=0"], "unrecognized option '--bogus'"),
        (&["--sta=x", "a", "b"], "'x' for '--stats'"),
        (&["--gen"], "option '--generate' requires an argument"),
        (
            &["--atomic=x", "a", "b"],
            "option '--atomic' doesn't allow an argument",
        ),
    ] {
        let (code, stderr, _) = own_options(bad);
        assert_eq!(code, 1, "{bad:?}");
        assert!(stderr.contains(first), "{bad:?}: {stderr}");
        assert!(
            stderr.contains("for more information."),
            "{bad:?}: {stderr}"
        );
    }
}

/// Regression: getopt reads a cluster byte by byte, and glibc prints a byte that is no option
/// as it is (`-é` is "invalid option -- '\xC3'"), as it prints an unknown long option as
/// typed; an option argument that names no choice is shown with C escapes (`'\377'`).
/// fastcp printed U+FFFD (and, for --backup, clap's "invalid UTF-8 was detected"). Compared
/// byte for byte: a lossy comparison cannot tell them apart.
#[test]
fn bad_options_are_printed_byte_for_byte() {
    use std::os::unix::ffi::OsStrExt;
    let cases: [&[&[u8]]; 14] = [
        &[b"-x\xc3\xa9", b"a", b"c"],
        &[b"-v\xc3\xa9", b"a", b"c"],
        &[b"-\xc3\xa9"],
        &[b"-\xff", b"a", b"c"],
        &[b"-r\xffx", b"a", b"c"],
        &[b"--\xff", b"a", b"c"],
        &[b"--\xc3\xa9=x", b"a", b"c"],
        &[b"--b\xff=x", b"a", b"c"],
        &[b"--p=\xff", b"a", b"c"],
        // Arguments that name no choice are shown as given too (argmatch_die).
        &[b"--sparse=\xff", b"a", b"c"],
        &[b"--reflink=a\xff", b"a", b"c"],
        &[b"--backup=\xff", b"a", b"c"],
        &[b"--preserve=mode,\xff,x", b"a", b"c"],
        &[b"--no-preserve=\xc3", b"a", b"c"],
    ];
    for args in cases {
        let args: Vec<&std::ffi::OsStr> = args
            .iter()
            .map(|a| std::ffi::OsStr::from_bytes(a))
            .collect();
        let run = |program: &Path| {
            let dir = Scratch::new();
            fixture(dir.path());
            let out = command(program)
                .current_dir(dir.path())
                .args(&args)
                .output()
                .unwrap();
            // The program's name, the only part that differs, becomes `cp`.
            let name = program.as_os_str().as_bytes();
            let mut stderr = out.stderr.as_slice();
            let mut text = Vec::new();
            while let Some(at) = stderr.windows(name.len()).position(|w| w == name) {
                text.extend_from_slice(&stderr[..at]);
                text.extend_from_slice(b"cp");
                stderr = &stderr[at + name.len()..];
            }
            text.extend_from_slice(stderr);
            (out.status.code(), text, out.stdout)
        };
        let gnu = run(Path::new("/bin/cp"));
        let fast = run(&fastcp_path());
        assert_eq!(fast, gnu, "{args:?}");
    }
}
