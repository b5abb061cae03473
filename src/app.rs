//! The command context: who is calling, which workspace, its configuration,
//! the tmux server, and opening the registry (creating `.mam/` on first write).

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::agent::profiles::Profile;
use crate::agent::tmux::Tmux;
use crate::cli::Global;
use crate::config::Config;
use crate::error::usage;
use crate::registry::Registry;
use crate::workspace::Paths;

pub struct Ctx {
    pub global: Global,
    pub cwd: PathBuf,
    pub paths: Paths,
    pub config: Config,
    pub tmux: Tmux,
    /// `MAM_AGENT`, or "operator" outside any agent.
    pub caller: String,
    /// The shared docs directory (`[shared] dir`), absolute.
    pub shared_dir: PathBuf,
    /// Set once the command published its events itself.
    pub published: std::cell::Cell<bool>,
}

pub use crate::model::valid_name;

pub fn check_name(name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(usage(format!("invalid job name {name:?}"))
            .hint("names are 1-32 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit")
            .into())
    }
}

/// Names the messaging layer gives a meaning of its own, so no job may take
/// them: `operator` is the human (the caller outside any agent, and a
/// recipient of `send`/`remind`), `*` is every live agent, and `job@host`
/// addresses a job on another host.
pub fn reserved_name(name: &str) -> Option<&'static str> {
    if name == "operator" {
        Some("it is the human operator's address")
    } else if name == "*" {
        Some("it means every live agent")
    } else if name.contains('@') {
        Some("`job@host` addresses a job on another host")
    } else {
        None
    }
}

/// A name for a new job: valid and not reserved.
pub fn check_new_name(name: &str) -> Result<()> {
    if let Some(why) = reserved_name(name) {
        return Err(usage(format!("job name {name:?} is reserved: {why}"))
            .hint("pick another name")
            .into());
    }
    check_name(name)
}

impl Ctx {
    pub fn new(global: Global) -> Result<Ctx> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let state_dir = std::env::var_os("MAM_STATE_DIR").map(PathBuf::from);
        let paths = Paths::discover(global.workspace.as_deref(), state_dir.as_deref(), &cwd)?;
        let user_file = user_config_file();
        let (config, _) = Config::load(user_file.as_deref(), &paths.config)?;
        let tmux = Tmux::new(&config.tmux.socket);
        let caller = match std::env::var("MAM_AGENT") {
            Ok(a) if !a.is_empty() => a,
            _ => "operator".to_string(),
        };
        let shared_dir = match config.shared.dir.as_str() {
            "" => paths.state.join("shared"),
            d => paths.root.join(d),
        };
        Ok(Ctx {
            shared_dir,
            global,
            cwd,
            paths,
            config,
            tmux,
            caller,
            published: std::cell::Cell::new(false),
        })
    }

    /// Open the registry, creating the state directory on first use (and
    /// saying so on stderr).
    pub fn registry(&self) -> Result<Registry> {
        if self.paths.ensure()? && !self.global.quiet {
            eprintln!("mam: created {}", self.paths.state.display());
        }
        Registry::open(&self.paths, &self.config.broker.topic_prefix)
    }

    /// Open the registry only if the workspace has one (read-only commands on
    /// a fresh directory see an empty workspace instead of creating one).
    pub fn registry_if_exists(&self) -> Result<Option<Registry>> {
        if !self.paths.db.exists() {
            return Ok(None);
        }
        crate::workspace::check_local_fs(&self.paths.state)?;
        Registry::open(&self.paths, &self.config.broker.topic_prefix).map(Some)
    }

    pub fn profile(&self, kind: &str) -> Result<Profile> {
        self.host().profile(kind)
    }

    /// Session name of a job.
    pub fn session_name(&self, job: &str) -> String {
        self.host().session_name(job)
    }

    /// What the agent room needs of this context.
    pub fn host(&self) -> crate::agent::Host<'_> {
        crate::agent::Host {
            tmux: &self.tmux,
            root: &self.paths.root,
            state: &self.paths.state,
            prefix: &self.config.tmux.prefix,
            agents: &self.config.agents,
            shared_dir: &self.shared_dir,
            quiet: self.global.quiet,
        }
    }

    /// Publish the outbox through the command's own registry, after its
    /// commits (bounded; never an error: what fails waits in the outbox).
    pub fn publish(&self, reg: &mut crate::registry::Registry) {
        if self.config.broker.url.is_empty() {
            return;
        }
        self.published.set(true);
        let budget = crate::events::outbox::PUBLISH_BUDGET;
        if let Err(e) = crate::events::outbox::flush(&self.paths, &self.config.broker, reg, budget)
            && self.global.verbose
        {
            eprintln!("mam: events not published yet (they stay in the outbox): {e:#}");
        }
    }

    pub fn info(&self, msg: impl AsRef<str>) {
        self.host().info(msg)
    }
}

fn user_config_file() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("mam/config.toml"));
    }
    directories::BaseDirs::new().map(|b| b.config_dir().join("mam/config.toml"))
}

impl Ctx {
    /// Who acts: the caller, or `--from NAME` (operator only).
    pub fn actor(&self, from: Option<&str>) -> Result<String> {
        match from {
            None => Ok(self.caller.clone()),
            Some(_) if self.caller != "operator" => Err(usage(format!(
                "--from is for the operator only; you are {} (MAM_AGENT)",
                self.caller
            ))
            .into()),
            Some(name) => {
                if name != "operator" {
                    check_name(name)?;
                }
                Ok(name.to_string())
            }
        }
    }

    /// The job an agent reports on: its own, or `--job NAME` for the operator.
    pub fn own_job(&self, job: Option<&str>) -> Result<String> {
        match (job, self.caller.as_str()) {
            (Some(j), "operator") => {
                check_name(j)?;
                Ok(j.to_string())
            }
            (Some(j), me) if j == me => Ok(j.to_string()),
            (Some(_), me) => {
                Err(crate::error::conflict(format!("{me} can only report on its own job")).into())
            }
            (None, "operator") => {
                Err(usage("as the operator, name the job with --job NAME").into())
            }
            (None, me) => Ok(me.to_string()),
        }
    }

    /// Check that an agent caller is a job of this workspace.
    pub fn check_actor(&self, reg: &crate::registry::Registry, actor: &str) -> Result<()> {
        if actor == "operator" || reg.job_exists(actor)? {
            return Ok(());
        }
        Err(
            crate::error::not_found(format!("{actor:?} is not a job in this workspace"))
                .hint("MAM_AGENT names the job you are; unset it to act as the operator")
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        for ok in ["a", "alice", "reviewer-1", "x_y", "0", &"a".repeat(32)] {
            assert!(super::valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "_a",
            "Alice",
            "a b",
            "a/b",
            "a;b",
            &"a".repeat(33),
            "é",
            "*",
        ] {
            assert!(!super::valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn reserved_names() {
        for r in ["operator", "*", "a@host", "@"] {
            assert!(super::reserved_name(r).is_some(), "{r}");
            assert!(super::check_new_name(r).is_err(), "{r}");
        }
        for ok in ["pm", "operator2", "alice"] {
            assert!(super::check_new_name(ok).is_ok(), "{ok}");
        }
    }
}
