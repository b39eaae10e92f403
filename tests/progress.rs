//! The progress line as a user sees it: frames captured from a pseudo-terminal at the start,
//! in the middle, at the end and after SIGINT; the plain lines of a log; `--progress`'s
//! optional value. The copies are made slow by the test itself, not by their size: the
//! destination of one file is a FIFO that the test reads in small steps (fastcp writes into
//! an existing FIFO as cp does), so every size is known and the copy waits for the test.

mod util;

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use util::{Scratch, fastcp, fastcp_path, pattern};

/// Erase to the end of the line: ends every frame.
const EL: &str = "\x1b[K";
/// What an erased line looks like: back to the start, erase.
const CLEAR: &str = "\r\x1b[K";

/// fastcp running with its stdout and stderr on a pseudo-terminal, and what the terminal got.
struct OnPty {
    child: Child,
    started: Instant,
    screen: Arc<Mutex<(Vec<u8>, Option<Instant>)>>,
    stop: Arc<AtomicBool>,
    reader: JoinHandle<()>,
}

impl OnPty {
    /// Starts fastcp with `args` on a terminal `cols` columns wide.
    fn start(args: &[OsString], cols: u16) -> OnPty {
        let (mut master, mut slave) = (-1, -1);
        let size = libc::winsize {
            ws_row: 24,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty fills two descriptors, owned from here on.
        let (master, slave) = unsafe {
            let made = libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            );
            assert_eq!(made, 0, "openpty");
            libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC);
            libc::fcntl(slave, libc::F_SETFD, libc::FD_CLOEXEC);
            (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave))
        };
        let started = Instant::now();
        let child = Command::new(fastcp_path())
            .env_clear()
            .env("TERM", "xterm")
            .env("LC_ALL", "C")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        let screen = Arc::new(Mutex::new((Vec::new(), None)));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (screen, stop) = (screen.clone(), stop.clone());
            std::thread::spawn(move || read_all(master, &screen, &stop))
        };
        OnPty {
            child,
            started,
            screen,
            stop,
            reader,
        }
    }

    /// What the terminal got so far.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap().0).into_owned()
    }

    /// How long after the start the first byte came.
    fn first_output(&self) -> Option<Duration> {
        let first = self.screen.lock().unwrap().1?;
        Some(first - self.started)
    }

    /// Waits for fastcp to end; its status and everything the terminal got.
    fn finish(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        self.stop.store(true, Ordering::SeqCst);
        let screen = self.screen.clone();
        self.reader.join().unwrap();
        let text = String::from_utf8_lossy(&screen.lock().unwrap().0).into_owned();
        (status, text)
    }
}

/// Reads the terminal's master side until fastcp has ended and nothing more comes.
fn read_all(mut master: File, screen: &Mutex<(Vec<u8>, Option<Instant>)>, stop: &AtomicBool) {
    let mut buf = [0u8; 4096];
    loop {
        let mut poll = libc::pollfd {
            fd: master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, for a descriptor this thread owns.
        let ready = unsafe { libc::poll(&mut poll, 1, 100) };
        if ready <= 0 {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            continue;
        }
        match master.read(&mut buf) {
            Ok(n) if n > 0 => {
                let mut s = screen.lock().unwrap();
                s.0.extend_from_slice(&buf[..n]);
                s.1.get_or_insert_with(Instant::now);
            }
            // EIO: every slave descriptor is closed.
            _ => return,
        }
    }
}

/// The frames drawn: the text between each `\r` and the erase that ends it.
fn frames(screen: &str) -> Vec<&str> {
    screen
        .split('\r')
        .filter_map(|part| part.strip_suffix(EL))
        .filter(|text| !text.is_empty())
        .collect()
}

/// The percentage a frame shows, if any.
fn percent(frame: &str) -> Option<u32> {
    frame.split('%').next()?.trim().parse().ok()
}

/// The files a frame counts, as `(done, total)`.
fn files(frame: &str) -> Option<(u32, u32)> {
    let at = frame.find(" files")?;
    let figures = frame[..at].rsplit(' ').next()?;
    let (done, total) = figures.split_once('/')?;
    Some((done.parse().ok()?, total.parse().ok()?))
}

/// A tree of three 1 MiB files, `src/a`, `src/<slow>`, `src/c`, and a destination whose
/// `<slow>` is a FIFO: the copy of that file waits for the test to read it.
fn slow_tree(s: &Scratch, slow: &str) -> (PathBuf, PathBuf, PathBuf) {
    for (i, name) in ["a", slow, "c"].iter().enumerate() {
        s.write(Path::new("src").join(name), &pattern(1 << 20, i as u64));
    }
    s.mkdir("dst");
    let fifo = s.fifo(Path::new("dst").join(slow));
    (s.join("src"), s.join("dst"), fifo)
}

/// Reads `fifo` in steps of `step` bytes every 50 ms until `enough` says so (it is given
/// the bytes read so far); returns the open FIFO and the bytes read.
fn trickle(fifo: &Path, step: usize, mut enough: impl FnMut(usize) -> bool) -> (File, Vec<u8>) {
    let mut f = File::open(fifo).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; step];
    while !enough(got.len()) {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        std::thread::sleep(Duration::from_millis(50));
    }
    (f, got)
}

