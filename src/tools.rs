//! What an agent (or the operator) does beyond mail, as data: cancel a
//! thread it owns, report progress, done or failed on its own job, and the
//! read-only views `whoami` and `explain`. `commands/` renders these for a
//! terminal and `mcp` returns them as tool results: the same checks, the
//! same errors, one implementation.

use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};

use crate::agent::profiles::Screen;
use crate::app::{Ctx, check_name};
use crate::artifacts::Refused;
use crate::error::{not_found, usage};
use crate::model::{JobState, Verdict};
use crate::registry::Registry;
use crate::registry::jobs::Finish;

/// Cancel `id` (a queued message, open question or pending reminder) as `by`.
/// Only its owner, or the operator, may.
pub fn cancel(ctx: &Ctx, reg: &mut Registry, by: &str, id: &str) -> Result<()> {
    crate::registry::messages::parse_id(id)?;
    ctx.check_actor(reg, by)?;
    reg.write(|tx| tx.cancel(id, by))?;
    Ok(())
}

/// A percentage must be 0..=100.
pub fn check_pct(pct: i64) -> Result<()> {
    if !(0..=100).contains(&pct) {
        return Err(usage(format!("progress {pct} is not between 0 and 100")).into());
    }
    Ok(())
}

/// Record progress `pct` (0..=100) and an optional note on `job`.
pub fn progress(reg: &mut Registry, job: &str, pct: i64, note: &str) -> Result<()> {
    check_pct(pct)?;
    let note = crate::agent::probe::sanitize(note);
    reg.require_job(job)?;
    reg.write(|tx| tx.set_progress(job, pct, (!note.trim().is_empty()).then_some(note.as_str())))?;
    Ok(())
}

/// Where a job's report files are read relative to.
#[derive(Debug, Clone, Copy)]
pub enum Within<'a> {
    /// Relative to this directory (the caller's cwd); a details file may be
    /// anywhere the caller can read.
    Cwd(&'a Path),
    /// Relative to the job's workdir, and never outside it (an agent over MCP).
    Workdir,
}

/// Resolve the artifacts a job lists: each must exist inside its workdir.
fn resolve_artifacts(
    workdir: &Path,
    base: &Path,
    given: &[std::path::PathBuf],
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for a in given {
        match crate::artifacts::resolve(workdir, base, a) {
            Ok(real) => out.push(real.display().to_string()),
            Err(e @ Refused::Missing { .. }) => {
                return Err(not_found(e.to_string())
                    .hint("list only files the job produced")
                    .into());
            }
            Err(e @ Refused::Outside { .. }) => {
                return Err(usage(e.to_string())
                    .hint("artifacts are files the job produced inside its workdir")
                    .into());
            }
        }
    }
    Ok(out)
}

/// What a job's done report says.
#[derive(Debug, Clone, Default)]
pub struct DoneReport<'a> {
    pub verdict: Option<Verdict>,
    pub details: Option<&'a str>,
    pub details_file: Option<&'a Path>,
    pub artifacts: &'a [std::path::PathBuf],
}

/// Report `job` done: details (given, or read from a file), artifacts
/// checked inside its workdir, all recorded in one transaction.
pub fn done(reg: &mut Registry, job: &str, r: &DoneReport, within: Within) -> Result<()> {
    let record = reg.require_job(job)?;
    let workdir = Path::new(&record.workdir);
    let base = match within {
        Within::Cwd(cwd) => cwd,
        Within::Workdir => workdir,
    };
    let details =
        match (r.details, r.details_file) {
            (Some(d), _) => Some(d.to_string()),
            (None, Some(f)) => {
                let path = match within {
                    Within::Cwd(_) => f.to_path_buf(),
                    Within::Workdir => match crate::artifacts::resolve(workdir, base, f) {
                        Ok(p) => p,
                        Err(e @ Refused::Missing { .. }) => {
                            return Err(not_found(format!("details file: {e}")).into());
                        }
                        Err(e @ Refused::Outside { .. }) => {
                            return Err(usage(format!("details file: {e}"))
                                .hint("a details file is one inside the job's workdir")
                                .into());
                        }
                    },
                };
                Some(std::fs::read_to_string(&path).map_err(|e| {
                    not_found(format!("cannot read details file {}: {e}", f.display()))
                })?)
            }
            _ => None,
        };
    let artifacts = resolve_artifacts(workdir, base, r.artifacts)?;
    reg.write(|tx| {
        tx.finish(
            job,
            JobState::Done,
            &Finish {
                verdict: r.verdict,
                details: details.as_deref(),
                artifacts: &artifacts,
            },
            None,
        )
    })?;
    Ok(())
}

