//! Reminders: when one is due (`--in`, `--at`, `--every`), checked and
//! stored in one transaction with its event. `deliver` types them.

use anyhow::Result;

use crate::app::{Ctx, check_name};
use crate::duration::{self, Limit};
use crate::error::{not_found, usage};
use crate::registry::Registry;

/// When a reminder is due, as the caller wrote it.
#[derive(Debug, Clone, Copy)]
pub enum When<'a> {
    /// A duration from now (`--in 10m`).
    In(&'a str),
    /// A time (`--at 15:00`).
    At(&'a str),
}

/// A stored reminder: its id, target and due time (RFC 3339).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scheduled {
    pub id: String,
    pub target: String,
    pub due_at: String,
}

/// Parse `--at`: RFC 3339, `YYYY-MM-DD HH:MM[:SS]` (local), or `HH:MM[:SS]`
/// (local, today, or tomorrow if that has passed). Unix ms.
pub fn parse_at(s: &str, now_ms: i64) -> Result<i64> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    let tz = jiff::tz::TimeZone::system();
    if let Ok(dt) = s.replace(' ', "T").parse::<jiff::civil::DateTime>() {
        let z = dt
            .to_zoned(tz)
            .map_err(|e| usage(format!("--at {s:?}: {e}")))?;
        return Ok(z.timestamp().as_millisecond());
    }
    if let Ok(t) = s.parse::<jiff::civil::Time>() {
        let now = jiff::Timestamp::from_millisecond(now_ms)?.to_zoned(tz.clone());
        let mut z = now
            .date()
            .to_datetime(t)
            .to_zoned(tz.clone())
            .map_err(|e| usage(format!("--at {s:?}: {e}")))?;
        if z.timestamp().as_millisecond() <= now_ms {
            z = z
                .tomorrow()
                .map_err(|e| usage(format!("--at {s:?}: {e}")))?;
        }
        return Ok(z.timestamp().as_millisecond());
    }
    Err(usage(format!("--at {s:?} is not a time"))
        .hint("use RFC 3339 (2026-11-21T15:00:00Z), `2026-11-21 15:00` or `15:00` (local time)")
        .into())
}

/// `--at` must be after now and at most a year ahead.
fn at_within_a_year(s: &str, now: i64) -> Result<i64> {
    let due = parse_at(s, now)?;
    let ahead = due.saturating_sub(now);
    if ahead <= 0 || ahead as u128 > duration::YEAR.as_millis() {
        return Err(usage(format!(
            "--at {s:?}: expected a time after now and at most {} ahead",
            duration::show(duration::YEAR)
        ))
        .into());
    }
    Ok(due)
}

/// A reminder whose times and text are checked, ready to store.
#[derive(Debug, Clone)]
pub struct Checked {
    due: i64,
    every_ms: Option<i64>,
    text: String,
}

/// Check a reminder's times and text (before anything is opened).
pub fn check(when: Option<When>, every: Option<&str>, text: &str) -> Result<Checked> {
    let now = crate::registry::now_ms();
    // Both bounded by a year, so `now + d` cannot overflow.
    let due = match when {
        Some(When::In(d)) => now + duration::parse("--in", d, Limit::POSITIVE)?.as_millis() as i64,
        Some(When::At(t)) => at_within_a_year(t, now)?,
        None => return Err(usage("say when: --in DUR or --at TIME").into()),
    };
    let every_ms = every
        .map(|e| duration::parse("--every", e, Limit::REPEAT))
        .transpose()?
        .map(|e| e.as_millis() as i64);
    let text = crate::agent::probe::sanitize(text);
    if text.trim().is_empty() {
        return Err(usage("empty reminder").into());
    }
    Ok(Checked {
        due,
        every_ms,
        text,
    })
}

/// Store a checked reminder for `to` (a job, `operator`, or `job@host` on
/// a trusted host) as `owner`.
pub fn remind(
    ctx: &Ctx,
    reg: &mut Registry,
    owner: &str,
    to: &str,
    r: &Checked,
) -> Result<Scheduled> {
    ctx.check_actor(reg, owner)?;
    // `job@host`: on this host the job itself; else kept here and, when
    // due, sent to that host as a message is (`deliver_reminders`).
    let mut to = to;
    if let Some((job, host)) = super::fleet::split_address(to) {
        if job == "*" {
            return Err(usage(format!("cannot remind {to:?}: remind one job"))
                .hint("remind each job on that host as job@host")
                .into());
        }
        if host == ctx.config.fleet.host()? {
            to = job;
        } else {
            let target = super::fleet::check_remote(reg, job, host)?;
            super::fleet::check_remote_text(&r.text)?;
            // It will travel over the broker when due: one must be set now.
            super::fleet::sending_host(ctx, &target)?;
            let id =
                reg.write(|tx| tx.insert_reminder(owner, &target, &r.text, r.due, r.every_ms))?;
            return Ok(Scheduled {
                id,
                target,
                due_at: crate::signing::rfc3339_ms(r.due),
            });
        }
    }
    if to != "operator" {
        check_name(to)?;
        if reg.job(to)?.is_none() {
            return Err(not_found(format!("no job named {to:?} to remind")).into());
        }
    }
    let id = reg.write(|tx| tx.insert_reminder(owner, to, &r.text, r.due, r.every_ms))?;
    Ok(Scheduled {
        id,
        target: to.to_string(),
        due_at: crate::signing::rfc3339_ms(r.due),
    })
}

/// Re-arm failed reminder `rid` as `by` (its owner or the operator): what
/// `mam retry` and the dashboard's `r` do, with the same checks and errors.
pub fn retry(ctx: &Ctx, reg: &mut Registry, by: &str, rid: &str) -> Result<()> {
    ctx.check_actor(reg, by)?;
    reg.write(|tx| tx.retry_reminder(rid, by))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_times_parse() {
        let now = jiff::Timestamp::from_second(1_800_000_000)
            .unwrap()
            .as_millisecond();
        let expected = "2027-01-15T10:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(parse_at("2027-01-15T10:00:00Z", now).unwrap(), expected);
        let t = parse_at("10:00", now).unwrap();
        assert!(t > now && t - now <= 86_400_000);
        assert!(parse_at("soonish", now).is_err());
    }
}