/// Reads until the terminal shows at least `n` frames (or 900 KiB came through, or 20 s
/// passed, so a broken display fails the test rather than hanging it).
fn trickle_until_frames(pty: &OnPty, fifo: &Path, n: usize) -> (File, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    trickle(fifo, 16 * 1024, |read| {
        frames(&pty.screen()).len() >= n || read > 900 * 1024 || Instant::now() > deadline
    })
}

fn tree_args(jobs: Option<&str>, src: &Path, dst: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["-rT".into()];
    args.extend(jobs.map(OsString::from));
    args.extend([src.into(), dst.into()]);
    args
}

/// Start, middle and end of a tree copy on a terminal: nothing in the first second, a first
/// frame without a made-up `0 B/s`, a middle frame with a percentage and `x/3 files`, and at
/// the end the line erased with nothing after it.
fn tree_frames(jobs: Option<&str>) {
    let s = Scratch::new();
    let (src, dst, fifo) = slow_tree(&s, "b");
    let pty = OnPty::start(&tree_args(jobs, &src, &dst), 100);
    let (mut f, mut got) = trickle_until_frames(&pty, &fifo, 3);
    let middle = pty.screen();
    f.read_to_end(&mut got).unwrap();
    let first_output = pty.first_output();
    let (status, screen) = pty.finish();
    assert!(status.success(), "{status:?} {screen:?}");
    assert_eq!(got, pattern(1 << 20, 1));
    // Nothing is drawn before the copy has run for a second (a loaded machine can only make
    // it later).
    let first_output = first_output.expect("something was drawn");
    assert!(
        first_output >= Duration::from_millis(900),
        "{first_output:?}"
    );
    let shown = frames(&middle);
    assert!(shown.len() >= 3, "{middle:?}");
    assert!(!shown[0].contains(" 0 B/s"), "first frame: {:?}", shown[0]);
    let last = shown[shown.len() - 1];
    let p = percent(last).unwrap_or_else(|| panic!("no percentage: {last:?}"));
    assert!((1..=99).contains(&p), "{last:?}");
    let (done, total) = files(last).unwrap_or_else(|| panic!("no file count: {last:?}"));
    assert!(done <= 2 && total == 3, "{last:?}");
    assert!(
        last.contains(" / 3.0 MiB") && last.contains("/s"),
        "{last:?}"
    );
    // The end: the last frame is erased, and nothing follows.
    let (before, after) = screen.rsplit_once(CLEAR).expect("the line is erased");
    assert_eq!(after, "", "{screen:?}");
    assert!(before.ends_with(EL), "{screen:?}");
}

#[test]
fn tree_frames_one_thread() {
    tree_frames(Some("-j1"));
}

#[test]
fn tree_frames_default_threads() {
    tree_frames(None);
}

/// Ctrl-C in the middle of a copy: the line is erased, and fastcp ends by SIGINT.
fn interrupted(args: Vec<OsString>, fifo: &Path) {
    let pty = OnPty::start(&args, 100);
    let (f, _) = trickle_until_frames(&pty, fifo, 2);
    assert!(frames(&pty.screen()).len() >= 2, "{:?}", pty.screen());
    // SAFETY: a signal to the child this test started, which has not been waited for.
    unsafe {
        libc::kill(pty.child.id() as i32, libc::SIGINT);
    }
    let (status, screen) = pty.finish();
    drop(f);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?} {screen:?}");
    let (before, after) = screen.rsplit_once(CLEAR).expect("the line is erased");
    assert_eq!(after, "", "{screen:?}");
    assert!(before.ends_with(EL), "{screen:?}");
}

