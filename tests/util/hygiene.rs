//! The rule that no test touches anything outside its scratch directory, enforced two ways.
//!
//! Before it runs, every command util builds (`Cmd`: fastcp(), gnu_cp()) reads its own command
//! line as cp's getopt_long does, follows each path through symbolic links as the kernel would,
//! and panics when a destination lies outside a scratch directory, or a source does and is not
//! a read-only system file (/proc, /sys, /dev/null, /dev/zero...). A test written the bad way
//! fails there, before anything is touched, whatever its arguments happen to be in that run.
//!
//! After it runs, every `Scratch` compares the machine's shared device nodes (/dev/null and
//! friends) with what they were when it was made: that catches what the first check cannot
//! see (a command built by hand around fastcp_path(), a copy that reaches outside through a
//! link inside a tree), puts back a node that was replaced, and fails the test.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// The name every scratch directory starts with, in the temporary directory or in /dev/shm.
pub const SCRATCH_PREFIX: &str = "fastcp-test";

/// Options of cp and fastcp whose value may be the next argument (getopt_long's
/// required_argument). Options with an optional value take it only after `=`.
const LONG_WITH_VALUE: &[&str] = &[
    "target-directory",
    "suffix",
    "no-preserve",
    "sparse",
    "method",
    "bufsize",
    "jobs",
    "methods",
    "bufsizes",
    "runs",
    "generate",
    "completions",
];

/// The other long options: flags, or values attached with `=`.
const LONG_FLAGS: &[&str] = &[
    "archive",
    "attributes-only",
    "backup",
    "copy-contents",
    "dereference",
    "force",
    "interactive",
    "link",
    "no-clobber",
    "no-dereference",
    "no-target-directory",
    "one-file-system",
    "parents",
    "preserve",
    "recursive",
    "reflink",
    "remove-destination",
    "strip-trailing-slashes",
    "keep-directory-symlink",
    "symbolic-link",
    "update",
    "verbose",
    "context",
    "atomic",
    "fsync",
    "verify",
    "nocache",
    "resume",
    "progress",
    "stats",
    "debug",
    "compare",
    "cold",
    "help",
    "version",
    "generate-man",
];

const SHORT_WITH_VALUE: &[u8] = b"tSj";
const SHORT_FLAGS: &[u8] = b"abdfHilLnPprRsTuvxZ";

/// What a command line names, read as getopt_long reads it (options may follow operands).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Named {
    /// Files only read.
    pub sources: Vec<OsString>,
    /// Files or directories written: -t's value, --generate's, or the last operand.
    pub destinations: Vec<OsString>,
    /// An option this table does not know: its value, if any, cannot be told from an operand.
    pub unknown: Option<String>,
}

/// Reads `args` as cp's command line.
pub fn named(args: &[OsString]) -> Named {
    let mut named = Named::default();
    let mut operands = Vec::new();
    let mut target = None;
    let mut iter = args.iter();
    let mut options_end = false;
    while let Some(arg) = iter.next() {
        let bytes = arg.as_bytes();
        if options_end || bytes == b"-" || !bytes.starts_with(b"-") {
            operands.push(arg.clone());
        } else if bytes == b"--" {
            options_end = true;
        } else if let Some(long) = bytes.strip_prefix(b"--") {
            let (name, value) = match long.iter().position(|b| *b == b'=') {
                Some(i) => (
                    &long[..i],
                    Some(OsStr::from_bytes(&long[i + 1..]).to_owned()),
                ),
                None => (long, None),
            };
            match long_option(name) {
                Some((full, true)) => {
                    let value = value.or_else(|| iter.next().cloned());
                    if let Some(value) = value {
                        match full {
                            "target-directory" => target = Some(value),
                            "generate" => named.destinations.push(value),
                            _ => {}
                        }
                    }
                }
                Some((_, false)) => {}
                None => named.unknown = Some(arg.to_string_lossy().into_owned()),
            }
        } else {
            for (i, &c) in bytes.iter().enumerate().skip(1) {
                if SHORT_WITH_VALUE.contains(&c) {
                    let rest = &bytes[i + 1..];
                    let value = if rest.is_empty() {
                        iter.next().cloned()
                    } else {
                        Some(OsStr::from_bytes(rest).to_owned())
                    };
                    if c == b't' {
                        target = value.or(target);
                    }
                    break;
                }
                if !SHORT_FLAGS.contains(&c) {
                    named.unknown = Some(arg.to_string_lossy().into_owned());
                    break;
                }
            }
        }
    }
    match target {
        Some(target) => named.destinations.push(target),
        None => {
            if let Some(last) = operands.pop() {
                named.destinations.push(last);
            }
        }
    }
    named.sources = operands;
    named
}

