//! `mam create`: a new job in its own tmux session, probed to ready, then
//! given its prompt.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;

use crate::agent::probe::Typed;
use crate::agent::runtime::{self, StartMode};
use crate::app::{Ctx, check_new_name};
use crate::cli::CreateArgs;
use crate::commands::Out;
use crate::duration::{Limit, seconds};
use crate::error::{Code, UserError, not_found, usage};
use crate::model::JobState;
use crate::registry::jobs::NewJob;
use crate::{lock, ui};

pub fn run(ctx: &Ctx, args: CreateArgs) -> Result<()> {
    // Validate everything before anything is written.
    let ready_timeout = seconds("--ready-timeout", args.ready_timeout, Limit::POSITIVE)?;
    check_new_name(&args.name)?;
    let env = parse_env(&args.env)?;
    let profile = ctx.profile(&args.agent)?;
    let workdir = resolve_workdir(ctx, args.workdir.as_ref())?;
    let prompt = read_prompt(&args)?;
    let cmd = match &args.cmd {
        Some(c) => Some(
            crate::agent::profiles::split_command(c).map_err(|e| usage(format!("--cmd: {e}")))?,
        ),
        None => None,
    };
    let mcp = mcp_wanted(&args, &profile)?;
    ctx.tmux.version()?; // tmux must be installed (exit 6 with a hint)
    ctx.tmux.check_socket_path()?;

    let mut reg = ctx.registry()?;
    let conversation_id = match cmd {
        Some(_) => None,
        None => runtime::mint_id(&profile),
    };
    let workdir_s = workdir.display().to_string();
    // The job's lock is taken before the job exists and held until create
    // is done, so a `starting` job whose lock is free is one whose create
    // was interrupted (reconcile repairs those).
    let _lock = lock::lock(
        &ctx.paths.job_lock(&args.name),
        Duration::from_secs(30),
        true,
    )?;
    reg.write(|tx| {
        tx.insert_job(&NewJob {
            name: &args.name,
            kind: &args.agent,
            role: args.role,
            workdir: &workdir_s,
            cmd: cmd.as_deref(),
            env: &env,
            prompt: prompt.as_deref(),
            conversation_id: conversation_id.as_deref(),
            on_done: args.on_done,
            mcp,
        })
    })?;
    let job = reg.require_job(&args.name)?;
    let mode = StartMode::Fresh(conversation_id.clone());
    // Start without waiting first: a job whose session never started is
    // taken back out (with its event); one that started stays, whatever
    // its probe finds.
    let pane = match runtime::start_job(&ctx.host(), &mut reg, &job, &profile, &mode, None) {
        Ok(p) => p,
        Err(e) => {
            let _ = reg.write(|tx| tx.delete_job(&args.name, &format!("{e:#}")));
            return Err(e);
        }
    };
    if args.no_wait {
        return print_result(ctx, &args, JobState::Starting, None);
    }
    let mut spinner = ui::Spinner::new(format!("starting {}", args.name), ctx.global.quiet);
    let ready = runtime::await_ready(
        &ctx.host(),
        &mut reg,
        &args.name,
        &pane,
        &profile,
        ready_timeout,
        |note| spinner.tick(note),
    );
    spinner.clear();
    ready?;

    let mut typed = None;
    if reg.require_job(&args.name)?.prompt_state.as_deref() == Some("pending") {
        match crate::mail::deliver::type_prompt(ctx, &mut reg, &args.name, &profile)? {
            t @ Typed::Delivered { .. } => typed = Some(t),
            Typed::NotReady(why) | Typed::Unverified(why) => {
                return Err(UserError::new(
                    Code::Timeout,
                    format!(
                        "{} started, but its prompt was not verified as delivered: {why}",
                        args.name
                    ),
                )
                .hint(format!(
                    "`mam attach {}` to look; the job itself is running",
                    args.name
                ))
                .into());
            }
        }
    }
    let state = reg.require_job(&args.name)?.state;
    print_result(ctx, &args, state, typed)
}