#[test]
fn sigint_erases_the_line_of_a_tree_copy_one_thread() {
    let s = Scratch::new();
    let (src, dst, fifo) = slow_tree(&s, "b");
    interrupted(tree_args(Some("-j1"), &src, &dst), &fifo);
}

#[test]
fn sigint_erases_the_line_of_a_tree_copy_default_threads() {
    let s = Scratch::new();
    let (src, dst, fifo) = slow_tree(&s, "b");
    interrupted(tree_args(None, &src, &dst), &fifo);
}

#[test]
fn sigint_erases_the_line_of_a_single_file_copy() {
    let s = Scratch::new();
    let src = s.write("big", &pattern(4 << 20, 3));
    let fifo = s.fifo("out");
    interrupted(vec![src.into(), fifo.clone().into()], &fifo);
}

/// A single file: a percentage of its size, no file count; a long name with control
/// characters is shortened to the terminal's width and shown without them.
#[test]
fn names_fit_the_terminal_and_show_no_control_characters() {
    let s = Scratch::new();
    let name = format!(
        "{}\x1b]0;title\x07\n{}.bin",
        "\u{e9}".repeat(60),
        "z".repeat(40)
    );
    let (src, dst, fifo) = slow_tree(&s, &name);
    let pty = OnPty::start(&tree_args(Some("-j1"), &src, &dst), 90);
    let (mut f, mut got) = trickle_until_frames(&pty, &fifo, 2);
    f.read_to_end(&mut got).unwrap();
    let (status, screen) = pty.finish();
    assert!(status.success(), "{status:?} {screen:?}");
    let shown = frames(&screen);
    assert!(!shown.is_empty(), "{screen:?}");
    for frame in &shown {
        assert!(frame.chars().count() <= 89, "{frame:?}");
        assert!(!frame.chars().any(char::is_control), "{frame:?}");
    }
    assert!(
        shown
            .iter()
            .any(|f| f.contains("...") && f.ends_with("z.bin")),
        "{shown:?}"
    );
}

/// Off a terminal, `--progress=always` writes a plain line every few seconds, each with the
/// percentage, the bytes, the files and the rate, and a last line when the copy ends.
#[test]
fn always_writes_plain_lines_into_a_pipe() {
    let s = Scratch::new();
    let (src, dst, fifo) = slow_tree(&s, "b");
    let log = s.join("log");
    let mut child = std::process::Command::new(fastcp_path())
        .env_clear()
        .args(["--progress=always", "-rT"])
        .args([&src, &dst])
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // 4 KiB every 50 ms: 1 MiB takes over 12 s, and lines are due every 5 s; once one is
    // there, the rest of the file is read at once.
    let (mut f, mut got) = trickle(&fifo, 4096, |_| {
        std::fs::read_to_string(&log).is_ok_and(|text| text.contains('\n'))
    });
    f.read_to_end(&mut got).unwrap();
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?} {text}");
    assert!(!text.contains('\r') && !text.contains('\x1b'), "{text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2, "{text}");
    for line in &lines[..lines.len() - 1] {
        let p = percent(line).unwrap_or_else(|| panic!("no percentage: {line:?}"));
        assert!(p < 100, "{line}");
        assert!(files(line).is_some() && line.contains("/s"), "{line}");
    }
    let last = lines[lines.len() - 1];
    assert!(
        last.starts_with("100% 3.0 MiB / 3.0 MiB, 3/3 files, in 0:"),
        "{text}"
    );
}

