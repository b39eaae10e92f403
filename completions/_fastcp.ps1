
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'fastcp' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'fastcp'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'fastcp' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Copy all SOURCE arguments into DIRECTORY')
            [CompletionResult]::new('--target-directory', '--target-directory', [CompletionResultType]::ParameterName, 'Copy all SOURCE arguments into DIRECTORY')
            [CompletionResult]::new('--preserve', '--preserve', [CompletionResultType]::ParameterName, 'Preserve the attributes in LIST (default: mode,ownership,timestamps); also links, context, xattr, all')
            [CompletionResult]::new('--no-preserve', '--no-preserve', [CompletionResultType]::ParameterName, 'Don''t preserve the attributes in LIST')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Copy only when SOURCE is newer than DEST or DEST is missing (WHEN: older, all, none)')
            [CompletionResult]::new('--update', '--update', [CompletionResultType]::ParameterName, 'Copy only when SOURCE is newer than DEST or DEST is missing (WHEN: older, all, none)')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Make a backup of each existing destination file (CONTROL: none, simple, existing, numbered)')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Override the usual backup suffix')
            [CompletionResult]::new('--suffix', '--suffix', [CompletionResultType]::ParameterName, 'Override the usual backup suffix')
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'How to move the data: auto, read-write, sendfile, copy-file-range, splice')
            [CompletionResult]::new('--sparse', '--sparse', [CompletionResultType]::ParameterName, 'Keep holes of sparse files (auto), also make holes of zero runs (always), or write every byte (never)')
            [CompletionResult]::new('--reflink', '--reflink', [CompletionResultType]::ParameterName, 'Clone files (FICLONE) where the filesystem can: auto (when no --method is chosen), always (or fail), never')
            [CompletionResult]::new('--bufsize', '--bufsize', [CompletionResultType]::ParameterName, 'Buffer size for read-write, pipe size for splice; bytes per call for sendfile and copy-file-range')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Copy up to N files of a tree at once [default: the number of CPUs; 1: one by one]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Copy up to N files of a tree at once [default: the number of CPUs; 1: one by one]')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show a progress line on stderr: auto (the default: on a terminal, after 1 s), always (also into a pipe or a log, a line every 5 s; what --progress alone means), never')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print what the copy did to stderr when it ends; FORMAT is text or json')
            [CompletionResult]::new('--methods', '--methods', [CompletionResultType]::ParameterName, 'Methods to compare, comma-separated [default: read-write,sendfile,copy-file-range,splice]')
            [CompletionResult]::new('--bufsizes', '--bufsizes', [CompletionResultType]::ParameterName, 'Read-write buffer sizes to compare [default: 2K,4K,8K,16K,32K,128K]')
            [CompletionResult]::new('--runs', '--runs', [CompletionResultType]::ParameterName, 'Runs of each method and size [default: 5]')
            [CompletionResult]::new('--generate', '--generate', [CompletionResultType]::ParameterName, 'Write the man page and shell completions into DIR (for packagers)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'Like -Z, or set the SELinux or SMACK context to CTX: ignored with a warning, as GNU cp does on a kernel without SELinux')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Treat DEST as a normal file')
            [CompletionResult]::new('--no-target-directory', '--no-target-directory', [CompletionResultType]::ParameterName, 'Treat DEST as a normal file')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Same as -dR --preserve=all')
            [CompletionResult]::new('--archive', '--archive', [CompletionResultType]::ParameterName, 'Same as -dR --preserve=all')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Same as --no-dereference --preserve=links')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Always follow symbolic links in SOURCE')
            [CompletionResult]::new('--dereference', '--dereference', [CompletionResultType]::ParameterName, 'Always follow symbolic links in SOURCE')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Never follow symbolic links in SOURCE')
            [CompletionResult]::new('--no-dereference', '--no-dereference', [CompletionResultType]::ParameterName, 'Never follow symbolic links in SOURCE')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Follow command-line symbolic links in SOURCE')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Copy directories recursively')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Copy directories recursively')
            [CompletionResult]::new('--recursive', '--recursive', [CompletionResultType]::ParameterName, 'Copy directories recursively')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Hard link files instead of copying')
            [CompletionResult]::new('--link', '--link', [CompletionResultType]::ParameterName, 'Hard link files instead of copying')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Make symbolic links instead of copying')
            [CompletionResult]::new('--symbolic-link', '--symbolic-link', [CompletionResultType]::ParameterName, 'Make symbolic links instead of copying')
            [CompletionResult]::new('--parents', '--parents', [CompletionResultType]::ParameterName, 'Use full source file name under DIRECTORY')
            [CompletionResult]::new('--strip-trailing-slashes', '--strip-trailing-slashes', [CompletionResultType]::ParameterName, 'Remove any trailing slashes from each SOURCE argument')
            [CompletionResult]::new('--keep-directory-symlink', '--keep-directory-symlink', [CompletionResultType]::ParameterName, 'Follow existing symlinks to directories in the destination')
            [CompletionResult]::new('--attributes-only', '--attributes-only', [CompletionResultType]::ParameterName, 'Don''t copy the file data, just the attributes')
            [CompletionResult]::new('--copy-contents', '--copy-contents', [CompletionResultType]::ParameterName, 'Copy contents of special files when recursive')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Stay on this file system')
            [CompletionResult]::new('--one-file-system', '--one-file-system', [CompletionResultType]::ParameterName, 'Stay on this file system')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Same as --preserve=mode,ownership,timestamps')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'If an existing destination file cannot be opened, remove it and try again')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'If an existing destination file cannot be opened, remove it and try again')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Prompt before overwrite (overrides a previous -n)')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Prompt before overwrite (overrides a previous -n)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Do not overwrite an existing file (overrides a previous -i)')
            [CompletionResult]::new('--no-clobber', '--no-clobber', [CompletionResultType]::ParameterName, 'Do not overwrite an existing file (overrides a previous -i)')
            [CompletionResult]::new('--remove-destination', '--remove-destination', [CompletionResultType]::ParameterName, 'Remove each existing destination file before opening it')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Like --backup but does not accept an argument')
            [CompletionResult]::new('--atomic', '--atomic', [CompletionResultType]::ParameterName, 'Write each file under a temporary name and rename it into place when complete')
            [CompletionResult]::new('--fsync', '--fsync', [CompletionResultType]::ParameterName, 'Sync each file''s data (and new directory entries) to disk before reporting it done')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Read each copy back and compare it with its source')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Explain what is being done')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Explain what is being done')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Explain how each file is copied (GNU cp''s --debug lines, plus the method)')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Copy SOURCE to DEST with each method and print a timing table')
            [CompletionResult]::new('--cold', '--cold', [CompletionResultType]::ParameterName, 'Evict SOURCE from the page cache before each run (DEST is new each run)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Display this help and exit')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Output version information and exit')
            [CompletionResult]::new('-Z', '-Z ', [CompletionResultType]::ParameterName, 'Set the SELinux context of each copy to the default: ignored, as GNU cp does on a kernel without SELinux')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
