//! File leases between agents: take, renew, release, list and check, each
//! a function of the registry and the caller's identity that returns
//! serialisable results (the CLI in `commands::lease` and any other front
//! end, such as MCP tools, call these).
//!
//! Rules:
//! - A lease is exclusive unless `shared`. An exclusive lease conflicts with
//!   every overlapping lease of another holder; a shared one only with
//!   exclusive ones. A holder never conflicts with itself. Overlap is
//!   `pattern::Pattern::overlaps`.
//! - Taking leases checks and inserts in one write transaction, so of any
//!   number of concurrent conflicting requests exactly one wins.
//! - Expiry is never silent: `sweep` turns each lease past its time into
//!   `expired` once, with a `lease.expired` event and a system message to
//!   its holder, in one transaction (concurrent sweepers serialise on the
//!   write lock, and the update only takes rows still `active`). Every lease
//!   function sweeps first; so do `mam status` and each reconcile pass.
//! - A job that stops, fails, finishes or exits has its leases released by
//!   the registry in the same transaction (`lease.released`, `by: mam`).
//! - Only the holder releases or renews a lease; the operator breaks
//!   another's with `force` (`lease.broken`, recorded with who and why).

pub mod hook;
pub mod pattern;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::error::{conflict, not_found, usage};
use crate::registry::Registry;
use crate::registry::leases::{Lease, lease_number};
pub use pattern::Pattern;

/// The directory that stands for the workspace root when `caller` names
/// paths from `cwd`. Inside the caller's own worktree it is the worktree's
/// copy of the root (the job's workdir), so `src/a.rs` there is the same
/// lease as `src/a.rs` in the main checkout; elsewhere it is `root`.
pub fn root_for(reg: &Registry, caller: &str, cwd: &Path, root: &Path) -> Result<PathBuf> {
    if let Some(job) = reg.job(caller)?
        && let Some(w) = &job.worktree
        && cwd.starts_with(&w.path)
    {
        return Ok(PathBuf::from(job.workdir));
    }
    Ok(root.to_path_buf())
}

/// Expire every lease past its time (see the module docs). Cheap when
/// none is due: one indexed read, no write transaction.
pub fn sweep(reg: &mut Registry) -> Result<Vec<Lease>> {
    let now = crate::clock::now_ms();
    if !reg.any_lease_due(now)? {
        return Ok(Vec::new());
    }
    reg.write(|tx| tx.expire_leases(now))
}

/// What a lease request asks for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub patterns: &'a [Pattern],
    pub ttl: Duration,
    pub reason: Option<&'a str>,
    pub shared: bool,
}

/// Take one lease per pattern for `holder`, all or none.
pub fn lease(reg: &mut Registry, holder: &str, req: &Request) -> Result<Vec<Lease>> {
    if req.patterns.is_empty() {
        return Err(usage("name at least one path or glob to lease").into());
    }
    sweep(reg)?;
    let now = crate::clock::now_ms();
    let expires_at = now.saturating_add(req.ttl.as_millis() as i64);
    reg.write(|tx| {
        let active = tx.active_leases()?;
        let mut clashes = Vec::new();
        for p in req.patterns {
            for l in &active {
                if l.holder != holder
                    && !(req.shared && l.shared)
                    && Pattern::parse(&l.pattern).is_ok_and(|q| q.overlaps(p))
                {
                    clashes.push((p.as_str().to_string(), l.clone()));
                }
            }
        }
        if !clashes.is_empty() {
            return Err(conflict_error(&clashes, now));
        }
        req.patterns
            .iter()
            .map(|p| tx.insert_lease(holder, p.as_str(), req.shared, req.reason, expires_at))
            .collect()
    })
}

fn conflict_error(clashes: &[(String, Lease)], now: i64) -> anyhow::Error {
    let lines: Vec<String> = clashes
        .iter()
        .map(|(want, l)| format!("{want} overlaps {}", describe(l, now)))
        .collect();
    let first = &clashes[0].1;
    conflict(lines.join("\n"))
        .hint(format!(
            "wait for it, ask {} (`mam send {} …`), or lease a narrower path; the operator can break it with `mam release {} --force`",
            first.holder, first.holder, first.id
        ))
        .into()
}

/// `l3 on src/** (exclusive), held by alice until <time> (in 59m): reason`
pub fn describe(l: &Lease, now: i64) -> String {
    let kind = if l.shared { "shared" } else { "exclusive" };
    let left = Duration::from_millis(l.expires_at.saturating_sub(now).max(0) as u64);
    let mut s = format!(
        "{} on {} ({kind}), held by {} until {} (in {})",
        l.id,
        l.pattern,
        l.holder,
        crate::signing::rfc3339_ms(l.expires_at),
        crate::ui::age(left.as_millis() as i64)
    );
    if let Some(r) = &l.reason {
        s.push_str(&format!(": {r}"));
    }
    s
}

/// What `release` is given: a lease id, or a pattern the caller holds.
#[derive(Debug, Clone)]
pub enum Target {
    Id(String),
    Pattern(Pattern),
}

impl Target {
    /// `l<N>` is an id; anything else a path or glob resolved by `resolve`.
    pub fn parse(text: &str, resolve: impl Fn(&str) -> Result<Pattern>) -> Result<Target> {
        if text.starts_with('l') && lease_number(text).is_ok() {
            Ok(Target::Id(text.to_string()))
        } else {
            resolve(text).map(Target::Pattern)
        }
    }
}

