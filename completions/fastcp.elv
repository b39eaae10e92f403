
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
            cand --method 'How to move the data: auto, read-write, sendfile, copy-file-range'
            cand --bufsize 'Buffer size for read-write, bytes per call for sendfile and copy-file-range'
            cand --stats 'Print what the copy did to stderr when it ends (FORMAT: text or json)'
            cand --generate 'Write the man page and shell completions into DIR (for packagers)'
            cand -T 'Treat DEST as a normal file'
            cand --no-target-directory 'Treat DEST as a normal file'
            cand --help 'Display this help and exit'
            cand --version 'Output version information and exit'
        }
    ]
    $completions[$command]
}
