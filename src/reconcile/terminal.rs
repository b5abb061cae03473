//! Terminal events heard from the broker: accepted by the one acceptance
//! rule, and acted on only when the job, its tags and its artifacts check out.

use anyhow::Result;
use serde::Serialize;

use crate::app::Ctx;
use crate::model::OnDone;
use crate::registry::Registry;
use crate::signing::envelope::Envelope;

/// What the daemon did with one message from the broker.
#[derive(Debug, Clone, Serialize)]
pub struct Heard {
    pub topic: String,
    pub kind: Option<String>,
    pub job: Option<String>,
    /// accepted / rejected
    pub verdict: String,
    /// The rejection reason, or what was done (or why nothing was).
    pub detail: String,
}

/// Act on a verified terminal event: tear the job's session down only if the
/// job exists, wants that (`on_done = stop`), its live session's tags are
/// ours, and every artifact the event lists exists inside the job's workdir.
///
/// Never waits on the job's lock: when a create, stop or delivery holds it,
/// the teardown is `Deferred` and the daemon tries again at its next poll.
pub fn act_on_terminal(ctx: &Ctx, reg: &mut Registry, env: &Envelope) -> Result<Acted> {
    Ok(Acted::Done(match check_terminal(ctx, reg, env)? {
        Err(why) => why,
        Ok(job) => {
            let Some(_lock) = crate::lock::try_lock(&ctx.paths.job_lock(&job))? else {
                return Ok(Acted::Deferred);
            };
            // Read again under the lock: the job may have moved on.
            if let Err(why) = check_terminal(ctx, reg, env)? {
                return Ok(Acted::Done(why));
            }
            let job = reg.require_job(&job)?;
            crate::agent::runtime::stop_job(&ctx.host(), reg, &job, false, STOP_WAIT)?;
            format!(
                "{}: session torn down after a verified {}",
                job.name, env.kind
            )
        }
    }))
}

/// How long a teardown lets the agent exit by itself before killing it.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What acting on a terminal event came to.
#[derive(Debug)]
pub enum Acted {
    /// Torn down, or not acting (and why).
    Done(String),
    /// The job's lock is held: try again later.
    Deferred,
}

/// Whether a verified terminal event may tear its job down: `Ok(job name)`,
/// or `Err(why not)`.
fn check_terminal(
    ctx: &Ctx,
    reg: &mut Registry,
    env: &Envelope,
) -> Result<std::result::Result<String, String>> {
    let Some(job) = reg.job(&env.job)? else {
        return Ok(Err(format!("not acting: no job named {}", env.job)));
    };
    if job.on_done != OnDone::Stop {
        return Ok(Err(format!(
            "not acting: {} keeps its session (on_done = {})",
            job.name, job.on_done
        )));
    }
    let Some(sess) = &job.session else {
        return Ok(Err(format!("not acting: {} has no live session", job.name)));
    };
    let panes = ctx.tmux.list_panes()?;
    match crate::agent::runtime::live_pane(&panes, reg.ws(), &job, &sess.tmux_session) {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Ok(Err(format!(
                "not acting: tmux has no session {}",
                sess.tmux_session
            )));
        }
        Err(e) => return Ok(Err(format!("not acting: {e:#}"))),
    }
    let artifacts: Vec<String> = env.body["artifacts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    // Relative to the job's workdir, and never outside it.
    let workdir = std::path::Path::new(&job.workdir);
    for a in &artifacts {
        if let Err(e) = crate::artifacts::resolve(workdir, workdir, std::path::Path::new(a)) {
            return Ok(Err(format!("not acting: {e}")));
        }
    }
    Ok(Ok(job.name))
}

/// Handle one message from the broker with the shared acceptance rule. A
/// terminal event whose teardown must wait for the job's lock is pushed on
/// `deferred` (it was accepted: its replay entry is recorded).
pub fn hear(
    ctx: &Ctx,
    reg: &mut Registry,
    acc: &mut crate::events::accept::Acceptor,
    msg: &crate::events::mqtt::Incoming,
    deferred: &mut Vec<Envelope>,
) -> Result<Option<Heard>> {
    use crate::events::accept::Rejection;
    let verdict = acc.check(
        reg,
        &msg.topic,
        &msg.payload,
        msg.retain,
        msg.dup,
        crate::registry::now_ms(),
    )?;
    let heard = match verdict {
        Err(Rejection::Duplicate) => return Ok(None),
        Err(why) => Heard {
            topic: msg.topic.clone(),
            kind: None,
            job: None,
            verdict: "rejected".into(),
            detail: why.to_string(),
        },
        Ok(env) => {
            if env.kind != "job.done" && env.kind != "job.failed" {
                return Ok(None); // informational events need nothing from the daemon
            }
            let detail = match act_on_terminal(ctx, reg, &env)? {
                Acted::Done(d) => d,
                Acted::Deferred => {
                    deferred.push(env.clone());
                    format!(
                        "{}: teardown deferred, its job lock is held (a create, stop or delivery is at work)",
                        env.job
                    )
                }
            };
            Heard {
                topic: msg.topic.clone(),
                kind: Some(env.kind.clone()),
                job: Some(env.job.clone()),
                verdict: "accepted".into(),
                detail,
            }
        }
    };
    Ok(Some(heard))
}
