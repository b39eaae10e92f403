//! Shared helpers for the integration tests: clean commands, scratch directories, tree
//! snapshots and side-by-side runs against GNU cp.
#![allow(dead_code)]

pub mod acl;
mod devices;
pub mod hygiene;

// Not every test file uses each of these.
#[allow(unused_imports)]
pub use devices::{LoopDevice, char_device_at};
#[allow(unused_imports)]
pub use hygiene::{Cmd, check_args};

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

/// The environment every command gets: nothing of the caller's leaks in (locale, POSIXLY_CORRECT,
/// VERSION_CONTROL...), so messages and behaviour are the same on every machine.
fn clean(mut cmd: Command) -> Command {
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("LC_ALL", "C");
    cmd
}

/// fastcp, with a clean environment, refusing to run a command line that reaches outside
/// the scratch directories (util/hygiene.rs).
pub fn fastcp() -> Cmd {
    Cmd::new(clean(Command::cargo_bin("fastcp").expect("fastcp binary")))
}

/// GNU cp, with the same clean environment and the same check.
pub fn gnu_cp() -> Cmd {
    Cmd::new(clean(Command::new("/bin/cp")))
}

/// The path of the fastcp binary, for commands built by hand (setpriv, shells, strace): their
/// command lines are not checked, so only the device-node check of `Scratch` guards them.
pub fn fastcp_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("fastcp")
}

/// A temporary directory that others can enter, so tests that drop privileges can use it.
/// It also checks that the machine's /dev/null, zero, full, random and urandom are the same
/// when it is dropped as when it was made (util/hygiene.rs).
pub struct Scratch {
    dir: tempfile::TempDir,
    nodes: hygiene::Nodes,
}

impl Scratch {
    pub fn new() -> Scratch {
        let nodes = hygiene::Nodes::take(&hygiene::SHARED_NODES)
            .unwrap_or_else(|e| panic!("test hygiene: a test damaged a device node {e}"));
        let dir = tempfile::Builder::new()
            .prefix(hygiene::SCRATCH_PREFIX)
            .tempdir()
            .expect("temp dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch { dir, nodes }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `data` to `rel`, creating parent directories.
    pub fn write(&self, rel: impl AsRef<Path>, data: &[u8]) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, data).unwrap();
        path
    }

    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let path = self.join(rel);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    pub fn read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        std::fs::read(self.join(rel)).unwrap()
    }

    /// Makes a file of `len` bytes at `rel`, all of them a hole: they read as zeros, so a copy
    /// with --sparse=never writes them all and lasts long enough to be interrupted.
    pub fn holes(&self, rel: impl AsRef<Path>, len: u64) -> PathBuf {
        let path = self.join(rel);
        std::fs::File::create(&path).unwrap().set_len(len).unwrap();
        path
    }

    /// Makes a FIFO at `rel`.
    pub fn fifo(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.node(rel, rustix::fs::FileType::Fifo, 0)
    }

    /// Makes a character device node at `rel` (`null`: 1, 3; `zero`: 1, 5; `full`: 1, 7): a
    /// test that writes to a device writes to its own node, never to the machine's /dev.
    pub fn char_device(&self, rel: impl AsRef<Path>, major: u32, minor: u32) -> PathBuf {
        let dev = rustix::fs::makedev(major, minor);
        self.node(rel, rustix::fs::FileType::CharacterDevice, dev)
    }

    /// Makes a node of `kind` at `rel`.
    fn node(&self, rel: impl AsRef<Path>, kind: rustix::fs::FileType, dev: u64) -> PathBuf {
        let path = self.join(rel);
        devices::make_node(&path, kind, dev);
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = self.nodes.check()
            && !std::thread::panicking()
        {
            panic!(
                "test hygiene: while this test ran (or one beside it), something outside its \
                 scratch directory was changed: {e}"
            );
        }
    }
}

/// A filesystem mounted on a scratch directory for one test (a loop-mounted image or a
/// tmpfs), unmounted however the test ends.
pub struct Mounted {
    pub mount: PathBuf,
    /// The scratch directory holding the mount point and image, when this made it.
    _scratch: Option<Scratch>,
}