/// Report `job` failed, saying why.
pub fn fail(reg: &mut Registry, job: &str, reason: &str) -> Result<()> {
    let reason = check_reason(reason)?;
    reg.require_job(job)?;
    reg.write(|tx| {
        tx.finish(
            job,
            JobState::Failed,
            &Finish {
                verdict: None,
                details: None,
                artifacts: &[],
            },
            Some(&reason),
        )
    })?;
    Ok(())
}

/// A failure's reason, sanitized; empty is refused.
pub fn check_reason(reason: &str) -> Result<String> {
    let reason = crate::agent::probe::sanitize(reason);
    if reason.trim().is_empty() {
        return Err(usage("say why the job failed").into());
    }
    Ok(reason)
}

/// Who the caller is: name, role, job state, workspace, session, and
/// whether mam's MCP server is wired into its agent.
pub fn whoami(ctx: &Ctx, reg: Option<&Registry>) -> Result<Value> {
    let job = match reg {
        Some(r) if ctx.caller != "operator" => r.job(&ctx.caller)?,
        _ => None,
    };
    if ctx.caller != "operator" && job.is_none() {
        return Err(not_found(format!(
            "MAM_AGENT is {:?}, but this workspace has no such job",
            ctx.caller
        ))
        .hint("unset MAM_AGENT to act as the operator, or check --workspace")
        .into());
    }
    Ok(json!({
        "name": ctx.caller,
        "role": job.as_ref().map_or("operator", |j| j.role.as_str()),
        "kind": job.as_ref().map(|j| j.kind.clone()),
        "state": job.as_ref().map(|j| j.state),
        "workspace": reg.map(|r| r.ws().to_string()),
        "root": ctx.paths.root,
        "tmux_session": job.as_ref().and_then(|j| j.session.as_ref().map(|s| s.tmux_session.clone())),
        "pane": job.as_ref().and_then(|j| j.session.as_ref().map(|s| s.pane_id.clone())),
        "tmux_socket": ctx.tmux.socket(),
        "started_at": job.as_ref().and_then(|j| j.session.as_ref().map(|s| crate::signing::rfc3339_ms(s.started_at))),
        "mcp": job.as_ref().map(|j| j.mcp),
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// What mam sees of an agent and why (see `explain`).
#[derive(Debug)]
pub struct Explained {
    pub job: crate::registry::jobs::Job,
    /// What the screen shows, in words.
    pub live: String,
    pub screen: Option<String>,
    /// Each profile rule: kind, rule, whether it matches.
    pub rules: Vec<(String, String, bool)>,
    /// The agent's own record: store kind, base directory, files.
    pub record: Option<(String, String, Vec<String>)>,
    /// How MCP is wired into the agent, if it is.
    pub mcp: Option<crate::agent::profiles::McpWiring>,
    pub typing: Value,
    pub attempts: Vec<crate::registry::attempts::AttemptRow>,
}

impl Explained {
    pub fn to_json(&self) -> Value {
        let job = &self.job;
        json!({
            "name": job.name,
            "pane": job.session.as_ref().map(|s| s.pane_id.clone()),
            "kind": job.kind,
            "recorded_state": job.state,
            "reason": job.reason,
            "screen_state": self.live,
            "screen_tail": self.screen.as_deref().map(|s| crate::agent::probe::tail_lines(s, 15)),
            "rules": self.rules.iter().map(|(k, n, m)| json!({"kind": k, "rule": n, "matches": m})).collect::<Vec<_>>(),
            "record": self.record.as_ref().map(|(k, b, f)| json!({"store": k, "base": b, "files": f})),
            "prompt": job.prompt_state,
            "mcp": self.mcp.map(mcp_name),
            "typing": self.typing,
            "attempts": self.attempts,
        })
    }
}

/// How a wiring is named in output.
pub fn mcp_name(w: crate::agent::profiles::McpWiring) -> &'static str {
    use crate::agent::profiles::McpWiring::*;
    match w {
        ClaudeConfig => "claude --mcp-config",
        CodexConfig => "codex -c mcp_servers.mam",
        GeminiDefaults => "gemini system defaults",
    }
}

/// What mam sees of an agent and why: the screen's tail, each profile rule
/// and whether it matches, the recorded state beside the one the screen
/// shows, where the agent's record is, whether MCP is wired, and the last
/// delivery attempts. Read-only.
pub fn explain(ctx: &Ctx, reg: &Registry, name: &str) -> Result<Explained> {
    check_name(name)?;
    let job = reg.require_job(name)?;
    let profile = ctx.profile(&job.kind)?;
    let snap = match &job.session {
        Some(s) => crate::agent::probe::snapshot(&ctx.tmux, &s.pane_id)?,
        None => None,
    };
    let screen = snap.as_ref().map(|s| s.screen.clone());
    let (live, rules) = match &snap {
        Some(s) if s.dead => ("exited".to_string(), Vec::new()),
        Some(s) => {
            let class = profile.classify(&s.screen);
            let live = match &class {
                Screen::Ready => "ready".to_string(),
                Screen::Busy => "busy".to_string(),
                Screen::Dialog(i) => {
                    format!("waiting (dialog mam answers: {})", profile.dialogs[*i].name)
                }
                Screen::NeedsHuman(i) => {
                    format!("waiting (needs a human: {})", profile.dialogs[*i].name)
                }
                Screen::Error(m) => format!("error ({m})"),
                Screen::Other => {
                    "unrecognised (no rule decides: starting, or text in the composer)".to_string()
                }
            };
            (live, profile.rule_report(&s.screen))
        }
        None if job.session.is_some() => ("lost (no tmux pane)".to_string(), Vec::new()),
        None => ("no session".to_string(), Vec::new()),
    };
    let store = crate::mail::deliver::store_of(&job, &profile);
    let record = store.as_ref().map(|s| {
        let files: Vec<String> = s
            .files(
                job.session
                    .as_ref()
                    .map_or(job.created_at, |x| x.started_at),
            )
            .keys()
            .map(|p| p.display().to_string())
            .collect();
        (s.kind.clone(), s.base.display().to_string(), files)
    });
    let attempts = reg.recent_attempts(&job.name, 5)?;
    let typing = json!({"paste": format!("{:?}", profile.spec.paste).to_lowercase(),
                   "submit_key": profile.spec.submit_key,
                   "submit_delay_ms": profile.spec.submit_delay_ms,
                   "settle_ms": profile.spec.settle_ms,
                   "turn_settle_ms": profile.spec.turn_settle_ms});
    Ok(Explained {
        mcp: profile.spec.mcp_wiring.filter(|_| job.mcp),
        job,
        live,
        screen,
        rules,
        record,
        typing,
        attempts,
    })
}

/// Stop one job as `mam stop NAME` does: under its job lock, the profile's
/// exit keys (or at once with `force`), then its session ends and what the
/// agent left behind is reaped. Shared by `mam stop` and the dashboard.
pub fn stop(
    ctx: &Ctx,
    reg: &mut Registry,
    name: &str,
    force: bool,
    wait: std::time::Duration,
) -> Result<crate::agent::runtime::StopReport> {
    let _lock = crate::lock::lock(
        &ctx.paths.job_lock(name),
        std::time::Duration::from_secs(60),
        true,
    )?;
    let job = reg.require_job(name)?;
    crate::agent::runtime::stop_job(&ctx.host(), reg, &job, force, wait)
}

/// The refusal to resume a job whose pane is live.
pub fn running_already(job: &crate::registry::jobs::Job) -> anyhow::Error {
    crate::error::conflict(format!(
        "{} is running already (state {})",
        job.name, job.state
    ))
    .hint(format!(
        "`mam stop {0}` first, or `mam attach {0}`",
        job.name
    ))
    .into()
}

/// Resume one job that is not running (under its job lock): its worktree
/// must still be there, a stale session is cleared, the agent is started
/// (resuming its conversation where its CLI can) and awaited until ready.
/// `tick` hears the readiness probe's progress. Shared by `mam resume` and
/// the dashboard; `resumed_notice` then tells the agent.
pub fn resume(
    ctx: &Ctx,
    reg: &mut Registry,
    name: &str,
    timeout: std::time::Duration,
    tick: &mut dyn FnMut(&str),
) -> Result<()> {
    let _lock = crate::lock::lock(
        &ctx.paths.job_lock(name),
        std::time::Duration::from_secs(60),
        true,
    )?;
    let job = reg.require_job(name)?;
    let profile = ctx.profile(&job.kind)?;
    // The job works in its own worktree: it must still be there.
    if let Some(w) = &job.worktree {
        let gone = w.state == "removed" || !Path::new(&w.path).is_dir();
        if gone {
            if w.state == "present" {
                reg.write(|tx| {
                    tx.set_worktree_state(
                        &job.name,
                        "missing",
                        "deleted outside mam (seen by resume)",
                    )
                })?;
            }
            let how = if w.state == "removed" {
                "was removed (mam prune or stop --remove-worktree)"
            } else {
                "was deleted outside mam"
            };
            return Err(not_found(format!(
                "cannot resume {}: its worktree {} {how}",
                job.name, w.path
            ))
            .hint(if w.state == "removed" {
                "`mam create NEW --worktree` starts a new job in a new worktree".to_string()
            } else {
                format!(
                    "its branch {0} keeps its commits; `mam create NEW --worktree --base {0}` starts a job from there",
                    w.branch
                )
            })
            .into());
        }
    }
    use crate::agent::runtime;
    // A dead pane or a stale session record: clear it away first.
    if job.session.is_some() {
        runtime::stop_job(&ctx.host(), reg, &job, true, std::time::Duration::ZERO)?;
    }
    let mode = runtime::resume_mode(&job, &profile);
    if let runtime::StartMode::Fresh(Some(id)) = &mode {
        reg.write(|tx| tx.set_conversation_id(&job.name, id))?;
    }
    let pane = runtime::start_job(&ctx.host(), reg, &job, &profile, &mode, Some("mam resume"))?;
    runtime::await_ready(&ctx.host(), reg, &job.name, &pane, &profile, timeout, tick)
}

/// Tell a resumed agent what happened (`before`: the job as it was before
/// the resume), if it is up: one system message, offered for delivery.
pub fn resumed_notice(
    ctx: &Ctx,
    reg: &mut Registry,
    before: &crate::registry::jobs::Job,
) -> Result<()> {
    let Some(now) = reg.job(&before.name)? else {
        return Ok(());
    };
    if !matches!(now.state, JobState::Ready | JobState::Busy) {
        return Ok(());
    }
    let why = match (before.state, &before.reason) {
        (state, Some(r)) => format!("it was {state}: {r}"),
        (state, None) => format!("it was {state}"),
    };
    let how = match &now.conversation_id {
        Some(id) if before.conversation_id.as_deref() == Some(id.as_str()) => {
            format!("your conversation {id} was resumed")
        }
        _ => "a new conversation was started".to_string(),
    };
    let body = format!(
        "you were restarted by mam resume ({why}); {how}. Check `mam inbox` and `mam threads` for anything pending."
    );
    reg.write(|tx| {
        tx.insert_message(&crate::registry::messages::NewMessage {
            from: "operator",
            to: &before.name,
            kind: "system",
            body: &body,
            in_reply_to: None,
            question_id: None,
        })
        .map(drop)
    })?;
    crate::mail::deliver::deliver_next(ctx, reg, &before.name)?;
    Ok(())
}
