//! `--compare --to-socket`: the seed write-ups' experiment. A file server sends SOURCE over a
//! TCP connection with read+write through a small buffer, with sendfile, or with splice
//! through a pipe, with and without TCP_CORK; here over loopback, to a receiver thread that
//! reads and discards, counting the bytes. The engines are fastcp's own, writing to the
//! socket instead of a file.

use super::{measure, print, rows, source, thread_usage};
use crate::engine::{EngineError, MAX_PER_CALL, Span, read_write, sendfile, splice};
use crate::error::misuse::Misuse;
use crate::error::{Error, Op};
use crate::options::{Compare, Method, Options};
use crate::report::compare::{Heading, Row, Sample, Target};
use crate::report::counters::Counters;
use crate::report::stats::Destination;
use std::io::Read;
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs every row over one loopback listener and prints the table.
pub(super) fn run(opts: &Options, settings: &Compare) -> Result<(), Error> {
    let src = match (opts.operands.as_slice(), &opts.target_directory) {
        ([src], None) => src,
        _ => return Err(Error::Usage(Misuse::SocketOneSource)),
    };
    let size = u64::try_from(source(src)?.st_size).unwrap_or(0);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| Error::io(Op::OpenRead, Path::new("127.0.0.1:0"), errno(&e)))?;
    let to = Destination::open(opts.stats_file.as_deref(), Destination::Stdout)?;
    let rows = rows(settings, opts.bufsize, &[Some(false), Some(true)]);
    let samples = measure(opts, settings, &rows, |row| {
        if settings.cold {
            super::evict(src)?;
        }
        transfer(&listener, src, size, row)
    })?;
    let heading = Heading {
        src,
        size,
        runs: settings.runs,
        cold: settings.cold,
        target: Target::Socket,
    };
    print(opts.stats, to, &heading, &rows, &samples)
}

fn errno(e: &std::io::Error) -> rustix::io::Errno {
    rustix::io::Errno::from_io_error(e).unwrap_or(rustix::io::Errno::IO)
}

/// The name messages give the connection.
fn peer(listener: &TcpListener) -> PathBuf {
    listener
        .local_addr()
        .map_or(PathBuf::from("127.0.0.1"), |a| PathBuf::from(a.to_string()))
}

/// Sends `src` once over a new connection and checks that every byte arrived. The time runs
/// until the receiver has counted the last byte; the cost is the sending thread's alone.
fn transfer(listener: &TcpListener, src: &Path, size: u64, row: Row) -> Result<Sample, Error> {
    let file = std::fs::File::open(src).map_err(|e| Error::io(Op::OpenRead, src, errno(&e)))?;
    let to = peer(listener);
    let write_error = |e: rustix::io::Errno| Error::io(Op::Write, &to, e);
    let addr = listener.local_addr().map_err(|e| write_error(errno(&e)))?;
    // connect completes through the listen backlog: the receiver accepts it afterwards.
    let stream = TcpStream::connect(addr).map_err(|e| write_error(errno(&e)))?;
    if let Some(cork) = row.cork {
        rustix::net::sockopt::set_tcp_cork(&stream, cork).map_err(write_error)?;
    }
    let mut counters = Counters::default();
    std::thread::scope(|scope| {
        let receiver = scope.spawn(|| receive(listener));
        let before = thread_usage();
        let started = Instant::now();
        let sent = send(&file, &stream, row, &mut counters);
        // A corked socket holds its last partial segment back: a server uncorks when done.
        if row.cork == Some(true) {
            let _ = rustix::net::sockopt::set_tcp_cork(&stream, false);
        }
        let cost = thread_usage().since(&before);
        // The receiver's end of file; `stream` itself is closed when the scope ends.
        let _ = stream.shutdown(Shutdown::Write);
        let received = receiver.join().unwrap_or(Err(rustix::io::Errno::IO));
        let wall = started.elapsed();
        let sent = sent.map_err(|e| match e {
            EngineError::Read(e) => Error::io(Op::Read, src, e),
            EngineError::Interrupted => Error::Interrupted,
            EngineError::NoProgress => Error::io(Op::Read, src, rustix::io::Errno::IO),
            EngineError::Unsupported(e)
            | EngineError::Write(e)
            | EngineError::Extend(e)
            | EngineError::WriteZeros(e)
            | EngineError::Deallocate(e)
            | EngineError::Transfer(e) => write_error(e),
        })?;
        let received = received.map_err(|e| Error::io(Op::Read, &to, e))?;
        if sent != size || received != size {
            return Err(Error::CompareBytes {
                method: crate::report::compare::row_name(&row),
                src: src.to_path_buf(),
                size,
                sent,
                received,
            });
        }
        let (calls, largest) = super::calls(&counters);
        Ok(Sample {
            wall,
            cost,
            calls,
            largest,
            bytes: received,
        })
    })
}

/// Sends the whole file with `row`'s method, as fastcp's engines copy: until the file ends.
fn send(
    file: &std::fs::File,
    stream: &TcpStream,
    row: Row,
    counters: &mut Counters,
) -> Result<u64, EngineError> {
    let span = Span {
        // sendfile without --bufsize asks for all it may (MAX_PER_CALL); splice's is the pipe.
        chunk: row.bufsize.unwrap_or(MAX_PER_CALL),
        limit: u64::MAX,
        hole_block: 0,
        short_end_at: None,
        finishes: false,
    };
    let (src, dst) = (file.as_fd(), stream.as_fd());
    match row.method {
        Method::Sendfile => sendfile::copy(src, dst, span, counters),
        Method::Splice => splice::copy(src, dst, span, counters),
        // Options refuse the others (copy_file_range writes only to files).
        _ => read_write::copy(src, dst, span, counters),
    }
}

/// Accepts one connection and reads it to its end, discarding, counting the bytes.
fn receive(listener: &TcpListener) -> Result<u64, rustix::io::Errno> {
    // Signals go to the sending thread, whose calls they must interrupt.
    crate::signals::block_here();
    let (mut conn, _) = listener.accept().map_err(|e| errno(&e))?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(errno(&e)),
        }
    }
}
