//! Agents in tmux: the tmux client, the agent profiles, reading the screen
//! (probe), the agent's own record of what it was sent (record, discover),
//! and starting and stopping an agent (runtime).

pub mod discover;
pub mod probe;
pub mod profiles;
pub mod record;
pub mod runtime;
pub mod tmux;
pub mod worktree;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Result;
use tmux::{Pane, Tmux};

/// What the agent room needs of the command's context: the tmux server, the
/// workspace root (given to agents as `MAM_WORKSPACE`), the session-name
/// prefix, the user's profile tables, the shared docs directory, and whether to keep quiet. Built by
/// `app::Ctx::host`; nothing here reaches up to the context itself.
#[derive(Clone, Copy)]
pub struct Host<'a> {
    pub tmux: &'a Tmux,
    pub root: &'a Path,
    /// The state directory (`.mam`, or `MAM_STATE_DIR`).
    pub state: &'a Path,
    pub prefix: &'a str,
    pub agents: &'a BTreeMap<String, toml::Table>,
    /// The shared docs directory, given to agents as `MAM_SHARED_DIR`.
    pub shared_dir: &'a Path,
    pub quiet: bool,
}

impl Host<'_> {
    /// Session name of a job.
    pub fn session_name(&self, job: &str) -> String {
        format!("{}{}", self.prefix, job)
    }

    pub fn profile(&self, kind: &str) -> Result<profiles::Profile> {
        profiles::Profile::resolve(kind, self.agents)
    }

    /// A note on stderr, unless quiet.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
}

/// How tmux shows a job's session: the one liveness rule, shared by status,
/// reconcile, resume and stop.
#[derive(Debug, Clone, Copy)]
pub enum Liveness<'a> {
    /// This workspace's session for the job, its agent running.
    Live(&'a Pane),
    /// This workspace's session for the job, its agent ended (pane dead).
    Dead(&'a Pane),
    /// A session of that name whose tags name another workspace or job:
    /// never ours to touch.
    Foreign(&'a Pane),
    /// tmux has no session of that name.
    Missing,
}

impl<'a> Liveness<'a> {
    /// What tmux's pane of a session (if it has one) says of job `job` of
    /// workspace `ws`.
    pub fn of(pane: Option<&'a Pane>, ws: &str, job: &str) -> Liveness<'a> {
        match pane {
            None => Liveness::Missing,
            Some(p) if p.tag_ws != ws || p.tag_job != job => Liveness::Foreign(p),
            Some(p) if p.dead => Liveness::Dead(p),
            Some(p) => Liveness::Live(p),
        }
    }

    /// This workspace's pane for the job, dead or alive.
    pub fn ours(self) -> Option<&'a Pane> {
        match self {
            Liveness::Live(p) | Liveness::Dead(p) => Some(p),
            Liveness::Foreign(_) | Liveness::Missing => None,
        }
    }

    pub fn is_live(self) -> bool {
        matches!(self, Liveness::Live(_))
    }
}

/// The panes of one `list-panes -a` call, by session name, for one workspace.
pub struct Panes<'a> {
    ws: &'a str,
    by_session: HashMap<&'a str, &'a Pane>,
}

impl<'a> Panes<'a> {
    pub fn new(ws: &'a str, panes: &'a [Pane]) -> Panes<'a> {
        Panes {
            ws,
            by_session: panes.iter().map(|p| (p.session.as_str(), p)).collect(),
        }
    }

    /// The session `session` as tmux shows it, checked against the tags
    /// mam gave job `job` of this workspace.
    pub fn of(&self, job: &str, session: &str) -> Liveness<'a> {
        Liveness::of(self.by_session.get(session).copied(), self.ws, job)
    }

    /// A job's recorded session as tmux shows it (`Missing` when the
    /// registry records none).
    pub fn of_job(&self, job: &crate::registry::jobs::Job) -> Liveness<'a> {
        match &job.session {
            Some(s) => self.of(&job.name, &s.tmux_session),
            None => Liveness::Missing,
        }
    }
}
