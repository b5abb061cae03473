//! Running agents: building a job's command line from its profile, starting
//! its tmux session and recording it, turning a readiness probe into a job
//! state, and stopping a job (exit keys, kill, reap the process tree).
//! Commands call these; they hold no SQL and no tmux argv themselves.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::agent::probe::{self, Outcome, ProbeReport};
use crate::agent::profiles::{McpWiring, Profile, TrustSetup, agent_var};
use crate::agent::tmux::{NewSession, Pane};
use crate::agent::{Host, Liveness};
use crate::error::{Code, UserError, conflict};
use crate::model::JobState;
use crate::registry::Registry;
use crate::registry::jobs::Job;

/// How to start an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartMode {
    /// A new conversation; mam-minted id if the profile takes one.
    Fresh(Option<String>),
    /// Resume this conversation id.
    Resume(String),
    /// The CLI's "continue the last conversation" form.
    Continue,
}

fn fill(arg: &str, workdir: &str, id: Option<&str>) -> String {
    let mut a = arg.replace("{workdir}", workdir);
    if let Some(id) = id {
        a = a.replace("{conversation_id}", id);
    }
    a
}

/// The argv for a job under a start mode.
pub fn build_argv(job: &Job, profile: &Profile, mode: &StartMode) -> Vec<String> {
    let wd = job.workdir.as_str();
    if let Some(cmd) = &job.cmd {
        return cmd.clone();
    }
    let spec = &profile.spec;
    let (base, id, extra): (&[String], Option<&str>, &[String]) = match mode {
        StartMode::Fresh(id) => (
            &spec.cmd.0,
            id.as_deref(),
            if id.is_some() {
                &spec.new_session_args
            } else {
                &[]
            },
        ),
        StartMode::Resume(id) => (
            spec.resume_cmd
                .as_ref()
                .map_or(&spec.cmd.0[..], |c| &c.0[..]),
            Some(id.as_str()),
            &[],
        ),
        StartMode::Continue => (
            spec.continue_cmd
                .as_ref()
                .map_or(&spec.cmd.0[..], |c| &c.0[..]),
            None,
            &[],
        ),
    };
    let mut argv: Vec<String> = base.iter().map(|a| fill(a, wd, id)).collect();
    argv.extend(spec.trust_args.iter().map(|a| fill(a, wd, id)));
    argv.extend(extra.iter().map(|a| fill(a, wd, id)));
    argv
}

/// The start mode for resuming a job: its stored conversation id, else the
/// profile's continue form, else a fresh start.
pub fn resume_mode(job: &Job, profile: &Profile) -> StartMode {
    match (&job.conversation_id, &profile.spec.resume_cmd) {
        (Some(id), Some(_)) => StartMode::Resume(id.clone()),
        _ if profile.spec.continue_cmd.is_some() => StartMode::Continue,
        _ => StartMode::Fresh(mint_id(profile)),
    }
}

/// A fresh conversation id when the profile lets mam choose it.
pub fn mint_id(profile: &Profile) -> Option<String> {
    if profile.spec.new_session_args.is_empty() {
        None
    } else {
        Some(uuid_v4())
    }
}

pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS has randomness");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Trust the workdir up front where the profile knows how. `env` is the
/// job's own environment (over mam's) as the agent will see it.
pub fn prepare_trust(profile: &Profile, workdir: &Path, env: &[(String, String)]) -> Result<()> {
    match profile.spec.trust_setup {
        Some(TrustSetup::ClaudeJson) => trust_claude(workdir, &profile.agent_env(env)),
        None => Ok(()),
    }
}

