//! Every engine copies every size at every buffer size byte for byte, and counts its calls.

mod util;

use proptest::prelude::*;
use std::ffi::OsStr;
use util::{Scratch, copy_with_stats, fastcp, pattern, stats_json};

const MIB: usize = 1 << 20;

/// Sizes around the edges that matter for a buffer of `bufsize` bytes.
fn sizes_for(bufsize: usize) -> Vec<usize> {
    let mut sizes = vec![0, 1, 4095, 4096, 4097, 2 * MIB + 3];
    for s in [bufsize - 1, bufsize, bufsize + 1] {
        if !sizes.contains(&s) {
            sizes.push(s);
        }
    }
    sizes
}

/// Copies one file per size into a directory in a single run and checks every byte and the
/// byte count fastcp reports.
fn copies_all_sizes(method: &str, bufsize: Option<usize>) {
    let s = Scratch::new();
    let out = s.mkdir("out");
    let sizes = sizes_for(bufsize.unwrap_or(128 * 1024));
    let mut cmd = fastcp();
    cmd.arg(format!("--method={method}")).arg("--stats=json");
    if let Some(b) = bufsize {
        cmd.arg(format!("--bufsize={b}"));
    }
    for (i, size) in sizes.iter().enumerate() {
        cmd.arg(s.write(format!("f{size}"), &pattern(*size, i as u64)));
    }
    let output = cmd.arg(&out).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    for (i, size) in sizes.iter().enumerate() {
        let got = s.read(format!("out/f{size}"));
        assert!(got == pattern(*size, i as u64), "size {size} differs");
    }
    let stats = stats_json(&output.stderr);
    assert_eq!(stats["files"], sizes.len() as u64);
    assert_eq!(stats["bytes"], sizes.iter().sum::<usize>() as u64);
    if method != "auto" {
        assert_eq!(
            stats["methods"]["regular"][method],
            sizes.len() as u64,
            "{stats}"
        );
    }
}

per_method!(default_bufsize, |method| copies_all_sizes(method, None));
per_method!(bufsize_1, |method| copies_all_sizes(method, Some(1)));
per_method!(bufsize_7, |method| copies_all_sizes(method, Some(7)));
per_method!(bufsize_4096, |method| copies_all_sizes(method, Some(4096)));
per_method!(bufsize_1mib, |method| copies_all_sizes(method, Some(MIB)));

per_method!(any_size_any_bufsize, |method| {
    proptest!(
        ProptestConfig::with_cases(24),
        |(size in 0usize..300_000, bufsize in 1usize..70_000, seed in any::<u64>())| {
            let s = Scratch::new();
            let data = pattern(size, seed);
            let src = s.write("src", &data);
            let dst = s.join("dst");
            let output = fastcp()
                .arg(format!("--method={method}"))
                .arg(format!("--bufsize={bufsize}"))
                .arg(&src)
                .arg(&dst)
                .output()
                .unwrap();
            prop_assert!(output.status.success(), "{:?}", output);
            prop_assert!(std::fs::read(&dst).unwrap() == data);
        }
    );
});

/// The call counts are exact: 1 MiB through an 8 KiB buffer is 128 full reads, one read that
/// finds the end, and 128 writes.
#[test]
fn read_write_call_counts_are_exact() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(MIB, 1));
    let dst = s.join("dst");
    let stats = copy_with_stats(&[
        OsStr::new("--method=read-write"),
        OsStr::new("--bufsize=8192"),
        src.as_os_str(),
        dst.as_os_str(),
    ]);
    assert_eq!(stats["syscalls"]["read"]["calls"], 129);
    assert_eq!(stats["syscalls"]["read"]["data_calls"], 128);
    assert_eq!(stats["syscalls"]["read"]["min"], 8192);
    assert_eq!(stats["syscalls"]["read"]["max"], 8192);
    assert_eq!(stats["syscalls"]["write"]["calls"], 128);
    assert_eq!(stats["syscalls"]["write"]["bytes"], MIB as u64);
}

// `--bufsize` is the count asked of each in-kernel call too.
per_method!(
    bufsize_bounds_kernel_calls,
    [sendfile, copy_file_range],
    |method| {
        let call = method.replace('-', "_");
        let s = Scratch::new();
        let src = s.write("src", &pattern(MIB, 2));
        let dst = s.join("dst");
        let method_arg = format!("--method={method}");
        let stats = copy_with_stats(&[
            OsStr::new(&method_arg),
            OsStr::new("--bufsize=64K"),
            src.as_os_str(),
            dst.as_os_str(),
        ]);
        assert_eq!(
            stats["syscalls"][&call]["calls"], 17,
            "{method}: 16 full calls and EOF"
        );
        assert_eq!(stats["syscalls"][&call]["max"], 65536);
    }
);

