//! Files past 2 GiB and 4 GiB copy completely with every engine. One sendfile or
//! copy_file_range call moves at most 0x7ffff000 bytes, so these are the tests that prove the
//! loops loop: a tool that trusts one call silently truncates here.

mod util;

use std::io::{Seek, SeekFrom, Write};
use std::sync::Mutex;
use util::{Scratch, assert_same_bytes, fastcp, stats_json};

/// The most one call moves (Linux MAX_RW_COUNT).
const MAX_PER_CALL: u64 = 0x7fff_f000;
const GIB: u64 = 1 << 30;

/// One multi-GiB copy at a time: they are disk- and page-cache-heavy.
static SERIAL: Mutex<()> = Mutex::new(());

/// A sparse file of 4 GiB + 4097 bytes, with data on both sides of every boundary that
/// matters: the per-call limit, 2 GiB, 4 GiB (32-bit overflow) and the end.
fn sparse_source(s: &Scratch) -> std::path::PathBuf {
    let path = s.join("big");
    let mut f = std::fs::File::create(&path).unwrap();
    let len = 4 * GIB + 4097;
    f.set_len(len).unwrap();
    for (i, at) in [
        0,
        MAX_PER_CALL - 3,
        2 * GIB - 5,
        2 * MAX_PER_CALL - 1,
        4 * GIB - 7,
        len - 20,
    ]
    .into_iter()
    .enumerate()
    {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(format!("marker {i} at {at}\n").as_bytes())
            .unwrap();
    }
    f.set_len(len).unwrap();
    path
}

per_method!(copies_past_4_gib, |method| {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = Scratch::new();
    let src = sparse_source(&s);
    let dst = s.join("copy");
    // --sparse=never: the holes must go through the engines too, or there is no 4 GiB to move.
    let output = fastcp()
        .arg(format!("--method={method}"))
        .arg("--sparse=never")
        .arg("--stats=json")
        .arg(&src)
        .arg(&dst)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_same_bytes(&src, &dst);
    let stats = stats_json(&output.stderr);
    let len = std::fs::metadata(&src).unwrap().len();
    assert_eq!(stats["bytes"], len);
    // The method that did the copy (auto's choice depends on the filesystem).
    let used = stats["methods"]["regular"].as_object().unwrap();
    assert_eq!(used.len(), 1, "{stats}");
    let (call, moves) = match used.keys().next().unwrap().as_str() {
        "sendfile" => ("sendfile", 1),
        "read-write" => ("read", 1),
        // Into the pipe and out of it.
        "splice" => ("splice", 2),
        _ => ("copy_file_range", 1),
    };
    let calls = &stats["syscalls"][call];
    // At least three calls move the data: no call moves more than MAX_PER_CALL. (The call
    // that finds the end is not made on ext4, where the last one, moving less than asked at
    // the file's size, is the end.)
    assert!(calls["calls"].as_u64().unwrap() >= 3, "{method}: {stats}");
    assert!(
        calls["max"].as_u64().unwrap() <= MAX_PER_CALL,
        "{method}: {stats}"
    );
    assert_eq!(calls["bytes"], moves * len);
});