/// Pre-answer what Claude Code would ask in its global config
/// (`~/.claude.json`, or `$CLAUDE_CONFIG_DIR/.claude.json`), keeping
/// everything else and replacing the file atomically:
/// `projects[<dir>].hasTrustDialogAccepted = true`, and, when
/// `ANTHROPIC_API_KEY` is set for the agent, that key approved in
/// `customApiKeyResponses` (the user put it there for the agent to use; a key
/// the user rejected stays rejected). Answering these dialogs from the screen
/// broke when Claude stopped numbering their options.
fn trust_claude(workdir: &Path, env: &[(String, String)]) -> Result<()> {
    let dir = match agent_var(env, "CLAUDE_CONFIG_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => match agent_var(env, "HOME") {
            Some(h) => std::path::PathBuf::from(h),
            None => return Ok(()),
        },
    };
    let path = dir.join(".claude.json");
    let mut doc: serde_json::Value = match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t)
            .with_context(|| format!("{} is not valid JSON; not touching it", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let Some(obj) = doc.as_object_mut() else {
        return Ok(());
    };
    let mut changed = false;
    let key = workdir.display().to_string();
    if let Some(projects) = obj
        .entry("projects")
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()
    {
        let entry = projects.entry(key).or_insert_with(|| serde_json::json!({}));
        if entry.get("hasTrustDialogAccepted") != Some(&serde_json::json!(true))
            && entry.is_object()
        {
            entry["hasTrustDialogAccepted"] = serde_json::json!(true);
            changed = true;
        }
    }
    if let Some(api_key) = agent_var(env, "ANTHROPIC_API_KEY") {
        let tail: String = {
            let chars: Vec<char> = api_key.chars().collect();
            chars[chars.len().saturating_sub(20)..].iter().collect()
        };
        if let Some(resp) = obj
            .entry("customApiKeyResponses")
            .or_insert_with(|| serde_json::json!({"approved": [], "rejected": []}))
            .as_object_mut()
        {
            let listed = |k: &str| {
                resp.get(k)
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(tail.as_str())))
            };
            if !listed("approved") && !listed("rejected") {
                let approved = resp
                    .entry("approved")
                    .or_insert_with(|| serde_json::json!([]));
                if let Some(a) = approved.as_array_mut() {
                    a.push(serde_json::json!(tail));
                    changed = true;
                }
            }
        }
    }
    if !changed {
        return Ok(());
    }
    crate::os::replace_file(&path, serde_json::to_string_pretty(&doc)?.as_bytes())
        .with_context(|| format!("cannot replace {}", path.display()))
}

/// What registering mam's MCP server with an agent adds to its start:
/// arguments after its command line, and variables in its environment.
#[derive(Debug, Default)]
pub struct McpWired {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// The variables `mam mcp` needs to act as the job (its identity and
/// workspace, and where mam's state and tmux server are), given to the
/// server explicitly: some CLIs start MCP servers with a filtered
/// environment.
fn mcp_server_env(host: &Host, job: &Job) -> Vec<(String, String)> {
    let mut env = vec![
        ("MAM_AGENT".to_string(), job.name.clone()),
        ("MAM_WORKSPACE".to_string(), host.root.display().to_string()),
    ];
    if let Some(s) = host.tmux.socket() {
        env.push(("MAM_TMUX_SOCKET".into(), s.to_string()));
    }
    for k in ["MAM_STATE_DIR", "MAM_TEST_CLOCK_MS", "XDG_CONFIG_HOME"] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.to_string(), v));
        }
    }
    env
}

/// The file mam writes for a job's MCP registration, under the state dir.
pub fn mcp_config_path(state: &Path, job: &str, kind: McpWiring) -> std::path::PathBuf {
    let name = match kind {
        McpWiring::GeminiDefaults => format!("{job}.gemini.json"),
        _ => format!("{job}.json"),
    };
    state.join("mcp").join(name)
}