impl Mounted {
    /// A 512 MiB sparse image made by `mkfs` (the program and its arguments; the image's path
    /// is added) and loop-mounted with mount's `options` (`loop` is added). None, with the
    /// reason printed, where that cannot be done.
    pub fn image(mkfs: &[&str], options: &str) -> Option<Mounted> {
        let scratch = Scratch::new();
        let image = scratch.holes("fs.img", 512 << 20);
        if !quiet(
            std::process::Command::new(mkfs[0])
                .args(&mkfs[1..])
                .arg(&image),
        ) {
            skip(format_args!("{} failed (install its package)", mkfs[0]));
            return None;
        }
        let mount = scratch.mkdir("mnt");
        let mut cmd = std::process::Command::new("mount");
        let options = format!("loop{}{options}", if options.is_empty() { "" } else { "," });
        if !quiet(cmd.args(["-o", &options]).arg(&image).arg(&mount)) {
            skip(format_args!(
                "mounting a {} image was refused here",
                mkfs[0]
            ));
            return None;
        }
        Some(Mounted {
            mount,
            _scratch: Some(scratch),
        })
    }

    /// An ext2 image whose inodes (128 bytes) keep times in whole seconds, for the
    /// comparisons that allow for a filesystem's time resolution; None, said why, without
    /// root.
    pub fn whole_seconds() -> Option<Mounted> {
        if !require_root("loop-mount an ext2 image") {
            return None;
        }
        Mounted::image(&["mkfs.ext2", "-q", "-F", "-I", "128"], "")
    }

    /// A 64 MiB FAT image mounted through FUSE (fusefat): a filesystem that refuses chown,
    /// chmod, symlinks and FIFOs (ENOSYS), keeps times to 2 s and folds the case of names.
    /// None, said why, without root or fusefat.
    pub fn fusefat() -> Option<Mounted> {
        if !require_root("mount a FUSE filesystem") {
            return None;
        }
        let scratch = Scratch::new();
        let image = scratch.holes("fat.img", 64 << 20);
        if !quiet(std::process::Command::new("mkfs.vfat").arg(&image)) {
            skip("mkfs.vfat failed (install dosfstools)");
            return None;
        }
        let mount = scratch.mkdir("mnt");
        let mut cmd = std::process::Command::new("fusefat");
        if !quiet(cmd.args(["-o", "rw+"]).arg(&image).arg(&mount)) {
            skip("fusefat failed (install fusefat; FUSE needs /dev/fuse)");
            return None;
        }
        Some(Mounted {
            mount,
            _scratch: Some(scratch),
        })
    }

    /// A tmpfs of `size` (mount's size=).
    pub fn tmpfs(size: &str) -> Option<Mounted> {
        let scratch = Scratch::new();
        let mut fs = Mounted::tmpfs_on(scratch.mkdir("mnt"), size)?;
        fs._scratch = Some(scratch);
        Some(fs)
    }

    /// A tmpfs of `size` mounted on `mount`, a directory in the test's own scratch directory,
    /// unmounted before that is removed (when dropped first: declared after the `Scratch`).
    pub fn tmpfs_on(mount: PathBuf, size: &str) -> Option<Mounted> {
        let real = std::fs::canonicalize(&mount).unwrap();
        assert!(
            hygiene::in_scratch(&real),
            "test hygiene: mounting on {mount:?}, outside the scratch directories"
        );
        let mut cmd = std::process::Command::new("mount");
        let options = format!("size={size}");
        if !quiet(
            cmd.args(["-t", "tmpfs", "-o", &options, "tmpfs"])
                .arg(&mount),
        ) {
            skip("cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Mounted {
            mount,
            _scratch: None,
        })
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.mount.join(rel)
    }

    /// Bytes in use on the filesystem.
    pub fn used(&self) -> u64 {
        let _ = std::process::Command::new("sync")
            .arg("-f")
            .arg(&self.mount)
            .status();
        let st = rustix::fs::statvfs(&self.mount).unwrap();
        (st.f_blocks - st.f_bfree) * st.f_frsize
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.mount)
            .status();
    }
}

/// Makes a FIFO at `path` with permission bits `mode` (before the umask), for set-ups that
/// are given a directory rather than a `Scratch`.
pub fn mkfifo(path: &Path, mode: u32) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(mode),
        0,
    )
    .unwrap();
}

