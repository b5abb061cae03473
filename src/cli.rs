//! The command-line definition (clap derive): `Cli`, the `Command` enum and one
//! `Args` struct per subcommand. Nothing else lives here.

use std::path::PathBuf;

pub use crate::model::{OnDone, Role, Verdict};
use clap::{Args, Parser, Subcommand};

/// mam — multi-agent mux: run AI coding agents side by side in tmux, and let
/// them and their operator coordinate through a registry of jobs.
#[derive(Debug, Parser)]
#[command(name = "mam", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Workspace root (default: nearest ancestor with .mam/, else with .git, else cwd)
    #[arg(long, global = true, env = "MAM_WORKSPACE", value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Print less (only ids and errors)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more about what is done
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

// Each subcommand's arguments are built only when it is the one run (clap's
// `defer`): building all of them was a fifth of a one-shot command's
// instructions (`mam send`). Help, completions and man pages build them all.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create the .mam/ state directory (registry, config template, key); idempotent
    Init(InitArgs),
    /// Start a new agent job in its own tmux session and wait until it is ready
    Create(CreateArgs),
    /// Show jobs, their live state, progress and last activity
    Status(StatusArgs),
    /// Stop agents: their exit keys, then end the session and its processes
    Stop(StopArgs),
    /// Reopen stopped, lost, exited or failed jobs, resuming their conversation
    Resume(ResumeArgs),
    /// What an agent changed in its worktree against its base (committed and not)
    Diff(DiffArgs),
    /// Remove the worktrees of jobs that are not running, where no work is lost
    Prune(PruneArgs),
    /// Send a message to an agent (or `*` for every live agent)
    Send(SendArgs),
    /// Ask an agent a question; the answer comes back as a reply
    Ask(AskArgs),
    /// Answer a question put to you
    Answer(AnswerArgs),
    /// Take your oldest waiting messages (marks them read)
    Recv(RecvArgs),
    /// List a job's messages without consuming them
    Inbox(InboxArgs),
    /// Open threads: questions asked and owed, messages queued
    Threads(ThreadsArgs),
    /// Cancel your queued message, open question or pending reminder
    Cancel(CancelArgs),
    /// Schedule a reminder for an agent (or yourself)
    Remind(RemindArgs),
    /// List reminders: state, attempts, last error
    Reminders(RemindersArgs),
    /// Re-arm a failed reminder
    Retry(RetryArgs),
    /// Report progress on your job
    Progress(ProgressArgs),
    /// Report your job done, with an optional verdict and artifacts
    Done(DoneArgs),
    /// Report your job failed
    Fail(FailArgs),
    /// One pass (or a daemon of passes) keeping registry and tmux honest
    Reconcile(ReconcileArgs),
    /// The local event log, signatures checked
    Events(EventsArgs),
    /// Print verified events from the broker, and each rejection with its reason
    Watch(WatchArgs),
    /// A live dashboard of the jobs: table, selected job's detail and screen, events; act with keys (? lists them)
    Dash(DashArgs),
    /// Signing keys: rotate, show
    Key(KeyArgs),
    /// Several hosts, one fleet: this host's key, the hosts it trusts
    Fleet(FleetArgs),
    /// Lease paths or globs so other agents keep off them (exclusive unless --shared)
    Lease(LeaseArgs),
    /// List leases: holder, pattern, mode, expiry, reason
    Leases(LeasesArgs),
    /// Release leases by id or pattern (the operator breaks another's with --force)
    Release(ReleaseArgs),
    /// The shared read-only docs every agent can read: add, rm, list, verify
    Shared(SharedArgs),
    /// Attach to an agent's tmux session (switch-client inside tmux)
    Attach(AttachArgs),
    /// Print an agent pane's recent output
    Logs(LogsArgs),
    /// Why mam thinks an agent is in its state: screen, rules, attempts
    Explain(ExplainArgs),
    /// Who the caller is, from the registry
    Whoami(WhoamiArgs),
    /// Serve mam's tools to the agent over MCP on stdio (identity from MAM_AGENT)
    Mcp(McpArgs),
    /// Check tmux and its socket path, the state directory, the key file, the registry, the agent CLIs, the broker and the outbox
    Doctor(DoctorArgs),
    /// Print shell completions generated from this command line
    Completions(CompletionsArgs),
    /// Write man pages generated from this command line
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Job name: [a-z0-9][a-z0-9_-]{0,31}
    pub name: String,
    /// Agent profile (claude, codex, gemini, aider, hermes, shell, or one from config)
    #[arg(long, short = 'a', value_name = "KIND", default_value = "claude")]
    pub agent: String,
    /// Command line to run instead of the profile's (split like a shell would)
    #[arg(long, value_name = "CMD")]
    pub cmd: Option<String>,
    /// Directory the agent works in (default: the workspace root)
    #[arg(long, value_name = "DIR", conflicts_with = "worktree")]
    pub workdir: Option<PathBuf>,
    /// Give the agent its own git worktree on a new branch ([worktree] root/NAME)
    #[arg(long)]
    pub worktree: bool,
    /// The worktree's new branch (default: mam/NAME)
    #[arg(long, value_name = "B", requires = "worktree")]
    pub branch: Option<String>,
    /// What the worktree's branch starts from (default: the current branch's HEAD)
    #[arg(long, value_name = "REF", requires = "worktree")]
    pub base: Option<String>,
    /// Role of the job
    #[arg(long, value_enum, default_value = "worker")]
    pub role: Role,
    /// Task prompt typed into the agent once it is ready
    #[arg(
        long,
        value_name = "TEXT",
        conflicts_with = "prompt_file",
        allow_hyphen_values = true
    )]
    pub prompt: Option<String>,
    /// Read the task prompt from a file ('-' for stdin)
    #[arg(long, value_name = "FILE")]
    pub prompt_file: Option<PathBuf>,
    /// Extra environment for the agent (repeatable)
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Seconds to wait for the agent to become ready
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub ready_timeout: f64,
    /// Return once the session is started, without waiting for readiness
    #[arg(long)]
    pub no_wait: bool,
    /// When the job reports done (a verified event), `stop` its session or `keep` it
    #[arg(long, value_enum, default_value = "stop")]
    pub on_done: OnDone,
    /// Give the agent mam's tools over MCP (default: the profile's `mcp`, on for claude, codex, gemini)
    #[arg(long, conflicts_with = "no_mcp")]
    pub mcp: bool,
    /// Do not wire mam's MCP server in; the agent uses the `mam` command line
    #[arg(long)]
    pub no_mcp: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only these jobs
    pub names: Vec<String>,
    /// Include stopped and done jobs older than a day
    #[arg(long)]
    pub all: bool,
    /// Redraw every SECS seconds (default 2)
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "2")]
    pub watch: Option<f64>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
    /// One short line for a tmux status bar (`3 busy · 1 waiting · 2 unread`)
    #[arg(long, value_enum, conflicts_with_all = ["json", "watch"])]
    pub format: Option<StatusFormat>,
    /// Every host's jobs: this one's, and the other hosts' as their daemons
    /// last told them, with how long ago each was heard from
    #[arg(long, conflicts_with_all = ["names", "format"])]
    pub fleet: bool,
}