/// A TOML basic string (JSON's escaping is a subset TOML reads the same).
fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Register `mam mcp` with the job's agent, the way its profile says, when
/// the job was created with MCP: Claude gets `--mcp-config` (a file under
/// `.mam/mcp/`) and its tools pre-allowed, Codex gets `-c mcp_servers.mam.*`
/// overrides (its tools approved), Gemini gets a system-defaults settings file (merged under the
/// user's own settings) through `GEMINI_CLI_SYSTEM_DEFAULTS_PATH`. Nothing
/// of the user's own settings is touched.
pub fn wire_mcp(host: &Host, job: &Job, profile: &Profile) -> Result<McpWired> {
    let Some(kind) = profile.spec.mcp_wiring.filter(|_| job.mcp) else {
        return Ok(McpWired::default());
    };
    let exe = std::env::current_exe()
        .context("cannot find mam's own executable for its MCP server")?
        .display()
        .to_string();
    let env = mcp_server_env(host, job);
    let env_obj: serde_json::Map<String, serde_json::Value> = env
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let write = |doc: serde_json::Value| -> Result<String> {
        let path = mcp_config_path(host.state, &job.name, kind);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path.display().to_string())
    };
    Ok(match kind {
        McpWiring::ClaudeConfig => {
            let file = write(serde_json::json!({"mcpServers": {"mam": {
                "type": "stdio", "command": exe, "args": ["mcp"], "env": env_obj}}}))?;
            McpWired {
                args: vec![
                    "--mcp-config".into(),
                    file,
                    "--allowedTools".into(),
                    "mcp__mam".into(),
                ],
                env: Vec::new(),
            }
        }
        McpWiring::CodexConfig => {
            let table: Vec<String> = env
                .iter()
                .map(|(k, v)| format!("{k}={}", toml_str(v)))
                .collect();
            McpWired {
                args: vec![
                    "-c".into(),
                    format!("mcp_servers.mam.command={}", toml_str(&exe)),
                    "-c".into(),
                    r#"mcp_servers.mam.args=["mcp"]"#.into(),
                    "-c".into(),
                    format!("mcp_servers.mam.env={{{}}}", table.join(",")),
                    // mam's tools act only as the job itself; no prompt per call.
                    "-c".into(),
                    r#"mcp_servers.mam.default_tools_approval_mode="approve""#.into(),
                ],
                env: Vec::new(),
            }
        }
        McpWiring::GeminiDefaults => {
            let file = write(serde_json::json!({"mcpServers": {"mam": {
                "command": exe, "args": ["mcp"], "env": env_obj, "trust": true}}}))?;
            McpWired {
                args: Vec::new(),
                env: vec![("GEMINI_CLI_SYSTEM_DEFAULTS_PATH".into(), file)],
            }
        }
    })
}

/// Start a recorded job's agent, the one routine behind `create` and
/// `resume`: its argv for `mode`, its folder trusted up front, its tmux
/// session started and recorded. A job that is not new (`restart`: why it
/// starts again) is moved back to `starting` just before its session
/// starts. Returns the pane. An error means no session was started. The
/// caller holds the job lock; `await_ready` follows.
pub fn start_job(
    host: &Host,
    reg: &mut Registry,
    job: &Job,
    profile: &Profile,
    mode: &StartMode,
    restart: Option<&str>,
) -> Result<String> {
    let mut argv = build_argv(job, profile, mode);
    prepare_trust(profile, Path::new(&job.workdir), &job.env)?;
    let wired = wire_mcp(host, job, profile)?;
    if job.cmd.is_none() {
        argv.extend(wired.args);
    }
    if let Some(why) = restart {
        reg.write(|tx| tx.set_state(&job.name, JobState::Starting, Some(why)))?;
    }
    let (pane, _pid) = start_session(host, reg, job, profile, &argv, &wired.env)?;
    Ok(pane)
}

/// Probe a started agent's screen until it is ready (answering the dialogs
/// its profile may answer) or `timeout` runs out, calling `progress` with
/// what it sees, and record the outcome on the job (`record_probe`: a
/// failure is the error to report).
pub fn await_ready(
    host: &Host,
    reg: &mut Registry,
    job: &str,
    pane: &str,
    profile: &Profile,
    timeout: Duration,
    progress: impl FnMut(&str),
) -> Result<()> {
    let report = probe::wait_ready(host.tmux, pane, profile, timeout, progress)?;
    record_probe(reg, job, &report)
}

