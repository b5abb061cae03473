//! `mam status`: the jobs table. Live state comes from one `tmux list-panes -a`
//! call per pass, never one call per job.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use serde_json::{Value, json};

use crate::agent::{Liveness, Panes, worktree};
use crate::app::Ctx;
use crate::cli::StatusArgs;
use crate::model::JobState;
use crate::registry::jobs::Job;
use crate::registry::now_ms;
use crate::ui;

/// The `--format tmux` line: live jobs by state (in a fixed order, zeros
/// left out), then the operator's unread messages; `no jobs` when empty.
fn tmux_line(states: impl Iterator<Item = JobState>, unread: i64) -> String {
    let states: Vec<JobState> = states.collect();
    let mut parts: Vec<String> = [
        JobState::Busy,
        JobState::Waiting,
        JobState::Ready,
        JobState::Starting,
        JobState::Failed,
        JobState::Lost,
        JobState::Exited,
    ]
    .iter()
    .filter_map(|s| {
        let n = states.iter().filter(|x| *x == s).count();
        (n > 0).then(|| format!("{n} {s}"))
    })
    .collect();
    if unread > 0 {
        parts.push(format!("{unread} unread"));
    }
    if parts.is_empty() {
        return if states.is_empty() {
            "no jobs".into()
        } else {
            "idle".into()
        };
    }
    parts.join(" · ")
}

/// A job with its live state as tmux shows it now.
struct Row<'a> {
    job: &'a Job,
    state: JobState,
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
        if args.format.is_some() {
            println!("{}", tmux_line(std::iter::empty(), 0));
        } else if args.json {
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
    // Expired leases are recorded (and their holders told) here too.
    crate::lease::sweep(&mut reg)?;
    let panes = ctx.tmux.list_panes()?;
    let (jobs, counts) = crate::reconcile::refresh(ctx, &mut reg, &panes)?;
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
    let tmux = Panes::new(reg.ws(), &panes);
    let now = now_ms();
    let rows: Vec<Row> = jobs
        .iter()
        .filter(|j| args.names.is_empty() || args.names.contains(&j.name))
        .filter(|j| args.all || !args.names.is_empty() || j.is_recent(now))
        .map(|j| observe(j, &tmux))
        .collect();
    // The fleet's table shows no worktrees: no git call for it.
    if args.fleet {
        let local = rows
            .iter()
            .map(|r| {
                let j = r.job;
                let (inbox, _) = extra(&j.name);
                (r, inbox)
            })
            .collect::<Vec<_>>();
        return print_fleet(ctx, &reg, &local, args.json, now);
    }
    // One git call per shown worktree (side by side), none for the others.
    let trees: Vec<&crate::registry::jobs::Worktree> = rows
        .iter()
        .filter_map(|r| r.job.worktree.as_ref())
        .collect();
    let mut seen_trees: HashMap<&str, worktree::Seen> = HashMap::new();
    if !trees.is_empty() {
        let names = rows
            .iter()
            .filter(|r| r.job.worktree.is_some())
            .map(|r| r.job.name.as_str());
        seen_trees.extend(names.zip(worktree::look(&trees, &ctx.paths.state)));
    }

    if args.format == Some(crate::cli::StatusFormat::Tmux) {
        let unread = counts.get("operator").map_or(0, |c| c.0);
        println!("{}", tmux_line(rows.iter().map(|r| r.state), unread));
        return Ok(());
    }
    if args.json {
        let list: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut v = row_json(r, now);
                let (inbox, open) = extra(&r.job.name);
                v["inbox"] = inbox.into();
                v["reminders"] = reminders.get(&r.job.name).copied().unwrap_or(0).into();
                v["threads"] = open.into();
                v["worktree"] = seen_trees
                    .get(r.job.name.as_str())
                    .map_or(Value::Null, |w| json!(w));
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
            let progress = ui::progress(j.progress, j.verdict.map(|v| v.as_str()))
                .unwrap_or_else(|| "-".into());
            let activity = r
                .activity_ms
                .map(|a| format!("{} ago", ui::age(now - a)))
                .unwrap_or_else(|| "-".into());
            let mut state = ui::paint_state(r.state, color);
            if let Some(n) = &r.note {
                state.push_str(&format!(" ({n})"));
            }
            let (inbox, open) = extra(&j.name);
            let mut row = vec![
                j.name.clone(),
                j.kind.clone(),
                j.role.to_string(),
                state,
                progress,
                inbox.to_string(),
                reminders.get(&j.name).copied().unwrap_or(0).to_string(),
                open.to_string(),
                ui::age(now - j.created_at),
                activity,
            ];
            if !seen_trees.is_empty() {
                let (branch, git) = match seen_trees.get(j.name.as_str()) {
                    Some(w) => git_cells(w),
                    None => ("-".into(), "-".into()),
                };
                row.extend([branch, git]);
            }
            row
        })
        .collect();
    let mut headers = vec![
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
    ];
    if !seen_trees.is_empty() {
        headers.extend(["BRANCH", "GIT"]);
    }
    print!("{}", ui::table(&headers, &table_rows));
    Ok(())
}

/// The BRANCH and GIT cells of a job with a worktree: `mam/a` and
/// `+2 -1 vs main, 3 dirty` (ahead/behind its base, changed files).
fn git_cells(w: &worktree::Seen) -> (String, String) {
    if w.state != "present" {
        return ("-".into(), format!("worktree {}", w.state));
    }
    if w.error.is_some() {
        return ("?".into(), "git failed (see --json)".into());
    }
    let branch = w.branch.clone().unwrap_or_else(|| "(detached)".into());
    let mut git = match (w.ahead, w.behind) {
        (Some(a), Some(b)) => format!("+{a} -{b} vs {}", w.base),
        _ => format!("? vs {}", w.base),
    };
    match w.dirty {
        Some(0) => git.push_str(", clean"),
        Some(n) => git.push_str(&format!(", {n} dirty")),
        None => {}
    }
    (branch, git)
}

