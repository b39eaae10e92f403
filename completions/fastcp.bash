# bash completion for fastcp                                -*- shell-script -*-
# Generated from fastcp's command line definition (fastcp --completions bash): files where an
# operand may go, options after `-`, and the words an option takes after `--name=` or
# `--name `. For a `cp` symlink to fastcp: complete -o default -F _fastcp cp

_fastcp() {
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
            --target-directory|--no-preserve|--suffix|--method|--sparse|--bufsize|--jobs|--methods|--bufsizes|--runs|--completions) ;;
            --*) continue ;;
            *) [[ $word =~ ^-[TadLPHRrlsxpfinubvZ]*[tSj]$ ]] || continue
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
        --target-directory|-t)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -d -- "$cur")
            compopt -o filenames
            return 0 ;;
        --preserve)
            compopt +o default
            return 0 ;;
        --no-preserve)
            compopt +o default
            return 0 ;;
        --update)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'all none older' -- "$cur")
            return 0 ;;
        --backup)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'none off simple never existing nil numbered t' -- "$cur")
            return 0 ;;
        --suffix|-S)
            compopt +o default
            return 0 ;;
        --resume)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'quick verify' -- "$cur")
            return 0 ;;
        --method)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'auto read-write sendfile copy-file-range splice' -- "$cur")
            return 0 ;;
        --sparse)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'never auto always' -- "$cur")
            return 0 ;;
        --reflink)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'auto always never' -- "$cur")
            return 0 ;;
        --bufsize)
            compopt +o default
            return 0 ;;
        --jobs|-j)
            compopt +o default
            return 0 ;;
        --progress)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'auto always never' -- "$cur")
            return 0 ;;
        --stats)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'text json' -- "$cur")
            return 0 ;;
        --methods)
            compopt +o default
            return 0 ;;
        --bufsizes)
            compopt +o default
            return 0 ;;
        --runs)
            compopt +o default
            return 0 ;;
        --completions)
            mapfile -t COMPREPLY < <(compgen -P "$prefix" -W 'bash zsh fish elvish powershell' -- "$cur")
            return 0 ;;
        --context)
            compopt +o default
            return 0 ;;
        *) return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W '--target-directory -t --no-target-directory -T --archive -a -d --dereference -L --no-dereference -P -H --recursive -R -r --link -l --symbolic-link -s --parents --strip-trailing-slashes --keep-directory-symlink --attributes-only --copy-contents --one-file-system -x -p --preserve --no-preserve --force -f --interactive -i --no-clobber -n --update -u --remove-destination --backup -b --suffix -S --atomic --resume --fsync --verify --nocache --verbose -v --method --sparse --reflink --bufsize --jobs -j --progress --stats --debug --compare --methods --bufsizes --runs --cold --to-socket --help --version --generate-man --completions -Z --context' -- "$cur")
    fi
    return 0
}

complete -o default -F _fastcp fastcp
