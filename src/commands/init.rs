//! `mam init`: create the state directory, registry, key and config template.

use anyhow::{Context, Result};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::InitArgs;
use crate::commands::Out;
use crate::config::TEMPLATE;
use crate::ui;

pub fn run(ctx: &Ctx, args: InitArgs) -> Result<()> {
    let reg = ctx.registry()?;
    if !ctx.paths.config.exists() {
        std::fs::write(&ctx.paths.config, TEMPLATE)
            .with_context(|| format!("cannot write {}", ctx.paths.config.display()))?;
    }
    match Out::of(ctx, args.json) {
        Out::Json => ui::print_json(&json!({
            "workspace": reg.ws(),
            "root": ctx.paths.root,
            "state_dir": ctx.paths.state,
            "key_id": reg.ident.keys.current().kid,
        })),
        Out::Quiet => println!("{}", reg.ws()),
        Out::Human => {
            println!("workspace {} at {}", reg.ws(), ctx.paths.root.display());
            println!("state in {}", ctx.paths.state.display());
        }
    }
    Ok(())
}
