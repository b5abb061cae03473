//! One file per subcommand: read the arguments, call the domain modules,
//! render the output. No SQL and no tmux argv here.

pub mod attach;
pub mod completions;
pub mod create;
pub mod dash;
pub mod diff;
pub mod doctor;
pub mod events;
pub mod explain;
pub mod fleet;
pub mod init;
pub mod lease;
pub mod logs;
pub mod mcp;
pub mod prune;
pub mod reconcile;
pub mod recv;
pub mod remind;
pub mod report;
pub mod resume;
pub mod send;
pub mod shared;
pub mod status;
pub mod stop;
pub mod threads;
pub mod watch;
pub mod whoami;

use anyhow::Result;

use crate::app::Ctx;
use crate::cli::{Cli, Command};

/// How a command prints its result, the same three ways everywhere: one JSON
/// document (`--json`), only the ids or names a script needs (`-q`), or lines
/// for a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Out {
    Json,
    Quiet,
    Human,
}

impl Out {
    pub(crate) fn of(ctx: &Ctx, json: bool) -> Out {
        if json {
            Out::Json
        } else if ctx.global.quiet {
            Out::Quiet
        } else {
            Out::Human
        }
    }
}

pub fn dispatch(cli: Cli) -> Result<()> {
    // Commands that need no workspace.
    match &cli.command {
        Command::Completions(a) => return completions::completions(a),
        Command::Man(a) => return completions::man(a),
        _ => {}
    }
    // Everything else drives tmux (or reads what it drove): POSIX only.
    crate::os::require_posix()?;
    let ctx = Ctx::new(cli.global.clone())?;
    if let Command::Mcp(_) = cli.command {
        return mcp::run(ctx);
    }
    let publishes = matches!(
        cli.command,
        Command::Init(_)
            | Command::Create(_)
            | Command::Stop(_)
            | Command::Resume(_)
            | Command::Prune(_)
            | Command::Send(_)
            | Command::Ask(_)
            | Command::Answer(_)
            | Command::Cancel(_)
            | Command::Remind(_)
            | Command::Retry(_)
            | Command::Progress(_)
            | Command::Done(_)
            | Command::Fail(_)
            | Command::Lease(_)
            | Command::Leases(_)
            | Command::Release(_)
            | Command::Shared(_)
            | Command::Fleet(_)
    );
    let result = run_command(&ctx, cli.command);
    // Publish what the command wrote, after its commits, also when it failed
    // part-way (its committed changes are real). Bounded; never an error.
    if publishes && !ctx.config.broker.url.is_empty() && !ctx.published.get() {
        flush_quietly(&ctx);
    }
    result
}

fn flush_quietly(ctx: &Ctx) {
    match ctx.registry_if_exists() {
        Ok(Some(mut reg)) => ctx.publish(&mut reg),
        Ok(None) => {}
        Err(e) if ctx.global.verbose => {
            eprintln!("mam: events not published yet (they stay in the outbox): {e:#}")
        }
        Err(_) => {}
    }
}

fn run_command(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Init(a) => init::run(ctx, a),
        Command::Create(a) => create::run(ctx, a),
        Command::Status(a) => status::run(ctx, a),
        Command::Stop(a) => stop::run(ctx, a),
        Command::Resume(a) => resume::run(ctx, a),
        Command::Diff(a) => diff::run(ctx, a),
        Command::Prune(a) => prune::run(ctx, a),
        Command::Send(a) => send::send(ctx, a),
        Command::Ask(a) => send::ask(ctx, a),
        Command::Answer(a) => send::answer(ctx, a),
        Command::Recv(a) => recv::recv(ctx, a),
        Command::Inbox(a) => recv::inbox(ctx, a),
        Command::Threads(a) => threads::run(ctx, a),
        Command::Cancel(a) => report::cancel(ctx, a),
        Command::Remind(a) => remind::remind(ctx, a),
        Command::Reminders(a) => remind::list(ctx, a),
        Command::Retry(a) => remind::retry(ctx, a),
        Command::Progress(a) => report::progress(ctx, a),
        Command::Done(a) => report::done(ctx, a),
        Command::Fail(a) => report::fail(ctx, a),
        Command::Reconcile(a) => reconcile::run(ctx, a),
        Command::Events(a) => events::events(ctx, a),
        Command::Watch(a) => watch::run(ctx, a),
        Command::Dash(_) => dash::run(ctx),
        Command::Key(a) => events::key(ctx, a),
        Command::Fleet(a) => fleet::run(ctx, a),
        Command::Lease(a) => lease::lease(ctx, a),
        Command::Leases(a) => lease::list(ctx, a),
        Command::Release(a) => lease::release(ctx, a),
        Command::Shared(a) => shared::run(ctx, a),
        Command::Attach(a) => attach::run(ctx, a),
        Command::Logs(a) => logs::run(ctx, a),
        Command::Explain(a) => explain::run(ctx, a),
        Command::Whoami(a) => whoami::run(ctx, a),
        Command::Mcp(_) => unreachable!("handled above"),
        Command::Doctor(a) => doctor::run(ctx, a),
        Command::Completions(_) | Command::Man(_) => unreachable!("handled above"),
    }
}
