//! `mam status`: the jobs table. Live state comes from one `tmux list-panes -a`
//! call per pass, never one call per job.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use serde_json::{Value, json};

use crate::app::Ctx;
use crate::cli::StatusArgs;
use crate::registry::jobs::{Job, is_live_state};
use crate::registry::now_ms;
use crate::tmux::Pane;
use crate::ui;

const DAY_MS: i64 = 86_400_000;

/// A job with its live state as tmux shows it now.
struct Row<'a> {
    job: &'a Job,
    state: String,
    note: Option<String>,
    activity_ms: Option<i64>,
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> Result<()> {
    let Some(interval) = args.watch else {
        return pass(ctx, &args);
    };
    let interval = crate::duration::seconds("--watch", interval, crate::duration::Limit::PERIOD)?;
    loop {
        if ui::stdout_is_tty() {
            print!("\x1b[H\x1b[2J");
        }
        pass(ctx, &args)?;
        let _ = std::io::stdout().flush();
        std::thread::sleep(interval);
    }
}

fn pass(ctx: &Ctx, args: &StatusArgs) -> Result<()> {
    let Some(mut reg) = ctx.registry_if_exists()? else {
        if args.json {
            ui::print_json(&json!({"workspace": null, "jobs": []}));
        } else if !ctx.global.quiet {
            println!(
                "no jobs (no workspace at {} yet: `mam create` makes one)",
                ctx.paths.root.display()
            );
        }
        return Ok(());
    };
    for n in &args.names {
        if reg.job(n)?.is_none() {
            return Err(crate::registry::jobs::unknown_job(n));
        }
    }
    let panes = ctx.tmux.list_panes()?;
    let (jobs, counts) = refresh(ctx, &mut reg, &panes)?;
    let reminders = reg.pending_reminder_counts()?;
    let mut threads: HashMap<String, i64> = HashMap::new();
    for q in reg.open_questions(None)? {
        *threads.entry(q.asker).or_default() += 1;
        *threads.entry(q.target).or_default() += 1;
    }
    let extra = |name: &str| -> (i64, i64) {
        (
            counts.get(name).map_or(0, |c| c.1),
            threads.get(name).copied().unwrap_or(0),
        )
    };
    let by_session: HashMap<&str, &Pane> = panes.iter().map(|p| (p.session.as_str(), p)).collect();
    let now = now_ms();
    let rows: Vec<Row> = jobs
        .iter()
        .filter(|j| args.names.is_empty() || args.names.contains(&j.name))
        .filter(|j| {
            args.all
                || !args.names.is_empty()
                || !matches!(j.state.as_str(), "stopped" | "done")
                || now - j.state_since < DAY_MS
        })
        .map(|j| observe(j, reg.ws(), &by_session))
        .collect();

    if args.json {
        let list: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut v = row_json(r, now);
                let (inbox, open) = extra(&r.job.name);
                v["inbox"] = inbox.into();
                v["reminders"] = reminders.get(&r.job.name).copied().unwrap_or(0).into();
                v["threads"] = open.into();
                v
            })
            .collect();
        ui::print_json(&json!({"workspace": reg.ws(), "jobs": list}));
        return Ok(());
    }
    if rows.is_empty() {
        if !ctx.global.quiet {
            println!(
                "no jobs{}",
                if args.all {
                    ""
                } else {
                    " (--all shows old stopped and done jobs)"
                }
            );
        }
        return Ok(());
    }
    let color = ui::use_color();
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let j = r.job;
            let progress = match (j.progress, &j.verdict) {
                (_, Some(v)) => v.clone(),
                (Some(p), _) => format!("{p}%"),
                _ => "-".into(),
            };
            let activity = r
                .activity_ms
                .map(|a| format!("{} ago", ui::age(now - a)))
                .unwrap_or_else(|| "-".into());
            let mut state = ui::paint_state(&r.state, color);
            if let Some(n) = &r.note {
                state.push_str(&format!(" ({n})"));
            }
            let (inbox, open) = extra(&j.name);
            vec![
                j.name.clone(),
                j.kind.clone(),
                j.role.clone(),
                state,
                progress,
                inbox.to_string(),
                reminders.get(&j.name).copied().unwrap_or(0).to_string(),
                open.to_string(),
                ui::age(now - j.created_at),
                activity,
            ]
        })
        .collect();
    print!(
        "{}",
        ui::table(
            &[
                "NAME",
                "KIND",
                "ROLE",
                "STATE",
                "PROGRESS",
                "INBOX",
                "REMINDERS",
                "THREADS",
                "AGE",
                "ACTIVITY",
            ],
            &table_rows
        )
    );
    Ok(())
}