/// The shapes `status` can print besides its table and `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Tmux,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Jobs to stop
    #[arg(required_unless_present = "all")]
    pub names: Vec<String>,
    /// Stop every live job
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// Kill at once, without the profile's exit keys (with --remove-worktree:
    /// also discard the worktree's uncommitted changes)
    #[arg(long)]
    pub force: bool,
    /// Then remove the job's worktree, if nothing would be lost (merged or pushed, nothing uncommitted)
    #[arg(long)]
    pub remove_worktree: bool,
    /// Seconds to wait for the agent to exit before killing it
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Jobs to resume
    #[arg(required_unless_present = "all")]
    pub names: Vec<String>,
    /// Resume every job that is not live (pm roles first)
    #[arg(long, conflicts_with = "names")]
    pub all: bool,
    /// Seconds to wait for each agent to become ready
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub ready_timeout: f64,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Job whose worktree to compare with its base
    pub name: String,
    /// Only a summary of the changed files
    #[arg(long)]
    pub stat: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Say what would be removed and what kept, without removing anything
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove worktrees with uncommitted or unmerged work (the
    /// uncommitted changes are discarded; unmerged branches are kept)
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Job to attach to
    pub name: String,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Job whose pane to print
    pub name: String,
    /// How many lines of history to include
    #[arg(long, short = 'n', default_value_t = 200)]
    pub lines: u32,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Job to explain
    pub name: String,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct McpArgs {}

#[derive(Debug, Args)]
pub struct WhoamiArgs {
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to generate completions for
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command into DIR (default: print mam.1 to stdout)
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FromArg {
    /// Send as NAME (operator only; agents are who MAM_AGENT says)
    #[arg(long, value_name = "NAME")]
    pub from: Option<String>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Recipient: a job name, `operator`, or `*` for every live agent
    #[arg(required_unless_present = "batch")]
    pub to: Option<String>,
    /// The message ('-' reads stdin); several words are joined with spaces
    #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
    pub text: Vec<String>,
    /// Mark it as a reply to this message or question id
    #[arg(long, value_name = "ID")]
    pub reply_to: Option<String>,
    /// Read the message from a file
    #[arg(long, value_name = "FILE", conflicts_with = "text")]
    pub file: Option<PathBuf>,
    /// Send many: JSON Lines on stdin, one {"to", "text", "reply_to"} per
    /// line, all stored in one transaction (none if any line is bad)
    #[arg(long, conflicts_with_all = ["to", "text", "file", "reply_to"])]
    pub batch: bool,
    #[command(flatten)]
    pub from: FromArg,
    /// Print the result as JSON (with --batch: one JSON line per input line)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// Who to ask
    pub to: String,
    /// The question
    #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 1..)]
    pub question: Vec<String>,
    #[command(flatten)]
    pub from: FromArg,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// Question id (q<N>)
    pub qid: String,
    /// The answer
    #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 1..)]
    pub text: Vec<String>,
    #[command(flatten)]
    pub from: FromArg,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RecvArgs {
    /// Hand out up to N messages
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub batch: u32,
    /// Wait up to SECS for a message to arrive
    #[arg(long, value_name = "SECS")]
    pub wait: Option<f64>,
    /// Show without marking read
    #[arg(long)]
    pub peek: bool,
    /// Receive as NAME (operator only)
    #[arg(long, value_name = "NAME")]
    pub r#as: Option<String>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InboxArgs {
    /// Whose inbox (default: yours)
    pub name: Option<String>,
    /// Include messages already read, failed or cancelled
    #[arg(long)]
    pub all: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ThreadsArgs {
    /// Whose threads (default: yours; the operator sees the whole workspace)
    pub name: Option<String>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// Message (m<N>), question (q<N>) or reminder (r<N>) id
    pub id: String,
    #[command(flatten)]
    pub from: FromArg,
}

#[derive(Debug, Args)]
pub struct JobArg {
    /// The job to report on (operator only; agents report on their own)
    #[arg(long, value_name = "NAME")]
    pub job: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProgressArgs {
    /// Percent complete, 0-100
    pub pct: i64,
    /// A short note
    #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
    pub note: Vec<String>,
    #[command(flatten)]
    pub job: JobArg,
}

#[derive(Debug, Args)]
pub struct DoneArgs {
    /// A review verdict
    #[arg(long, value_enum)]
    pub verdict: Option<Verdict>,
    /// Details of the result
    #[arg(
        long,
        value_name = "TEXT",
        conflicts_with = "details_file",
        allow_hyphen_values = true
    )]
    pub details: Option<String>,
    /// Read the details from a file
    #[arg(long, value_name = "FILE")]
    pub details_file: Option<PathBuf>,
    /// A file the job produced (repeatable; must exist)
    #[arg(long = "artifact", value_name = "PATH")]
    pub artifacts: Vec<PathBuf>,
    #[command(flatten)]
    pub job: JobArg,
}

#[derive(Debug, Args)]
pub struct FailArgs {
    /// Why it failed
    #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 1..)]
    pub reason: Vec<String>,
    #[command(flatten)]
    pub job: JobArg,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// One pass, then exit (for cron)
    #[arg(long)]
    pub once: bool,
    /// Seconds between passes as a daemon (default: reconcile.interval)
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
    /// Report what would change without changing it
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep printing new events as they are written
    #[arg(long)]
    pub follow: bool,
    /// Only events of this job
    #[arg(long, value_name = "NAME")]
    pub job: Option<String>,
    /// Only events of this kind (e.g. job.state)
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Only events after this sequence number
    #[arg(long, value_name = "SEQ", default_value_t = 0)]
    pub since: i64,
    /// JSON Lines: one object per event
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DashArgs {}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// JSON Lines: one object per message received
    #[arg(long)]
    pub json: bool,
    /// Exit after this many messages (accepted or rejected)
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Exit after this many seconds
    #[arg(long = "for", value_name = "SECS")]
    pub duration: Option<f64>,
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub action: KeyAction,
}

#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(subcommand)]
    pub action: FleetAction,
}

#[derive(Debug, Subcommand)]
pub enum FleetAction {
    /// This host's fleet name, key id and public key (the key is made on first use)
    Show {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Act on HOST's traffic signed by KEY (what `mam fleet show` prints there)
    Trust {
        /// The other host's fleet name
        host: String,
        /// Its public key: 64 hex digits
        key: String,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Stop acting on HOST's traffic (it stays listed)
    Untrust {
        /// The host's fleet name
        host: String,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Known hosts: key id, trusted or not, when last heard from
    Hosts {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Make a new signing key; the old one still verifies for security.key_grace
    Rotate {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show the key ids (never the secrets)
    Show {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("when").required(true).args(["in_", "at"])))]
pub struct RemindArgs {
    /// Who to remind: a job name, `operator`, or `job@host` (a job on another host of the fleet)
    pub to: String,
    /// After this long (e.g. 90s, 15m, 2h)
    #[arg(long = "in", id = "in_", value_name = "DUR")]
    pub in_: Option<String>,
    /// At this time: RFC 3339, `YYYY-MM-DD HH:MM` or `HH:MM` (local)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Repeat every DUR after that
    #[arg(long, value_name = "DUR")]
    pub every: Option<String>,
    /// The reminder text
    #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 1..)]
    pub text: Vec<String>,
    #[command(flatten)]
    pub from: FromArg,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RemindersArgs {
    /// Only reminders for or by NAME
    pub name: Option<String>,
    /// Include delivered and cancelled ones
    #[arg(long)]
    pub all: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// Reminder id (r<N>)
    pub rid: String,
    #[command(flatten)]
    pub from: FromArg,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LeaseArgs {
    #[command(subcommand)]
    pub action: Option<LeaseAction>,
    /// Paths or globs to lease (relative to here, or absolute; inside the workspace)
    #[arg(value_name = "PATH|GLOB", required = true)]
    pub patterns: Vec<String>,
    /// How long the lease lasts (default: lease.ttl, 1h)
    #[arg(long, value_name = "DUR")]
    pub ttl: Option<String>,
    /// Why you lease it (shown to whoever is refused)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub reason: Option<String>,
    /// A shared lease: conflicts only with exclusive ones
    #[arg(long)]
    pub shared: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum LeaseAction {
    /// Extend a lease you hold to DUR from now
    Renew {
        /// Lease id (l<N>)
        id: String,
        /// How long from now (default: lease.ttl, 1h)
        #[arg(long, value_name = "DUR")]
        ttl: Option<String>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Exit 4 when the staged (or given) files touch a path another agent holds an exclusive lease on
    Check {
        /// Files to check (relative to here, or absolute)
        files: Vec<String>,
        /// Check the files staged in git (for a pre-commit hook)
        #[arg(long)]
        staged: bool,
        /// Check as NAME (operator only; agents are who MAM_AGENT says)
        #[arg(long, value_name = "NAME")]
        r#as: Option<String>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// The git pre-commit hook that runs `mam lease check --staged`
    Hook {
        #[command(subcommand)]
        action: LeaseHookAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum LeaseHookAction {
    /// Install it in the checkout you are in (core.hooksPath respected; another hook is left alone)
    Install {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct LeasesArgs {
    /// Only leases held by NAME
    pub name: Option<String>,
    /// Include released, expired and broken leases
    #[arg(long)]
    pub all: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Lease ids (l<N>) or the paths and globs as leased
    #[arg(value_name = "LEASE_ID|PATH", required = true)]
    pub targets: Vec<String>,
    /// Break another holder's lease (operator only; recorded)
    #[arg(long)]
    pub force: bool,
    /// Why (recorded with the release)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub reason: Option<String>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SharedArgs {
    #[command(subcommand)]
    pub action: SharedAction,
}

#[derive(Debug, Subcommand)]
pub enum SharedAction {
    /// Copy files into the shared docs, read-only (operator or a pm)
    Add {
        /// Files to share
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The name in the shared docs (one file only; default: its file name)
        #[arg(long, value_name = "NAME")]
        r#as: Option<String>,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove a file from the shared docs (operator or a pm)
    Rm {
        /// Its name in the shared docs
        name: String,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the shared docs with their sha256
    List {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Exit 4 when a shared file was changed, removed or added behind mam's back
    Verify {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}
