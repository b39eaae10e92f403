//! Whether an existing destination is older than its source, as GNU's -u decides it (gnulib's
//! utimecmp): when times are preserved, the source's mtime is first cut to what the
//! destination's filesystem can store. A copy made with -p onto a filesystem of 1-second
//! times (ext2/3 with 128-byte inodes) or 2-second times (FAT) then holds a cut time, and a
//! plain comparison would take it for older than its source and copy it again, or under
//! `-ul` remove it to make a link.
//!
//! The resolution is learnt once per filesystem: an upper bound from the destination's
//! own atime, ctime and mtime (their trailing zero digits), and, where that leaves it
//! coarser than a nanosecond and the two times are close, the exact value from setting the
//! destination's mtime to one with more digits and reading back what was kept (its mtime is
//! put back after).

use super::At;
use super::ids::NumMap;
use rustix::fs::{AtFlags, Stat, Timespec, Timestamps};
use std::cmp::Ordering;

const BILLION: i64 = 1_000_000_000;
/// The coarsest resolution there is (FAT's): two seconds.
const TWO_SECONDS: i64 = 2 * BILLION;

/// A filesystem's timestamp resolution in nanoseconds: a power of 10 up to a billion, or
/// TWO_SECONDS; an upper bound until `exact`.
#[derive(Clone, Copy)]
struct Resolution {
    ns: i64,
    exact: bool,
}

/// The resolutions learnt so far, by device.
#[derive(Default)]
pub(crate) struct Resolutions(NumMap<u64, Resolution>);

fn mtime(st: &Stat) -> (i64, i64) {
    (st.st_mtime, st.st_mtime_nsec as i64)
}

/// The coarsest resolution (at most `most`) that the nanoseconds `parts` all fit, with
/// `odd_second` saying whether any of their seconds is odd (which rules out TWO_SECONDS).
fn bound(parts: [i64; 3], odd_second: bool, most: i64) -> i64 {
    let [mut a, mut c, mut m] = parts;
    let mut res = 1;
    while res < most && [a, c, m].iter().all(|d| d % 10 == 0) {
        if res == BILLION {
            if !odd_second {
                res = TWO_SECONDS;
            }
            break;
        }
        res *= 10;
        (a, c, m) = (a / 10, c / 10, m / 10);
    }
    res
}

/// The resolution shown by an mtime read back after setting one with nonzero digits below
/// `bound` (and an odd second at TWO_SECONDS).
fn read_back(st: &Stat, bound: i64) -> i64 {
    let mut digits = BILLION * (st.st_mtime & 1) + st.st_mtime_nsec as i64;
    let mut res = 1;
    while digits % 10 == 0 {
        if res == BILLION {
            res = TWO_SECONDS;
            break;
        }
        res *= 10;
        if res == bound {
            break;
        }
        digits /= 10;
    }
    res
}

impl Resolutions {
    /// How the destination `dst`'s mtime compares with the source's, with the source's cut
    /// to the destination filesystem's resolution when `truncate` (times preserved). None
    /// when that resolution could not be learnt (the destination's times may not be set):
    /// GNU then copies.
    pub(crate) fn compare(
        &mut self,
        dst: At<'_>,
        (dst_st, src_st): (&Stat, &Stat),
        truncate: bool,
    ) -> Option<Ordering> {
        let ((dst_s, dst_ns), (mut src_s, mut src_ns)) = (mtime(dst_st), mtime(src_st));
        if !truncate || (dst_s, dst_ns) == (src_s, src_ns) {
            return Some((dst_s, dst_ns).cmp(&(src_s, src_ns)));
        }
        // No filesystem is coarser than two seconds.
        if dst_s <= src_s - 2 {
            return Some(Ordering::Less);
        }
        if src_s <= dst_s - 2 {
            return Some(Ordering::Greater);
        }
        let known = *self.0.entry(dst_st.st_dev).or_insert(Resolution {
            ns: TWO_SECONDS,
            exact: false,
        });
        let res = if known.exact {
            known.ns
        } else {
            let res = self.learn(dst, (dst_st, src_st), known.ns)?;
            match res {
                Ok(res) => res,
                Err(order) => return Some(order),
            }
        };
        if res == TWO_SECONDS {
            src_s &= !1;
        }
        src_ns -= src_ns % res;
        Some((dst_s, dst_ns).cmp(&(src_s, src_ns)))
    }

