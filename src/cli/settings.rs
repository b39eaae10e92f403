//! The options clap has read, as fastcp's settings (options::Raw), with GNU's rules for the
//! order of repeated and conflicting options.

use super::Cli;
use crate::error::Error;
use crate::options::{AttributeEvent, Deref, Options};
use clap::ArgMatches;
use clap::parser::ValueSource;
use std::path::PathBuf;

/// The options clap has read, as fastcp's settings.
pub(super) fn options(cli: Cli, matches: &ArgMatches) -> Result<Options, Error> {
    let attributes = attribute_events(matches);
    let ask_last = match (
        last_index(matches, "interactive"),
        last_index(matches, "no_clobber"),
    ) {
        (Some(i), Some(n)) => Some(i > n),
        (Some(_), None) => Some(true),
        (None, Some(_)) => Some(false),
        (None, None) => None,
    };
    let overwrite = crate::options::RawOverwrite {
        ask: ask_last,
        force: cli.force,
        update: cli.update,
        remove_destination: cli.remove_destination,
        backup: match (cli.backup, cli.backup_default) {
            (Some(control), _) => Some(control),
            (None, true) => Some(std::ffi::OsString::new()),
            (None, false) => None,
        },
        suffix: cli.suffix,
    };
    Options::new(crate::options::Raw {
        recursive: cli.recursive || cli.archive,
        deref: last_dereference(matches),
        attributes,
        overwrite,
        sparse: cli.sparse,
        reflink: cli.reflink,
        links: crate::options::RawLinks {
            hard: cli.link,
            symbolic: cli.symbolic_link,
            parents: cli.parents,
            strip_trailing_slashes: cli.strip_trailing_slashes,
            keep_directory_symlink: cli.keep_directory_symlink,
            attributes_only: cli.attributes_only,
        },
        safety: crate::options::Safety {
            atomic: cli.atomic,
            resume: cli.resume,
            fsync: cli.fsync,
            verify: cli.verify,
            nocache: cli.nocache,
        },
        verbose: cli.verbose,
        one_file_system: cli.one_file_system,
        copy_contents: cli.copy_contents,
        target_directory: cli.target_directory.map(PathBuf::from),
        no_target_directory: cli.no_target_directory,
        method: cli.method,
        bufsize: cli.bufsize,
        jobs: cli.jobs,
        progress: cli.progress,
        stats: cli.stats,
        debug: cli.debug,
        compare: crate::options::RawCompare {
            enabled: cli.compare,
            methods: cli.methods,
            bufsizes: cli.bufsizes,
            runs: cli.runs,
            cold: cli.cold,
            to_socket: cli.to_socket,
        },
        operands: cli.operands.into_iter().map(PathBuf::from).collect(),
    })
}

/// The index of the last occurrence of option `id`, if given.
fn last_index(m: &ArgMatches, id: &str) -> Option<usize> {
    if m.value_source(id) != Some(ValueSource::CommandLine) {
        return None;
    }
    m.indices_of(id).and_then(|mut i| i.next_back())
}

/// -L, -P, -H, -d and -a each set how symlinks are followed; as in GNU cp, the last one wins.
fn last_dereference(m: &ArgMatches) -> Option<Deref> {
    [
        ("dereference", Deref::Always),
        ("no_dereference", Deref::Never),
        ("deref_command_line", Deref::CommandLine),
        ("no_deref_preserve_links", Deref::Never),
        ("archive", Deref::Never),
    ]
    .into_iter()
    .filter_map(|(id, d)| last_index(m, id).map(|i| (i, d)))
    .max_by_key(|(i, _)| *i)
    .map(|(_, d)| d)
}

/// Every option that changes what is preserved, in command-line order: GNU applies -p, -a, -d,
/// --preserve and --no-preserve one after another.
fn attribute_events(m: &ArgMatches) -> Vec<AttributeEvent> {
    let mut events: Vec<(usize, AttributeEvent)> = Vec::new();
    let presets = [
        ("preserve_default", "mode,ownership,timestamps"),
        ("no_deref_preserve_links", "links"),
    ];
    for (id, list) in presets {
        if let Some(i) = last_index(m, id) {
            events.push((i, AttributeEvent::Preserve(list.to_string())));
        }
    }
    if let Some(i) = last_index(m, "archive") {
        events.push((i, AttributeEvent::Archive));
    }
    for (id, make) in [
        (
            "preserve",
            AttributeEvent::Preserve as fn(String) -> AttributeEvent,
        ),
        ("no_preserve", AttributeEvent::NoPreserve),
    ] {
        if let (Some(values), Some(indices)) = (m.get_many::<String>(id), m.indices_of(id)) {
            for (value, i) in values.zip(indices) {
                events.push((i, make(value.clone())));
            }
        }
    }
    events.sort_by_key(|(i, _)| *i);
    events.into_iter().map(|(_, e)| e).collect()
}
