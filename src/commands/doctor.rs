//! `mam doctor`: check the environment; each check ok / warn / fail with a fix.
//! Exit 6 if any check fails.

use anyhow::Result;
use serde_json::json;

use crate::app::Ctx;
use crate::error::environment;
use crate::registry::Registry;
use crate::signing::keys::check_key_file;
use crate::ui;

struct Check {
    name: &'static str,
    status: &'static str,
    detail: String,
    fix: Option<String>,
}

fn ok(name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        name,
        status: "ok",
        detail: detail.into(),
        fix: None,
    }
}
fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name,
        status: "warn",
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}
fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name,
        status: "fail",
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

/// The fleet, once this workspace is part of one (it has a host key or
/// knows another host): the key, whom it trusts, the broker it needs, and
/// commands to other hosts whose receipt is long in coming.
fn fleet(ctx: &Ctx, checks: &mut Vec<Check>) {
    let Ok(Some(reg)) = ctx.registry_if_exists() else {
        return;
    };
    let hosts = reg.fleet_hosts().unwrap_or_default();
    if !ctx.paths.host_key.exists() && hosts.is_empty() {
        return;
    }
    let me = match ctx.config.fleet.host() {
        Ok(h) => h,
        Err(e) => return checks.push(from_error("fleet", &e.into())),
    };
    // The key is made on first need; one that is there must be sound.
    let kid = if ctx.paths.host_key.exists() {
        match crate::signing::host::HostKey::load(&ctx.paths.host_key) {
            Ok(k) => k.kid(),
            Err(e) => return checks.push(from_error("fleet", &e)),
        }
    } else {
        "not made yet".to_string()
    };
    let trusted = hosts.iter().filter(|h| h.trusted).count();
    checks.push(if trusted == 0 {
        warn(
            "fleet",
            format!("host {me} (key {kid}) trusts no other host"),
            "on each other host run `mam fleet show`, then here `mam fleet trust HOST KEY`",
        )
    } else if ctx.config.broker.url.is_empty() {
        warn(
            "fleet",
            format!("host {me} trusts {trusted} hosts, but no broker is configured"),
            "set [broker] url (examples/fleet/ has a Mosquitto setup for a fleet)",
        )
    } else {
        ok(
            "fleet",
            format!(
                "host {me} (key {kid}), trusts {trusted} of {} known hosts",
                hosts.len()
            ),
        )
    });
    clocks(&me, &hosts, ctx.config.replay_window(), checks);
    if let Ok((n, Some(oldest))) = reg.fleet_waiting() {
        let age = crate::registry::now_ms() - oldest;
        if n > 0 && age > 60_000 {
            checks.push(warn(
                "fleet",
                format!(
                    "{n} messages to other hosts wait for a receipt (oldest {})",
                    crate::ui::age(age)
                ),
                "is each target host's `mam reconcile` daemon running? `mam fleet hosts` shows when each was last heard",
            ));
        }
    }
}

/// The other hosts' clocks, as last measured on a genuine envelope of each:
/// an envelope stamped further from this host's clock than the replay window
/// is refused as stale, so a skew past the window cuts that host off, and
/// one past half of it is a warning.
fn clocks(
    me: &str,
    hosts: &[crate::registry::fleet::FleetHost],
    window: std::time::Duration,
    checks: &mut Vec<Check>,
) {
    let window = window.as_millis() as i64;
    let measured: Vec<(&str, i64)> = hosts
        .iter()
        .filter(|h| h.trusted)
        .filter_map(|h| Some((h.host.as_str(), h.skew_ms?)))
        .collect();
    if measured.is_empty() {
        return;
    }
    let fix = "keep every host's clock synchronised (NTP: `timedatectl set-ntp true`, or chrony), or widen [security] replay_window on every host";
    let worst = measured.iter().map(|(_, s)| s.abs()).max().unwrap_or(0);
    for (host, skew) in &measured {
        // skew: this host's clock minus the other's.
        let how = format!(
            "host {host}'s clock is {} {} {me}'s",
            span(skew.abs()),
            if *skew > 0 { "behind" } else { "ahead of" }
        );
        if skew.abs() > window {
            checks.push(fail(
                "fleet",
                format!(
                    "{how}, past the replay window ({}): its traffic is refused as stale",
                    span(window)
                ),
                fix,
            ));
        } else if skew.abs() * 2 > window {
            checks.push(warn(
                "fleet",
                format!("{how}, more than half the replay window ({})", span(window)),
                fix,
            ));
        }
    }
    if worst * 2 <= window {
        checks.push(ok(
            "fleet",
            format!(
                "the clocks of {} hosts are within {} of this one's (replay window {})",
                measured.len(),
                span(worst),
                span(window)
            ),
        ));
    }
}

