//! `mam events` (the local log, signatures checked) and `mam key`.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{EventsArgs, KeyAction, KeyArgs};
use crate::registry::{Registry, now_ms};
use crate::signing::envelope::Envelope;
use crate::signing::keys::KeyRing;
use crate::ui;

/// Verify a stored envelope with any key this workspace ever had (it is our
/// own log: expiry does not apply).
fn verified(reg: &Registry, topic: &str, env: &Envelope) -> bool {
    reg.ident
        .keys
        .keys
        .iter()
        .find(|k| k.kid == env.kid)
        .and_then(|k| hex::decode(&k.secret).ok())
        .is_some_and(|s| env.verify_sig(topic, &s))
}

pub fn events(ctx: &Ctx, args: EventsArgs) -> Result<()> {
    let Some(reg) = ctx.registry_if_exists()? else {
        return Ok(());
    };
    let mut since = args.since;
    loop {
        let batch = reg.events(since, args.job.as_deref(), args.kind.as_deref(), 1000)?;
        for e in &batch {
            since = e.seq;
            let env: Option<Envelope> = serde_json::from_str(&e.envelope).ok();
            let ok = env
                .as_ref()
                .is_some_and(|env| verified(&reg, &e.topic, env));
            if args.json {
                let v = json!({
                    "seq": e.seq, "topic": e.topic, "verified": ok, "published": e.published,
                    "envelope": env,
                });
                println!("{}", serde_json::to_string(&v)?);
            } else {
                let (ts, body) = env
                    .as_ref()
                    .map(|x| (x.ts.clone(), x.body.to_string()))
                    .unwrap_or_default();
                let mark = if ok { "" } else { "  BAD SIGNATURE" };
                println!(
                    "{:>6}  {ts}  {:<18} {:<12} {body}{mark}",
                    e.seq, e.kind, e.job
                );
            }
        }
        if !args.follow {
            return Ok(());
        }
        if batch.len() < 1000 {
            use std::io::Write;
            let _ = std::io::stdout().flush();
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

pub fn key(ctx: &Ctx, args: KeyArgs) -> Result<()> {
    // A lost key file (with a registry whose events it signed) is replaced
    // only here, when the user asks: the registry refuses to do it silently.
    let lost = matches!(args.action, KeyAction::Rotate { .. })
        && ctx.paths.db.exists()
        && KeyRing::is_missing(&ctx.paths.key);
    if lost {
        ctx.paths.ensure()?;
        let _lock = crate::lock::lock(
            &ctx.paths.locks.join("key.lock"),
            Duration::from_secs(10),
            true,
        )?;
        KeyRing::create_if_missing(&ctx.paths.key, now_ms())?;
    }
    let reg = ctx.registry()?; // creates the key on first use
    let (ring, json, list) = match args.action {
        KeyAction::Rotate { json } if lost => {
            let ring = reg.ident.keys.clone();
            if !json && !ctx.global.quiet {
                println!(
                    "new signing key {}; the old key file was missing, so events signed before no longer verify",
                    ring.current().kid
                );
            }
            (ring, json, false)
        }
        KeyAction::Rotate { json } => {
            let _lock = crate::lock::lock(
                &ctx.paths.locks.join("key.lock"),
                Duration::from_secs(10),
                true,
            )?;
            let ring = KeyRing::rotate(&ctx.paths.key, now_ms())?;
            if !json && !ctx.global.quiet {
                println!(
                    "new signing key {}; the previous one verifies for {} more",
                    ring.current().kid,
                    ctx.config.security.key_grace
                );
            }
            (ring, json, false)
        }
        KeyAction::Show { json } => (reg.ident.keys.clone(), json, true),
    };
    let grace = ctx.config.key_grace().as_millis() as i64;
    let now = now_ms();
    let keys: Vec<_> = ring
        .keys
        .iter()
        .rev()
        .map(|k| {
            let status = match k.retired_at {
                None => "current".to_string(),
                Some(r) if now <= r + grace => format!("retired, verifies until {}", crate::signing::rfc3339_ms(r + grace)),
                Some(_) => "expired".to_string(),
            };
            json!({"kid": k.kid, "created_at": crate::signing::rfc3339_ms(k.created_at), "status": status})
        })
        .collect();
    if json {
        ui::print_json(&json!({"current": ring.current().kid, "keys": keys}));
    } else if list {
        for k in &keys {
            println!(
                "{}  {}  {}",
                k["kid"].as_str().unwrap_or(""),
                k["created_at"].as_str().unwrap_or(""),
                k["status"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}