/// Starts fastcp with `args` and an empty environment, for a test that signals it.
pub fn spawn_fastcp<I: AsRef<OsStr>>(args: impl IntoIterator<Item = I>) -> std::process::Child {
    std::process::Command::new(fastcp_path())
        .env_clear()
        .args(args)
        .spawn()
        .unwrap()
}

/// Sends `signal` to `child` after `after`, and returns how long it took to end and the signal
/// that ended it (None: it exited); fails the test if it still runs 10 s after the signal.
pub fn stop(
    mut child: std::process::Child,
    signal: rustix::process::Signal,
    after: std::time::Duration,
) -> (std::time::Duration, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};
    std::thread::sleep(after);
    let sent = Instant::now();
    rustix::process::kill_process(rustix::process::Pid::from_child(&child), signal).unwrap();
    let deadline = sent + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (sent.elapsed(), status.signal());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("fastcp did not stop within 10 s of the signal");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `cmd` with its output discarded; whether it succeeded.
pub fn quiet(cmd: &mut std::process::Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// strace, quiet, ready to run a program with each call `call` (as `-e inject` selects it:
/// `when=1` for the first only) held back `micros` before it is made; a test changes the
/// files meanwhile. Add the program and its arguments.
pub fn strace_delaying(call: &str, micros: u64, when: &str) -> std::process::Command {
    strace_injecting(call, &format!("delay_enter={micros}{when}"))
}

/// `strace_delaying`, with each call held back `micros` after it was made, before it returns.
pub fn strace_delaying_return(call: &str, micros: u64, when: &str) -> std::process::Command {
    strace_injecting(call, &format!("delay_exit={micros}{when}"))
}

fn strace_injecting(call: &str, inject: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("trace={call}"))
        .arg("-e")
        .arg(format!("inject={call}:{inject}"));
    cmd
}

/// Whether `path` is on a filesystem where fastcp takes a call that moves less than it asked,
/// at the file's size, for the end of the file (ext4, XFS, btrfs, tmpfs, f2fs): then no call
/// is made to find the end, and a file copies in one call where it would take two elsewhere.
pub fn short_means_end(path: &Path) -> bool {
    let out = std::process::Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(path)
        .output()
        .unwrap();
    let kind = String::from_utf8_lossy(&out.stdout);
    ["ext2/ext3", "xfs", "btrfs", "tmpfs", "f2fs"].contains(&kind.trim())
}

/// Deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One entry of a tree snapshot: what `ls -l` and `cmp` would tell about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File { mode: u32, data: Vec<u8> },
    Dir { mode: u32 },
    Symlink { target: PathBuf },
    Other { mode: u32, kind: u32, rdev: u64 },
}

/// Attributes compared on request: owner, modification time, and hard-link group (the first
/// path, in sorted order, of the names sharing the inode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attrs {
    pub uid: u32,
    pub gid: u32,
    pub mtime: Option<(i64, i64)>,
    pub link_group: Option<PathBuf>,
    pub kind: u32,
}

/// Owner, times (when `times`), and hard-link groups of every path below `root`.
pub fn attributes(root: &Path, times: bool) -> BTreeMap<PathBuf, Attrs> {
    let tree = snapshot(root);
    let mut first_name: BTreeMap<(u64, u64), PathBuf> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for rel in tree.keys() {
        let meta = std::fs::symlink_metadata(root.join(rel)).unwrap();
        let key = (meta.dev(), meta.ino());
        let link_group = (meta.nlink() > 1 && !meta.is_dir())
            .then(|| first_name.entry(key).or_insert_with(|| rel.clone()).clone());
        // A directory's own mtime changes when entries are added; symlinks too are compared.
        out.insert(
            rel.clone(),
            Attrs {
                uid: meta.uid(),
                gid: meta.gid(),
                mtime: times.then(|| (meta.mtime(), meta.mtime_nsec())),
                link_group,
                kind: meta.mode() & 0o170000,
            },
        );
    }
    out
}

/// Every extended attribute of every path below `root`, by name, with its value.
pub fn xattrs(root: &Path) -> BTreeMap<PathBuf, BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for rel in snapshot(root).keys() {
        let path = root.join(rel);
        let mut names = vec![0u8; 4096];
        let len = rustix::fs::llistxattr(&path, &mut names[..]).unwrap();
        let mut values = BTreeMap::new();
        for name in names[..len].split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let name = String::from_utf8(name.to_vec()).unwrap();
            let mut value = vec![0u8; 4096];
            let n = rustix::fs::lgetxattr(&path, name.as_str(), &mut value[..]).unwrap();
            values.insert(name, value[..n].to_vec());
        }
        out.insert(rel.clone(), values);
    }
    out
}