fn observe<'a>(job: &'a Job, tmux: &Panes) -> Row<'a> {
    let mut row = Row {
        job,
        state: job.state,
        note: None,
        activity_ms: Some(job.updated_at),
    };
    if job.stuck_at.is_some() {
        row.note = Some("stuck".into());
    }
    if job.session.is_none() {
        return row;
    }
    let seen = tmux.of_job(job);
    match seen.ours() {
        Some(p) => {
            if p.activity > 0 {
                row.activity_ms = Some((p.activity * 1000).max(job.updated_at));
            }
            if let Liveness::Dead(p) = seen {
                row.state = JobState::Exited;
                row.note = p.dead_status.map(|s| format!("status {s}"));
            }
        }
        None if job.state.is_live() => {
            row.state = JobState::Lost;
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
        "created_at": crate::signing::rfc3339_ms(j.created_at),
        "age_ms": now - j.created_at,
        "last_activity": r.activity_ms.map(crate::signing::rfc3339_ms),
        "stuck_since": j.stuck_at.map(crate::signing::rfc3339_ms),
    })
}

/// `status --fleet`: this host's jobs (as `status` sees them) and every
/// trusted host's from the cache its daemon keeps, a table of hosts first.
fn print_fleet(
    ctx: &Ctx,
    reg: &crate::registry::Registry,
    local: &[(&Row, i64)],
    json_out: bool,
    now: i64,
) -> Result<()> {
    use crate::mail::fleet_state::{self, RemoteJob};
    let me = ctx.config.fleet.host()?;
    let others = fleet_state::others(reg, &me, now)?;
    if json_out {
        let mut hosts = vec![json!({
            "host": me, "this": true, "last_seen": null, "as_of": null, "stale": false,
            "jobs": local.len(),
        })];
        let mut jobs: Vec<Value> = local
            .iter()
            .map(|(r, inbox)| {
                let mut v = row_json(r, now);
                v["host"] = me.clone().into();
                v["inbox"] = (*inbox).into();
                v["stale"] = false.into();
                v
            })
            .collect();
        for h in &others {
            hosts.push(json!({
                "host": h.host, "this": false,
                "last_seen": h.last_seen.map(crate::signing::rfc3339_ms),
                "as_of": h.as_of.map(crate::signing::rfc3339_ms),
                "stale": h.stale, "jobs": h.jobs.len(),
            }));
            for j in &h.jobs {
                let mut v = json!(j);
                v["host"] = h.host.clone().into();
                v["created_at"] = crate::signing::rfc3339_ms(j.created_at).into();
                v["state_since"] = crate::signing::rfc3339_ms(j.state_since).into();
                v["stale"] = h.stale.into();
                jobs.push(v);
            }
        }
        ui::print_json(&json!({"workspace": reg.ws(), "host": me, "hosts": hosts, "jobs": jobs}));
        return Ok(());
    }
    let color = ui::use_color();
    // Only the last column's width varies with time.
    let mut host_rows = vec![vec![
        me.clone(),
        local.len().to_string(),
        "this host".into(),
    ]];
    for h in &others {
        let heard = match h.last_seen {
            None => "never".into(),
            Some(t) if h.stale => format!("{} ago, stale", ui::age(now - t)),
            Some(t) => format!("{} ago", ui::age(now - t)),
        };
        host_rows.push(vec![h.host.clone(), h.jobs.len().to_string(), heard]);
    }
    print!("{}", ui::table(&["HOST", "JOBS", "HEARD"], &host_rows));
    let progress =
        |p: Option<i64>, v: Option<&str>| ui::progress(p, v).unwrap_or_else(|| "-".into());
    let mut rows: Vec<Vec<String>> = local
        .iter()
        .map(|(r, inbox)| {
            let j = r.job;
            let mut state = ui::paint_state(r.state, color);
            if let Some(n) = &r.note {
                state.push_str(&format!(" ({n})"));
            }
            vec![
                me.clone(),
                j.name.clone(),
                j.kind.clone(),
                j.role.to_string(),
                state,
                progress(j.progress, j.verdict.map(|v| v.as_str())),
                inbox.to_string(),
                ui::age(now - j.created_at),
            ]
        })
        .collect();
    for h in &others {
        for j in &h.jobs {
            let RemoteJob { state, .. } = j;
            let mut cell = match JobState::parse(state) {
                Some(s) => ui::paint_state(s, color),
                None => state.clone(),
            };
            if j.stuck {
                cell.push_str(" (stuck)");
            }
            if h.stale {
                cell.push_str(" (stale)");
            }
            rows.push(vec![
                h.host.clone(),
                j.name.clone(),
                j.kind.clone(),
                j.role.clone(),
                cell,
                progress(j.progress, j.verdict.as_deref()),
                j.inbox.to_string(),
                ui::age(h.age_of(j.created_at, now)),
            ]);
        }
    }
    if rows.is_empty() {
        if !ctx.global.quiet {
            println!("\nno jobs on any host");
        }
        return Ok(());
    }
    println!();
    print!(
        "{}",
        ui::table(
            &[
                "HOST", "NAME", "KIND", "ROLE", "STATE", "PROGRESS", "INBOX", "AGE"
            ],
            &rows
        )
    );
    Ok(())
}