/// `auto` draws nothing when stderr is not a terminal, however long the copy.
#[test]
fn auto_draws_nothing_into_a_pipe() {
    let s = Scratch::new();
    let (src, dst, fifo) = slow_tree(&s, "b");
    let child = std::process::Command::new(fastcp_path())
        .env_clear()
        .args(["--progress=auto", "-rT"])
        .args([&src, &dst])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let (mut f, mut got) = trickle(&fifo, 16 * 1024, |_| {
        started.elapsed() > Duration::from_secs(2)
    });
    f.read_to_end(&mut got).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// `--progress`'s value is optional, so as with getopt it must be attached with `=`: a
/// separate word is an operand (`--progress auto b` copies the file named `auto`).
#[test]
fn progress_value_needs_an_equals_sign() {
    let s = Scratch::new();
    s.write("auto", b"the file named auto");
    fastcp()
        .current_dir(s.path())
        .args(["--progress", "auto", "b"])
        .assert()
        .success();
    assert_eq!(s.read("b"), b"the file named auto");
    fastcp()
        .current_dir(s.path())
        .args(["--progress=auto", "auto", "c"])
        .assert()
        .success();
    assert_eq!(s.read("c"), b"the file named auto");
}

/// Regression: one copy_file_range or sendfile call may move 2 GiB, and the display hears of
/// bytes only between calls: a 4 GiB copy showed two percentages (the line sat, then jumped).
/// While a display may be drawn, `auto` moves at most 64 MiB a call; without one, as much as
/// Linux takes. A chosen --method is being measured: its calls stay as large as it allows.
#[test]
fn a_display_hears_of_large_copies_every_64_mib() {
    let s = Scratch::new();
    let src = s.write("big", &pattern(80 << 20, 5));
    let largest = |args: &[&str], call: &str, dst: &str| {
        let mut all: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        let dst = s.join(dst);
        all.extend([src.as_os_str(), dst.as_os_str()]);
        let stats = util::copy_with_stats(&all);
        stats["syscalls"][call]["max"].as_u64().unwrap()
    };
    let cfr = "copy_file_range";
    assert_eq!(largest(&["--progress=always"], cfr, "shown"), 64 << 20);
    assert_eq!(largest(&["--progress=never"], cfr, "quiet"), 80 << 20);
    for (method, call) in [
        ("--method=copy-file-range", cfr),
        ("--method=sendfile", "sendfile"),
    ] {
        let chosen = largest(&["--progress=always", method], call, call);
        assert_eq!(chosen, 80 << 20, "{method}");
    }
}

/// Regression: a copy onto the terminal itself (`fastcp file /dev/stdout` on a terminal)
/// drew its line over the data it had just copied there, erasing the last row of it. `auto`
/// now draws nothing when a destination is the terminal stderr is on, as cp shows only the
/// data.
#[test]
fn a_copy_onto_the_terminal_draws_no_line_over_its_data() {
    let s = Scratch::new();
    let fifo = s.fifo("in");
    let pty = OnPty::start(&[fifo.clone().into(), "/dev/stdout".into()], 80);
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let mut sent = String::new();
    // Longer than the grace period, in pieces that do not end a line.
    for i in 0..16 {
        let piece = format!("data{i:02} ");
        std::io::Write::write_all(&mut writer, piece.as_bytes()).unwrap();
        sent.push_str(&piece);
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(writer);
    let (status, screen) = pty.finish();
    assert_eq!(status.code(), Some(0), "{screen:?}");
    assert!(screen.contains(sent.trim_end()), "{screen:?}");
    assert!(!screen.contains(EL), "a line was drawn: {screen:?}");
}

/// Regression: a resumed copy counted every source in the total but never what --resume kept,
/// so the line started near 0% and never reached 100%. What is kept counts as done: a file
/// found complete (2 MiB, and one file), and the 1 MiB a partial one already held.
#[test]
fn what_resume_keeps_counts_as_done() {
    let s = Scratch::new();
    let (kept, partial) = (pattern(2 << 20, 1), pattern(2 << 20, 2));
    let (k, p) = (s.write("src/k", &kept), s.write("src/p", &partial));
    let b = s.write("src/b", &pattern(1 << 20, 3));
    s.write("dst/k", &kept);
    s.write("dst/p", &partial[..1 << 20]);
    let fifo = s.fifo("dst/b");
    let args: Vec<OsString> = vec![
        "--resume".into(),
        k.into(),
        p.into(),
        b.into(),
        s.join("dst").into(),
    ];
    let pty = OnPty::start(&args, 100);
    let (mut f, mut got) = trickle_until_frames(&pty, &fifo, 3);
    let middle = pty.screen();
    f.read_to_end(&mut got).unwrap();
    let (status, screen) = pty.finish();
    assert!(status.success(), "{status:?} {screen:?}");
    assert_eq!(got, pattern(1 << 20, 3));
    assert_eq!(s.read("dst/p"), partial);
    let shown = frames(&middle);
    let last = shown
        .last()
        .unwrap_or_else(|| panic!("no frame: {middle:?}"));
    // 4 MiB of 5 were there or written before b, which is read slowly.
    let p = percent(last).unwrap_or_else(|| panic!("no percentage: {last:?}"));
    assert!((80..=99).contains(&p), "{last:?}");
    assert!(last.contains(" / 5.0 MiB"), "{last:?}");
    assert_eq!(files(last), Some((2, 3)), "{last:?}");
}