/// Every path below `root` (not following symlinks) with its type, permission bits and content.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Entry>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        let mode = meta.mode() & 0o7777;
        let ft = meta.file_type();
        let e = if ft.is_symlink() {
            Entry::Symlink {
                target: std::fs::read_link(&path).unwrap(),
            }
        } else if ft.is_dir() {
            walk(root, &path, out);
            Entry::Dir { mode }
        } else if ft.is_file() {
            Entry::File {
                mode,
                data: std::fs::read(&path).unwrap(),
            }
        } else {
            Entry::Other {
                mode,
                kind: meta.mode() & 0o170000,
                rdev: meta.rdev(),
            }
        };
        out.insert(rel, e);
    }
}

/// Replaces the program path at the start of each message with `cp`, so GNU's and ours compare.
pub fn normalize(stderr: &[u8], program: &str) -> String {
    String::from_utf8_lossy(stderr).replace(program, "cp")
}

/// Asserts that fastcp said what GNU cp said (program names aside) and exited as it did.
pub fn assert_same_words(ours: &Output, gnu: &Output) {
    let prog = fastcp_path().to_string_lossy().into_owned();
    assert_eq!(
        normalize(&ours.stderr, &prog),
        normalize(&gnu.stderr, "/bin/cp")
    );
    assert_eq!(ours.status.code(), gnu.status.code());
}

/// The outcome of one side of a differential run.
#[derive(Debug)]
pub struct Side {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub tree: BTreeMap<PathBuf, Entry>,
}

fn side(output: Output, program: &str, dir: &Path) -> Side {
    Side {
        code: output.status.code().unwrap_or(-1),
        stdout: normalize(&output.stdout, program),
        stderr: normalize(&output.stderr, program),
        tree: snapshot(dir),
    }
}

/// Builds the same fixture twice, runs GNU cp in one copy and fastcp in the other with `args`
/// (relative to each fixture), and returns what each printed, with its fixture.
pub fn run_side_by_side(setup: impl Fn(&Path), args: &[&OsStr]) -> [(Output, Scratch); 2] {
    let theirs = Scratch::new();
    let ours = Scratch::new();
    setup(theirs.path());
    setup(ours.path());
    let gnu = gnu_cp()
        .current_dir(theirs.path())
        .args(args)
        .output()
        .unwrap();
    // A copy that runs away (a directory copied into itself without end) fails the test
    // instead of filling the disk.
    let fast = fastcp()
        .current_dir(ours.path())
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    [(gnu, theirs), (fast, ours)]
}

/// `run_side_by_side`, and both sides.
pub fn differential(setup: impl Fn(&Path), args: &[&OsStr]) -> (Side, Side) {
    let [(gnu, theirs), (fast, ours)] = run_side_by_side(setup, args);
    let ours_program = fastcp_path().to_string_lossy().into_owned();
    (
        side(gnu, "/bin/cp", theirs.path()),
        side(fast, &ours_program, ours.path()),
    )
}

/// Asserts that fastcp behaves as GNU cp on `args`: exit status, messages, resulting tree.
pub fn assert_same_as_gnu(setup: impl Fn(&Path), args: &[&str]) -> Side {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    assert_same_as_gnu_os(setup, &args)
}

/// `assert_same_as_gnu`, also comparing owners, hard-link groups and (when `times`)
/// modification times to the nanosecond below `under` (a path inside the fixture).
pub fn assert_same_attributes_as_gnu(
    setup: impl Fn(&Path),
    args: &[&str],
    under: &str,
    times: bool,
) {
    let os: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    let [(gnu, theirs), (fast, ours)] = run_side_by_side(setup, &os);
    let prog = fastcp_path().to_string_lossy().into_owned();
    assert_eq!(
        normalize(&fast.stderr, &prog),
        normalize(&gnu.stderr, "/bin/cp"),
        "stderr differs for {args:?}"
    );
    assert_eq!(fast.status.code(), gnu.status.code(), "{args:?}");
    assert_eq!(snapshot(ours.path()), snapshot(theirs.path()), "{args:?}");
    assert_eq!(
        attributes(&ours.join(under), times),
        attributes(&theirs.join(under), times),
        "attributes differ for {args:?}"
    );
}

