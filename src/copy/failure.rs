//! Maps an engine's failure to the one error type, naming the file and the side that failed.

use crate::engine::EngineError;
use crate::error::{Error, MethodRefusal, Op};
use crate::options::Method;
use rustix::io::Errno;
use std::path::Path;

/// The error for a file whose data `method` failed to move (`chosen`: what the user asked for).
pub(crate) fn engine_error(
    (src, dst): (&Path, &Path),
    chosen: Method,
    method: Method,
    e: EngineError,
) -> Error {
    let refused = |reason| Error::MethodRefused {
        method: chosen.name(),
        src: src.to_path_buf(),
        dst: dst.to_path_buf(),
        reason,
    };
    match e {
        EngineError::Unsupported(errno) => refused(MethodRefusal::Kernel(errno)),
        EngineError::NoProgress => refused(MethodRefusal::CopiedNothing(method.name())),
        EngineError::Read(errno) => Error::io(Op::Read, src, errno),
        EngineError::Write(errno) => Error::io(Op::Write, dst, errno),
        EngineError::Extend(errno) => Error::io(Op::Extend, dst, errno),
        EngineError::WriteZeros(errno) => Error::io(Op::WriteZeros, dst, errno),
        EngineError::Deallocate(errno) => Error::io(Op::Deallocate, dst, errno),
        EngineError::Interrupted => Error::Interrupted,
        EngineError::Transfer(errno) => Error::Copying {
            src: src.to_path_buf(),
            dst: dst.to_path_buf(),
            errno,
        },
    }
}

/// Whether a failure is a signal's doing (EINTR, or a signal pending): never a reason to
/// remove a destination.
pub(crate) fn interrupted(e: &Error) -> bool {
    matches!(
        e,
        Error::Io {
            errno: Errno::INTR,
            ..
        }
    ) || crate::signals::pending().is_some()
}