/// Release leases, all or none: by id, or every active lease of `caller`
/// on exactly that pattern. Another's lease needs `force`, which only the
/// operator has (recorded as `lease.broken` with `why`).
pub fn release(
    reg: &mut Registry,
    caller: &str,
    targets: &[Target],
    force: bool,
    why: Option<&str>,
) -> Result<Vec<Lease>> {
    if force && caller != "operator" {
        return Err(conflict(format!(
            "--force is for the operator only; you are {caller}"
        ))
        .hint("ask the holder to release it, or ask the operator")
        .into());
    }
    sweep(reg)?;
    reg.write(|tx| {
        let mut chosen: Vec<Lease> = Vec::new();
        for t in targets {
            let found: Vec<Lease> = match t {
                Target::Id(id) => {
                    let l = tx
                        .lease(id)?
                        .ok_or_else(|| not_found(format!("no lease {id} in this workspace")))?;
                    if l.state != "active" {
                        return Err(conflict(format!(
                            "{id} on {} is {} already",
                            l.pattern, l.state
                        ))
                        .into());
                    }
                    vec![l]
                }
                Target::Pattern(p) => {
                    let mine: Vec<Lease> = tx
                        .active_leases()?
                        .into_iter()
                        .filter(|l| l.pattern == p.as_str() && (force || l.holder == caller))
                        .collect();
                    if mine.is_empty() {
                        return Err(not_found(format!(
                            "{caller} holds no active lease on {}",
                            p.as_str()
                        ))
                        .hint("`mam leases` lists them; release by id (l<N>) or by the pattern as leased")
                        .into());
                    }
                    mine
                }
            };
            for l in found {
                if l.holder != caller && !force {
                    return Err(conflict(format!(
                        "{} on {} is held by {}, not by {caller}",
                        l.id, l.pattern, l.holder
                    ))
                    .hint(if caller == "operator" {
                        format!("break it with `mam release {} --force`", l.id)
                    } else {
                        format!("ask {} to release it", l.holder)
                    })
                    .into());
                }
                if !chosen.iter().any(|c| c.id == l.id) {
                    chosen.push(l);
                }
            }
        }
        for l in &chosen {
            if l.holder == caller {
                tx.end_lease(l, "released", caller, why)?;
            } else {
                tx.end_lease(l, "broken", caller, why)?;
            }
        }
        chosen
            .iter()
            .map(|l| Ok(tx.lease(&l.id)?.unwrap_or_else(|| l.clone())))
            .collect()
    })
}

/// Move an active lease's expiry to `ttl` from now (its holder, or the
/// operator).
pub fn renew(reg: &mut Registry, caller: &str, id: &str, ttl: Duration) -> Result<Lease> {
    lease_number(id)?;
    sweep(reg)?;
    let now = crate::clock::now_ms();
    reg.write(|tx| {
        let l = tx
            .lease(id)?
            .ok_or_else(|| not_found(format!("no lease {id} in this workspace")))?;
        if l.holder != caller && caller != "operator" {
            return Err(conflict(format!(
                "{id} on {} is held by {}, not by {caller}",
                l.pattern, l.holder
            ))
            .into());
        }
        if l.state != "active" {
            return Err(conflict(format!("{id} on {} is {}", l.pattern, l.state))
                .hint(format!("lease it again: mam lease {} --ttl …", l.pattern))
                .into());
        }
        tx.renew_lease(&l, now.saturating_add(ttl.as_millis() as i64), caller)
    })
}

/// Leases of `holder` (or everyone's), active ones unless `all`, after
/// expiring what is due.
pub fn leases(reg: &mut Registry, holder: Option<&str>, all: bool) -> Result<Vec<Lease>> {
    sweep(reg)?;
    reg.leases(holder, all)
}

/// A checked path that lies under another holder's exclusive lease.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub path: String,
    pub lease: Lease,
}

/// The paths among `paths` (workspace-relative) that `who` may not commit:
/// those covered by another holder's exclusive lease.
pub fn check(reg: &mut Registry, who: &str, paths: &[String]) -> Result<Vec<Hit>> {
    sweep(reg)?;
    let others: Vec<Lease> = reg
        .leases(None, false)?
        .into_iter()
        .filter(|l| l.holder != who && !l.shared)
        .collect();
    if others.is_empty() || paths.is_empty() {
        return Ok(Vec::new());
    }
    // Leases whose pattern starts with a plain name are looked up by a
    // path's first segment; the rest are tried on every path.
    let mut by_head: std::collections::HashMap<String, Vec<(usize, Pattern)>> =
        std::collections::HashMap::new();
    let mut wild: Vec<(usize, Pattern)> = Vec::new();
    for (i, l) in others.iter().enumerate() {
        let Ok(p) = Pattern::parse(&l.pattern) else {
            continue;
        };
        match p.literal_head() {
            Some(head) => by_head.entry(head).or_default().push((i, p)),
            None => wild.push((i, p)),
        }
    }
    let mut hits = Vec::new();
    for path in paths {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let Some(first) = segs.first() else { continue };
        let near = by_head.get(*first).map_or(&[][..], Vec::as_slice);
        let mut found: Vec<usize> = near
            .iter()
            .chain(&wild)
            .filter(|(_, p)| p.covers_segs(&segs))
            .map(|(i, _)| *i)
            .collect();
        found.sort_unstable();
        found.dedup();
        for i in found {
            hits.push(Hit {
                path: path.clone(),
                lease: others[i].clone(),
            });
        }
    }
    Ok(hits)
}