/// A clock difference for people: `40 ms`, `12 s`, `7 min`.
fn span(ms: i64) -> String {
    match ms {
        ..1000 => format!("{ms} ms"),
        1000..600_000 => format!("{} s", ms / 1000),
        _ => format!("{} min", ms / 60_000),
    }
}

fn from_error(name: &'static str, e: &anyhow::Error) -> Check {
    fail(
        name,
        format!("{e:#}"),
        crate::error::hint_of(e)
            .unwrap_or("see the message")
            .to_string(),
    )
}

pub fn run(ctx: &Ctx, args: crate::cli::DoctorArgs) -> Result<()> {
    let mut checks = Vec::new();
    checks.push(match ctx.tmux.version() {
        Ok((maj, min)) if maj >= 3 => ok("tmux", format!("tmux {maj}.{min}")),
        Ok((maj, min)) => fail(
            "tmux",
            format!("tmux {maj}.{min} is too old"),
            "install tmux 3.0 or newer",
        ),
        Err(e) => from_error("tmux", &e),
    });
    let socket = ctx.tmux.socket_path();
    checks.push(match ctx.tmux.check_socket_path() {
        Ok(()) => ok("socket", socket.display().to_string()),
        Err(e) => fail(
            "socket",
            e.message.clone(),
            e.hint.clone().unwrap_or_default(),
        ),
    });
    checks.push(if !ctx.paths.state.exists() {
        warn(
            "state dir",
            format!("{} does not exist yet", ctx.paths.state.display()),
            "run `mam init`",
        )
    } else {
        match crate::workspace::check_local_fs(&ctx.paths.state) {
            Err(e) => from_error("state dir", &e),
            Ok(()) => {
                let probe = ctx
                    .paths
                    .state
                    .join(format!(".doctor-{}", std::process::id()));
                match std::fs::write(&probe, b"x").and_then(|_| std::fs::remove_file(&probe)) {
                    Ok(()) => ok(
                        "state dir",
                        format!("{} is local and writable", ctx.paths.state.display()),
                    ),
                    Err(e) => fail(
                        "state dir",
                        format!("{} is not writable: {e}", ctx.paths.state.display()),
                        "fix its permissions or set MAM_STATE_DIR",
                    ),
                }
            }
        }
    });
    checks.push(
        if ctx.paths.key.exists() || std::fs::symlink_metadata(&ctx.paths.key).is_ok() {
            match check_key_file(&ctx.paths.key) {
                Ok(()) => ok(
                    "key file",
                    format!("{} is 0600 and yours", ctx.paths.key.display()),
                ),
                Err(e) => from_error("key file", &e),
            }
        } else {
            warn("key file", "no key yet", "run `mam init`")
        },
    );
    checks.push(if ctx.paths.db.exists() {
        match Registry::open(&ctx.paths, &ctx.config.broker.topic_prefix) {
            Ok(reg) => match reg.integrity() {
                Ok(msg) if msg == "ok" => ok(
                    "registry",
                    format!("schema {} ok", crate::registry::SCHEMA_VERSION),
                ),
                Ok(msg) => fail(
                    "registry",
                    format!("integrity check: {msg}"),
                    "restore .mam/mam.db from a backup, or move it aside and `mam init`",
                ),
                Err(e) => from_error("registry", &e),
            },
            Err(e) => from_error("registry", &e),
        }
    } else {
        warn("registry", "no registry yet", "run `mam init`")
    });
    // Agent CLIs of the profiles in use.
    if let Ok(Some(reg)) = ctx.registry_if_exists() {
        let mut kinds: Vec<String> = reg
            .jobs()
            .unwrap_or_default()
            .into_iter()
            .map(|j| j.kind)
            .collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            match ctx.profile(&kind) {
                Ok(p) => {
                    let bin = &p.spec.cmd.0[0];
                    checks.push(if on_path(bin) {
                        ok("agent cli", format!("{kind}: {bin} found"))
                    } else {
                        warn(
                            "agent cli",
                            format!("{kind}: {bin} is not on PATH"),
                            format!("install {bin} or fix [agents.{kind}].cmd"),
                        )
                    });
                }
                Err(e) => checks.push(from_error("agent cli", &e)),
            }
        }
    }
    checks.push(match crate::events::mqtt::endpoint(&ctx.config.broker) {
        Ok(None) => ok("broker", "none configured: events stay in the local log"),
        Err(e) => from_error("broker", &e),
        Ok(Some(ep)) => match crate::events::mqtt::check(&ep, std::time::Duration::from_secs(3)) {
            Ok(()) => ok(
                "broker",
                format!(
                    "{} reachable{}",
                    ctx.config.broker.url,
                    if ctx.config.broker.url.starts_with("mqtts://") {
                        " over TLS"
                    } else {
                        " (loopback, plain)"
                    }
                ),
            ),
            Err(e) => from_error("broker", &e),
        },
    });
    if let Ok(Some(reg)) = ctx.registry_if_exists()
        && let Ok(n) = reg.unpublished_count()
        && n > 0
        && !ctx.config.broker.url.is_empty()
    {
        checks.push(warn(
            "outbox",
            format!("{n} events not yet published"),
            "`mam reconcile --once` publishes them once the broker is reachable",
        ));
    }
    // The shared docs, once there are any: each file as its manifest says.
    if let Ok(Some(reg)) = ctx.registry_if_exists()
        && let Ok(files) = reg.shared_files()
        && !files.is_empty()
    {
        checks.push(match crate::shared::verify(&reg, &ctx.shared_dir) {
            Ok(found) if found.is_empty() => ok(
                "shared",
                format!(
                    "{} files in {} as recorded",
                    files.len(),
                    ctx.shared_dir.display()
                ),
            ),
            Ok(found) => fail(
                "shared",
                found
                    .iter()
                    .map(crate::commands::shared::finding_line)
                    .collect::<Vec<_>>()
                    .join("; "),
                "add the right content again with `mam shared add FILE` (or `mam shared rm NAME`)",
            ),
            Err(e) => from_error("shared", &e),
        });
    }
    hooks(ctx, &mut checks);
    fleet(ctx, &mut checks);
    if let Some(v) = std::env::var_os(crate::clock::TEST_CLOCK_ENV) {
        let v = v.to_string_lossy();
        let what = match crate::clock::test_clock() {
            Some(_) => "moves mam's clock",
            None => "is not a test clock and is ignored",
        };
        checks.push(warn(
            "clock",
            format!(
                "{}={v} {what} (for mam's tests only)",
                crate::clock::TEST_CLOCK_ENV
            ),
            format!("unset {}", crate::clock::TEST_CLOCK_ENV),
        ));
    }
    let failed = checks.iter().filter(|c| c.status == "fail").count();
    if args.json {
        let list: Vec<_> = checks
            .iter()
            .map(|c| json!({"check": c.name, "status": c.status, "detail": c.detail, "fix": c.fix}))
            .collect();
        ui::print_json(&json!({"checks": list, "failed": failed}));
    } else {
        for c in &checks {
            println!("{:5} {:10} {}", c.status, c.name, c.detail);
            if let (Some(f), true) = (&c.fix, c.status != "ok") {
                println!("{:16} fix: {f}", "");
            }
        }
    }
    if failed > 0 {
        return Err(environment(format!("{failed} check(s) failed")).into());
    }
    Ok(())
}

