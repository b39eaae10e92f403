
use builtin;
use str;

set edit:completion:arg-completer[fastcp] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'fastcp'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'fastcp'= {
            cand -t 'Copy all SOURCE arguments into DIRECTORY'
            cand --target-directory 'Copy all SOURCE arguments into DIRECTORY'
            cand --preserve 'Preserve the attributes in LIST (default: mode,ownership,timestamps); also links, context, xattr, all'
            cand --no-preserve 'Don''t preserve the attributes in LIST'
            cand -u 'Copy only when SOURCE is newer than DEST or DEST is missing (WHEN: older, all, none)'
            cand --update 'Copy only when SOURCE is newer than DEST or DEST is missing (WHEN: older, all, none)'
            cand --backup 'Make a backup of each existing destination file (CONTROL: none, simple, existing, numbered)'
            cand -S 'Override the usual backup suffix'
            cand --suffix 'Override the usual backup suffix'
            cand --method 'How to move the data: auto, read-write, sendfile, copy-file-range, splice'
            cand --sparse 'Keep holes of sparse files (auto), also make holes of zero runs (always), or write every byte (never)'
            cand --reflink 'Clone files (FICLONE) where the filesystem can: auto (when no --method is chosen), always (or fail), never'
            cand --bufsize 'Buffer size for read-write, pipe size for splice; bytes per call for sendfile and copy-file-range'
            cand -j 'Copy up to N files of a tree at once [default: the number of CPUs; 1: one by one]'
            cand --jobs 'Copy up to N files of a tree at once [default: the number of CPUs; 1: one by one]'
            cand --progress 'Show a progress line on stderr: auto (the default: on a terminal, after 1 s), always (also into a pipe or a log, a line every 5 s; what --progress alone means), never'
            cand --stats 'Print what the copy did to stderr when it ends; FORMAT is text or json'
            cand --methods 'Methods to compare, comma-separated [default: read-write,sendfile,copy-file-range,splice]'
            cand --bufsizes 'Read-write buffer sizes to compare [default: 2K,4K,8K,16K,32K,128K]'
            cand --runs 'Runs of each method and size [default: 5]'
            cand --generate 'Write the man page and shell completions into DIR (for packagers)'
            cand --context 'Like -Z, or set the SELinux or SMACK context to CTX: ignored with a warning, as GNU cp does on a kernel without SELinux'
            cand -T 'Treat DEST as a normal file'
            cand --no-target-directory 'Treat DEST as a normal file'
            cand -a 'Same as -dR --preserve=all'
            cand --archive 'Same as -dR --preserve=all'
            cand -d 'Same as --no-dereference --preserve=links'
            cand -L 'Always follow symbolic links in SOURCE'
            cand --dereference 'Always follow symbolic links in SOURCE'
            cand -P 'Never follow symbolic links in SOURCE'
            cand --no-dereference 'Never follow symbolic links in SOURCE'
            cand -H 'Follow command-line symbolic links in SOURCE'
            cand -R 'Copy directories recursively'
            cand -r 'Copy directories recursively'
            cand --recursive 'Copy directories recursively'
            cand -l 'Hard link files instead of copying'
            cand --link 'Hard link files instead of copying'
            cand -s 'Make symbolic links instead of copying'
            cand --symbolic-link 'Make symbolic links instead of copying'
            cand --parents 'Use full source file name under DIRECTORY'
            cand --strip-trailing-slashes 'Remove any trailing slashes from each SOURCE argument'
            cand --keep-directory-symlink 'Follow existing symlinks to directories in the destination'
            cand --attributes-only 'Don''t copy the file data, just the attributes'
            cand --copy-contents 'Copy contents of special files when recursive'
            cand -x 'Stay on this file system'
            cand --one-file-system 'Stay on this file system'
            cand -p 'Same as --preserve=mode,ownership,timestamps'
            cand -f 'If an existing destination file cannot be opened, remove it and try again'
            cand --force 'If an existing destination file cannot be opened, remove it and try again'
            cand -i 'Prompt before overwrite (overrides a previous -n)'
            cand --interactive 'Prompt before overwrite (overrides a previous -n)'
            cand -n 'Do not overwrite an existing file (overrides a previous -i)'
            cand --no-clobber 'Do not overwrite an existing file (overrides a previous -i)'
            cand --remove-destination 'Remove each existing destination file before opening it'
            cand -b 'Like --backup but does not accept an argument'
            cand --atomic 'Write each file under a temporary name and rename it into place when complete'
            cand --fsync 'Sync each file''s data (and new directory entries) to disk before reporting it done'
            cand --verify 'Read each copy back and compare it with its source'
            cand -v 'Explain what is being done'
            cand --verbose 'Explain what is being done'
            cand --debug 'Explain how each file is copied (GNU cp''s --debug lines, plus the method)'
            cand --compare 'Copy SOURCE to DEST with each method and print a timing table'
            cand --cold 'Evict SOURCE from the page cache before each run (DEST is new each run)'
            cand --help 'Display this help and exit'
            cand --version 'Output version information and exit'
            cand -Z 'Set the SELinux context of each copy to the default: ignored, as GNU cp does on a kernel without SELinux'
        }
    ]
    $completions[$command]
}
