//! The bash completion script, generated from the clap definition and shaped after getopt_long:
//! files wherever an operand may go (as `cp <TAB>` lists them), options after `-`, and the words
//! an option takes after `--name=` or `--name ` as getopt reads them.
//!
//! clap_complete's bash script offers every option at the first word and after any operand,
//! and completes no value written after `=` (bash splits `--sparse=al` into three words).

use clap::builder::PossibleValue;
use clap::{Arg, Command, ValueHint};

/// How an option takes its argument on the command line, as getopt_long reads it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Takes {
    Nothing,
    /// `--name=value` or `--name value`; `-xvalue` or `-x value`.
    Next,
    /// `--name=value` only.
    Equals,
}

fn takes(arg: &Arg) -> Takes {
    match arg.get_num_args() {
        _ if !arg.get_action().takes_values() => Takes::Nothing,
        Some(n) if n.max_values() == 0 => Takes::Nothing,
        Some(n) if n.min_values() == 0 => Takes::Equals,
        _ => Takes::Next,
    }
}

/// The options bash offers: every visible one, by its long names, then its letters.
fn names(arg: &Arg) -> (Vec<String>, Vec<char>) {
    let longs = arg.get_long_and_visible_aliases().unwrap_or_default();
    let shorts = arg.get_short_and_visible_aliases().unwrap_or_default();
    let longs = longs.into_iter().map(|l| format!("--{l}")).collect();
    (longs, shorts)
}

/// The case arm completing the argument of `arg`, or None for an option without one.
fn value_arm(arg: &Arg) -> Option<String> {
    let (longs, shorts) = names(arg);
    let mut patterns = longs;
    if takes(arg) == Takes::Next {
        patterns.extend(shorts.iter().map(|s| format!("-{s}")));
    }
    let words: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(PossibleValue::get_name)
        .map(String::from)
        .collect();
    let action = if !words.is_empty() {
        format!(
            "mapfile -t COMPREPLY < <(compgen -P \"$prefix\" -W '{}' -- \"$cur\")",
            words.join(" ")
        )
    } else if arg.get_value_hint() == ValueHint::DirPath {
        "mapfile -t COMPREPLY < <(compgen -P \"$prefix\" -d -- \"$cur\")\n            compopt -o filenames".to_string()
    } else {
        // A number, a size, a list or a suffix: nothing to offer, and no file names either.
        "compopt +o default".to_string()
    };
    Some(format!(
        "        {})\n            {action}\n            return 0 ;;",
        patterns.join("|")
    ))
}

/// clap_complete's fish script, where an option whose argument is optional (`--backup=WORD`)
/// completes its words after `=` only: getopt reads `--backup WORD` as an operand WORD.
pub(crate) fn fish(cmd: &mut Command) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(clap_complete::Shell::Fish, cmd, "fastcp", &mut buf);
    let equals: Vec<String> = cmd
        .get_arguments()
        .filter(|a| takes(a) == Takes::Equals)
        .filter_map(|a| a.get_long().map(|l| format!(" -l {l} ")))
        .collect();
    let text = String::from_utf8_lossy(&buf);
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        match equals.iter().any(|l| line.contains(l.as_str())) {
            true => out.push_str(&line.replacen("' -r ", "' ", 1)),
            false => out.push_str(line),
        }
    }
    out
}

/// clap_complete's zsh script, where the operands are files: its `*::operands:_default`
/// narrows the words to the operands, so `fastcp <TAB>` completed command names.
pub(crate) fn zsh(cmd: &mut Command) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(clap_complete::Shell::Zsh, cmd, "fastcp", &mut buf);
    String::from_utf8_lossy(&buf).replace("'*::operands:_default'", "'*:file:_files'")
}

