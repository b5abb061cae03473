//! `mam create`: a new job in its own tmux session, probed to ready, then
//! given its prompt.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;

use crate::agent::probe::Typed;
use crate::agent::runtime::{self, StartMode};
use crate::agent::worktree;
use crate::app::{Ctx, check_new_name};
use crate::cli::CreateArgs;
use crate::commands::Out;
use crate::duration::{Limit, seconds};
use crate::error::{Code, UserError, not_found, usage};
use crate::model::JobState;
use crate::registry::Registry;
use crate::registry::jobs::{NewJob, Worktree};
use crate::{lock, ui};

pub fn run(ctx: &Ctx, args: CreateArgs) -> Result<()> {
    // Validate everything before anything is written.
    let ready_timeout = seconds("--ready-timeout", args.ready_timeout, Limit::POSITIVE)?;
    check_new_name(&args.name)?;
    let env = parse_env(&args.env)?;
    let profile = ctx.profile(&args.agent)?;
    let mut workdir = resolve_workdir(ctx, args.workdir.as_ref())?;
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
    let planned = match args.worktree {
        true => {
            let w = plan_worktree(ctx, &args)?;
            workdir = worktree_workdir(ctx, &w);
            Some(w)
        }
        false => None,
    };

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
            worktree: planned.as_ref(),
            mcp,
        })
    })?;
    if let Some(w) = &planned {
        make_worktree(ctx, &mut reg, &args, w, &env)?;
    }
    let job = reg.require_job(&args.name)?;
    let mode = StartMode::Fresh(conversation_id.clone());
    // Start without waiting first: a job whose session never started is
    // taken back out (with its event); one that started stays, whatever
    // its probe finds.
    let pane = match runtime::start_job(&ctx.host(), &mut reg, &job, &profile, &mode, None) {
        Ok(p) => p,
        Err(e) => {
            let _ = reg.write(|tx| tx.delete_job(&args.name, &format!("{e:#}")));
            if let Some(w) = &job.worktree {
                // Brand new and never used by an agent: nothing to keep.
                let _ = worktree::check(w).and_then(|c| worktree::remove(w, &c, true));
            }
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
    let wt = if args.worktree {
        ctx.registry()?.require_job(&args.name)?.worktree
    } else {
        None
    };
    match Out::of(ctx, args.json) {
        Out::Json => ui::print_json(&json!({
            "name": args.name,
            "kind": args.agent,
            "state": state,
            "session": session,
            "prompt_delivered": typed.is_some(),
            "worktree": wt.as_ref().map(|w| json!({
                "path": w.path, "branch": w.branch, "base": worktree::base_label(w),
                "base_commit": w.base_commit,
            })),
        })),
        Out::Quiet => println!("{}", args.name),
        Out::Human => {
            println!("{} is {state} in tmux session {session}", args.name);
            if let Some(w) = wt {
                println!(
                    "worktree {} on branch {} from {}",
                    w.path,
                    w.branch,
                    worktree::base_label(&w)
                );
            }
        }
    }
    Ok(())
}

/// Every check `--worktree` needs, before anything is written (the root
/// directory is made here, and is all that is).
fn plan_worktree(ctx: &Ctx, args: &CreateArgs) -> Result<Worktree> {
    let root = Path::new(&ctx.config.worktree.root);
    let root = if root.is_absolute() {
        root.to_path_buf()
    } else {
        ctx.paths.root.join(root)
    };
    let req = worktree::Request {
        from: &ctx.paths.root,
        name: &args.name,
        branch: args.branch.as_deref(),
        base: args.base.as_deref(),
        root: &root,
    };
    let mut w = worktree::plan(&req)?;
    let root = worktree::prepare_root(&root)?;
    w.path = root.join(&args.name).display().to_string();
    Ok(w)
}

/// The agent's directory in its worktree: where the workspace root is in
/// the main checkout (its top, unless mam runs in a subdirectory).
fn worktree_workdir(ctx: &Ctx, w: &Worktree) -> PathBuf {
    match ctx.paths.root.strip_prefix(&w.repo) {
        Ok(rel) if !rel.as_os_str().is_empty() => Path::new(&w.path).join(rel),
        _ => PathBuf::from(&w.path),
    }
}

/// `git worktree add`, `[worktree] copy`, `[worktree] setup`, for a job
/// just recorded. The job is taken back out when git cannot add the
/// worktree; a failing setup command leaves the job `failed` with its
/// output (and the worktree, to look at).
fn make_worktree(
    ctx: &Ctx,
    reg: &mut Registry,
    args: &CreateArgs,
    w: &Worktree,
    env: &[(String, String)],
) -> Result<()> {
    if let Err(e) = worktree::add(w) {
        let _ = reg.write(|tx| tx.delete_job(&args.name, &format!("{e:#}")));
        return Err(e);
    }
    let cfg = &ctx.config.worktree;
    let copied = match worktree::copy_files(w, &cfg.copy) {
        Ok(c) => c,
        Err(e) => return fail_job(reg, &args.name, e),
    };
    reg.write(|tx| tx.set_worktree_copied(&args.name, &copied))?;
    if ctx.config.lease.hook
        && let Err(e) = install_lease_hook(ctx, w)
    {
        return fail_job(reg, &args.name, e);
    }
    let mut setup_env = vec![
        ("MAM_AGENT".to_string(), args.name.clone()),
        ("MAM_WORKSPACE".into(), ctx.paths.root.display().to_string()),
        ("MAM_WORKTREE".into(), w.path.clone()),
    ];
    setup_env.extend(env.iter().cloned());
    match worktree::setup(w, &cfg.setup, &setup_env) {
        Ok(None) => Ok(()),
        Ok(Some(failed)) => {
            let msg = format!("{}: {failed}", args.name);
            reg.write(|tx| {
                tx.set_state(&args.name, JobState::Failed, Some(&failed.to_string()))
                    .map(drop)
            })?;
            Err(UserError::new(Code::Environment, msg)
                .hint(format!(
                    "the job is failed and its worktree kept at {path} to look at; fix [worktree] setup, then `mam stop {name} --remove-worktree --force` and create it again",
                    path = w.path,
                    name = args.name
                ))
                .into())
        }
        Err(e) => fail_job(reg, &args.name, e),
    }
}

/// The pre-commit hook that refuses a commit touching another agent's
/// leased file (`[lease] hook`). Linked worktrees share their repository's
/// hooks, so this installs it once for the repository; a hook of the
/// user's own is left alone, with the line to add to it.
fn install_lease_hook(ctx: &Ctx, w: &Worktree) -> Result<()> {
    let mam = std::env::current_exe().context("cannot find mam's own executable")?;
    match crate::lease::hook::install(Path::new(&w.path), &mam, &ctx.paths.root)? {
        crate::lease::hook::Installed::Foreign { path, line } => eprintln!(
            "mam: {} is not mam's; the lease check is not installed (add `{line}` to it, or set [lease] hook = false)",
            path.display()
        ),
        crate::lease::hook::Installed::Written { .. }
        | crate::lease::hook::Installed::Unchanged { .. } => {}
    }
    Ok(())
}

fn fail_job(reg: &mut Registry, name: &str, e: anyhow::Error) -> Result<()> {
    let why = format!("{e:#}");
    reg.write(|tx| tx.set_state(name, JobState::Failed, Some(&why)).map(drop))?;
    Err(e)
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
