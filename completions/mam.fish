# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mam_global_optspecs
    string join \n workspace= q/quiet v/verbose h/help V/version
end

function __fish_mam_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mam_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mam_using_subcommand
    set -l cmd (__fish_mam_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mam -n "__fish_mam_needs_command" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_needs_command" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_needs_command" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_needs_command" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_needs_command" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_needs_command" -f -a "init" -d 'Create the .mam/ state directory (registry, config template, key); idempotent'
complete -c mam -n "__fish_mam_needs_command" -f -a "create" -d 'Start a new agent job in its own tmux session and wait until it is ready'
complete -c mam -n "__fish_mam_needs_command" -f -a "status" -d 'Show jobs, their live state, progress and last activity'
complete -c mam -n "__fish_mam_needs_command" -f -a "stop" -d 'Stop agents: their exit keys, then end the session and its processes'
complete -c mam -n "__fish_mam_needs_command" -f -a "resume" -d 'Reopen stopped, lost, exited or failed jobs, resuming their conversation'
complete -c mam -n "__fish_mam_needs_command" -f -a "attach" -d 'Attach to an agent\'s tmux session (switch-client inside tmux)'
complete -c mam -n "__fish_mam_needs_command" -f -a "logs" -d 'Print an agent pane\'s recent output'
complete -c mam -n "__fish_mam_needs_command" -f -a "whoami" -d 'Who the caller is, from the registry'
complete -c mam -n "__fish_mam_needs_command" -f -a "doctor" -d 'Check tmux, the state directory, the key file and the registry'
complete -c mam -n "__fish_mam_needs_command" -f -a "completions" -d 'Print shell completions generated from this command line'
complete -c mam -n "__fish_mam_needs_command" -f -a "man" -d 'Write man pages generated from this command line'
complete -c mam -n "__fish_mam_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand init" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand init" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand init" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand init" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand init" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand init" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand create" -s a -l agent -d 'Agent profile (claude, codex, gemini, aider, hermes, shell, or one from config)' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l cmd -d 'Command line to run instead of the profile\'s (split like a shell would)' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l workdir -d 'Directory the agent works in (default: the workspace root)' -r -F
complete -c mam -n "__fish_mam_using_subcommand create" -l role -d 'Role of the job' -r -f -a "worker\t''
pm\t''
reviewer\t''"
complete -c mam -n "__fish_mam_using_subcommand create" -l prompt -d 'Task prompt typed into the agent once it is ready' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l prompt-file -d 'Read the task prompt from a file (\'-\' for stdin)' -r -F
complete -c mam -n "__fish_mam_using_subcommand create" -l env -d 'Extra environment for the agent (repeatable)' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l ready-timeout -d 'Seconds to wait for the agent to become ready' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand create" -l no-wait -d 'Return once the session is started, without waiting for readiness'
complete -c mam -n "__fish_mam_using_subcommand create" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand create" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand create" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand create" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand create" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand status" -l watch -d 'Redraw every SECS seconds (default 2)' -r
complete -c mam -n "__fish_mam_using_subcommand status" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand status" -l all -d 'Include stopped and done jobs older than a day'
complete -c mam -n "__fish_mam_using_subcommand status" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand status" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand status" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand status" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand status" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand stop" -l timeout -d 'Seconds to wait for the agent to exit before killing it' -r
complete -c mam -n "__fish_mam_using_subcommand stop" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand stop" -l all -d 'Stop every live job'
complete -c mam -n "__fish_mam_using_subcommand stop" -l force -d 'Kill at once, without the profile\'s exit keys'
complete -c mam -n "__fish_mam_using_subcommand stop" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand stop" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand stop" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand stop" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand stop" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand resume" -l ready-timeout -d 'Seconds to wait for each agent to become ready' -r
complete -c mam -n "__fish_mam_using_subcommand resume" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand resume" -l all -d 'Resume every job that is not live (pm roles first)'
complete -c mam -n "__fish_mam_using_subcommand resume" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand resume" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand resume" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand resume" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand resume" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand attach" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand attach" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand attach" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand attach" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand attach" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand logs" -s n -l lines -d 'How many lines of history to include' -r
complete -c mam -n "__fish_mam_using_subcommand logs" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand logs" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand logs" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand logs" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand logs" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand whoami" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand whoami" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand whoami" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand whoami" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand whoami" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand whoami" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand doctor" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand doctor" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand doctor" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand doctor" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand completions" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand completions" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand completions" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand completions" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand completions" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand man" -l out-dir -d 'Write one page per command into DIR (default: print mam.1 to stdout)' -r -F
complete -c mam -n "__fish_mam_using_subcommand man" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand man" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand man" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand man" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand man" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "init" -d 'Create the .mam/ state directory (registry, config template, key); idempotent'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "create" -d 'Start a new agent job in its own tmux session and wait until it is ready'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "status" -d 'Show jobs, their live state, progress and last activity'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "stop" -d 'Stop agents: their exit keys, then end the session and its processes'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "resume" -d 'Reopen stopped, lost, exited or failed jobs, resuming their conversation'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "attach" -d 'Attach to an agent\'s tmux session (switch-client inside tmux)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "logs" -d 'Print an agent pane\'s recent output'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "whoami" -d 'Who the caller is, from the registry'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "doctor" -d 'Check tmux, the state directory, the key file and the registry'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "completions" -d 'Print shell completions generated from this command line'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "man" -d 'Write man pages generated from this command line'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume attach logs whoami doctor completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
