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
complete -c mam -n "__fish_mam_needs_command" -f -a "diff" -d 'What an agent changed in its worktree against its base (committed and not)'
complete -c mam -n "__fish_mam_needs_command" -f -a "prune" -d 'Remove the worktrees of jobs that are not running, where no work is lost'
complete -c mam -n "__fish_mam_needs_command" -f -a "send" -d 'Send a message to an agent (or `*` for every live agent)'
complete -c mam -n "__fish_mam_needs_command" -f -a "ask" -d 'Ask an agent a question; the answer comes back as a reply'
complete -c mam -n "__fish_mam_needs_command" -f -a "answer" -d 'Answer a question put to you'
complete -c mam -n "__fish_mam_needs_command" -f -a "recv" -d 'Take your oldest waiting messages (marks them read)'
complete -c mam -n "__fish_mam_needs_command" -f -a "inbox" -d 'List a job\'s messages without consuming them'
complete -c mam -n "__fish_mam_needs_command" -f -a "threads" -d 'Open threads: questions asked and owed, messages queued'
complete -c mam -n "__fish_mam_needs_command" -f -a "cancel" -d 'Cancel your queued message, open question or pending reminder'
complete -c mam -n "__fish_mam_needs_command" -f -a "remind" -d 'Schedule a reminder for an agent (or yourself)'
complete -c mam -n "__fish_mam_needs_command" -f -a "reminders" -d 'List reminders: state, attempts, last error'
complete -c mam -n "__fish_mam_needs_command" -f -a "retry" -d 'Re-arm a failed reminder'
complete -c mam -n "__fish_mam_needs_command" -f -a "progress" -d 'Report progress on your job'
complete -c mam -n "__fish_mam_needs_command" -f -a "done" -d 'Report your job done, with an optional verdict and artifacts'
complete -c mam -n "__fish_mam_needs_command" -f -a "fail" -d 'Report your job failed'
complete -c mam -n "__fish_mam_needs_command" -f -a "reconcile" -d 'One pass (or a daemon of passes) keeping registry and tmux honest'
complete -c mam -n "__fish_mam_needs_command" -f -a "events" -d 'The local event log, signatures checked'
complete -c mam -n "__fish_mam_needs_command" -f -a "watch" -d 'Print verified events from the broker, and each rejection with its reason'
complete -c mam -n "__fish_mam_needs_command" -f -a "dash" -d 'A live dashboard of the jobs: table, selected job\'s detail and screen, events; act with keys (? lists them)'
complete -c mam -n "__fish_mam_needs_command" -f -a "key" -d 'Signing keys: rotate, show'
complete -c mam -n "__fish_mam_needs_command" -f -a "fleet" -d 'Several hosts, one fleet: this host\'s key, the hosts it trusts'
complete -c mam -n "__fish_mam_needs_command" -f -a "lease" -d 'Lease paths or globs so other agents keep off them (exclusive unless --shared)'
complete -c mam -n "__fish_mam_needs_command" -f -a "leases" -d 'List leases: holder, pattern, mode, expiry, reason'
complete -c mam -n "__fish_mam_needs_command" -f -a "release" -d 'Release leases by id or pattern (the operator breaks another\'s with --force)'
complete -c mam -n "__fish_mam_needs_command" -f -a "shared" -d 'The shared read-only docs every agent can read: add, rm, list, verify'
complete -c mam -n "__fish_mam_needs_command" -f -a "attach" -d 'Attach to an agent\'s tmux session (switch-client inside tmux)'
complete -c mam -n "__fish_mam_needs_command" -f -a "logs" -d 'Print an agent pane\'s recent output'
complete -c mam -n "__fish_mam_needs_command" -f -a "explain" -d 'Why mam thinks an agent is in its state: screen, rules, attempts'
complete -c mam -n "__fish_mam_needs_command" -f -a "whoami" -d 'Who the caller is, from the registry'
complete -c mam -n "__fish_mam_needs_command" -f -a "mcp" -d 'Serve mam\'s tools to the agent over MCP on stdio (identity from MAM_AGENT)'
complete -c mam -n "__fish_mam_needs_command" -f -a "doctor" -d 'Check tmux and its socket path, the state directory, the key file, the registry, the agent CLIs, the broker and the outbox'
complete -c mam -n "__fish_mam_needs_command" -f -a "completions" -d 'Print shell completions generated from this command line'
complete -c mam -n "__fish_mam_needs_command" -f -a "man" -d 'Write man pages generated from this command line'
complete -c mam -n "__fish_mam_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand init" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand init" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand init" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand init" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand init" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand init" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand create" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand create" -s a -l agent -d 'Agent profile (claude, codex, gemini, aider, hermes, shell, or one from config)' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l cmd -d 'Command line to run instead of the profile\'s (split like a shell would)' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l workdir -d 'Directory the agent works in (default: the workspace root)' -r -F
complete -c mam -n "__fish_mam_using_subcommand create" -l branch -d 'The worktree\'s new branch (default: mam/NAME)' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l base -d 'What the worktree\'s branch starts from (default: the current branch\'s HEAD)' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l role -d 'Role of the job' -r -f -a "worker\t''
pm\t''
reviewer\t''"
complete -c mam -n "__fish_mam_using_subcommand create" -l prompt -d 'Task prompt typed into the agent once it is ready' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l prompt-file -d 'Read the task prompt from a file (\'-\' for stdin)' -r -F
complete -c mam -n "__fish_mam_using_subcommand create" -l env -d 'Extra environment for the agent (repeatable)' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l ready-timeout -d 'Seconds to wait for the agent to become ready' -r
complete -c mam -n "__fish_mam_using_subcommand create" -l on-done -d 'When the job reports done (a verified event), `stop` its session or `keep` it' -r -f -a "stop\t''
keep\t''"
complete -c mam -n "__fish_mam_using_subcommand create" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand create" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand create" -l worktree -d 'Give the agent its own git worktree on a new branch ([worktree] root/NAME)'
complete -c mam -n "__fish_mam_using_subcommand create" -l no-wait -d 'Return once the session is started, without waiting for readiness'
complete -c mam -n "__fish_mam_using_subcommand create" -l mcp -d 'Give the agent mam\'s tools over MCP (default: the profile\'s `mcp`, on for claude, codex, gemini)'
complete -c mam -n "__fish_mam_using_subcommand create" -l no-mcp -d 'Do not wire mam\'s MCP server in; the agent uses the `mam` command line'
complete -c mam -n "__fish_mam_using_subcommand create" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand create" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand create" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand status" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand status" -l watch -d 'Redraw every SECS seconds (default 2)' -r
complete -c mam -n "__fish_mam_using_subcommand status" -l format -d 'One short line for a tmux status bar (`3 busy · 1 waiting · 2 unread`)' -r -f -a "tmux\t''"
complete -c mam -n "__fish_mam_using_subcommand status" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand status" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand status" -l all -d 'Include stopped and done jobs older than a day'
complete -c mam -n "__fish_mam_using_subcommand status" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand status" -l fleet -d 'Every host\'s jobs: this one\'s, and the other hosts\' as their daemons last told them, with how long ago each was heard from'
complete -c mam -n "__fish_mam_using_subcommand status" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand status" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand stop" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand stop" -l timeout -d 'Seconds to wait for the agent to exit before killing it' -r
complete -c mam -n "__fish_mam_using_subcommand stop" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand stop" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand stop" -l all -d 'Stop every live job'
complete -c mam -n "__fish_mam_using_subcommand stop" -l force -d 'Kill at once, without the profile\'s exit keys (with --remove-worktree: also discard the worktree\'s uncommitted changes)'
complete -c mam -n "__fish_mam_using_subcommand stop" -l remove-worktree -d 'Then remove the job\'s worktree, if nothing would be lost (merged or pushed, nothing uncommitted)'
complete -c mam -n "__fish_mam_using_subcommand stop" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand stop" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand stop" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand resume" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand resume" -l ready-timeout -d 'Seconds to wait for each agent to become ready' -r
complete -c mam -n "__fish_mam_using_subcommand resume" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand resume" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand resume" -l all -d 'Resume every job that is not live (pm roles first)'
complete -c mam -n "__fish_mam_using_subcommand resume" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand resume" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand resume" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand diff" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand diff" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand diff" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand diff" -l stat -d 'Only a summary of the changed files'
complete -c mam -n "__fish_mam_using_subcommand diff" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand diff" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand prune" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand prune" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand prune" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand prune" -l dry-run -d 'Say what would be removed and what kept, without removing anything'
complete -c mam -n "__fish_mam_using_subcommand prune" -l force -d 'Also remove worktrees with uncommitted or unmerged work (the uncommitted changes are discarded; unmerged branches are kept)'
complete -c mam -n "__fish_mam_using_subcommand prune" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand prune" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand prune" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand send" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand send" -l reply-to -d 'Mark it as a reply to this message or question id' -r
complete -c mam -n "__fish_mam_using_subcommand send" -l file -d 'Read the message from a file' -r -F
complete -c mam -n "__fish_mam_using_subcommand send" -l from -d 'Send as NAME (operator only; agents are who MAM_AGENT says)' -r
complete -c mam -n "__fish_mam_using_subcommand send" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand send" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand send" -l batch -d 'Send many: JSON Lines on stdin, one {"to", "text", "reply_to"} per line, all stored in one transaction (none if any line is bad)'
complete -c mam -n "__fish_mam_using_subcommand send" -l json -d 'Print the result as JSON (with --batch: one JSON line per input line)'
complete -c mam -n "__fish_mam_using_subcommand send" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand send" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand ask" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand ask" -l from -d 'Send as NAME (operator only; agents are who MAM_AGENT says)' -r
complete -c mam -n "__fish_mam_using_subcommand ask" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand ask" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand ask" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand ask" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand ask" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand answer" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand answer" -l from -d 'Send as NAME (operator only; agents are who MAM_AGENT says)' -r
complete -c mam -n "__fish_mam_using_subcommand answer" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand answer" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand answer" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand answer" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand answer" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand recv" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand recv" -l batch -d 'Hand out up to N messages' -r
complete -c mam -n "__fish_mam_using_subcommand recv" -l wait -d 'Wait up to SECS for a message to arrive' -r
complete -c mam -n "__fish_mam_using_subcommand recv" -l as -d 'Receive as NAME (operator only)' -r
complete -c mam -n "__fish_mam_using_subcommand recv" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand recv" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand recv" -l peek -d 'Show without marking read'
complete -c mam -n "__fish_mam_using_subcommand recv" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand recv" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand recv" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand inbox" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand inbox" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand inbox" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand inbox" -l all -d 'Include messages already read, failed or cancelled'
complete -c mam -n "__fish_mam_using_subcommand inbox" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand inbox" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand inbox" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand threads" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand threads" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand threads" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand threads" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand threads" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand threads" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand cancel" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand cancel" -l from -d 'Send as NAME (operator only; agents are who MAM_AGENT says)' -r
complete -c mam -n "__fish_mam_using_subcommand cancel" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand cancel" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand cancel" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand cancel" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand remind" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand remind" -l in -d 'After this long (e.g. 90s, 15m, 2h)' -r
complete -c mam -n "__fish_mam_using_subcommand remind" -l at -d 'At this time: RFC 3339, `YYYY-MM-DD HH:MM` or `HH:MM` (local)' -r
complete -c mam -n "__fish_mam_using_subcommand remind" -l every -d 'Repeat every DUR after that' -r
complete -c mam -n "__fish_mam_using_subcommand remind" -l from -d 'Send as NAME (operator only; agents are who MAM_AGENT says)' -r
complete -c mam -n "__fish_mam_using_subcommand remind" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand remind" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand remind" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand remind" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand remind" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand reminders" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand reminders" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand reminders" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand reminders" -l all -d 'Include delivered and cancelled ones'
complete -c mam -n "__fish_mam_using_subcommand reminders" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand reminders" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand reminders" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand retry" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand retry" -l from -d 'Send as NAME (operator only; agents are who MAM_AGENT says)' -r
complete -c mam -n "__fish_mam_using_subcommand retry" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand retry" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand retry" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand retry" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand progress" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand progress" -l job -d 'The job to report on (operator only; agents report on their own)' -r
complete -c mam -n "__fish_mam_using_subcommand progress" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand progress" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand progress" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand progress" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand done" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand done" -l verdict -d 'A review verdict' -r -f -a "pass\t''
not-pass\t''"
complete -c mam -n "__fish_mam_using_subcommand done" -l details -d 'Details of the result' -r
complete -c mam -n "__fish_mam_using_subcommand done" -l details-file -d 'Read the details from a file' -r -F
complete -c mam -n "__fish_mam_using_subcommand done" -l artifact -d 'A file the job produced (repeatable; must exist)' -r -F
complete -c mam -n "__fish_mam_using_subcommand done" -l job -d 'The job to report on (operator only; agents report on their own)' -r
complete -c mam -n "__fish_mam_using_subcommand done" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand done" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand done" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand done" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand fail" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand fail" -l job -d 'The job to report on (operator only; agents report on their own)' -r
complete -c mam -n "__fish_mam_using_subcommand fail" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand fail" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand fail" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand fail" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand reconcile" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand reconcile" -l interval -d 'Seconds between passes as a daemon (default: reconcile.interval)' -r
complete -c mam -n "__fish_mam_using_subcommand reconcile" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand reconcile" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand reconcile" -l once -d 'One pass, then exit (for cron)'
complete -c mam -n "__fish_mam_using_subcommand reconcile" -l dry-run -d 'Report what would change without changing it'
complete -c mam -n "__fish_mam_using_subcommand reconcile" -l json -d 'Print the report as JSON'
complete -c mam -n "__fish_mam_using_subcommand reconcile" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand reconcile" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand events" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand events" -l job -d 'Only events of this job' -r
complete -c mam -n "__fish_mam_using_subcommand events" -l kind -d 'Only events of this kind (e.g. job.state)' -r
complete -c mam -n "__fish_mam_using_subcommand events" -l since -d 'Only events after this sequence number' -r
complete -c mam -n "__fish_mam_using_subcommand events" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand events" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand events" -l follow -d 'Keep printing new events as they are written'
complete -c mam -n "__fish_mam_using_subcommand events" -l json -d 'JSON Lines: one object per event'
complete -c mam -n "__fish_mam_using_subcommand events" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand events" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand watch" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand watch" -l count -d 'Exit after this many messages (accepted or rejected)' -r
complete -c mam -n "__fish_mam_using_subcommand watch" -l for -d 'Exit after this many seconds' -r
complete -c mam -n "__fish_mam_using_subcommand watch" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand watch" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand watch" -l json -d 'JSON Lines: one object per message received'
complete -c mam -n "__fish_mam_using_subcommand watch" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand watch" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand dash" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand dash" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand dash" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand dash" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand dash" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand key; and not __fish_seen_subcommand_from rotate show help" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand key; and not __fish_seen_subcommand_from rotate show help" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand key; and not __fish_seen_subcommand_from rotate show help" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand key; and not __fish_seen_subcommand_from rotate show help" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand key; and not __fish_seen_subcommand_from rotate show help" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand key; and not __fish_seen_subcommand_from rotate show help" -f -a "rotate" -d 'Make a new signing key; the old one still verifies for security.key_grace'
complete -c mam -n "__fish_mam_using_subcommand key; and not __fish_seen_subcommand_from rotate show help" -f -a "show" -d 'Show the key ids (never the secrets)'
complete -c mam -n "__fish_mam_using_subcommand key; and not __fish_seen_subcommand_from rotate show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from rotate" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from rotate" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from rotate" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from rotate" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from rotate" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from show" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from show" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Make a new signing key; the old one still verifies for security.key_grace'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the key ids (never the secrets)'
complete -c mam -n "__fish_mam_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -f -a "show" -d 'This host\'s fleet name, key id and public key (the key is made on first use)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -f -a "trust" -d 'Act on HOST\'s traffic signed by KEY (what `mam fleet show` prints there)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -f -a "untrust" -d 'Stop acting on HOST\'s traffic (it stays listed)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -f -a "hosts" -d 'Known hosts: key id, trusted or not, when last heard from'
complete -c mam -n "__fish_mam_using_subcommand fleet; and not __fish_seen_subcommand_from show trust untrust hosts help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from show" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from show" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from trust" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from trust" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from trust" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from trust" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from trust" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from trust" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from untrust" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from untrust" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from untrust" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from untrust" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from untrust" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from untrust" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from hosts" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from hosts" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from hosts" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from hosts" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from hosts" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from hosts" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "show" -d 'This host\'s fleet name, key id and public key (the key is made on first use)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "trust" -d 'Act on HOST\'s traffic signed by KEY (what `mam fleet show` prints there)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "untrust" -d 'Stop acting on HOST\'s traffic (it stays listed)'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "hosts" -d 'Known hosts: key id, trusted or not, when last heard from'
complete -c mam -n "__fish_mam_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -l ttl -d 'How long the lease lasts (default: lease.ttl, 1h)' -r
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -l reason -d 'Why you lease it (shown to whoever is refused)' -r
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -l shared -d 'A shared lease: conflicts only with exclusive ones'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -a "renew" -d 'Extend a lease you hold to DUR from now'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -a "check" -d 'Exit 4 when the staged (or given) files touch a path another agent holds an exclusive lease on'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -a "hook" -d 'The git pre-commit hook that runs `mam lease check --staged`'
complete -c mam -n "__fish_mam_using_subcommand lease; and not __fish_seen_subcommand_from renew check hook help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from renew" -l ttl -d 'How long from now (default: lease.ttl, 1h)' -r
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from renew" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from renew" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from renew" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from renew" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from renew" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from renew" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from check" -l as -d 'Check as NAME (operator only; agents are who MAM_AGENT says)' -r
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from check" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from check" -l staged -d 'Check the files staged in git (for a pre-commit hook)'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from check" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from hook" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from hook" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from hook" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from hook" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from hook" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from hook" -f -a "install" -d 'Install it in the checkout you are in (core.hooksPath respected; another hook is left alone)'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from hook" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "renew" -d 'Extend a lease you hold to DUR from now'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "check" -d 'Exit 4 when the staged (or given) files touch a path another agent holds an exclusive lease on'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "hook" -d 'The git pre-commit hook that runs `mam lease check --staged`'
complete -c mam -n "__fish_mam_using_subcommand lease; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand leases" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand leases" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand leases" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand leases" -l all -d 'Include released, expired and broken leases'
complete -c mam -n "__fish_mam_using_subcommand leases" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand leases" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand leases" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand release" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand release" -l reason -d 'Why (recorded with the release)' -r
complete -c mam -n "__fish_mam_using_subcommand release" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand release" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand release" -l force -d 'Break another holder\'s lease (operator only; recorded)'
complete -c mam -n "__fish_mam_using_subcommand release" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand release" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand release" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -f -a "add" -d 'Copy files into the shared docs, read-only (operator or a pm)'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -f -a "rm" -d 'Remove a file from the shared docs (operator or a pm)'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -f -a "list" -d 'List the shared docs with their sha256'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -f -a "verify" -d 'Exit 4 when a shared file was changed, removed or added behind mam\'s back'
complete -c mam -n "__fish_mam_using_subcommand shared; and not __fish_seen_subcommand_from add rm list verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from add" -l as -d 'The name in the shared docs (one file only; default: its file name)' -r
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from add" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from add" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from rm" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from rm" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from rm" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from list" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from list" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from verify" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from verify" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from help" -f -a "add" -d 'Copy files into the shared docs, read-only (operator or a pm)'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove a file from the shared docs (operator or a pm)'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the shared docs with their sha256'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Exit 4 when a shared file was changed, removed or added behind mam\'s back'
complete -c mam -n "__fish_mam_using_subcommand shared; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mam -n "__fish_mam_using_subcommand attach" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand attach" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand attach" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand attach" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand attach" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand logs" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand logs" -s n -l lines -d 'How many lines of history to include' -r
complete -c mam -n "__fish_mam_using_subcommand logs" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand logs" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand logs" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand logs" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand explain" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand explain" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand explain" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand explain" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand explain" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand explain" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand whoami" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand whoami" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand whoami" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand whoami" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand whoami" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand whoami" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand mcp" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand mcp" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand mcp" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand mcp" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand mcp" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand doctor" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand doctor" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand doctor" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand doctor" -l json -d 'Print the result as JSON'
complete -c mam -n "__fish_mam_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand completions" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand completions" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand completions" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand completions" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand completions" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand man" -l workspace -d 'Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)' -r -F
complete -c mam -n "__fish_mam_using_subcommand man" -l out-dir -d 'Write one page per command into DIR (default: print mam.1 to stdout)' -r -F
complete -c mam -n "__fish_mam_using_subcommand man" -s q -l quiet -d 'Print less (only ids and errors)'
complete -c mam -n "__fish_mam_using_subcommand man" -s v -l verbose -d 'Print more about what is done'
complete -c mam -n "__fish_mam_using_subcommand man" -s h -l help -d 'Print help'
complete -c mam -n "__fish_mam_using_subcommand man" -s V -l version -d 'Print version'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "init" -d 'Create the .mam/ state directory (registry, config template, key); idempotent'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "create" -d 'Start a new agent job in its own tmux session and wait until it is ready'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "status" -d 'Show jobs, their live state, progress and last activity'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "stop" -d 'Stop agents: their exit keys, then end the session and its processes'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "resume" -d 'Reopen stopped, lost, exited or failed jobs, resuming their conversation'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "diff" -d 'What an agent changed in its worktree against its base (committed and not)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "prune" -d 'Remove the worktrees of jobs that are not running, where no work is lost'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "send" -d 'Send a message to an agent (or `*` for every live agent)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "ask" -d 'Ask an agent a question; the answer comes back as a reply'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "answer" -d 'Answer a question put to you'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "recv" -d 'Take your oldest waiting messages (marks them read)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "inbox" -d 'List a job\'s messages without consuming them'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "threads" -d 'Open threads: questions asked and owed, messages queued'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "cancel" -d 'Cancel your queued message, open question or pending reminder'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "remind" -d 'Schedule a reminder for an agent (or yourself)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "reminders" -d 'List reminders: state, attempts, last error'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "retry" -d 'Re-arm a failed reminder'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "progress" -d 'Report progress on your job'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "done" -d 'Report your job done, with an optional verdict and artifacts'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "fail" -d 'Report your job failed'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "reconcile" -d 'One pass (or a daemon of passes) keeping registry and tmux honest'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "events" -d 'The local event log, signatures checked'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "watch" -d 'Print verified events from the broker, and each rejection with its reason'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "dash" -d 'A live dashboard of the jobs: table, selected job\'s detail and screen, events; act with keys (? lists them)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "key" -d 'Signing keys: rotate, show'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "fleet" -d 'Several hosts, one fleet: this host\'s key, the hosts it trusts'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "lease" -d 'Lease paths or globs so other agents keep off them (exclusive unless --shared)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "leases" -d 'List leases: holder, pattern, mode, expiry, reason'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "release" -d 'Release leases by id or pattern (the operator breaks another\'s with --force)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "shared" -d 'The shared read-only docs every agent can read: add, rm, list, verify'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "attach" -d 'Attach to an agent\'s tmux session (switch-client inside tmux)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "logs" -d 'Print an agent pane\'s recent output'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "explain" -d 'Why mam thinks an agent is in its state: screen, rules, attempts'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "whoami" -d 'Who the caller is, from the registry'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "mcp" -d 'Serve mam\'s tools to the agent over MCP on stdio (identity from MAM_AGENT)'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "doctor" -d 'Check tmux and its socket path, the state directory, the key file, the registry, the agent CLIs, the broker and the outbox'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "completions" -d 'Print shell completions generated from this command line'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "man" -d 'Write man pages generated from this command line'
complete -c mam -n "__fish_mam_using_subcommand help; and not __fish_seen_subcommand_from init create status stop resume diff prune send ask answer recv inbox threads cancel remind reminders retry progress done fail reconcile events watch dash key fleet lease leases release shared attach logs explain whoami mcp doctor completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