// A file smaller than one call is copied in one call where a call that moves less than it
// asked stops only at the end of the file (ext4, XFS, btrfs, tmpfs): no call is made to find
// the end. Elsewhere the end is the call that returns 0. Either way the data is whole.
per_method!(
    small_file_needs_no_call_to_find_its_end,
    [sendfile, copy_file_range, read_write],
    |method| {
        let call = match method {
            "read-write" => "read".to_string(),
            _ => method.replace('-', "_"),
        };
        let s = Scratch::new();
        let data = pattern(10_000, 3);
        let src = s.write("src", &data);
        let dst = s.join("dst");
        let method_arg = format!("--method={method}");
        let stats = copy_with_stats(&[OsStr::new(&method_arg), src.as_os_str(), dst.as_os_str()]);
        assert!(s.read("dst") == data, "{method}");
        let calls = if util::short_means_end(s.path()) {
            1
        } else {
            2
        };
        assert_eq!(
            stats["syscalls"][&call]["calls"], calls,
            "{method}: {stats}"
        );
        assert_eq!(stats["syscalls"][&call]["bytes"], 10_000, "{method}");
    }
);

/// splice moves each chunk twice (file to pipe, pipe to file) through a pipe of --bufsize
/// bytes; a pipe larger than an unprivileged user may have keeps its default size.
#[test]
fn splice_goes_through_a_pipe_of_bufsize() {
    let s = Scratch::new();
    let src = s.write("src", &pattern(MIB, 2));
    let dst = s.join("dst");
    let stats = copy_with_stats(&[
        OsStr::new("--method=splice"),
        OsStr::new("--bufsize=64K"),
        src.as_os_str(),
        dst.as_os_str(),
    ]);
    assert_eq!(stats["syscalls"]["splice"]["data_calls"], 32, "{stats}");
    assert_eq!(stats["syscalls"]["splice"]["calls"], 33, "{stats}");
    assert_eq!(stats["syscalls"]["splice"]["max"], 65536, "{stats}");
    assert_eq!(
        stats["syscalls"]["splice"]["bytes"],
        2 * MIB as u64,
        "{stats}"
    );
    assert_eq!(std::fs::read(&dst).unwrap(), pattern(MIB, 2));
    // Default: a 512 KiB pipe, two chunks each way.
    let stats = copy_with_stats(&[
        OsStr::new("--method=splice"),
        src.as_os_str(),
        s.join("dst2").as_os_str(),
    ]);
    assert_eq!(stats["syscalls"]["splice"]["max"], 512 * 1024, "{stats}");
    assert_eq!(stats["syscalls"]["splice"]["data_calls"], 4, "{stats}");
    if !util::require_root("drop to nobody, whose pipes pipe-max-size limits") {
        return;
    }
    // As nobody, 8 MiB is over pipe-max-size: the pipe stays at its default 64 KiB.
    std::fs::set_permissions(
        s.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(util::fastcp_path())
        .args(["--method=splice", "--bufsize=8M", "--stats=json"])
        .arg(&src)
        .arg(s.join("dst3"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stats = util::stats_json(&out.stderr);
    assert_eq!(stats["syscalls"]["splice"]["max"], 65536, "{stats}");
    assert_eq!(std::fs::read(s.join("dst3")).unwrap(), pattern(MIB, 2));
}

// A large copy reserves its blocks first on ext4 (fallocate, KEEP_SIZE): the copy has the
// source's size and bytes, and no more blocks than its data needs.
per_method!(large_copies_reserve_exactly_their_blocks, |method| {
    use std::os::unix::fs::MetadataExt;
    let s = Scratch::new();
    let size = 5 * MIB + 123;
    let src = s.write("src", &pattern(size, 11));
    let dst = s.join(format!("dst-{method}"));
    let out = util::fastcp()
        .arg(format!("--method={method}"))
        .arg(&src)
        .arg(&dst)
        .output()
        .unwrap();
    assert!(out.status.success(), "{method}: {out:?}");
    let meta = std::fs::metadata(&dst).unwrap();
    assert_eq!(meta.len(), size as u64, "{method}");
    let needed = (size as u64).div_ceil(4096) * 4096;
    assert!(
        meta.blocks() * 512 <= needed + (64 << 10),
        "{method}: {}",
        meta.blocks()
    );
    assert_eq!(std::fs::read(&dst).unwrap(), pattern(size, 11), "{method}");
});

/// `per_method!` runs a case under each of `util::METHODS`: they are the names `--method`
/// takes, so no method goes untested.
#[test]
fn per_method_covers_every_method() {
    let out = fastcp().arg("--method=none").output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let valid: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  - '")?.strip_suffix('\''))
        .collect();
    assert_eq!(valid, util::METHODS, "{text}");
}

/// A regular file on the same filesystem goes through copy_file_range under `auto`.
#[test]
fn auto_prefers_copy_file_range() {
    let s = Scratch::new();
    // Small and large: auto never switches to splice by size.
    for size in [100_000, 3 * MIB] {
        let src = s.write("src", &pattern(size, 3));
        let dst = s.join("dst");
        let _ = std::fs::remove_file(&dst);
        let stats = copy_with_stats(&[src.as_os_str(), dst.as_os_str()]);
        assert_eq!(stats["methods"]["regular"]["copy-file-range"], 1, "{stats}");
        // ext4 cannot clone: the only fallback allowed is from the clone attempt.
        let fallbacks = stats["fallbacks"].as_array().unwrap();
        assert!(fallbacks.iter().all(|f| f["from"] == "reflink"), "{stats}");
    }
}
