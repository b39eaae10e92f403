//! Model-based property test: random trees (files of random sizes, sparse ones, directories,
//! symlinks, hard links, odd names) copied with random option sets must come out exactly as
//! GNU cp makes them from the same source (status, messages, types, bytes, modes, link
//! targets, hard-link groups, preserved times).

mod util;

use proptest::prelude::*;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::symlink;
use std::path::Path;
use util::{Scratch, attributes, fastcp, gnu_cp, normalize, snapshot};

const NAMES: &[&str] = &[
    "a",
    "b",
    "sub",
    "new\nline",
    "sp ace",
    "-dash",
    "q'uote",
    "z",
];

#[derive(Debug, Clone)]
enum Node {
    File(usize),
    Sparse(u64),
    Dir(Vec<(usize, Node)>),
    Symlink(usize),
    Dangling,
    HardLinkToFirstFile,
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => (0usize..200_000).prop_map(Node::File),
        1 => (1u64..64).prop_map(|mib| Node::Sparse(mib << 20)),
        1 => (0usize..NAMES.len()).prop_map(Node::Symlink),
        1 => Just(Node::Dangling),
        1 => Just(Node::HardLinkToFirstFile),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        proptest::collection::vec((0usize..NAMES.len(), inner), 0..5).prop_map(Node::Dir)
    })
}

/// Builds `node` at `path`; `first_file` remembers a file to hard-link to.
fn build(path: &Path, node: &Node, seed: &mut u64, first_file: &mut Option<std::path::PathBuf>) {
    if path.symlink_metadata().is_ok() {
        return; // a name drawn twice in one directory
    }
    *seed += 1;
    match node {
        Node::File(size) => {
            std::fs::write(path, util::pattern(*size, *seed)).unwrap();
            first_file.get_or_insert_with(|| path.to_path_buf());
        }
        Node::Sparse(size) => {
            let mut f = std::fs::File::create(path).unwrap();
            f.set_len(*size).unwrap();
            f.seek(SeekFrom::Start(size / 2)).unwrap();
            f.write_all(&util::pattern(5000, *seed)).unwrap();
        }
        Node::Dir(children) => {
            std::fs::create_dir(path).unwrap();
            for (name, child) in children {
                build(&path.join(NAMES[*name]), child, seed, first_file);
            }
        }
        Node::Symlink(target) => symlink(NAMES[*target], path).unwrap(),
        Node::Dangling => symlink("nowhere/at/all", path).unwrap(),
        Node::HardLinkToFirstFile => match first_file {
            Some(f) => std::fs::hard_link(f.clone(), path).unwrap(),
            None => std::fs::write(path, b"no file yet").unwrap(),
        },
    }
}

const OPTIONS: &[&str] = &["-r", "-a", "-p", "-L", "-P", "-n", "-u", "-d"];
const SPARSE: &[&str] = &["", "--sparse=auto", "--sparse=always", "--sparse=never"];
/// fastcp only: the default (one thread per CPU), one by one, and more threads than CPUs.
const JOBS: &[&str] = &["", "-j1", "-j3"];
const METHODS: &[&str] = &[
    "",
    "--method=read-write",
    "--method=sendfile",
    "--method=copy-file-range",
    "--method=splice",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn copies_like_gnu(
        tree in proptest::collection::vec((0usize..NAMES.len(), node()), 1..6),
        options in proptest::sample::subsequence(OPTIONS, 0..4),
        sparse in 0..SPARSE.len(),
        method in 0..METHODS.len(),
        jobs in 0..JOBS.len(),
        existing in any::<bool>(),
    ) {
        let s = Scratch::new();
        let src = s.join("src");
        let mut seed = 0;
        let mut first = None;
        build(&src, &Node::Dir(tree.clone()), &mut seed, &mut first);
        for out in ["gnu-out", "our-out"] {
            if existing {
                // The same old destination for both: a file named like a source entry.
                std::fs::create_dir(s.join(out)).unwrap();
                std::fs::write(s.join(out).join("a"), b"old a").unwrap();
                // The same old time on both, so only what the copies do can differ.
                let t = rustix::fs::Timespec { tv_sec: 1_000_000_000, tv_nsec: 0 };
                let times = rustix::fs::Timestamps { last_access: t, last_modification: t };
                rustix::fs::utimensat(
                    rustix::fs::CWD,
                    s.join(out).join("a"),
                    &times,
                    rustix::fs::AtFlags::empty(),
                )
                .unwrap();
            }
        }
        let mut args: Vec<&str> = options.clone();
        if !SPARSE[sparse].is_empty() {
            args.push(SPARSE[sparse]);
        }
        let run = |ours: bool| {
            let dst = if ours { "our-out" } else { "gnu-out" };
            let mut cmd = if ours { fastcp() } else { gnu_cp() };
            cmd.current_dir(s.path()).args(&args);
            if ours {
                cmd.args([METHODS[method], JOBS[jobs]].iter().filter(|a| !a.is_empty()));
            }
            // "src/." copies the contents, so an existing destination is merged into.
            cmd.args(["src/.", dst]).output().unwrap()
        };
        let gnu = run(false);
        let ours = run(true);
        let prog = util::fastcp_path().to_string_lossy().into_owned();
        let text = |o: &std::process::Output, p: &str, d: &str| normalize(&o.stderr, p).replace(d, "OUT");
        // Messages come in the source's inode order: both ran on the same source.
        prop_assert_eq!(text(&ours, &prog, "our-out"), text(&gnu, "/bin/cp", "gnu-out"), "{:?}", args);
        prop_assert_eq!(ours.status.code(), gnu.status.code(), "{:?}", args);
        let tree_of = |d: &str| {
            let p = s.join(d);
            if p.exists() { snapshot(&p) } else { Default::default() }
        };
        prop_assert_eq!(tree_of("our-out"), tree_of("gnu-out"), "{:?}", args);
        if s.join("gnu-out").exists() {
            let times = args.iter().any(|a| *a == "-a" || *a == "-p");
            prop_assert_eq!(
                attributes(&s.join("our-out"), times),
                attributes(&s.join("gnu-out"), times),
                "{:?}", args
            );
        }
    }
}