/// The bash completion script for `cmd` (the documented command: visible options only).
pub(crate) fn bash(cmd: &Command) -> String {
    let options: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .collect();
    let mut offered = Vec::new();
    let mut shorts_plain = String::new();
    let mut shorts_next = String::new();
    let mut longs_next = Vec::new();
    for arg in &options {
        let (longs, shorts) = names(arg);
        if takes(arg) == Takes::Next {
            longs_next.extend(longs.iter().cloned());
            shorts_next.extend(shorts.iter());
        } else {
            shorts_plain.extend(shorts.iter());
        }
        offered.extend(longs);
        offered.extend(shorts.iter().map(|s| format!("-{s}")));
    }
    let arms: Vec<String> = options
        .iter()
        .filter(|a| takes(a) != Takes::Nothing)
        .filter_map(|a| value_arm(a))
        .collect();
    let name = cmd.get_name();
    TEMPLATE
        .replace("@NAME@", name)
        .replace("@LONGS_NEXT@", &longs_next.join("|"))
        .replace("@SHORTS_PLAIN@", &shorts_plain)
        .replace("@SHORTS_NEXT@", &shorts_next)
        .replace("@ARMS@", &arms.join("\n"))
        .replace("@OPTIONS@", &offered.join(" "))
}

/// Every visible option: its names, what it takes, its words and its help line.
struct Opt {
    longs: Vec<String>,
    shorts: Vec<char>,
    takes: Takes,
    words: Vec<String>,
    help: String,
}

fn model(cmd: &Command) -> Vec<Opt> {
    cmd.get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .map(|arg| {
            let (longs, shorts) = names(arg);
            let words = match takes(arg) {
                Takes::Nothing => Vec::new(),
                _ => arg
                    .get_possible_values()
                    .iter()
                    .filter(|v| !v.is_hide_set())
                    .map(|v| v.get_name().to_string())
                    .collect(),
            };
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            Opt {
                longs,
                shorts,
                takes: takes(arg),
                words,
                help: help.lines().next().unwrap_or_default().to_string(),
            }
        })
        .collect()
}

/// Quotes `text` in single quotes, as elvish and PowerShell read them ('' is one ').
fn single(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The tables the elvish and PowerShell scripts read: each option's words (by every name that
/// reaches them), the options whose argument is the next word, and each option with its help.
fn tables(opts: &[Opt], map: fn(&str, &str) -> String) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut words, mut next, mut offered) = (Vec::new(), Vec::new(), Vec::new());
    for opt in opts {
        let letters = opt.shorts.iter().map(|c| format!("-{c}"));
        let mut valued = opt.longs.clone();
        if opt.takes == Takes::Next {
            valued.extend(letters.clone());
            next.extend(valued.iter().map(|n| single(n)));
        }
        if !opt.words.is_empty() {
            let list: Vec<String> = opt.words.iter().map(|w| single(w)).collect();
            for name in &valued {
                words.push(map(&single(name), &list.join(" ")));
            }
        }
        for name in opt.longs.iter().cloned().chain(letters) {
            offered.push(format!("{} {}", single(&name), single(&opt.help)));
        }
    }
    (words, next, offered)
}

/// The elvish completer: clap_complete's offers options only, never a file or a word.
pub(crate) fn elvish(cmd: &Command) -> String {
    let (words, next, offered) = tables(&model(cmd), |name, list| {
        format!("        &{name}=[{list}]")
    });
    let offered: Vec<String> = offered.iter().map(|o| format!("        [{o}]")).collect();
    ELVISH
        .replace("@NAME@", cmd.get_name())
        .replace("@WORDS@", &words.join("\n"))
        .replace("@NEXT@", &next.join(" "))
        .replace("@OPTIONS@", &offered.join("\n"))
}

/// The PowerShell completer: clap_complete's offers every option for every word.
pub(crate) fn powershell(cmd: &Command) -> String {
    let (words, next, offered) = tables(&model(cmd), |name, list| {
        format!("        {name} = @({})", list.replace("' '", "', '"))
    });
    let offered: Vec<String> = offered
        .iter()
        .map(|o| format!("        ,@({})", o.replacen("' '", "', '", 1)))
        .collect();
    POWERSHELL
        .replace("@NAME@", cmd.get_name())
        .replace("@WORDS@", &words.join("\n"))
        .replace("@NEXT@", &next.join(", "))
        .replace("@OPTIONS@", &offered.join("\n"))
}

const ELVISH: &str = r#"# elvish completion for @NAME@, generated from its command line definition
# (@NAME@ --completions elvish): files where an operand may go, options after `-`, and the
# words an option takes after `--name=` or `--name `.
use str

