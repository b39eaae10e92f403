complete -c fastcp -s t -l target-directory -d 'Copy all SOURCE arguments into DIRECTORY' -r -f -a "(__fish_complete_directories)"
complete -c fastcp -l preserve -d 'Preserve the attributes in LIST (default: mode,ownership,timestamps); also links, context, xattr, all' -f
complete -c fastcp -l no-preserve -d 'Don\'t preserve the attributes in LIST' -r -f
complete -c fastcp -s u -l update -d 'Copy only when SOURCE is newer than DEST or DEST is missing (WHEN: older, all, none)' -f -a "all\t''
none\t''
older\t''"
complete -c fastcp -l backup -d 'Make a backup of each existing destination file (CONTROL: none, simple, existing, numbered)' -f -a "none\t''
off\t''
simple\t''
never\t''
existing\t''
nil\t''
numbered\t''
t\t''"
complete -c fastcp -s S -l suffix -d 'Override the usual backup suffix' -r -f
complete -c fastcp -l resume -d 'Finish an interrupted copy, keeping what destinations hold of their sources; HOW: quick (the same size, and mtime with -p, is complete; a shorter one\'s last block is compared) or verify (all they hold)' -f -a "quick\t''
verify\t''"
complete -c fastcp -l method -d 'How to move the data: auto, read-write, sendfile, copy-file-range, splice' -r -f -a "auto\t''
read-write\t''
sendfile\t''
copy-file-range\t''
splice\t''"
complete -c fastcp -l sparse -d 'Keep holes of sparse files (auto), also make holes of zero runs (always), or write every byte (never)' -r -f -a "never\t''
auto\t''
always\t''"
complete -c fastcp -l reflink -d 'Clone files (FICLONE) where the filesystem can: auto (when no --method is chosen), always (or fail), never' -f -a "auto\t''
always\t''
never\t''"
complete -c fastcp -l bufsize -d 'Buffer size for read-write, pipe size for splice; bytes per call for sendfile and copy-file-range' -r -f
complete -c fastcp -s j -l jobs -d 'Copy up to N files of a tree at once [default: the number of CPUs; 1: one by one]' -r -f
complete -c fastcp -l progress -d 'Show a progress line on stderr: auto (the default: on a terminal, after 1 s), always (also into a pipe or a log, a line every 5 s; what --progress alone means), never' -f -a "auto\t''
always\t''
never\t''"
complete -c fastcp -l stats -d 'Print what the copy did when it ends: FORMAT is text (the default) or json (one line, the last on stderr); --stats=FORMAT:FILE appends it to FILE instead' -f -a "text\t''
json\t''"
complete -c fastcp -l methods -d 'Methods to compare, comma-separated [default: read-write,sendfile,copy-file-range,splice]' -r -f
complete -c fastcp -l bufsizes -d 'Read-write buffer sizes to compare [default: 2K,4K,8K,16K,32K,128K; no 128K with --to-socket]' -r -f
complete -c fastcp -l runs -d 'Runs of each method and size [default: 5]' -r -f
complete -c fastcp -l completions -d 'Print SHELL\'s completion script and exit; SHELL is bash, zsh, fish, elvish or powershell' -r -f -a "bash\t''
zsh\t''
fish\t''
elvish\t''
powershell\t''"
complete -c fastcp -l context -d 'Like -Z, or set the SELinux or SMACK context to CTX: ignored with a warning, as GNU cp does on a kernel without SELinux' -f
complete -c fastcp -s T -l no-target-directory -d 'Treat DEST as a normal file'
complete -c fastcp -s a -l archive -d 'Same as -dR --preserve=all'
complete -c fastcp -s d -d 'Same as --no-dereference --preserve=links'
complete -c fastcp -s L -l dereference -d 'Always follow symbolic links in SOURCE'
complete -c fastcp -s P -l no-dereference -d 'Never follow symbolic links in SOURCE'
complete -c fastcp -s H -d 'Follow command-line symbolic links in SOURCE'
complete -c fastcp -s R -s r -l recursive -d 'Copy directories recursively'
complete -c fastcp -s l -l link -d 'Hard link files instead of copying'
complete -c fastcp -s s -l symbolic-link -d 'Make symbolic links instead of copying'
complete -c fastcp -l parents -d 'Use full source file name under DIRECTORY'
complete -c fastcp -l strip-trailing-slashes -d 'Remove any trailing slashes from each SOURCE argument'
complete -c fastcp -l keep-directory-symlink -d 'Follow existing symlinks to directories in the destination'
complete -c fastcp -l attributes-only -d 'Don\'t copy the file data, just the attributes'
complete -c fastcp -l copy-contents -d 'Copy contents of special files when recursive'
complete -c fastcp -s x -l one-file-system -d 'Stay on this file system'
complete -c fastcp -s p -d 'Same as --preserve=mode,ownership,timestamps'
complete -c fastcp -s f -l force -d 'If an existing destination file cannot be opened, remove it and try again'
complete -c fastcp -s i -l interactive -d 'Prompt before overwrite (overrides a previous -n)'
complete -c fastcp -s n -l no-clobber -d 'Do not overwrite an existing file (overrides a previous -i)'
complete -c fastcp -l remove-destination -d 'Remove each existing destination file before opening it'
complete -c fastcp -s b -d 'Like --backup but does not accept an argument'
complete -c fastcp -l atomic -d 'Write each file under a temporary name and rename it into place when complete'
complete -c fastcp -l fsync -d 'Sync each file\'s data (and new directory entries) to disk before reporting it done'
complete -c fastcp -l verify -d 'Read each copy back and compare it with its source'
complete -c fastcp -l nocache -d 'Write back and drop from the page cache what a copy brings in, behind it (pages the source had cached before stay)'
complete -c fastcp -s v -l verbose -d 'Explain what is being done'
complete -c fastcp -l debug -d 'Explain how each file is copied (GNU cp\'s --debug lines, plus the method)'
complete -c fastcp -l compare -d 'Copy SOURCE to DEST with each method and print a table of times and costs (or JSON with --stats=json)'
complete -c fastcp -l cold -d 'Evict SOURCE from the page cache before each run (DEST is new each run)'
complete -c fastcp -l to-socket -d 'Send SOURCE over a loopback TCP connection instead of copying it (no DEST), with and without TCP_CORK; copy-file-range cannot'
complete -c fastcp -l help -d 'Display this help and exit'
complete -c fastcp -l version -d 'Output version information and exit'
complete -c fastcp -l generate-man -d 'Print the man page (roff) and exit: fastcp --generate-man > fastcp.1'
complete -c fastcp -s Z -d 'Set the SELinux context of each copy to the default: ignored, as GNU cp does on a kernel without SELinux'
