# elvish completion for fastcp, generated from its command line definition
# (fastcp --completions elvish): files where an operand may go, options after `-`, and the
# words an option takes after `--name=` or `--name `.
use str

set edit:completion:arg-completer[fastcp] = {|@words|
    var values = [
        &'--update'=['all' 'none' 'older']
        &'--backup'=['none' 'off' 'simple' 'never' 'existing' 'nil' 'numbered' 't']
        &'--resume'=['quick' 'verify']
        &'--method'=['auto' 'read-write' 'sendfile' 'copy-file-range' 'splice']
        &'--sparse'=['never' 'auto' 'always']
        &'--reflink'=['auto' 'always' 'never']
        &'--progress'=['auto' 'always' 'never']
        &'--stats'=['text' 'json']
        &'--completions'=['bash' 'zsh' 'fish' 'elvish' 'powershell']
    ]
    var next = ['--target-directory' '-t' '--no-preserve' '--suffix' '-S' '--method' '--sparse' '--bufsize' '--jobs' '-j' '--methods' '--bufsizes' '--runs' '--completions']
    var options = [
        ['--target-directory' 'Copy all SOURCE arguments into DIRECTORY']
        ['-t' 'Copy all SOURCE arguments into DIRECTORY']
        ['--no-target-directory' 'Treat DEST as a normal file']
        ['-T' 'Treat DEST as a normal file']
        ['--archive' 'Same as -dR --preserve=all']
        ['-a' 'Same as -dR --preserve=all']
        ['-d' 'Same as --no-dereference --preserve=links']
        ['--dereference' 'Always follow symbolic links in SOURCE']
        ['-L' 'Always follow symbolic links in SOURCE']
        ['--no-dereference' 'Never follow symbolic links in SOURCE']
        ['-P' 'Never follow symbolic links in SOURCE']
        ['-H' 'Follow command-line symbolic links in SOURCE']
        ['--recursive' 'Copy directories recursively']
        ['-R' 'Copy directories recursively']
        ['-r' 'Copy directories recursively']
        ['--link' 'Hard link files instead of copying']
        ['-l' 'Hard link files instead of copying']
        ['--symbolic-link' 'Make symbolic links instead of copying']
        ['-s' 'Make symbolic links instead of copying']
        ['--parents' 'Use full source file name under DIRECTORY']
        ['--strip-trailing-slashes' 'Remove any trailing slashes from each SOURCE argument']
        ['--keep-directory-symlink' 'Follow existing symlinks to directories in the destination']
        ['--attributes-only' 'Don''t copy the file data, just the attributes']
        ['--copy-contents' 'Copy contents of special files when recursive']
        ['--one-file-system' 'Stay on this file system']
        ['-x' 'Stay on this file system']
        ['-p' 'Same as --preserve=mode,ownership,timestamps']
        ['--preserve' 'Preserve the attributes in LIST (default: mode,ownership,timestamps); also links, context, xattr, all']
        ['--no-preserve' 'Don''t preserve the attributes in LIST']
        ['--force' 'If an existing destination file cannot be opened, remove it and try again']
        ['-f' 'If an existing destination file cannot be opened, remove it and try again']
        ['--interactive' 'Prompt before overwrite (overrides a previous -n)']
        ['-i' 'Prompt before overwrite (overrides a previous -n)']
        ['--no-clobber' 'Do not overwrite an existing file (overrides a previous -i)']
        ['-n' 'Do not overwrite an existing file (overrides a previous -i)']
        ['--update' 'Copy only when SOURCE is newer than DEST or DEST is missing (WHEN: older, all, none)']
        ['-u' 'Copy only when SOURCE is newer than DEST or DEST is missing (WHEN: older, all, none)']
        ['--remove-destination' 'Remove each existing destination file before opening it']
        ['--backup' 'Make a backup of each existing destination file (CONTROL: none, simple, existing, numbered)']
        ['-b' 'Like --backup but does not accept an argument']
        ['--suffix' 'Override the usual backup suffix']
        ['-S' 'Override the usual backup suffix']
        ['--atomic' 'Write each file under a temporary name and rename it into place when complete']
        ['--resume' 'Finish an interrupted copy, keeping what destinations hold of their sources; HOW: quick (the same size, and mtime with -p, is complete; a shorter one''s last block is compared) or verify (all they hold)']
        ['--fsync' 'Sync each file''s data (and new directory entries) to disk before reporting it done']
        ['--verify' 'Read each copy back and compare it with its source']
        ['--nocache' 'Write back and drop from the page cache what a copy brings in, behind it (pages the source had cached before stay)']
        ['--verbose' 'Explain what is being done']
        ['-v' 'Explain what is being done']
        ['--method' 'How to move the data: auto, read-write, sendfile, copy-file-range, splice']
        ['--sparse' 'Keep holes of sparse files (auto), also make holes of zero runs (always), or write every byte (never)']
        ['--reflink' 'Clone files (FICLONE) where the filesystem can: auto (when no --method is chosen), always (or fail), never']
        ['--bufsize' 'Buffer size for read-write, pipe size for splice; bytes per call for sendfile and copy-file-range']
        ['--jobs' 'Copy up to N files of a tree at once [default: the number of CPUs; 1: one by one]']
        ['-j' 'Copy up to N files of a tree at once [default: the number of CPUs; 1: one by one]']
        ['--progress' 'Show a progress line on stderr: auto (the default: on a terminal, after 1 s), always (also into a pipe or a log, a line every 5 s; what --progress alone means), never']
        ['--stats' 'Print what the copy did when it ends: FORMAT is text (the default) or json (one line, the last on stderr); --stats=FORMAT:FILE appends it to FILE instead']
        ['--debug' 'Explain how each file is copied (GNU cp''s --debug lines, plus the method)']
        ['--compare' 'Copy SOURCE to DEST with each method and print a table of times and costs (or JSON with --stats=json)']
        ['--methods' 'Methods to compare, comma-separated [default: read-write,sendfile,copy-file-range,splice]']
        ['--bufsizes' 'Read-write buffer sizes to compare [default: 2K,4K,8K,16K,32K,128K; no 128K with --to-socket]']
        ['--runs' 'Runs of each method and size [default: 5]']
        ['--cold' 'Evict SOURCE from the page cache before each run (DEST is new each run)']
        ['--to-socket' 'Send SOURCE over a loopback TCP connection instead of copying it (no DEST), with and without TCP_CORK; copy-file-range cannot']
        ['--help' 'Display this help and exit']
        ['--version' 'Output version information and exit']
        ['--generate-man' 'Print the man page (roff) and exit: fastcp --generate-man > fastcp.1']
        ['--completions' 'Print SHELL''s completion script and exit; SHELL is bash, zsh, fish, elvish or powershell']
        ['-Z' 'Set the SELinux context of each copy to the default: ignored, as GNU cp does on a kernel without SELinux']
        ['--context' 'Like -Z, or set the SELinux or SMACK context to CTX: ignored with a warning, as GNU cp does on a kernel without SELinux']
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
