//! `mam lease`, `mam lease renew|check|hook install`, `mam leases`,
//! `mam release`: the arguments read, the lease room called, the result
//! rendered.

use std::path::Path;

use anyhow::Result;
use serde_json::json;

use crate::app::{Ctx, check_name};
use crate::cli::{LeaseAction, LeaseArgs, LeaseHookAction, LeasesArgs, ReleaseArgs};
use crate::commands::Out;
use crate::duration::{self, Limit};
use crate::error::{conflict, usage};
use crate::lease::{self, Pattern, Request, Target, hook, pattern};
use crate::registry::leases::Lease;
use crate::registry::now_ms;
use crate::ui;

fn ttl(ctx: &Ctx, flag: Option<&str>) -> Result<std::time::Duration> {
    match flag {
        Some(t) => Ok(duration::parse("--ttl", t, Limit::LEASE)?),
        None => Ok(ctx.config.lease_ttl()),
    }
}

/// The root the caller's paths are relative to (`lease::root_for`), read
/// without creating a registry: bad input must write nothing. The operator
/// has no job, so no worktree of its own.
fn root(ctx: &Ctx) -> Result<std::path::PathBuf> {
    if ctx.caller == "operator" {
        return Ok(ctx.paths.root.clone());
    }
    match ctx.registry_if_exists()? {
        Some(reg) => lease::root_for(&reg, &ctx.caller, &ctx.cwd, &ctx.paths.root),
        None => Ok(ctx.paths.root.clone()),
    }
}

/// A path or glob as the caller typed it, relative to the workspace root
/// (or to its copy in the caller's own worktree: `lease::root_for`).
fn resolve(ctx: &Ctx, root: &Path, text: &str) -> Result<Pattern> {
    pattern::from_user(text, &ctx.cwd, root)
}

/// `l1 on src/a.rs (exclusive) until <time>`
fn line(l: &Lease) -> String {
    let kind = if l.shared { "shared" } else { "exclusive" };
    format!(
        "{} on {} ({kind}) until {}",
        l.id,
        l.pattern,
        crate::signing::rfc3339_ms(l.expires_at)
    )
}

pub fn lease(ctx: &Ctx, args: LeaseArgs) -> Result<()> {
    match args.action {
        Some(LeaseAction::Renew { id, ttl: t, json }) => {
            return renew(ctx, &id, t.as_deref(), json);
        }
        Some(LeaseAction::Check {
            files,
            staged,
            r#as,
            json,
        }) => return check(ctx, &files, staged, r#as.as_deref(), json),
        Some(LeaseAction::Hook {
            action: LeaseHookAction::Install { json },
        }) => return install_hook(ctx, json),
        None => {}
    }
    let ttl = ttl(ctx, args.ttl.as_deref())?;
    let root = root(ctx)?;
    let patterns = args
        .patterns
        .iter()
        .map(|p| resolve(ctx, &root, p))
        .collect::<Result<Vec<_>>>()?;
    let reason = args
        .reason
        .as_deref()
        .map(crate::agent::probe::sanitize)
        .filter(|r| !r.trim().is_empty());
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &ctx.caller)?;
    let got = lease::lease(
        &mut reg,
        &ctx.caller,
        &Request {
            patterns: &patterns,
            ttl,
            reason: reason.as_deref(),
            shared: args.shared,
        },
    );
    ctx.publish(&mut reg);
    let got = got?;
    match Out::of(ctx, args.json) {
        Out::Json => ui::print_json(&json!({"leases": got})),
        Out::Quiet => got.iter().for_each(|l| println!("{}", l.id)),
        Out::Human => got.iter().for_each(|l| println!("{}", line(l))),
    }
    Ok(())
}

fn renew(ctx: &Ctx, id: &str, t: Option<&str>, json: bool) -> Result<()> {
    let ttl = ttl(ctx, t)?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &ctx.caller)?;
    let l = lease::renew(&mut reg, &ctx.caller, id, ttl);
    ctx.publish(&mut reg);
    let l = l?;
    match Out::of(ctx, json) {
        Out::Json => ui::print_json(&json!({"lease": l})),
        Out::Quiet => println!("{}", l.id),
        Out::Human => println!("{}", line(&l)),
    }
    Ok(())
}

pub fn release(ctx: &Ctx, args: ReleaseArgs) -> Result<()> {
    let root = root(ctx)?;
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t, |p| resolve(ctx, &root, p)))
        .collect::<Result<Vec<_>>>()?;
    let why = args
        .reason
        .as_deref()
        .map(crate::agent::probe::sanitize)
        .filter(|r| !r.trim().is_empty());
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &ctx.caller)?;
    let done = lease::release(&mut reg, &ctx.caller, &targets, args.force, why.as_deref());
    ctx.publish(&mut reg);
    let done = done?;
    match Out::of(ctx, args.json) {
        Out::Json => ui::print_json(&json!({"released": done})),
        Out::Quiet => done.iter().for_each(|l| println!("{}", l.id)),
        Out::Human => {
            for l in &done {
                let what = if l.state == "broken" {
                    format!("broken (held by {})", l.holder)
                } else {
                    l.state.clone()
                };
                println!("{} on {}: {what}", l.id, l.pattern);
            }
        }
    }
    Ok(())
}