/// The long option `name` abbreviates (getopt_long and clap's infer_long_args accept any
/// unambiguous prefix), and whether it takes a separate value. None when unknown or ambiguous.
fn long_option(name: &[u8]) -> Option<(&'static str, bool)> {
    let all = LONG_WITH_VALUE
        .iter()
        .map(|n| (*n, true))
        .chain(LONG_FLAGS.iter().map(|n| (*n, false)));
    let mut found = None;
    for (full, value) in all {
        if full.as_bytes() == name {
            return Some((full, value));
        }
        if full.as_bytes().starts_with(name) {
            if found.is_some() {
                return None;
            }
            found = Some((full, value));
        }
    }
    found
}

/// Where `path` leads from `cwd`, following symbolic links as the kernel would, a final one
/// that dangles included (cp would create the file it names).
pub fn resolve(cwd: &Path, path: &Path) -> PathBuf {
    let mut todo: VecDeque<OsString> = parts(&cwd.join(path));
    let mut out = PathBuf::from("/");
    let mut links = 0;
    while let Some(part) = todo.pop_front() {
        if part == ".." {
            out.pop();
            continue;
        }
        let next = out.join(&part);
        match std::fs::read_link(&next) {
            Ok(target) if links < 40 => {
                links += 1;
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                for part in parts(&target).into_iter().rev() {
                    todo.push_front(part);
                }
            }
            _ => out = next,
        }
    }
    out
}

fn parts(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// Whether `path` (resolved) is inside a scratch directory.
pub fn in_scratch(path: &Path) -> bool {
    let tmp = std::env::temp_dir();
    [
        std::fs::canonicalize(&tmp).unwrap_or(tmp),
        PathBuf::from("/dev/shm"),
    ]
    .iter()
    .any(|root| {
        path.strip_prefix(root).is_ok_and(|rest| {
            rest.components().next().is_some_and(|first| {
                first
                    .as_os_str()
                    .as_bytes()
                    .starts_with(SCRATCH_PREFIX.as_bytes())
            })
        })
    })
}

/// Files outside scratch that a test may read: the kernel's, which reading cannot change.
fn read_only_source(path: &Path) -> bool {
    const DEVICES: [&str; 5] = [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
    ];
    path.starts_with("/proc")
        || path.starts_with("/sys")
        || DEVICES.iter().any(|d| path == Path::new(d))
}

/// The program's own descriptors (/proc/self/fd/N): procfs lets nobody remove or replace
/// them, and what is written goes to the pipe or file the test gave the program.
fn own_descriptor(arg: &OsStr) -> bool {
    arg.as_bytes()
        .strip_prefix(b"/proc/self/fd/")
        .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
}

/// Checks the command line `args` run in `cwd`: Err names the first path that breaks the rule.
pub fn check_args(cwd: &Path, args: &[OsString]) -> Result<(), String> {
    let named = named(args);
    let outside = |arg: &OsString| {
        let resolved = resolve(cwd, Path::new(arg));
        (!own_descriptor(arg) && !in_scratch(&resolved)).then_some(resolved)
    };
    for dst in &named.destinations {
        if let Some(resolved) = outside(dst) {
            return Err(format!(
                "writes {dst:?} (which leads to {resolved:?}), outside its scratch directory"
            ));
        }
    }
    for src in &named.sources {
        if let Some(resolved) = outside(src) {
            if let Some(option) = &named.unknown {
                return Err(format!(
                    "names {src:?} outside its scratch directory beside {option:?}, an option \
                     util/hygiene.rs does not know (is {src:?} its value or a destination?)"
                ));
            }
            if !read_only_source(&resolved) {
                return Err(format!(
                    "reads {src:?} (which leads to {resolved:?}): outside its scratch \
                     directory, only /proc, /sys and /dev/null, zero, full, random and urandom \
                     may be read"
                ));
            }
        }
    }
    Ok(())
}

/// A command the tests run (fastcp or GNU cp): the only way tests/util offers, and it checks
/// its command line with `check_args` before running. It has only the methods tests use; a
/// method added here must check before it runs anything.
pub struct Cmd {
    inner: assert_cmd::Command,
}

impl Cmd {
    pub fn new(inner: assert_cmd::Command) -> Cmd {
        Cmd { inner }
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Cmd {
        self.inner.arg(arg);
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.inner.args(args);
        self
    }

    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Cmd {
        self.inner.current_dir(dir);
        self
    }

    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Cmd {
        self.inner.env(key, value);
        self
    }

    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Cmd {
        self.inner.env_remove(key);
        self
    }

    pub fn timeout(&mut self, timeout: std::time::Duration) -> &mut Cmd {
        self.inner.timeout(timeout);
        self
    }

    pub fn write_stdin(&mut self, buffer: impl Into<Vec<u8>>) -> &mut Cmd {
        self.inner.write_stdin(buffer);
        self
    }

    pub fn get_program(&self) -> &OsStr {
        self.inner.get_program()
    }

    pub fn output(&mut self) -> std::io::Result<std::process::Output> {
        self.check();
        self.inner.output()
    }

    pub fn assert(&mut self) -> assert_cmd::assert::Assert {
        self.check();
        self.inner.assert()
    }

    pub fn ok(&mut self) -> assert_cmd::output::OutputResult {
        self.check();
        self.inner.ok()
    }

    pub fn unwrap(&mut self) -> std::process::Output {
        self.check();
        self.inner.unwrap()
    }

    /// Panics when the command line breaks the rule, before anything runs.
    fn check(&self) {
        let cwd = match self.inner.get_current_dir() {
            Some(dir) => dir.to_path_buf(),
            None => std::env::current_dir().unwrap(),
        };
        let args: Vec<OsString> = self.inner.get_args().map(OsStr::to_owned).collect();
        if let Err(e) = check_args(&cwd, &args) {
            panic!(
                "test hygiene: {:?} {args:?} in {cwd:?} {e}. Make what the test needs inside \
                 its scratch directory (Scratch::char_device, Scratch::fifo, LoopDevice).",
                self.inner.get_program()
            );
        }
    }
}

/// The machine's device nodes that a copy could damage, with the numbers the kernel gives them.
pub const SHARED_NODES: [(&str, u32, u32); 5] = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
];

/// What a node is: any change of kind, owner, mode or identity, and anything that moves its
/// ctime (chmod, chown, utimes, a rename or a link onto it), shows. Reading and writing a
/// device moves neither.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    ino: u64,
    mode: u32,
    uid: u32,
    gid: u32,
    rdev: u64,
    ctime: (i64, i64),
}

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let m = std::fs::symlink_metadata(path).ok()?;
    Some(Fingerprint {
        ino: m.ino(),
        mode: m.mode(),
        uid: m.uid(),
        gid: m.gid(),
        rdev: m.rdev(),
        ctime: (m.ctime(), m.ctime_nsec()),
    })
}

