complete -c fastcp -s t -l target-directory -d 'Copy all SOURCE arguments into DIRECTORY' -r
complete -c fastcp -l method -d 'How to move the data: auto, read-write, sendfile, copy-file-range' -r
complete -c fastcp -l bufsize -d 'Buffer size for read-write, bytes per call for sendfile and copy-file-range' -r
complete -c fastcp -l stats -d 'Print what the copy did to stderr when it ends (FORMAT: text or json)' -r
complete -c fastcp -l generate -d 'Write the man page and shell completions into DIR (for packagers)' -r -F
complete -c fastcp -s T -l no-target-directory -d 'Treat DEST as a normal file'
complete -c fastcp -l help -d 'Display this help and exit'
complete -c fastcp -l version -d 'Output version information and exit'
