//! The reconcile daemon: a pass every interval and one wildcard
//! subscription between passes.

use anyhow::Result;
use serde::Serialize;

use crate::app::Ctx;
use crate::registry::Registry;

use super::terminal::Acted;
use super::{Heard, Report, act_on_terminal, hear, pass};
use crate::signing::envelope::Envelope;

/// What the daemon reports, line by line.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DaemonEvent {
    Pass(Report),
    Heard(Heard),
    /// Fleet traffic on this host's inbox (see `mail::fleet`).
    Fleet(crate::mail::fleet::FleetHeard),
    /// A hook ended (see `crate::hooks`).
    Hook(crate::hooks::HookRun),
    Broker {
        state: String,
        detail: String,
    },
    /// Something failed; the daemon carries on. `during`: `pass`, `event`
    /// or `teardown`; `error`: the cause chain.
    Error {
        during: String,
        error: String,
    },
}

impl DaemonEvent {
    fn error(during: &str, e: &anyhow::Error) -> DaemonEvent {
        DaemonEvent::Error {
            during: during.into(),
            error: format!("{e:#}"),
        }
    }
}

/// The daemon: passes every `interval`, one wildcard subscription between
/// them, until SIGINT/SIGTERM (which let the current pass finish). The caller
/// holds the daemon lock. A pass, an event or a teardown that fails is
/// reported with its cause and the daemon goes on; nothing in the loop waits
/// on a job's lock (a teardown that would is retried at the next poll).
pub fn run_daemon(
    ctx: &Ctx,
    reg: &mut Registry,
    interval: std::time::Duration,
    dry_run: bool,
    stop: &std::sync::atomic::AtomicBool,
    mut report: impl FnMut(DaemonEvent),
) -> Result<()> {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    let endpoint = crate::events::mqtt::endpoint(&ctx.config.broker)?;
    let filter = format!("{}/{}/#", ctx.config.broker.topic_prefix, reg.ws());
    // This host's fleet inbox, when it has a fleet name.
    let me = ctx.config.fleet.host().ok();
    let inbox = me
        .as_deref()
        .map(|h| crate::events::fleet_inbox(&ctx.config.broker.topic_prefix, h));
    let filters: Vec<String> = std::iter::once(filter.clone())
        .chain(inbox.clone())
        .collect();
    let mut acc =
        crate::events::accept::Acceptor::new(ctx.config.replay_window(), ctx.config.key_grace());
    let mut sub: Option<crate::events::mqtt::Subscription> = None;
    let mut backoff = Duration::from_millis(250);
    let mut next_connect = Instant::now();
    let mut deferred: Vec<Envelope> = Vec::new();
    let mut hooks = crate::hooks::Runner::new();
    let mut states = crate::mail::fleet_state::Publisher::new(ctx.config.fleet_heartbeat());
    while !stop.load(Ordering::SeqCst) {
        match pass(ctx, reg, dry_run) {
            Ok(r) => report(DaemonEvent::Pass(r)),
            Err(e) => report(DaemonEvent::error("pass", &e)),
        }
        let until = Instant::now() + interval;
        while Instant::now() < until && !stop.load(Ordering::SeqCst) {
            retry_deferred(ctx, reg, &mut deferred, &mut report);
            if !dry_run && let (Some(me), Some(ep)) = (me.as_deref(), &endpoint) {
                drive_fleet(ctx, reg, ep, me, &mut states, &mut report);
            }
            if !dry_run {
                drive_hooks(ctx, reg, &mut hooks, &mut report);
            }
            if sub.is_none()
                && let Some(ep) = &endpoint
                && Instant::now() >= next_connect
            {
                match crate::events::mqtt::subscribe_many(ep, &filters, Duration::from_secs(3)) {
                    Ok(s) => {
                        sub = Some(s);
                        backoff = Duration::from_millis(250);
                        report(DaemonEvent::Broker {
                            state: "subscribed".into(),
                            detail: filters.join(" "),
                        });
                        // Whatever the peers said while this daemon was not
                        // listening is asked for again.
                        if !dry_run
                            && let Some(me) = me.as_deref()
                            && let Err(e) = states.subscribed(reg, me)
                        {
                            report(DaemonEvent::error("fleet", &e));
                        }
                    }
                    Err(e) => {
                        next_connect = Instant::now() + backoff;
                        report(DaemonEvent::Broker {
                            state: "unreachable".into(),
                            detail: format!("{e:#}; retrying in {:.1}s", backoff.as_secs_f64()),
                        });
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                }
            }
            let wait = until
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100));
            match sub.as_mut() {
                Some(s) => match s.next(wait) {
                    Ok(Some(msg)) if inbox.as_deref() == Some(msg.topic.as_str()) => {
                        let me = me.as_deref().unwrap_or_default();
                        match crate::mail::fleet::receive(ctx, reg, &mut acc, me, &msg) {
                            Ok(Some(h)) => report(DaemonEvent::Fleet(h)),
                            Ok(None) => {}
                            Err(e) => report(DaemonEvent::error("fleet", &e)),
                        }
                    }
                    Ok(Some(msg)) => match hear(ctx, reg, &mut acc, &msg, &mut deferred) {
                        Ok(Some(h)) => report(DaemonEvent::Heard(h)),
                        Ok(None) => {}
                        Err(e) => report(DaemonEvent::error("event", &e)),
                    },
                    Ok(None) => {}
                    Err(e) => {
                        sub = None;
                        next_connect = Instant::now() + backoff;
                        report(DaemonEvent::Broker {
                            state: "lost".into(),
                            detail: format!("{e:#}"),
                        });
                    }
                },
                None => std::thread::sleep(wait.max(Duration::from_millis(1))),
            }
        }
    }
    drop(sub); // disconnect cleanly
    // Hooks already started end (or time out) before the daemon does.
    match hooks.finish(reg) {
        Ok(runs) => runs.into_iter().for_each(|r| report(DaemonEvent::Hook(r))),
        Err(e) => report(DaemonEvent::error("hook", &e)),
    }
    Ok(())
}