/// Device nodes as they were when a test began.
pub struct Nodes {
    nodes: Vec<(PathBuf, u32, u32, Option<Fingerprint>)>,
}

impl Nodes {
    /// Takes the state of `nodes` (path, major, minor), first checking each is as the kernel
    /// made it: one that is not was damaged before (or beside) this test, and is put back.
    pub fn take(nodes: &[(&str, u32, u32)]) -> Result<Nodes, String> {
        let mut damaged = Vec::new();
        for &(path, major, minor) in nodes {
            if let Some(e) = restore(Path::new(path), major, minor) {
                damaged.push(e);
            }
        }
        let nodes = nodes
            .iter()
            .map(|&(path, major, minor)| {
                let path = PathBuf::from(path);
                let print = fingerprint(&path);
                (path, major, minor, print)
            })
            .collect();
        if damaged.is_empty() {
            Ok(Nodes { nodes })
        } else {
            Err(format!("before this test: {}", damaged.join("; ")))
        }
    }

    /// Compares the nodes with the state taken; Err says what changed (and what was put back).
    pub fn check(&self) -> Result<(), String> {
        let mut changed = Vec::new();
        for (path, major, minor, before) in &self.nodes {
            let now = fingerprint(path);
            if now != *before {
                let restored = restore(path, *major, *minor).unwrap_or_default();
                changed.push(format!(
                    "{path:?} changed ({before:?} -> {now:?}) {restored}"
                ));
            }
        }
        if changed.is_empty() {
            Ok(())
        } else {
            Err(changed.join("; "))
        }
    }
}

/// Puts back the character device `path` (major, minor, mode 0666, owned by root) if it is
/// not that: a test replaced it, removed it or changed its mode, and every program on the
/// machine depends on it. A directory in its place is left for a person. None when it was
/// intact.
fn restore(path: &Path, major: u32, minor: u32) -> Option<String> {
    use rustix::fs::{FileType, Mode};
    let dev = rustix::fs::makedev(major, minor);
    let meta = std::fs::symlink_metadata(path).ok();
    let intact = meta.as_ref().is_some_and(|m| {
        FileType::from_raw_mode(m.mode()) == FileType::CharacterDevice
            && m.rdev() == dev
            && m.mode() & 0o7777 == 0o666
            && m.uid() == 0
            && m.gid() == 0
    });
    if intact {
        return None;
    }
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        return Some(format!(
            "{path:?} is a directory now: remove it and mknod it again"
        ));
    }
    if meta.is_some() {
        let _ = std::fs::remove_file(path);
    }
    let mode = Mode::from_raw_mode(0o666);
    let made = rustix::fs::mknodat(rustix::fs::CWD, path, FileType::CharacterDevice, mode, dev)
        .and_then(|()| rustix::fs::chmod(path, mode))
        .and_then(|()| {
            let root = Some(rustix::process::Uid::ROOT);
            rustix::fs::chown(path, root, Some(rustix::process::Gid::ROOT))
        });
    Some(match made {
        Ok(()) => format!("{path:?} was damaged and has been made again"),
        Err(e) => format!("{path:?} is damaged and could not be made again: {e}"),
    })
}
