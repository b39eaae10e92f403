//! fastcp: a drop-in `cp` that lets you choose how the kernel moves the bytes.

// The entry point is C's `main` (see below), not Rust's runtime start; the unit tests keep
// the test harness's.
#![cfg_attr(not(test), no_main)]

mod cli;
mod compare;
mod copy;
mod engine;
mod error;
mod fs;
mod options;
mod plan;
mod report;
mod signals;

use std::process::ExitCode;
use std::time::Instant;

/// The program's entry, called by the C library as C's `main`. Rust's own start would set
/// SIGPIPE to ignored first, and the disposition fastcp was started with would be lost: GNU
/// cp is killed by SIGPIPE when the reader of its output goes away (`cp -v ... | head -1`:
/// 141), unless its caller ignores it (`trap '' PIPE`: the copy goes on, and ends with
/// "write error: Broken pipe").
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    use std::os::unix::ffi::OsStrExt;
    standard_descriptors();
    let count = usize::try_from(argc).unwrap_or(0);
    let args = (0..count)
        .map(|i| {
            // SAFETY: the C library passes argc valid, NUL-terminated strings in argv.
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_os_string()
        })
        .collect();
    libc::c_int::from(fastcp(args) != ExitCode::SUCCESS)
}

/// Opens /dev/null on standard input, output or error when the caller closed it, as Rust's
/// start-up does: a file the copy opens must never become fd 1 and receive the -v lines.
#[cfg_attr(test, allow(dead_code))]
fn standard_descriptors() {
    for fd in 0..3 {
        // SAFETY: F_GETFD only asks whether `fd` is open; open(2) takes a C string.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
            {
                if libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) != fd {
                    libc::abort();
                }
                match fd {
                    1 => report::stdout_was_closed(),
                    2 => report::stderr_was_closed(),
                    _ => {}
                }
            }
        }
    }
}

#[cfg_attr(test, allow(dead_code))]
fn fastcp(args: Vec<std::ffi::OsString>) -> ExitCode {
    // The locale is read once, here, before any thread starts (setlocale is not thread-safe).
    error::quote::utf8_locale();
    if let Some(name) = args.first() {
        report::set_program_name(name.to_string_lossy().into_owned());
    }
    // A panic is a bug, but users get one line in cp's style and exit status 1, not a Rust
    // backtrace. The tests fail on this line too.
    std::panic::set_hook(Box::new(|info| {
        report::error(&error::Error::Internal(info.to_string()));
        // Release builds abort on panic (no unwinding tables to load); exit as cp would.
        std::process::exit(1);
    }));
    let request = match cli::parse(args) {
        Ok(request) => request,
        Err(e) => {
            report::error(&e);
            return ExitCode::FAILURE;
        }
    };
    let code = match request {
        cli::Request::Print(text) => {
            report::out(&text);
            if !text.ends_with('\n') {
                report::out("\n");
            }
            ExitCode::SUCCESS
        }
        cli::Request::Generate(dir) => match cli::generate::write_all(&dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                report::error(&e);
                ExitCode::FAILURE
            }
        },
        cli::Request::Copy(options) if options.recursive => run_with_deep_stack(&options),
        cli::Request::Copy(options) => run(&options),
    };
    // The -v lines gathered for a pipe or a file are written now; a reader gone meanwhile
    // ends fastcp by SIGPIPE here, as it ends cp at its last write.
    report::flush_out_at_exit();
    if let Some(signal) = signals::pending() {
        signals::reraise(signal);
    }
    report::exit_status(code)
}

/// A recursive copy descends one stack frame group per directory level, and trees can be
/// thousands of levels deep: it runs on a thread with a large stack (address space only; the
/// pages are used as the depth needs them). Plain file copies stay on the main thread: a
/// second thread makes every read and write take the file-position lock (see progress.rs).
fn run_with_deep_stack(options: &options::Options) -> ExitCode {
    const STACK: usize = 1 << 30;
    copy::dirfd::grow_table(options);
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("copy".into())
            .stack_size(STACK)
            .spawn_scoped(scope, || run(options));
        if worker.is_ok() {
            signals::block_here();
        }
        let joined = worker.map(|handle| handle.join());
        // This thread writes the last -v lines: a closed pipe must raise SIGPIPE here, not
        // leave it pending on a blocked thread (which ended cp by "write error", status 1).
        signals::unblock_here();
        match joined {
            Ok(Ok(code)) => code,
            // The thread could not start (no memory for its stack) or panicked: copy here.
            Ok(Err(_)) => ExitCode::FAILURE,
            Err(_) => run(options),
        }
    })
}

/// Copies every job, reporting each failure and going on with the next, as GNU cp does.
fn run(options: &options::Options) -> ExitCode {
    let started = Instant::now();
    if let Some(settings) = &options.compare {
        return match compare::run(options, settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                report::error(&e);
                ExitCode::FAILURE
            }
        };
    }
    let plan = match plan::plan(options) {
        Ok(plan) => plan,
        Err(e) => {
            report::error(&e);
            return ExitCode::FAILURE;
        }
    };
    let unbacked;
    let options = if plan.backups_off {
        let mut copy = options.clone();
        copy.overwrite.backup = None;
        unbacked = copy;
        &unbacked
    } else {
        options
    };
    let stats_to = match report::stats::Destination::open(
        options.stats_file.as_deref(),
        report::stats::Destination::Stderr,
    ) {
        Ok(to) => to,
        Err(e) => {
            report::error(&e);
            return ExitCode::FAILURE;
        }
    };
    let pairs: Vec<_> = plan
        .jobs
        .iter()
        .map(|j| (j.src.clone(), j.dst.clone()))
        .collect();
    let progress = report::progress::Progress::start(options, &pairs);
    signals::install();
    let mut summary = copy::parallel::copy_all(
        options,
        &plan,
        crate::report::counters::Counters::with_progress(progress),
    );
    summary.counters.finish_progress();
    if let Some(signal) = signals::pending() {
        signals::reraise(signal);
    }
    if let Some(format) = options.stats {
        let measured = crate::report::stats::Measured {
            summary: &summary,
            elapsed: started.elapsed(),
            usage: report::usage::Usage::now(),
        };
        if let Err(e) = stats_to.write(&measured.render(format)) {
            report::error(&e);
            return ExitCode::FAILURE;
        }
    }
    if summary.failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