/// `assert_same_as_gnu` for arguments that are not UTF-8.
pub fn assert_same_as_gnu_os(setup: impl Fn(&Path), args: &[&OsStr]) -> Side {
    let (gnu, ours) = differential(setup, args);
    assert_eq!(ours.stderr, gnu.stderr, "stderr differs for {args:?}");
    assert_eq!(ours.code, gnu.code, "exit status differs for {args:?}");
    assert_eq!(ours.stdout, gnu.stdout, "stdout differs for {args:?}");
    assert_eq!(ours.tree, gnu.tree, "resulting tree differs for {args:?}");
    ours
}

/// Runs fastcp with `--stats=json` and `args`, asserts success, and returns the stats.
pub fn copy_with_stats(args: &[&OsStr]) -> serde_json::Value {
    let output = fastcp().arg("--stats=json").args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    stats_json(&output.stderr)
}

/// The last `--stats=json` object in a command's stderr.
pub fn stats_json(stderr: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON stats in stderr: {text}"));
    serde_json::from_str(line).expect("stats JSON parses")
}

/// Asserts two files have identical bytes, reading in chunks so multi-GiB files fit.
pub fn assert_same_bytes(a: &Path, b: &Path) {
    use std::io::Read;
    let (la, lb) = (
        std::fs::metadata(a).unwrap().len(),
        std::fs::metadata(b).unwrap().len(),
    );
    assert_eq!(la, lb, "sizes differ: {a:?} {b:?}");
    let mut fa = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(a).unwrap());
    let mut fb = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(b).unwrap());
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut offset = 0u64;
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            break;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            let i = ba[..n]
                .iter()
                .zip(&bb[..n])
                .position(|(x, y)| x != y)
                .unwrap();
            panic!("{a:?} and {b:?} differ at offset {}", offset + i as u64);
        }
        offset += n as u64;
    }
}

/// Runs `program` (GNU cp or fastcp) as the unprivileged user nobody in `dir` with `args`,
/// which must stay inside `dir` (test hygiene).
pub fn as_nobody(program: &Path, dir: &Path, args: &[&str]) -> Output {
    let os: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    if let Err(e) = check_args(dir, &os) {
        panic!("test hygiene: {program:?} {args:?} {e}");
    }
    clean(Command::new("setpriv"))
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// `differential`, with both programs run as the unprivileged user `nobody`: root bypasses
/// permission checks, so permission errors only show under a dropped uid.
pub fn differential_unprivileged(setup: impl Fn(&Path), args: &[&str]) -> (Side, Side) {
    let run = |program: &Path, dir: &Path| as_nobody(program, dir, args);
    let theirs = Scratch::new();
    let ours = Scratch::new();
    setup(theirs.path());
    setup(ours.path());
    let gnu = run(Path::new("/bin/cp"), theirs.path());
    let fast = run(&fastcp_path(), ours.path());
    let ours_program = fastcp_path().to_string_lossy().into_owned();
    (
        side(gnu, "/bin/cp", theirs.path()),
        side(fast, &ours_program, ours.path()),
    )
}

/// Asserts that fastcp, run as nobody, behaves as GNU cp does as nobody on `args` (see
/// `differential_unprivileged`): messages, exit status, resulting tree. Returns fastcp's side.
pub fn assert_same_as_gnu_unprivileged(setup: impl Fn(&Path), args: &[&str]) -> Side {
    let (gnu, ours) = differential_unprivileged(setup, args);
    assert_eq!(ours.stderr, gnu.stderr, "stderr differs for {args:?}");
    assert_eq!(ours.code, gnu.code, "exit status differs for {args:?}");
    assert_eq!(ours.tree, gnu.tree, "resulting tree differs for {args:?}");
    ours
}

/// Says on stderr that the running test skips, and why (`cargo test -- --nocapture` shows it).
pub fn skip(why: impl std::fmt::Display) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    eprintln!("skipped: {test}: {why}");
}

