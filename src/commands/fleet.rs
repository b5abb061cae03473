//! `mam fleet show|trust|untrust|hosts`: this host's name and Ed25519 key,
//! and the other hosts whose traffic it acts on.

use anyhow::Result;
use serde_json::json;

use super::Out;
use crate::app::Ctx;
use crate::cli::{FleetAction, FleetArgs};
use crate::error::{conflict, usage};
use crate::registry::fleet::TrustChange;
use crate::registry::now_ms;
use crate::signing::host::{HostKey, key_id_of_hex, parse_public};
use crate::ui;

pub fn run(ctx: &Ctx, args: FleetArgs) -> Result<()> {
    match args.action {
        FleetAction::Show { json } => show(ctx, json),
        FleetAction::Trust { host, key, json } => trust(ctx, &host, &key, json),
        FleetAction::Untrust { host, json } => untrust(ctx, &host, json),
        FleetAction::Hosts { json } => hosts(ctx, json),
    }
}

/// Changing whom the fleet trusts is the operator's alone.
fn operator_only(ctx: &Ctx, what: &str) -> Result<()> {
    if ctx.caller != "operator" {
        return Err(conflict(format!(
            "only the operator may {what} (you are {})",
            ctx.caller
        ))
        .hint("ask the operator to run it in a shell outside any agent")
        .into());
    }
    Ok(())
}

fn check_host(ctx: &Ctx, host: &str) -> Result<String> {
    if !crate::app::valid_name(host) {
        return Err(usage(format!("invalid host name {host:?}"))
            .hint("host names are 1-32 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit")
            .into());
    }
    let me = ctx.config.fleet.host()?;
    if host == me {
        return Err(usage(format!("{host} is this host's own name"))
            .hint("run `mam fleet trust` on the other hosts, with the key `mam fleet show` prints here")
            .into());
    }
    Ok(me)
}

fn show(ctx: &Ctx, json: bool) -> Result<()> {
    let host = ctx.config.fleet.host()?;
    let _reg = ctx.registry()?; // creates the state directory on first use
    let key = HostKey::load_or_create(&ctx.paths.host_key, now_ms())?;
    match Out::of(ctx, json) {
        Out::Json => ui::print_json(&json!({
            "host": host,
            "kid": key.kid(),
            "public_key": key.public_hex(),
        })),
        Out::Quiet => println!("{}", key.public_hex()),
        Out::Human => {
            println!("host        {host}");
            println!("key id      {}", key.kid());
            println!("public key  {}", key.public_hex());
            println!(
                "on each other host: mam fleet trust {host} {}",
                key.public_hex()
            );
        }
    }
    Ok(())
}

fn trust(ctx: &Ctx, host: &str, key: &str, json: bool) -> Result<()> {
    operator_only(ctx, "trust a host")?;
    check_host(ctx, host)?;
    let public = parse_public(key)?;
    let kid = key_id_of_hex(&public);
    let mut reg = ctx.registry()?;
    let change = reg.write(|t| t.trust_host(host, &public, &ctx.caller))?;
    match Out::of(ctx, json) {
        Out::Json => ui::print_json(&json!({"host": host, "kid": kid, "change": change})),
        Out::Quiet => println!("{host}"),
        Out::Human => match change {
            TrustChange::Trusted => println!("trusted {host} (key {kid})"),
            TrustChange::Unchanged => println!("{host} was already trusted with key {kid}"),
        },
    }
    Ok(())
}

fn untrust(ctx: &Ctx, host: &str, json: bool) -> Result<()> {
    operator_only(ctx, "untrust a host")?;
    check_host(ctx, host)?;
    let mut reg = ctx.registry()?;
    let was = reg.write(|t| t.untrust_host(host, &ctx.caller))?;
    match Out::of(ctx, json) {
        Out::Json => ui::print_json(&json!({"host": host, "was_trusted": was})),
        Out::Quiet => println!("{host}"),
        Out::Human if was => println!("untrusted {host}: its traffic is no longer acted on"),
        Out::Human => println!("{host} was not trusted"),
    }
    Ok(())
}

fn hosts(ctx: &Ctx, json: bool) -> Result<()> {
    let me = ctx.config.fleet.host()?;
    let list = match ctx.registry_if_exists()? {
        Some(reg) => reg.fleet_hosts()?,
        None => Vec::new(),
    };
    match Out::of(ctx, json) {
        Out::Json => ui::print_json(&json!({"host": me, "hosts": list})),
        Out::Quiet => list.iter().for_each(|h| println!("{}", h.host)),
        Out::Human if list.is_empty() => {
            println!("no other hosts known (trust one with `mam fleet trust HOST KEY`)")
        }
        Out::Human => {
            let now = now_ms();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|h| {
                    vec![
                        h.host.clone(),
                        if h.key_id.is_empty() {
                            "-".into()
                        } else {
                            h.key_id.clone()
                        },
                        if h.trusted { "yes" } else { "no" }.into(),
                        h.last_seen
                            .map_or("never".into(), |t| format!("{} ago", ui::age(now - t))),
                    ]
                })
                .collect();
            print!(
                "{}",
                ui::table(&["HOST", "KEY ID", "TRUSTED", "LAST SEEN"], &rows)
            );
        }
    }
    Ok(())
}
