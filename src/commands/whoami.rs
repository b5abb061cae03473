//! `mam whoami`: the caller's identity from the registry.

use anyhow::Result;

use crate::app::Ctx;
use crate::cli::WhoamiArgs;
use crate::ui;

pub fn run(ctx: &Ctx, args: WhoamiArgs) -> Result<()> {
    let reg = ctx.registry_if_exists()?;
    let v = crate::tools::whoami(ctx, reg.as_ref())?;
    if args.json {
        ui::print_json(&v);
        return Ok(());
    }
    for key in [
        "name",
        "role",
        "kind",
        "state",
        "workspace",
        "root",
        "tmux_session",
        "pane",
        "tmux_socket",
        "started_at",
        "mcp",
        "version",
    ] {
        match &v[key] {
            serde_json::Value::Null => {}
            serde_json::Value::String(s) => println!("{key:13} {s}"),
            other => println!("{key:13} {other}"),
        }
    }
    Ok(())
}
