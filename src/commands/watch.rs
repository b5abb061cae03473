//! `mam watch`: subscribe to the broker and print verified events; rejected
//! ones are shown with their reason.

use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::json;

use crate::app::Ctx;
use crate::cli::WatchArgs;
use crate::error::environment;
use crate::events::accept::{Acceptor, Rejection};
use crate::events::mqtt;
use crate::registry::now_ms;

pub fn run(ctx: &Ctx, args: WatchArgs) -> Result<()> {
    let duration = args
        .duration
        .map(|s| crate::duration::seconds("--for", s, crate::duration::Limit::ANY))
        .transpose()?;
    let ep = mqtt::endpoint(&ctx.config.broker)?.ok_or_else(|| {
        environment("no broker configured: events stay in the local log")
            .hint("set [broker] url in .mam/config.toml or MAM_BROKER_URL; `mam events --follow` shows the local log")
    })?;
    let mut reg = ctx.registry()?;
    let filter = format!("{}/{}/#", ctx.config.broker.topic_prefix, reg.ws());
    let mut sub = mqtt::subscribe(&ep, &filter)?;
    // On stderr (also with --json, whose stream is stdout): scripts can wait
    // for this line to know the subscription is live.
    if !ctx.global.quiet {
        eprintln!("mam: watching {filter}");
    }
    let mut acc = Acceptor::new(ctx.config.replay_window(), ctx.config.key_grace());
    let deadline = duration.map(|d| Instant::now() + d);
    let mut seen = 0u64;
    loop {
        if args.count.is_some_and(|c| seen >= c) {
            return Ok(());
        }
        let wait = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(());
                }
                left.min(Duration::from_millis(500))
            }
            None => Duration::from_millis(500),
        };
        let Some(msg) = sub.next(wait)? else { continue };
        let verdict = acc.check(
            &mut reg,
            &msg.topic,
            &msg.payload,
            msg.retain,
            msg.dup,
            now_ms(),
        )?;
        if matches!(verdict, Err(Rejection::Duplicate)) {
            continue; // QoS 1 redelivery: dropped quietly
        }
        seen += 1;
        match verdict {
            Ok(env) => {
                if args.json {
                    println!(
                        "{}",
                        serde_json::to_string(
                            &json!({"accepted": true, "topic": msg.topic, "envelope": env})
                        )?
                    );
                } else {
                    println!(
                        "ok        {} {} seq={} {} {}",
                        env.kind, env.job, env.seq, env.ts, env.body
                    );
                }
            }
            Err(why) => {
                if args.json {
                    println!(
                        "{}",
                        serde_json::to_string(&json!({"accepted": false, "topic": msg.topic,
                            "reason": why.code(), "detail": why.to_string()}))?
                    );
                } else {
                    println!("rejected  {} ({why})", msg.topic);
                }
            }
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
}