/// Whether this process runs as root; when it does not, says that the running test skips
/// because it needs root `to` do something (`if !util::require_root("drop to nobody") {
/// return; }`). CI runs the tests as root (.ci/run), so there they all run.
pub fn require_root(to: &str) -> bool {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        skip(format_args!("needs root to {to}"));
    }
    root
}

/// For output whose order follows the source's inode numbers (-v lines, the order of errors):
/// builds the fixture once, runs GNU cp and fastcp on that one source with `{dst}` in `args`
/// replaced by `gnu-out` and `our-out`, and compares output (with the names swapped back) and
/// the two copies.
pub fn assert_same_on_one_source(setup: impl Fn(&Path), args: &[&str]) {
    assert_same_on_one_source_with(setup, args, &[], false);
}

/// `assert_same_on_one_source`, with `ours` added to fastcp's arguments only (GNU has no -j),
/// and with `unordered`, output compared line by line in any order (copying threads print
/// their -v lines in the order they finish).
pub fn assert_same_on_one_source_with(
    setup: impl Fn(&Path),
    args: &[&str],
    ours: &[&str],
    unordered: bool,
) {
    let s = Scratch::new();
    setup(s.path());
    let with =
        |name: &str| -> Vec<String> { args.iter().map(|a| a.replace("{dst}", name)).collect() };
    let gnu = gnu_cp()
        .current_dir(s.path())
        .args(with("gnu-out"))
        .output()
        .unwrap();
    let fast = fastcp()
        .current_dir(s.path())
        .args(with("our-out"))
        .args(ours)
        .output()
        .unwrap();
    let prog = fastcp_path().to_string_lossy().into_owned();
    let text = |b: &[u8], p: &str, name: &str| {
        let text = normalize(b, p).replace(name, "OUT");
        if !unordered {
            return text;
        }
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    };
    let what = format!("{args:?} {ours:?}");
    assert_eq!(
        text(&fast.stdout, &prog, "our-out"),
        text(&gnu.stdout, "/bin/cp", "gnu-out"),
        "stdout differs for {what}"
    );
    assert_eq!(
        text(&fast.stderr, &prog, "our-out"),
        text(&gnu.stderr, "/bin/cp", "gnu-out"),
        "stderr differs for {what}"
    );
    assert_eq!(fast.status.code(), gnu.status.code(), "{what}");
    let tree = |name: &str| {
        let p = s.join(name);
        if p.exists() {
            snapshot(&p)
        } else {
            BTreeMap::new()
        }
    };
    assert_eq!(tree("our-out"), tree("gnu-out"), "copies differ for {what}");
}

/// One run of a command in a fresh fixture: status, output and the resulting tree with its
/// hard-link groups, everything a user could tell apart.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub tree: BTreeMap<PathBuf, Entry>,
    pub links: BTreeMap<PathBuf, Option<PathBuf>>,
}

/// Runs `args` with GNU cp and with fastcp, each in its own fixture made by `setup`, with
/// `stdin` as standard input and `env` added to the clean environment.
pub fn run_both(
    setup: impl Fn(&Path),
    args: &[&str],
    stdin: &[u8],
    env: &[(&str, &str)],
) -> (Outcome, Outcome) {
    run_pair(setup, (args, args), stdin, env)
}

/// `run_both` with fastcp's own arguments (GNU's plus fastcp's options, such as -j).
pub fn run_pair(
    setup: impl Fn(&Path),
    (gnu_args, our_args): (&[&str], &[&str]),
    stdin: &[u8],
    env: &[(&str, &str)],
) -> (Outcome, Outcome) {
    let run = |mut cmd: Cmd, program: &str, args: &[&str]| {
        let s = Scratch::new();
        setup(s.path());
        cmd.current_dir(s.path())
            .args(args)
            .write_stdin(stdin.to_vec());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: normalize(&out.stdout, program),
            stderr: normalize(&out.stderr, program),
            tree: snapshot(s.path()),
            links: attributes(s.path(), false)
                .into_iter()
                .map(|(path, attrs)| (path, attrs.link_group))
                .collect(),
        }
    };
    let ours_program = fastcp_path().to_string_lossy().into_owned();
    (
        run(gnu_cp(), "/bin/cp", gnu_args),
        run(fastcp(), &ours_program, our_args),
    )
}

