
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
            [CompletionResult]::new('--bufsize', '--bufsize', [CompletionResultType]::ParameterName, 'Buffer size for read-write, bytes per call for sendfile and copy-file-range')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Print what the copy did to stderr when it ends (FORMAT: text or json)')
            [CompletionResult]::new('--generate', '--generate', [CompletionResultType]::ParameterName, 'Write the man page and shell completions into DIR (for packagers)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Treat DEST as a normal file')
            [CompletionResult]::new('--no-target-directory', '--no-target-directory', [CompletionResultType]::ParameterName, 'Treat DEST as a normal file')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Display this help and exit')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Output version information and exit')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
