//! One file per subcommand: read the arguments, call the domain modules,
//! render the output. No SQL and no tmux argv here.

pub mod attach;
pub mod completions;
pub mod create;
pub mod doctor;
pub mod init;
pub mod logs;
pub mod resume;
pub mod status;
pub mod stop;
pub mod whoami;

use anyhow::Result;

use crate::app::Ctx;
use crate::cli::{Cli, Command};

pub fn dispatch(cli: Cli) -> Result<()> {
    // Commands that need no workspace.
    match &cli.command {
        Command::Completions(a) => return completions::completions(a),
        Command::Man(a) => return completions::man(a),
        _ => {}
    }
    let ctx = Ctx::new(cli.global.clone())?;
    match cli.command {
        Command::Init(a) => init::run(&ctx, a),
        Command::Create(a) => create::run(&ctx, a),
        Command::Status(a) => status::run(&ctx, a),
        Command::Stop(a) => stop::run(&ctx, a),
        Command::Resume(a) => resume::run(&ctx, a),
        Command::Attach(a) => attach::run(&ctx, a),
        Command::Logs(a) => logs::run(&ctx, a),
        Command::Whoami(a) => whoami::run(&ctx, a),
        Command::Doctor(a) => doctor::run(&ctx, a),
        Command::Completions(_) | Command::Man(_) => unreachable!("handled above"),
    }
}