/// Whether to wire mam's MCP server into the job: `--mcp` (refused where
/// the profile has no way to), `--no-mcp`, else the profile's default.
/// A `--cmd` job runs the user's command line, so nothing is added to it.
fn mcp_wanted(args: &CreateArgs, profile: &crate::agent::profiles::Profile) -> Result<bool> {
    let can = profile.spec.mcp_wiring.is_some();
    if args.mcp {
        if !can {
            return Err(usage(format!(
                "--mcp: mam does not know how to give {} an MCP server",
                profile.name
            ))
            .hint("MCP is wired for claude, codex and gemini; other agents use the `mam` command line")
            .into());
        }
        if args.cmd.is_some() {
            return Err(
                usage("--mcp adds to the profile's command line, not to --cmd")
                    .hint("drop --cmd, or pass the MCP registration in your own command")
                    .into(),
            );
        }
        return Ok(true);
    }
    Ok(!args.no_mcp && args.cmd.is_none() && can && profile.spec.mcp)
}

fn print_result(ctx: &Ctx, args: &CreateArgs, state: JobState, typed: Option<Typed>) -> Result<()> {
    let session = ctx.session_name(&args.name);
    match Out::of(ctx, args.json) {
        Out::Json => ui::print_json(&json!({
            "name": args.name,
            "kind": args.agent,
            "state": state,
            "session": session,
            "prompt_delivered": typed.is_some(),
        })),
        Out::Quiet => println!("{}", args.name),
        Out::Human => println!("{} is {state} in tmux session {session}", args.name),
    }
    Ok(())
}

fn resolve_workdir(ctx: &Ctx, dir: Option<&PathBuf>) -> Result<PathBuf> {
    let Some(dir) = dir else {
        return Ok(ctx.paths.root.clone());
    };
    let abs = if dir.is_absolute() {
        dir.clone()
    } else {
        ctx.cwd.join(dir)
    };
    if !abs.is_dir() {
        return Err(not_found(format!(
            "workdir {} does not exist or is not a directory",
            abs.display()
        ))
        .hint("create it first, or pass an existing directory to --workdir")
        .into());
    }
    Ok(abs.canonicalize().unwrap_or(abs))
}

fn read_prompt(args: &CreateArgs) -> Result<Option<String>> {
    if let Some(p) = &args.prompt {
        return Ok(Some(p.clone()));
    }
    let Some(file) = &args.prompt_file else {
        return Ok(None);
    };
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the prompt from stdin")?;
        return Ok(Some(text));
    }
    match std::fs::read(file) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| usage(format!("prompt file {} is not UTF-8 text", file.display())).into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(not_found(format!("prompt file {} does not exist", file.display())).into())
        }
        Err(e) => Err(
            usage(format!("cannot read prompt file {}: {e}", file.display()))
                .hint("check the file's permissions")
                .into(),
        ),
    }
}

/// The most one `--env K=V` may hold, and all of them together: tmux takes
/// the whole `new-session` command (program, environment, tags) in one
/// message of at most 16 KiB, so larger values cannot reach the agent.
pub const ENV_ITEM_MAX: usize = 4096;
pub const ENV_TOTAL_MAX: usize = 8192;

fn parse_env(items: &[String]) -> Result<Vec<(String, String)>> {
    let total: usize = items.iter().map(|kv| kv.len()).sum();
    let mut out = Vec::new();
    for kv in items {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| usage(format!("--env {kv:?}: expected K=V")))?;
        let ok = !k.is_empty()
            && !k.starts_with(|c: char| c.is_ascii_digit())
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(usage(format!("--env {kv:?}: {k:?} is not a valid variable name")).into());
        }
        if k.starts_with("MAM_") {
            return Err(usage(format!(
                "--env {k}: MAM_* variables are mam's own (MAM_AGENT, MAM_WORKSPACE, …) and cannot be set"
            ))
            .hint("mam sets them for every agent; choose another variable name")
            .into());
        }
        if kv.len() > ENV_ITEM_MAX {
            return Err(usage(format!(
                "--env {k}=…: {} bytes; the limit is {ENV_ITEM_MAX} bytes",
                kv.len()
            ))
            .hint("put large values in a file and pass its path")
            .into());
        }
        out.push((k.to_string(), v.to_string()));
    }
    if total > ENV_TOTAL_MAX {
        return Err(usage(format!(
            "--env: {total} bytes in all; the limit is {ENV_TOTAL_MAX} bytes"
        ))
        .hint("put large values in a file and pass its path")
        .into());
    }
    Ok(out)
}