/// Hook runs of the last day that failed, timed out or were interrupted,
/// newest first (up to five, one line each); ok when hooks are configured
/// and none did.
fn hooks(ctx: &Ctx, checks: &mut Vec<Check>) {
    let Ok(Some(reg)) = ctx.registry_if_exists() else {
        return;
    };
    let now = crate::registry::now_ms();
    let bad: Vec<String> = match reg.hook_runs_not_ok(50) {
        Ok(rows) => rows
            .iter()
            .filter(|r| r.started_at > now - 86_400_000)
            .filter_map(|r| crate::hooks::describe(r, now))
            .collect(),
        Err(e) => return checks.push(from_error("hooks", &e)),
    };
    if bad.is_empty() {
        if !ctx.config.hooks.is_empty() {
            checks.push(ok(
                "hooks",
                format!(
                    "{} configured, none failed in the last day",
                    ctx.config.hooks.len()
                ),
            ));
        }
        return;
    }
    for line in bad.iter().take(5) {
        checks.push(warn(
            "hooks",
            line.clone(),
            "fix the hook's `run` (or its `timeout`) in [[hooks]]; each event ran it once and it is not retried",
        ));
    }
}

fn on_path(bin: &str) -> bool {
    if bin.contains('/') {
        return std::path::Path::new(bin).is_file();
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false)
}