/// Make the registry honest before showing it, without a daemon: re-read
/// the screen of every live job whose pane drew since its state was
/// recorded (unchanged panes cost nothing), record what changed, and hand
/// waiting prompts and messages to agents that are now ready (oldest first,
/// one each). Returns the jobs and message counts as they are after that.
type Counts = HashMap<String, (i64, i64)>;
fn refresh(
    ctx: &Ctx,
    reg: &mut crate::registry::Registry,
    panes: &[Pane],
) -> Result<(Vec<Job>, Counts)> {
    let jobs = reg.jobs()?;
    let by_session: HashMap<&str, &Pane> = panes.iter().map(|p| (p.session.as_str(), p)).collect();
    let mut changed = false;
    for job in &jobs {
        let Some(sess) = &job.session else { continue };
        if let Some(p) = by_session.get(sess.tmux_session.as_str())
            && p.tag_ws == reg.ws()
            && p.tag_job == job.name
            && !p.dead
            && is_live_state(&job.state)
            && job.activity_seen != Some(p.activity)
        {
            crate::reconcile::observe_pane(ctx, reg, job, p, false)?;
            changed = true;
        }
    }
    let jobs = if changed { reg.jobs()? } else { jobs };
    let counts = reg.message_counts()?;
    // Pending prompts first (one pass over the jobs), then one queued
    // message for each ready job. `tried`: the registry may have changed.
    let mut tried = false;
    if jobs
        .iter()
        .any(|j| j.state == "ready" && j.prompt_state.as_deref() == Some("pending"))
    {
        tried |= !crate::deliver::deliver_prompts(ctx, reg)?.is_empty();
    }
    for job in jobs.iter().filter(|j| {
        j.state == "ready" && j.session.is_some() && j.prompt_state.as_deref() != Some("pending")
    }) {
        if counts.get(&job.name).is_some_and(|c| c.0 > 0) {
            tried |= crate::deliver::deliver_next(ctx, reg, &job.name)?.is_some();
        }
    }
    if tried {
        Ok((reg.jobs()?, reg.message_counts()?))
    } else {
        Ok((jobs, counts))
    }
}

fn observe<'a>(job: &'a Job, ws: &str, by_session: &HashMap<&str, &Pane>) -> Row<'a> {
    let mut row = Row {
        job,
        state: job.state.clone(),
        note: None,
        activity_ms: Some(job.updated_at),
    };
    if job.stuck_at.is_some() {
        row.note = Some("stuck".into());
    }
    let Some(sess) = &job.session else {
        return row;
    };
    match by_session.get(sess.tmux_session.as_str()) {
        Some(p) if p.tag_ws == ws && p.tag_job == job.name => {
            if p.activity > 0 {
                row.activity_ms = Some((p.activity * 1000).max(job.updated_at));
            }
            if p.dead {
                row.state = "exited".into();
                row.note = p.dead_status.map(|s| format!("status {s}"));
            }
        }
        _ if is_live_state(&job.state) => {
            row.state = "lost".into();
            row.note = Some("no tmux session".into());
        }
        _ => {}
    }
    row
}

fn row_json(r: &Row, now: i64) -> Value {
    let j = r.job;
    json!({
        "name": j.name,
        "kind": j.kind,
        "role": j.role,
        "state": r.state,
        "recorded_state": j.state,
        "reason": j.reason,
        "progress": j.progress,
        "progress_note": j.progress_note,
        "verdict": j.verdict,
        "workdir": j.workdir,
        "conversation_id": j.conversation_id,
        "prompt": j.prompt_state,
        "session": j.session.as_ref().map(|s| json!({
            "tmux_session": s.tmux_session, "pane": s.pane_id, "pid": s.pane_pid,
        })),
        "created_at": crate::events::rfc3339_ms(j.created_at),
        "age_ms": now - j.created_at,
        "last_activity": r.activity_ms.map(crate::events::rfc3339_ms),
        "stuck_since": j.stuck_at.map(crate::events::rfc3339_ms),
    })
}