/// Start a job's tmux session and record it. The caller holds the job lock.
fn start_session(
    host: &Host,
    reg: &mut Registry,
    job: &Job,
    profile: &Profile,
    argv: &[String],
    extra_env: &[(String, String)],
) -> Result<(String, u32)> {
    let name = host.session_name(&job.name);
    let mut env: Vec<(String, String)> = vec![
        ("MAM_AGENT".into(), job.name.clone()),
        ("MAM_WORKSPACE".into(), host.root.display().to_string()),
        (
            "MAM_SHARED_DIR".into(),
            host.shared_dir.display().to_string(),
        ),
    ];
    if let Some(s) = host.tmux.socket() {
        env.push(("MAM_TMUX_SOCKET".into(), s.to_string()));
    }
    if let Ok(s) = std::env::var("MAM_STATE_DIR") {
        env.push(("MAM_STATE_DIR".into(), s));
    }
    env.extend(profile.spec.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.extend(job.env.iter().cloned());
    env.extend(extra_env.iter().cloned());
    let ws = reg.ws().to_string();
    let tags = [
        ("@mam_ws", ws.as_str()),
        ("@mam_job", job.name.as_str()),
        ("@mam_kind", job.kind.as_str()),
        ("@mam_role", job.role.as_str()),
    ];
    let spec = NewSession {
        name: &name,
        cwd: Path::new(&job.workdir),
        argv,
        env: &env,
        width: 200,
        height: 50,
        tags: &tags,
    };
    let (pane, pid) = host.tmux.new_session(&spec).map_err(|e| {
        if crate::agent::tmux::is_duplicate_session(&e) {
            e.context(conflict(format!("a tmux session named {name} exists already"))
                .hint(format!(
                    "it is not this workspace's job; stop it, or set another [tmux] prefix (now {:?})",
                    host.prefix
                )))
        } else {
            e.context(format!("cannot start the tmux session for {}", job.name))
        }
    })?;
    reg.write(|tx| tx.start_session(&job.name, &name, &pane, pid))?;
    Ok((pane, pid))
}

/// Record what a probe found and turn a failure into the error to report.
/// Ready → `ready`; a dialog a human must answer → `waiting`; an error,
/// timeout or exit → `failed` / `exited` / `lost`. Failures are exit 5 and
/// carry the last screen lines.
pub fn record_probe(reg: &mut Registry, job: &str, report: &ProbeReport) -> Result<()> {
    let (state, reason) = match &report.outcome {
        Outcome::Ready => (JobState::Ready, None),
        Outcome::NeedsHuman(d) => (JobState::Waiting, Some(format!("needs a human: {d}"))),
        Outcome::Error(m) => (JobState::Failed, Some(format!("start-up error: {m}"))),
        Outcome::Exited(s) => (
            JobState::Exited,
            Some(match s {
                Some(s) => format!("the agent exited with status {s} during start-up"),
                None => "the agent exited during start-up".into(),
            }),
        ),
        Outcome::Gone => (
            JobState::Lost,
            Some("the tmux session disappeared during start-up".into()),
        ),
        Outcome::Timeout => (
            JobState::Failed,
            Some("not ready before the timeout".into()),
        ),
    };
    reg.write(|tx| {
        if let Some(id) = &report.conversation_id {
            tx.set_conversation_id(job, id)?;
        }
        if let Outcome::Exited(s) = &report.outcome {
            tx.set_exit_status(job, s.map(i64::from))?;
            tx.end_session(job, "exited")?;
        }
        if matches!(report.outcome, Outcome::Gone) {
            tx.end_session(job, "gone")?;
        }
        tx.set_state(job, state, reason.as_deref())
    })?;
    match &report.outcome {
        Outcome::Ready => Ok(()),
        _ => {
            let reason = reason.unwrap_or_default();
            let screen = probe::tail_lines(&report.screen, 12);
            let mut msg = format!(
                "{job} is not ready after {:.1}s: {reason} (job is now {state})",
                report.elapsed.as_secs_f64()
            );
            if !screen.is_empty() {
                msg.push_str("\nlast screen lines:\n");
                for l in screen.lines() {
                    msg.push_str("  | ");
                    msg.push_str(l);
                    msg.push('\n');
                }
                msg.pop();
            }
            let hint = if matches!(report.outcome, Outcome::Gone) {
                format!("`mam resume {job}` to try again")
            } else {
                format!(
                    "the session is kept: `mam attach {job}` to look, `mam stop {job}` to end it"
                )
            };
            Err(UserError::new(Code::Timeout, msg).hint(hint).into())
        }
    }
}

/// The pane of a job's live session as tmux sees it, checked against our
/// tags. `Ok(None)` if tmux has no such session; an error if a session of
/// that name exists but is not this workspace's job.
pub fn live_pane(panes: &[Pane], ws: &str, job: &Job, session_name: &str) -> Result<Option<Pane>> {
    let pane = panes.iter().find(|p| p.session == session_name);
    match Liveness::of(pane, ws, &job.name) {
        Liveness::Missing => Ok(None),
        Liveness::Foreign(p) => Err(conflict(format!(
            "tmux session {session_name} is not this workspace's {} (its tags say workspace {:?}, job {:?}); leaving it alone",
            job.name, p.tag_ws, p.tag_job
        ))
        .into()),
        Liveness::Live(p) | Liveness::Dead(p) => Ok(Some(p.clone())),
    }
}

/// What `stop_job` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StopReport {
    pub job: String,
    /// `stopped` (its session ended, the job is stopped), `session ended`
    /// (a done or failed job's session: the job keeps its state),
    /// `recorded` (tmux had no session; the registry now agrees),
    /// `already stopped`, or `no session` (an exited or lost job).
    pub action: &'static str,
    /// The job's state afterwards.
    pub state: JobState,
    pub exited_cleanly: bool,
    pub reaped: usize,
    pub survivors: Vec<i32>,
    /// Why the exit command was not typed, if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Stop a job: the profile's exit keys (unless `force`), wait up to `wait`
/// for the agent to end, kill the session, and reap every process of the
/// agent's tree. Idempotent. The caller holds the job lock.
pub fn stop_job(
    host: &Host,
    reg: &mut Registry,
    job: &Job,
    force: bool,
    wait: Duration,
) -> Result<StopReport> {
    let session_name = job
        .session
        .as_ref()
        .map(|s| s.tmux_session.clone())
        .unwrap_or_else(|| host.session_name(&job.name));
    let panes = host.tmux.list_panes()?;
    let pane = match live_pane(&panes, reg.ws(), job, &session_name) {
        Ok(p) => p,
        Err(e) if crate::error::code_of(&e) == Code::Conflict => {
            // Someone else's session under our name: never touch it.
            host.info(format!("mam: {e:#}"));
            None
        }
        Err(e) => return Err(e),
    };
    // A job that reported done or failed keeps that state; its session just ends.
    let terminal = job.state.is_terminal();
    let mut report = StopReport {
        job: job.name.clone(),
        action: if terminal { "session ended" } else { "stopped" },
        state: job.state,
        exited_cleanly: false,
        reaped: 0,
        survivors: Vec::new(),
        note: None,
    };
    match pane {
        None => {
            report.action = if job.session.is_some() || job.state.is_live() {
                "recorded"
            } else if job.state == JobState::Stopped {
                "already stopped"
            } else {
                "no session"
            };
        }
        Some(p) => {
            let root = p.pid as i32;
            let tree = crate::os::procs::agent_processes(root);
            if !force
                && !p.dead
                && let Ok(profile) = host.profile(&job.kind)
            {
                match composer_for_exit(host, reg, job, &p.pane_id, &profile)? {
                    None => {
                        send_exit(host, &p.pane_id, &profile)?;
                        report.exited_cleanly = wait_for_exit(host, &p.pane_id, root, wait)?;
                    }
                    Some(why) => {
                        host.info(format!(
                            "mam: {}: {why}; ending its session without typing the exit command",
                            job.name
                        ));
                        report.note = Some(why);
                    }
                }
            }
            host.tmux.kill_session(&session_name)?;
            report.reaped = tree.len();
            report.survivors = crate::os::procs::reap(root, tree, Duration::from_secs(2));
        }
    }
    reg.write(|tx| {
        tx.end_session(&job.name, "stopped")?;
        if !terminal && matches!(report.action, "stopped" | "recorded") {
            tx.set_state(
                &job.name,
                JobState::Stopped,
                Some(if force {
                    "mam stop --force"
                } else {
                    "mam stop"
                }),
            )?;
        }
        Ok(())
    })?;
    if !terminal && matches!(report.action, "stopped" | "recorded") {
        report.state = JobState::Stopped;
    }
    Ok(report)
}

impl StopReport {
    /// One line for `mam stop`: what was done, and the state when it is not
    /// `stopped` (`a: session ended; job stays failed`).
    pub fn line(&self) -> String {
        let mut s = format!("{}: {}", self.job, self.action);
        if self.state != JobState::Stopped {
            s.push_str(&format!("; job stays {}", self.state));
        }
        if !self.survivors.is_empty() {
            s.push_str(&format!(" (processes still alive: {:?})", self.survivors));
        }
        s
    }
}

/// Make sure the exit command goes into an empty composer: mam's own
/// leftovers (an open delivery attempt) are cleared first. `Some(why)` when
/// the composer holds text mam did not type (a human's draft, which must be
/// neither submitted nor thrown away by typing over it) or the agent is not
/// at its prompt: then the session is ended without typing.
fn composer_for_exit(
    host: &Host,
    reg: &mut Registry,
    job: &Job,
    pane: &str,
    profile: &Profile,
) -> Result<Option<String>> {
    use crate::agent::profiles::Screen;
    let Some(snap) = probe::snapshot(host.tmux, pane)? else {
        return Ok(None);
    };
    if profile.spec.exit.text.is_none() {
        return Ok(None); // exit keys (Ctrl-D) do not submit anything
    }
    let open = reg.open_attempts(&job.name)?;
    match profile.classify(&snap.screen) {
        Screen::Ready => Ok(None),
        Screen::Other if !open.is_empty() => {
            if probe::clear_composer(host.tmux, pane, profile)? {
                reg.write(|tx| {
                    for a in &open {
                        tx.end_attempt(a.id, "cleared", None, Some("cleared for mam stop"))?;
                    }
                    Ok(())
                })?;
                Ok(None)
            } else {
                Ok(Some(
                    "mam's earlier text could not be cleared from the composer".into(),
                ))
            }
        }
        Screen::Other => Ok(Some(
            "its composer holds text mam did not type (or it is not at its prompt)".into(),
        )),
        Screen::Busy => Ok(Some("it is busy".into())),
        Screen::Dialog(i) | Screen::NeedsHuman(i) => Ok(Some(format!(
            "a dialog is showing ({})",
            profile.dialogs[i].name
        ))),
        Screen::Error(m) => Ok(Some(format!("it shows an error: {m}"))),
    }
}

fn send_exit(host: &Host, pane: &str, profile: &Profile) -> Result<()> {
    let exit = &profile.spec.exit;
    if let Some(text) = &exit.text {
        host.tmux.send_literal(pane, text)?;
        std::thread::sleep(Duration::from_millis(profile.spec.submit_delay_ms));
        host.tmux
            .send_keys(pane, std::slice::from_ref(&profile.spec.submit_key))?;
    }
    for key in &exit.keys {
        host.tmux.send_keys(pane, std::slice::from_ref(key))?;
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn wait_for_exit(host: &Host, pane: &str, root: i32, wait: Duration) -> Result<bool> {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match probe::snapshot(host.tmux, pane)? {
            None => return Ok(true),
            Some(s) if s.dead => return Ok(true),
            Some(_) if !crate::os::procs::alive(root) => return Ok(true),
            Some(_) => {}
        }
        std::thread::sleep(probe::POLL);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str) -> Job {
        Job {
            name: name.into(),
            kind: "claude".into(),
            role: crate::model::Role::Worker,
            workdir: "/w".into(),
            cmd: None,
            env: Vec::new(),
            prompt: None,
            state: JobState::Starting,
            reason: None,
            progress: None,
            progress_note: None,
            verdict: None,
            details: None,
            artifacts: Vec::new(),
            on_done: crate::model::OnDone::Stop,
            conversation_id: None,
            exit_status: None,
            misses: 0,
            created_at: 0,
            updated_at: 0,
            state_since: 0,
            session: None,
            activity_seen: None,
            stuck_at: None,
            prompt_state: None,
            mcp: true,
            worktree: None,
        }
    }

    #[test]
    fn mcp_is_wired_by_each_clis_own_mechanism() {
        let dir = tempfile::tempdir().unwrap();
        let tmux = crate::agent::tmux::Tmux::new("mam-unit");
        let agents = Default::default();
        let host = Host {
            tmux: &tmux,
            root: Path::new("/ws"),
            state: dir.path(),
            prefix: "mam-",
            agents: &agents,
            quiet: true,
            shared_dir: Path::new("/ws/.mam/shared"),
        };
        let exe = std::env::current_exe().unwrap().display().to_string();
        let claude = Profile::resolve("claude", &agents).unwrap();
        let w = wire_mcp(&host, &job("a"), &claude).unwrap();
        let file = dir.path().join("mcp/a.json");
        assert_eq!(
            w.args,
            [
                "--mcp-config",
                &file.display().to_string(),
                "--allowedTools",
                "mcp__mam"
            ]
        );
        assert!(w.env.is_empty());
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(doc["mcpServers"]["mam"]["command"], exe.as_str());
        assert_eq!(doc["mcpServers"]["mam"]["args"], serde_json::json!(["mcp"]));
        assert_eq!(doc["mcpServers"]["mam"]["env"]["MAM_AGENT"], "a");
        assert_eq!(doc["mcpServers"]["mam"]["env"]["MAM_WORKSPACE"], "/ws");
        assert_eq!(
            doc["mcpServers"]["mam"]["env"]["MAM_TMUX_SOCKET"],
            "mam-unit"
        );

        let codex = Profile::resolve("codex", &agents).unwrap();
        let w = wire_mcp(&host, &job("b"), &codex).unwrap();
        assert_eq!(
            w.args[..4],
            [
                "-c".to_string(),
                format!("mcp_servers.mam.command={}", toml_str(&exe)),
                "-c".into(),
                r#"mcp_servers.mam.args=["mcp"]"#.into()
            ]
        );
        assert!(w.args[5].starts_with(r#"mcp_servers.mam.env={MAM_AGENT="b",MAM_WORKSPACE="/ws",MAM_TMUX_SOCKET="mam-unit""#), "{:?}", w.args);
        assert_eq!(
            w.args[7],
            r#"mcp_servers.mam.default_tools_approval_mode="approve""#
        );
        // Each -c value is TOML codex can read.
        for a in w.args.iter().skip(1).step_by(2) {
            let (_, v) = a.split_once('=').unwrap();
            let _: toml::Value = format!("v = {v}").parse::<toml::Table>().unwrap()["v"].clone();
        }

        // A job without MCP, or a profile without a wiring, gets nothing.
        let mut plain = job("c");
        plain.mcp = false;
        let w = wire_mcp(&host, &plain, &claude).unwrap();
        assert!(w.args.is_empty() && w.env.is_empty());
        let shell = Profile::resolve("shell", &agents).unwrap();
        let w = wire_mcp(&host, &job("d"), &shell).unwrap();
        assert!(w.args.is_empty() && w.env.is_empty());
    }

    #[test]
    fn uuids_look_right() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(uuid_v4(), u);
    }
}