/// Start the hooks due for new events and settle those that ended; a
/// failure is reported and the daemon goes on.
fn drive_hooks(
    ctx: &Ctx,
    reg: &mut Registry,
    hooks: &mut crate::hooks::Runner,
    report: &mut impl FnMut(DaemonEvent),
) {
    let started = hooks.start_due(&ctx.config.hooks, reg, &ctx.paths.root, &ctx.paths.state);
    let polled = hooks.poll(reg);
    for r in [started, polled] {
        match r {
            Ok(runs) => runs.into_iter().for_each(|r| report(DaemonEvent::Hook(r))),
            Err(e) => report(DaemonEvent::error("hook", &e)),
        }
    }
}

/// Queue the receipts whose outcome is known and this host's state when it
/// changed (or a heartbeat is due), and publish the fleet traffic that is
/// due (commands waiting for receipts are tried again 1 s, 2 s, … at most
/// 30 s apart). A failure is reported and the daemon goes on.
fn drive_fleet(
    ctx: &Ctx,
    reg: &mut Registry,
    ep: &crate::events::mqtt::Endpoint,
    me: &str,
    states: &mut crate::mail::fleet_state::Publisher,
    report: &mut impl FnMut(DaemonEvent),
) {
    if let Err(e) = crate::mail::fleet::queue_receipts(reg, me) {
        report(DaemonEvent::error("fleet", &e));
    }
    if let Err(e) = states.tick(reg, me) {
        report(DaemonEvent::error("fleet", &e));
    }
    let flushed = (|| -> Result<usize> {
        let Some(_guard) = crate::lock::try_lock(&ctx.paths.locks.join("outbox.lock"))? else {
            return Ok(0);
        };
        crate::events::outbox::flush_fleet(
            &ctx.paths,
            &ctx.config.broker,
            ep,
            reg,
            std::time::Duration::from_secs(2),
        )
    })();
    if let Err(e) = flushed {
        report(DaemonEvent::error("fleet", &e));
    }
}

/// Try the teardowns that waited for a job lock; each try never blocks.
fn retry_deferred(
    ctx: &Ctx,
    reg: &mut Registry,
    deferred: &mut Vec<Envelope>,
    report: &mut impl FnMut(DaemonEvent),
) {
    let mut still = Vec::new();
    for env in deferred.drain(..) {
        match act_on_terminal(ctx, reg, &env) {
            Ok(Acted::Deferred) => still.push(env),
            Ok(Acted::Done(detail)) => report(DaemonEvent::Heard(Heard {
                topic: crate::signing::topic(
                    &ctx.config.broker.topic_prefix,
                    &env.ws,
                    &env.kind,
                    &env.job,
                ),
                kind: Some(env.kind.clone()),
                job: Some(env.job.clone()),
                verdict: "accepted".into(),
                detail,
            })),
            Err(e) => report(DaemonEvent::error("teardown", &e)),
        }
    }
    *deferred = still;
}
