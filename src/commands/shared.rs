//! `mam shared add|rm|list|verify`: the shared read-only docs.

use anyhow::Result;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{SharedAction, SharedArgs};
use crate::commands::Out;
use crate::error::{conflict, usage};
use crate::shared::{self, Change, Source};
use crate::ui;

pub fn run(ctx: &Ctx, args: SharedArgs) -> Result<()> {
    match args.action {
        SharedAction::Add { files, r#as, json } => add(ctx, &files, r#as.as_deref(), json),
        SharedAction::Rm { name, json } => rm(ctx, &name, json),
        SharedAction::List { json } => list(ctx, json),
        SharedAction::Verify { json } => verify(ctx, json),
    }
}

fn add(ctx: &Ctx, files: &[std::path::PathBuf], as_: Option<&str>, json: bool) -> Result<()> {
    if as_.is_some() && files.len() != 1 {
        return Err(usage("--as names one file; add the others separately").into());
    }
    let mut sources = Vec::new();
    for f in files {
        let from = ctx.cwd.join(f);
        let name = match as_ {
            Some(n) => n.to_string(),
            None => f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| usage(format!("{} names no file", f.display())))?,
        };
        sources.push(Source { from, name });
    }
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &ctx.caller)?;
    let change = shared::add(&mut reg, &ctx.shared_dir, &ctx.caller, &sources)?;
    deliver(ctx, &mut reg, &change)?;
    render(ctx, &change, json);
    ctx.publish(&mut reg);
    Ok(())
}

fn rm(ctx: &Ctx, name: &str, json: bool) -> Result<()> {
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &ctx.caller)?;
    let change = shared::rm(&mut reg, &ctx.shared_dir, &ctx.caller, name)?;
    deliver(ctx, &mut reg, &change)?;
    render(ctx, &change, json);
    ctx.publish(&mut reg);
    Ok(())
}

/// Offer each running recipient its broadcast at once (else it waits).
fn deliver(ctx: &Ctx, reg: &mut crate::registry::Registry, change: &Change) -> Result<()> {
    for (_, to) in &change.told {
        crate::mail::deliver::deliver_next(ctx, reg, to)?;
    }
    Ok(())
}

fn render(ctx: &Ctx, change: &Change, json: bool) {
    match Out::of(ctx, json) {
        Out::Json => ui::print_json(&json!({
            "dir": ctx.shared_dir.display().to_string(),
            "added": change.added,
            "removed": change.removed,
            "told": change.told.iter().map(|(id, to)| json!({"id": id, "to": to})).collect::<Vec<_>>(),
        })),
        Out::Quiet => {
            for f in &change.added {
                println!("{}", f.name);
            }
            for n in &change.removed {
                println!("{n}");
            }
        }
        Out::Human => {
            for f in &change.added {
                println!(
                    "added {} ({} bytes, sha256 {})",
                    f.name,
                    f.bytes,
                    &f.sha256[..12]
                );
            }
            for n in &change.removed {
                println!("removed {n}");
            }
            let who: Vec<&str> = change.told.iter().map(|(_, to)| to.as_str()).collect();
            if !who.is_empty() {
                println!("told {}", who.join(", "));
            }
        }
    }
}

fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let files = match ctx.registry_if_exists()? {
        Some(reg) => reg.shared_files()?,
        None => Vec::new(),
    };
    match Out::of(ctx, json) {
        Out::Json => ui::print_json(&json!({
            "dir": ctx.shared_dir.display().to_string(),
            "files": files,
        })),
        Out::Quiet => files.iter().for_each(|f| println!("{}", f.name)),
        Out::Human if files.is_empty() => println!("no shared docs"),
        Out::Human => {
            let rows: Vec<Vec<String>> = files
                .iter()
                .map(|f| {
                    vec![
                        f.name.clone(),
                        f.bytes.to_string(),
                        f.sha256[..12].to_string(),
                        f.added_by.clone(),
                        crate::signing::rfc3339_ms(f.added_at),
                    ]
                })
                .collect();
            println!("{}", ctx.shared_dir.display());
            print!(
                "{}",
                ui::table(&["NAME", "BYTES", "SHA256", "ADDED BY", "ADDED AT"], &rows)
            );
        }
    }
    Ok(())
}

fn verify(ctx: &Ctx, json: bool) -> Result<()> {
    let (files, findings) = match ctx.registry_if_exists()? {
        Some(reg) => (
            reg.shared_files()?.len(),
            shared::verify(&reg, &ctx.shared_dir)?,
        ),
        None => (0, Vec::new()),
    };
    match Out::of(ctx, json) {
        Out::Json => ui::print_json(&json!({"files": files, "findings": findings})),
        Out::Quiet => {}
        Out::Human if findings.is_empty() => println!("{files} shared files, all as recorded"),
        Out::Human => {}
    }
    if findings.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = findings.iter().map(finding_line).collect();
    Err(conflict(format!(
        "the shared docs in {} differ from their manifest:\n  {}",
        ctx.shared_dir.display(),
        lines.join("\n  ")
    ))
    .hint("add the right content again with `mam shared add FILE` (or `mam shared rm NAME`)")
    .into())
}

/// `a.md: changed behind mam's back (sha256 1234… recorded, 5678… now)`
pub fn finding_line(f: &shared::Finding) -> String {
    let short = |h: &Option<String>| {
        h.as_deref()
            .unwrap_or("")
            .chars()
            .take(12)
            .collect::<String>()
    };
    match f.problem.as_str() {
        "changed" => format!(
            "{}: changed behind mam's back (sha256 {}… recorded, {}… now)",
            f.name,
            short(&f.expected),
            short(&f.actual)
        ),
        "missing" => format!("{}: missing", f.name),
        _ => format!("{}: not in the manifest", f.name),
    }
}
