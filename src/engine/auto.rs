//! `auto`: the order in which methods are tried, and when to move on to the next one.

use super::{Engine, EngineError, Transfer, finished};
use crate::options::Method;
use crate::report::counters::{Counters, Fallback, Outcome, Reason};
use rustix::io::Errno;

/// Copies with copy_file_range, then sendfile, then read-write, moving on only while nothing
/// has been copied, so no byte is written twice or skipped.
pub(super) fn copy(
    transfer: &Transfer<'_>,
    counters: &mut Counters,
) -> Result<Outcome, (Method, EngineError)> {
    let mut fallbacks = known(transfer);
    let chain: &[(Engine, Engine)] = match (
        transfer.may_share && !transfer.cross_device,
        transfer.src_regular,
    ) {
        (true, true) => &[
            (Engine::CopyFileRange, Engine::Sendfile),
            (Engine::Sendfile, Engine::ReadWrite),
        ],
        (false, true) => &[(Engine::Sendfile, Engine::ReadWrite)],
        (true, false) => &[(Engine::CopyFileRange, Engine::ReadWrite)],
        (false, false) => &[],
    };
    for &(engine, next) in chain {
        let result = transfer.run_auto(engine, counters);
        let reason = match auto_step(result, || transfer.source_has_data()) {
            Step::Done(bytes) => return Ok(finished(bytes, engine, fallbacks)),
            Step::Fail(e) => return Err((engine.into(), e)),
            Step::Next(reason) => reason,
        };
        fallbacks.push(Fallback {
            from: engine.into(),
            to: next.into(),
            reason,
        });
    }
    // read-write, the last resort: what it says is final.
    let engine = Engine::ReadWrite;
    let bytes = transfer
        .run_auto(engine, counters)
        .map_err(|e| (engine.into(), e))?;
    Ok(finished(bytes, engine, fallbacks))
}

/// The fallback known before any call (copy_file_range refused this pair of filesystems
/// before), recorded when shown, as if the call had been made again.
pub(super) fn known(transfer: &Transfer<'_>) -> Vec<Fallback> {
    if !(transfer.may_share && transfer.cross_device && transfer.shown) {
        return Vec::new();
    }
    vec![Fallback {
        from: Method::CopyFileRange,
        to: Method::Sendfile,
        reason: Reason::Refused(Errno::XDEV),
    }]
}

/// Whether runs of zeros may be looked for under `method` (--sparse=always): only a buffer
/// shows them, so `auto` then reads and writes (GNU's "copy offload: avoided"), as read-write
/// does; an in-kernel method the user chose is kept, and copies the data extents only.
pub(super) fn sees_zeros(method: Method) -> bool {
    matches!(method, Method::Auto | Method::ReadWrite)
}

/// What `auto` does after one method ran.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Done(u64),
    Next(Reason),
    Fail(EngineError),
}

/// `auto`'s decision table. An immediate end of file is believed only when the source really
/// has no byte where the copy stands (copy_file_range said 0 for /proc files on 5.3-5.18
/// kernels); a refusal before any byte moves on to the next method; anything else is final.
fn auto_step(result: Result<u64, EngineError>, has_data: impl FnOnce() -> Option<bool>) -> Step {
    match result {
        Ok(0) => match has_data() {
            Some(false) => Step::Done(0),
            Some(true) => Step::Next(Reason::NothingFromData),
            None => Step::Next(Reason::NothingUnprobed),
        },
        Ok(bytes) => Step::Done(bytes),
        Err(EngineError::Unsupported(errno)) => Step::Next(Reason::Refused(errno)),
        Err(e) => Step::Fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_does_not_take_an_empty_answer_for_an_empty_file() {
        let step = auto_step(Ok(0), || Some(true));
        assert_eq!(step, Step::Next(Reason::NothingFromData));
        assert_eq!(auto_step(Ok(0), || Some(false)), Step::Done(0));
        assert!(matches!(auto_step(Ok(0), || None), Step::Next(_)));
    }

    #[test]
    fn auto_falls_back_only_on_refusals() {
        let refused = Err(EngineError::Unsupported(Errno::XDEV));
        assert_eq!(
            auto_step(refused, || None),
            Step::Next(Reason::Refused(Errno::XDEV))
        );
        let full = Err(EngineError::Write(Errno::NOSPC));
        assert_eq!(
            auto_step(full, || None),
            Step::Fail(EngineError::Write(Errno::NOSPC))
        );
        assert_eq!(
            auto_step(Ok(7), || panic!("no probe needed")),
            Step::Done(7)
        );
    }
}