/// Asserts that fastcp, given `args` and then `ours` (its own options, such as -j), does what
/// GNU cp does with `args`, hard links included.
pub fn assert_same_outcome_with(setup: impl Fn(&Path), args: &[&str], ours: &[&str]) -> Outcome {
    let mine: Vec<&str> = ours.iter().chain(args).copied().collect();
    let (gnu, fast) = run_pair(setup, (args, &mine), b"", &[]);
    assert_eq!(
        fast, gnu,
        "fastcp (left) and GNU cp (right) differ for {mine:?}"
    );
    fast
}

/// Asserts that fastcp does what GNU cp does, hard links included (see `run_both`).
pub fn assert_same_outcome(setup: impl Fn(&Path), args: &[&str]) -> Outcome {
    let (gnu, ours) = run_both(setup, args, b"", &[]);
    assert_eq!(
        ours, gnu,
        "fastcp (left) and GNU cp (right) differ for {args:?}"
    );
    ours
}

/// `run_both` as the unprivileged user nobody (setpriv), with `stdin` as standard input.
pub fn run_unprivileged_with_stdin(
    setup: impl Fn(&Path),
    args: &[&str],
    stdin: &[u8],
) -> (Outcome, Outcome) {
    let run = |program: &Path| {
        let s = Scratch::new();
        setup(s.path());
        let os: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        if let Err(e) = check_args(s.path(), &os) {
            panic!("test hygiene: {program:?} {args:?} {e}");
        }
        let mut child = clean(Command::new("setpriv"))
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(program)
            .args(args)
            .current_dir(s.path())
            .write_stdin(stdin.to_vec())
            .output()
            .unwrap();
        let shown = program.to_string_lossy().into_owned();
        child.stderr = normalize(&child.stderr, &shown).into_bytes();
        Outcome {
            code: child.status.code().unwrap_or(-1),
            stdout: normalize(&child.stdout, &shown),
            stderr: String::from_utf8_lossy(&child.stderr).into_owned(),
            tree: snapshot(s.path()),
            links: attributes(s.path(), false)
                .into_iter()
                .map(|(path, attrs)| (path, attrs.link_group))
                .collect(),
        }
    };
    (run(Path::new("/bin/cp")), run(&fastcp_path()))
}

/// One `#[test]` per case, each comparing fastcp with GNU cp on a fixture (status, messages,
/// -v lines, resulting tree): `same_as_gnu! { fixture; name: ["-r", "a", "b"], ... }`.
#[macro_export]
macro_rules! same_as_gnu {
    ($fixture:expr; $($name:ident: [$($arg:expr),*]),* $(,)?) => {$(
        #[test]
        fn $name() {
            $crate::util::assert_same_as_gnu($fixture, &[$($arg),*]);
        }
    )*};
}

/// One `#[test]` per copy method, so a failure names its method (as ripgrep's `rgtest!` runs
/// one body per regex engine): a module named after the case, holding a test named after each
/// method, which runs the body with `method` bound to the name `--method` takes.
///
/// ```ignore
/// per_method!(holes_are_kept, |method| { ... });  // holes_are_kept::auto, ::read_write, ...
/// per_method!(fifo_is_read, [auto, read_write], |method| { ... });  // only these methods
/// ```
///
/// The methods are `METHODS` (tests/engines.rs checks they are the ones fastcp takes).
#[macro_export]
macro_rules! per_method {
    (@arg auto) => { "auto" };
    (@arg read_write) => { "read-write" };
    (@arg sendfile) => { "sendfile" };
    (@arg copy_file_range) => { "copy-file-range" };
    (@arg splice) => { "splice" };
    // Every method: the names of `METHODS`.
    ($name:ident, |$method:ident| $body:expr) => {
        $crate::per_method!(
            $name,
            [auto, read_write, sendfile, copy_file_range, splice],
            |$method| $body
        );
    };
    ($name:ident, [$($each:ident),+ $(,)?], |$method:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn case($method: &'static str) {
                $body
            }

            $(
                #[test]
                fn $each() {
                    case($crate::per_method!(@arg $each));
                }
            )+
        }
    };
}

/// The names `--method` takes, each of which `per_method!` runs a case under by default.
pub const METHODS: [&str; 5] = [
    "auto",
    "read-write",
    "sendfile",
    "copy-file-range",
    "splice",
];