set edit:completion:arg-completer[@NAME@] = {|@words|
    var values = [
@WORDS@
    ]
    var next = [@NEXT@]
    var options = [
@OPTIONS@
    ]
    var cur = $words[-1]
    var prev = ''
    if (> (count $words) 2) {
        set prev = $words[-2]
    }
    var i = -1
    if (str:has-prefix $cur --) {
        set i = (str:index $cur =)
    }
    if (has-value $next $prev) {
        if (has-key $values $prev) {
            all $values[$prev]
        } elif (or (eq $prev -t) (eq $prev --target-directory)) {
            edit:complete-filename $cur
        }
    } elif (>= $i 0) {
        var name = $cur[..$i]
        if (has-key $values $name) {
            for w $values[$name] { put $name'='$w }
        }
    } elif (str:has-prefix $cur -) {
        for o $options { edit:complex-candidate $o[0] &display=$o[0]' '$o[1] }
    } else {
        edit:complete-filename $cur
    }
}
"#;

const POWERSHELL: &str = r#"# PowerShell completion for @NAME@, generated from its command line definition
# (@NAME@ --completions powershell): files where an operand may go, options after `-`, and
# the words an option takes after `--name=` or `--name `.
using namespace System.Management.Automation

Register-ArgumentCompleter -Native -CommandName '@NAME@' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $values = @{
@WORDS@
    }
    $next = @(@NEXT@)
    $options = @(
@OPTIONS@
    )
    $start = $cursorPosition - $wordToComplete.Length
    $before = @($commandAst.CommandElements | Where-Object { $_.Extent.EndOffset -lt $start })
    $prev = if ($before.Count -gt 1) { $before[-1].ToString() } else { '' }
    if ($next -ccontains $prev) {
        if ($values.ContainsKey($prev)) {
            $values[$prev] | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
                [CompletionResult]::new($_, $_, [CompletionResultType]::ParameterValue, $_)
            }
        }
        return
    }
    if ($wordToComplete -match '^(--[^=]+)=(.*)$' -and $values.ContainsKey($Matches[1])) {
        $name = $Matches[1]
        $prefix = $Matches[2]
        $values[$name] | Where-Object { $_ -like "$prefix*" } | ForEach-Object {
            [CompletionResult]::new("$name=$_", "$name=$_", [CompletionResultType]::ParameterValue, $_)
        }
        return
    }
    if ($wordToComplete.StartsWith('-')) {
        $options | Where-Object { $_[0] -clike "$wordToComplete*" } | ForEach-Object {
            [CompletionResult]::new($_[0], $_[0], [CompletionResultType]::ParameterName, $_[1])
        }
        return
    }
    # An operand: no result, so PowerShell completes file names.
}
"#;

const TEMPLATE: &str = r#"# bash completion for @NAME@                                -*- shell-script -*-
# Generated from @NAME@'s command line definition (@NAME@ --completions bash): files where an
# operand may go, options after `-`, and the words an option takes after `--name=` or
# `--name `. For a `cp` symlink to @NAME@: complete -o default -F _@NAME@ cp

_@NAME@() {
    local cur=${COMP_WORDS[COMP_CWORD]} option='' prefix='' word i=1
    # The words before the cursor, read as getopt_long reads them: bash splits `--name=value`
    # at `=` (COMP_WORDBREAKS), an option that needs an argument takes the next word (or the
    # rest of a cluster of letters), and `--` ends the options.
    while ((i < COMP_CWORD)); do
        word=${COMP_WORDS[i]}
        ((i++))
        [[ $word == -- ]] && return 0
        if [[ $word == --* && ${COMP_WORDS[i]} == = ]]; then
            if ((i == COMP_CWORD)); then option=$word cur=''; break; fi
            if ((i + 1 == COMP_CWORD)); then option=$word; break; fi
            ((i += 2))
            continue
        fi
        case $word in
            @LONGS_NEXT@) ;;
            --*) continue ;;
            *) [[ $word =~ ^-[@SHORTS_PLAIN@]*[@SHORTS_NEXT@]$ ]] || continue
               word=-${word: -1} ;;
        esac
        if ((i == COMP_CWORD)); then option=$word; break; fi
        ((i++))
    done
    # `--name=value` in one word, when COMP_WORDBREAKS lacks `=`.
    if [[ -z $option && $cur == --*=* ]]; then
        option=${cur%%=*} prefix=${cur%%=*}= cur=${cur#*=}
    fi
    case $option in
        '') ;;
@ARMS@
        *) return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W '@OPTIONS@' -- "$cur")
    fi
    return 0
}

complete -o default -F _@NAME@ @NAME@
"#;
