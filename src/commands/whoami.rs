//! `mam whoami`: the caller's identity from the registry.

use anyhow::Result;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::WhoamiArgs;
use crate::ui;

pub fn run(ctx: &Ctx, args: WhoamiArgs) -> Result<()> {
    let reg = ctx.registry_if_exists()?;
    let job = match &reg {
        Some(r) if ctx.caller != "operator" => r.job(&ctx.caller)?,
        _ => None,
    };
    if ctx.caller != "operator" && job.is_none() {
        return Err(crate::error::not_found(format!(
            "MAM_AGENT is {:?}, but this workspace has no such job",
            ctx.caller
        ))
        .hint("unset MAM_AGENT to act as the operator, or check --workspace")
        .into());
    }
    let v = json!({
        "name": ctx.caller,
        "role": job.as_ref().map_or("operator", |j| j.role.as_str()),
        "kind": job.as_ref().map(|j| j.kind.clone()),
        "state": job.as_ref().map(|j| j.state),
        "workspace": reg.as_ref().map(|r| r.ws().to_string()),
        "root": ctx.paths.root,
        "tmux_session": job.as_ref().and_then(|j| j.session.as_ref().map(|s| s.tmux_session.clone())),
        "pane": job.as_ref().and_then(|j| j.session.as_ref().map(|s| s.pane_id.clone())),
        "tmux_socket": ctx.tmux.socket(),
        "started_at": job.as_ref().and_then(|j| j.session.as_ref().map(|s| crate::signing::rfc3339_ms(s.started_at))),
        "version": env!("CARGO_PKG_VERSION"),
    });
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
