
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
            [CompletionResult]::new('--method', '--method', [CompletionResultType]::ParameterName, 'How to move the data: auto, read-write, sendfile, copy-file-range')
            [CompletionResult]::new('--bufsize', '--bufsize', [CompletionResultType]::ParameterName, 'Buffer size for read-write; bytes per call for sendfile and copy-file-range')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show a progress bar on stderr: auto (on a terminal, after 1 s), always, never')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print what the copy did to stderr when it ends; FORMAT is text or json')
            [CompletionResult]::new('--methods', '--methods', [CompletionResultType]::ParameterName, 'Methods to compare, comma-separated [default: read-write,sendfile,copy-file-range]')
            [CompletionResult]::new('--bufsizes', '--bufsizes', [CompletionResultType]::ParameterName, 'Read-write buffer sizes to compare [default: 2K,4K,8K,16K,32K,128K]')
            [CompletionResult]::new('--runs', '--runs', [CompletionResultType]::ParameterName, 'Runs of each method and size [default: 5]')
            [CompletionResult]::new('--generate', '--generate', [CompletionResultType]::ParameterName, 'Write the man page and shell completions into DIR (for packagers)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Treat DEST as a normal file')
            [CompletionResult]::new('--no-target-directory', '--no-target-directory', [CompletionResultType]::ParameterName, 'Treat DEST as a normal file')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Explain how each file is copied (GNU cp''s --debug lines, plus the method)')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Copy SOURCE to DEST with each method and print a timing table')
            [CompletionResult]::new('--cold', '--cold', [CompletionResultType]::ParameterName, 'Evict SOURCE from the page cache before each run (DEST is new each run)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Display this help and exit')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Output version information and exit')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