pub fn list(ctx: &Ctx, args: LeasesArgs) -> Result<()> {
    if let Some(n) = &args.name
        && n != "operator"
    {
        check_name(n)?;
    }
    let Some(mut reg) = ctx.registry_if_exists()? else {
        if args.json {
            ui::print_json(&json!({"leases": []}));
        } else if !ctx.global.quiet {
            println!("no leases");
        }
        return Ok(());
    };
    let ls = lease::leases(&mut reg, args.name.as_deref(), args.all);
    ctx.publish(&mut reg);
    let ls = ls?;
    match Out::of(ctx, args.json) {
        Out::Json => ui::print_json(&json!({"leases": ls})),
        Out::Quiet => ls.iter().for_each(|l| println!("{}", l.id)),
        Out::Human if ls.is_empty() => println!("no leases"),
        Out::Human => {
            let now = now_ms();
            let rows: Vec<Vec<String>> = ls
                .iter()
                .map(|l| {
                    let expires = if l.state == "active" {
                        format!("in {}", ui::age(l.expires_at - now))
                    } else {
                        "-".into()
                    };
                    vec![
                        l.id.clone(),
                        l.holder.clone(),
                        l.pattern.clone(),
                        if l.shared { "shared" } else { "exclusive" }.into(),
                        l.state.clone(),
                        expires,
                        l.reason.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print!(
                "{}",
                ui::table(
                    &[
                        "ID", "HOLDER", "PATTERN", "MODE", "STATE", "EXPIRES", "REASON"
                    ],
                    &rows
                )
            );
        }
    }
    Ok(())
}

fn check(ctx: &Ctx, files: &[String], staged: bool, as_: Option<&str>, json: bool) -> Result<()> {
    if files.is_empty() && !staged {
        return Err(usage("name the files to check, or --staged for git's staged files").into());
    }
    let who = match as_ {
        Some(n) => ctx.actor(Some(n))?,
        None => ctx.caller.clone(),
    };
    let reg = ctx.registry_if_exists()?;
    let root = match &reg {
        Some(reg) => lease::root_for(reg, &who, &ctx.cwd, &ctx.paths.root)?,
        None => ctx.paths.root.clone(),
    };
    let mut paths = Vec::new();
    for f in files {
        paths.push(pattern::relative_path(f, &ctx.cwd, &root)?);
    }
    if staged {
        paths.extend(crate::git::staged_paths(&ctx.cwd)?);
    }
    let Some(mut reg) = reg else {
        // No workspace registry yet: no one holds anything.
        if json {
            ui::print_json(&json!({"checked": paths.len(), "conflicts": []}));
        }
        return Ok(());
    };
    ctx.check_actor(&reg, &who)?;
    let hits = lease::check(&mut reg, &who, &paths);
    ctx.publish(&mut reg);
    let hits = hits?;
    if json {
        ui::print_json(&json!({"checked": paths.len(), "conflicts": hits}));
    }
    if hits.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let mut files: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
    files.dedup();
    let mut text = format!(
        "{} {} leased by another agent:",
        files.len(),
        if files.len() == 1 {
            "file is"
        } else {
            "files are"
        }
    );
    for h in &hits {
        text.push_str(&format!(
            "\n  {}: {}",
            h.path,
            lease::describe(&h.lease, now)
        ));
    }
    let holder = &hits[0].lease.holder;
    Err(conflict(text)
        .hint(format!(
            "leave these files to their holder or ask them (`mam send {holder} …`); `git commit --no-verify` skips this check"
        ))
        .into())
}

fn install_hook(ctx: &Ctx, json: bool) -> Result<()> {
    let mam = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot tell where the mam binary is: {e}"))?;
    let done = hook::install(&ctx.cwd, &mam, &ctx.paths.root)?;
    if json {
        ui::print_json(&json!({"hook": done}));
    }
    match &done {
        hook::Installed::Foreign { path, line } => Err(conflict(format!(
            "{} is a pre-commit hook mam did not write; left as it is",
            path.display()
        ))
        .hint(format!("add this line to it: {line}"))
        .into()),
        hook::Installed::Written { path } => {
            if !json && !ctx.global.quiet {
                println!("installed {}", path.display());
            }
            Ok(())
        }
        hook::Installed::Unchanged { path } => {
            if !json && !ctx.global.quiet {
                println!("already installed: {}", path.display());
            }
            Ok(())
        }
    }
}
