//! fastcp: a drop-in `cp` that lets you choose how the kernel moves the bytes.

mod cli;
mod copy;
mod engine;
mod error;
mod generate;
mod options;
mod plan;
mod quote;
mod report;

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(name) = args.first() {
        report::set_program_name(name.to_string_lossy().into_owned());
    }
    let request = match cli::parse(args) {
        Ok(request) => request,
        Err(e) => {
            report::error(&e);
            return ExitCode::FAILURE;
        }
    };
    match request {
        cli::Request::Print(text) => {
            if text.ends_with('\n') {
                print!("{text}");
            } else {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        cli::Request::Generate(dir) => match generate::write_all(&dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                report::error(&e);
                ExitCode::FAILURE
            }
        },
        cli::Request::Copy(options) => run(&options),
    }
}

/// Copies every job, reporting each failure and going on with the next, as GNU cp does.
fn run(options: &options::Options) -> ExitCode {
    let started = Instant::now();
    let plan = match plan::plan(options) {
        Ok(plan) => plan,
        Err(e) => {
            report::error(&e);
            return ExitCode::FAILURE;
        }
    };
    let mut session = copy::Session::new(options);
    let mut failed = false;
    for job in &plan.jobs {
        if let Err(e) = session.copy(job, plan.into_directory) {
            report::error(&e);
            failed = true;
        }
    }
    if let Some(format) = options.stats {
        eprint!("{}", session.summary.render(format, started.elapsed()));
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
