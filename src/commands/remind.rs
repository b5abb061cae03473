//! `mam remind`, `mam reminders`, `mam retry`.

use anyhow::Result;
use serde_json::json;

use crate::app::{Ctx, check_name};
use crate::cli::{RemindArgs, RemindersArgs, RetryArgs};
use crate::commands::Out;
use crate::duration::{self, Limit};
use crate::error::{not_found, usage};
use crate::registry::now_ms;
use crate::ui;

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

pub fn remind(ctx: &Ctx, args: RemindArgs) -> Result<()> {
    let owner = ctx.actor(args.from.from.as_deref())?;
    let now = now_ms();
    // Both bounded by a year, so `now + d` cannot overflow.
    let due = match (&args.in_, &args.at) {
        (Some(d), _) => now + duration::parse("--in", d, Limit::POSITIVE)?.as_millis() as i64,
        (None, Some(t)) => at_within_a_year(t, now)?,
        (None, None) => return Err(usage("say when: --in DUR or --at TIME").into()),
    };
    let every = args
        .every
        .as_deref()
        .map(|e| duration::parse("--every", e, Limit::REPEAT))
        .transpose()?;
    let text = crate::agent::probe::sanitize(&args.text.join(" "));
    if text.trim().is_empty() {
        return Err(usage("empty reminder").into());
    }
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &owner)?;
    if args.to != "operator" {
        check_name(&args.to)?;
        if reg.job(&args.to)?.is_none() {
            return Err(not_found(format!("no job named {:?} to remind", args.to)).into());
        }
    }
    let id = reg.write(|tx| {
        tx.insert_reminder(
            &owner,
            &args.to,
            &text,
            due,
            every.map(|e| e.as_millis() as i64),
        )
    })?;
    let due = crate::signing::rfc3339_ms(due);
    match Out::of(ctx, args.json) {
        Out::Json => ui::print_json(&json!({"id": id, "target": args.to, "due_at": due})),
        Out::Quiet => println!("{id}"),
        Out::Human => println!("{id} for {} at {due}", args.to),
    }
    ctx.publish(&mut reg);
    Ok(())
}

pub fn list(ctx: &Ctx, args: RemindersArgs) -> Result<()> {
    let Some(reg) = ctx.registry_if_exists()? else {
        if args.json {
            ui::print_json(&json!({"reminders": []}));
        }
        return Ok(());
    };
    let rs = reg.reminders(args.name.as_deref(), args.all)?;
    if args.json {
        ui::print_json(&json!({"reminders": rs}));
        return Ok(());
    }
    if rs.is_empty() {
        if !ctx.global.quiet {
            println!("no reminders");
        }
        return Ok(());
    }
    let now = now_ms();
    let rows: Vec<Vec<String>> = rs
        .iter()
        .map(|r| {
            let due = if r.due_at > now {
                format!("in {}", ui::age(r.due_at - now))
            } else {
                format!("{} ago", ui::age(now - r.due_at))
            };
            vec![
                r.id.clone(),
                r.target.clone(),
                r.owner.clone(),
                r.state.to_string(),
                due,
                r.every_ms.map(ui::age).unwrap_or_else(|| "-".into()),
                r.attempts.to_string(),
                r.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        ui::table(
            &[
                "ID",
                "TARGET",
                "OWNER",
                "STATE",
                "DUE",
                "EVERY",
                "ATTEMPTS",
                "LAST ERROR"
            ],
            &rows
        )
    );
    Ok(())
}

pub fn retry(ctx: &Ctx, args: RetryArgs) -> Result<()> {
    let by = ctx.actor(args.from.from.as_deref())?;
    let mut reg = ctx.registry()?;
    ctx.check_actor(&reg, &by)?;
    reg.write(|tx| tx.retry_reminder(&args.rid, &by))?;
    if !ctx.global.quiet {
        println!("{}: re-armed", args.rid);
    }
    ctx.publish(&mut reg);
    Ok(())
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