    /// Learns the resolution of `dst`'s filesystem, whose known upper bound is `most`:
    /// `Err` when the times differ so that the answer is known without it.
    fn learn(
        &mut self,
        dst: At<'_>,
        (dst_st, src_st): (&Stat, &Stat),
        most: i64,
    ) -> Option<Result<i64, Ordering>> {
        let dev = dst_st.st_dev;
        let odd = (dst_st.st_atime | dst_st.st_ctime | dst_st.st_mtime) & 1 != 0;
        let parts = [
            dst_st.st_atime_nsec as i64,
            dst_st.st_ctime_nsec as i64,
            dst_st.st_mtime_nsec as i64,
        ];
        let mut res = bound(parts, odd, most);
        self.0.insert(
            dev,
            Resolution {
                ns: res,
                exact: false,
            },
        );
        if res > 1 {
            let ((dst_s, dst_ns), (src_s, src_ns)) = (mtime(dst_st), mtime(src_st));
            let cut_s = if res == TWO_SECONDS {
                src_s & !1
            } else {
                src_s
            };
            if (src_s, src_ns) <= (dst_s, dst_ns) {
                return Some(Err(Ordering::Greater));
            }
            if (dst_s, dst_ns) < (cut_s, src_ns - src_ns % res) {
                return Some(Err(Ordering::Less));
            }
            res = read_back(&probe(dst, dst_st, res)?, res);
        }
        self.0.insert(
            dev,
            Resolution {
                ns: res,
                exact: true,
            },
        );
        Some(Ok(res))
    }
}

/// Sets `dst`'s mtime to one with nonzero digits below `res` (and an odd second), reads back
/// what the filesystem kept, and puts the mtime back where it changed; the atime is set to
/// what it was. None when the times could not be set or read.
fn probe(dst: At<'_>, st: &Stat, res: i64) -> Option<Stat> {
    let at = |s: i64, ns: i64| Timespec {
        tv_sec: s,
        tv_nsec: ns as _,
    };
    let atime = at(st.st_atime, st.st_atime_nsec as i64);
    let odd = i64::from(res == TWO_SECONDS);
    let tried = Timestamps {
        last_access: atime,
        last_modification: at(st.st_mtime | odd, st.st_mtime_nsec as i64 + res / 9),
    };
    let nofollow = AtFlags::SYMLINK_NOFOLLOW;
    rustix::fs::utimensat(dst.dir, dst.name, &tried, nofollow).ok()?;
    let kept = rustix::fs::statat(dst.dir, dst.name, nofollow);
    if kept.as_ref().is_ok_and(|k| mtime(k) == mtime(st)) {
        return kept.ok();
    }
    let back = Timestamps {
        last_access: atime,
        last_modification: at(st.st_mtime, st.st_mtime_nsec as i64),
    };
    let _ = rustix::fs::utimensat(dst.dir, dst.name, &back, nofollow);
    kept.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_the_coarsest_the_digits_allow() {
        assert_eq!(bound([5, 0, 0], false, TWO_SECONDS), 1);
        assert_eq!(bound([0, 0, 123_000_000], false, TWO_SECONDS), 1_000_000);
        assert_eq!(bound([0, 0, 0], true, TWO_SECONDS), BILLION);
        assert_eq!(bound([0, 0, 0], false, TWO_SECONDS), TWO_SECONDS);
        assert_eq!(bound([0, 0, 0], false, 1_000), 1_000);
    }
}
