//! Layered configuration (SPEC §7): built-in defaults, then
//! `$XDG_CONFIG_HOME/mam/config.toml`, then `.mam/config.toml`, then `MAM_*`
//! environment variables. Unknown keys are errors naming the key and file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::duration::{self, Limit};
use crate::error::{UserError, usage};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub tmux: TmuxConfig,
    pub broker: BrokerConfig,
    pub messages: MessagesConfig,
    pub reminders: RemindersConfig,
    pub reconcile: ReconcileConfig,
    pub security: SecurityConfig,
    pub worktree: WorktreeConfig,
    pub lease: LeaseConfig,
    pub shared: SharedConfig,
    pub fleet: FleetConfig,
    /// `[[hooks]]`: commands run (by `reconcile`) once per matching event.
    /// The hooks of the user file and of the workspace file add up.
    pub hooks: Vec<HookConfig>,
    /// Agent profiles as raw tables; merged over the built-ins in `profiles`.
    pub agents: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TmuxConfig {
    /// `tmux -L` socket name; empty means the user's default server.
    pub socket: String,
    /// Session names are `prefix + job name`.
    pub prefix: String,
}

impl Default for TmuxConfig {
    fn default() -> Self {
        TmuxConfig {
            socket: String::new(),
            prefix: "mam-".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerConfig {
    pub url: String,
    pub username: String,
    pub password_env: String,
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub topic_prefix: String,
    pub allow_insecure: bool,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            url: String::new(),
            username: String::new(),
            password_env: "MAM_BROKER_PASSWORD".into(),
            ca_file: String::new(),
            cert_file: String::new(),
            key_file: String::new(),
            topic_prefix: "mam".into(),
            allow_insecure: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessagesConfig {
    pub inline_max: usize,
}

impl Default for MessagesConfig {
    fn default() -> Self {
        MessagesConfig { inline_max: 1024 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemindersConfig {
    pub burst: u32,
    pub per_hour: u32,
}

impl Default for RemindersConfig {
    fn default() -> Self {
        RemindersConfig {
            burst: 5,
            per_hour: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconcileConfig {
    pub interval: String,
    pub stuck_after: String,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            interval: "10s".into(),
            stuck_after: "15m".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    pub replay_window: String,
    pub key_grace: String,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            replay_window: "5m".into(),
            key_grace: "24h".into(),
        }
    }
}

/// `[worktree]`: where `create --worktree` puts a job's checkout, what it
/// copies into it, and what it runs there before the agent starts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorktreeConfig {
    /// Directory holding one worktree per job (`<root>/<name>`), relative to
    /// the workspace root unless absolute.
    pub root: String,
    /// Untracked files or directories (relative to the repository's top)
    /// copied into each new worktree, e.g. `.env`.
    pub copy: Vec<String>,
    /// Shell command lines run in the new worktree, in order, before the
    /// agent starts; the first failure fails the job.
    pub setup: Vec<String>,
}

impl Default for WorktreeConfig {
    fn default() -> Self {
        WorktreeConfig {
            root: ".mam/worktrees".into(),
            copy: Vec::new(),
            setup: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaseConfig {
    /// How long a lease lasts unless `--ttl` says otherwise.
    pub ttl: String,
    /// Whether `mam create --worktree` installs the pre-commit hook that
    /// runs `mam lease check --staged` in the new worktree.
    pub hook: bool,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            ttl: "1h".into(),
            hook: true,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SharedConfig {
    /// The shared docs directory, relative to the workspace root; empty:
    /// `shared/` in the state directory (`.mam/shared/`).
    pub dir: String,
}

/// `[fleet]`: this host's name among the hosts that share a broker, and how
/// often its daemon tells them its jobs' state when nothing changed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetConfig {
    /// This host's name (`job@NAME` addresses its jobs); empty: the machine's
    /// host name, lowercased, up to its first dot.
    pub host: String,
    /// The longest the daemon goes without sending its jobs' state to the
    /// other hosts; a host not heard from for three times its own is stale.
    pub heartbeat: String,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            host: String::new(),
            heartbeat: "30s".into(),
        }
    }
}

impl FleetConfig {
    /// This host's fleet name: `[fleet] host`, else the machine's host name.
    pub fn host(&self) -> std::result::Result<String, UserError> {
        if !self.host.is_empty() {
            return Ok(self.host.clone());
        }
        let set = "set `[fleet] host = \"NAME\"` in .mam/config.toml (1-32 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit)";
        let Some(name) = crate::os::hostname() else {
            return Err(
                usage("this machine has no host name to use as its fleet host name").hint(set),
            );
        };
        let short = name.split('.').next().unwrap_or("").to_ascii_lowercase();
        if crate::model::valid_name(&short) {
            Ok(short)
        } else {
            Err(usage(format!(
                "this machine's host name {name:?} is not a valid fleet host name"
            ))
            .hint(set))
        }
    }
}

/// One `[[hooks]]` entry: which events, which command, how long it may run.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// Event kinds (`question.asked`, `job.failed`, …); `job.<state>` (e.g.
    /// `job.waiting`) matches a `job.state` event into that state.
    pub on: Vec<String>,
    /// Only events addressed to this recipient (`"operator"`): a message
    /// sent or a question asked to it. Events without a recipient do not match.
    #[serde(default)]
    pub to: Option<String>,
    /// The command as an argv, run without a shell (write `["sh", "-c", …]`
    /// for one).
    pub run: Vec<String>,
    /// How long it may run before it is killed (default 10s, at most 10m).
    #[serde(default = "default_hook_timeout")]
    pub timeout: String,
}

fn default_hook_timeout() -> String {
    "10s".into()
}

/// The longest a hook may run.
pub const HOOK_TIMEOUT_MAX: Duration = Duration::from_secs(600);

/// Every event kind mam writes, as a hook's `on` may name it.
pub const EVENT_KINDS: &[&str] = &[
    "job.created",
    "job.removed",
    "job.worktree",
    "job.session",
    "job.state",
    "job.conversation",
    "job.stuck",
    "job.progress",
    "job.done",
    "job.failed",
    "job.adopted",
    "job.prompt_delivered",
    "review.verdict",
    "message.sent",
    "message.delivered",
    "message.cancelled",
    "message.failed",
    "question.asked",
    "question.answered",
    "reminder.scheduled",
    "reminder.fired",
    "reminder.failed",
    "reminder.retried",
    "reminder.cancelled",
    "lease.acquired",
    "lease.renewed",
    "lease.released",
    "lease.broken",
    "lease.expired",
    "shared.changed",
    "fleet.trusted",
    "fleet.untrusted",
];

impl HookConfig {
    /// The hook's identity in the registry: its `on`, `to` and `run`, so an
    /// edited hook is a new hook and a reordered list changes nothing.
    pub fn identity(&self) -> String {
        serde_json::json!({"on": self.on, "to": self.to, "run": self.run}).to_string()
    }

    pub fn timeout(&self) -> Duration {
        duration::parse("hooks.timeout", &self.timeout, Self::LIMIT)
            .unwrap_or(Duration::from_secs(10))
    }

    const LIMIT: Limit = Limit {
        min: Duration::from_millis(1),
        max: HOOK_TIMEOUT_MAX,
    };

    fn validate(&self, i: usize) -> std::result::Result<(), UserError> {
        let at = format!("hooks[{i}]");
        if self.on.is_empty() {
            return Err(usage(format!(
                "{at}.on is empty: name the event kinds it runs on, e.g. on = [\"job.waiting\"]"
            )));
        }
        for k in &self.on {
            let state = k
                .strip_prefix("job.")
                .and_then(crate::model::JobState::parse);
            if !EVENT_KINDS.contains(&k.as_str()) && state.is_none() {
                return Err(usage(format!(
                    "{at}.on: unknown event kind {k:?}; kinds are {}, or job.<state> (job.waiting, job.busy, …)",
                    EVENT_KINDS.join(", ")
                )));
            }
        }
        if self.run.first().is_none_or(|p| p.trim().is_empty()) {
            return Err(usage(format!(
                "{at}.run is empty: give the command as an argv, e.g. run = [\"notify-send\", \"mam\"]"
            )));
        }
        if let Some(to) = &self.to
            && to.trim().is_empty()
        {
            return Err(usage(format!(
                "{at}.to is empty: name a recipient (\"operator\") or leave it out"
            )));
        }
        duration::parse(&format!("{at}.timeout"), &self.timeout, Self::LIMIT)?;
        Ok(())
    }
}

/// Where each layer came from, for messages.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<PathBuf>,
}

impl Config {
    /// Load the layers. `user_file` is the XDG file (None when there is no
    /// home); `ws_file` the workspace's `.mam/config.toml`.
    pub fn load(user_file: Option<&Path>, ws_file: &Path) -> Result<(Config, Sources)> {
        let mut merged = toml::Table::new();
        let mut sources = Sources::default();
        let mut hooks = Vec::new();
        for file in user_file.into_iter().chain(std::iter::once(ws_file)) {
            let Some(table) = read_layer(file)? else {
                continue;
            };
            Config::check_layer(file, &table)?;
            let mut table = table;
            if let Some(toml::Value::Array(h)) = table.remove("hooks") {
                hooks.extend(h);
            }
            merge(&mut merged, table);
            sources.files.push(file.to_path_buf());
        }
        if !hooks.is_empty() {
            merged.insert("hooks".into(), toml::Value::Array(hooks));
        }
        let mut cfg: Config = merged.try_into().map_err(|e: toml::de::Error| {
            usage(format!("invalid configuration: {}", e.message()))
        })?;
        cfg.apply_env();
        cfg.validate()
            .map_err(|e| usage(format!("invalid configuration: {}", e.message)))?;
        Ok((cfg, sources))
    }

    /// Validate one layer on its own, so an error names its file.
    pub fn check_layer(file: &Path, table: &toml::Table) -> Result<Config> {
        let layer: Config = table
            .clone()
            .try_into()
            .map_err(|e| config_error(file, &e.to_string()))?;
        layer
            .validate()
            .map_err(|e| config_error(file, &e.message))?;
        Ok(layer)
    }

    fn apply_env(&mut self) {
        if let Ok(v) = std::env::var("MAM_TMUX_SOCKET") {
            self.tmux.socket = v;
        }
        if let Ok(v) = std::env::var("MAM_BROKER_URL") {
            self.broker.url = v;
        }
    }

    /// Every duration key: its name, its value, its bounds (the one
    /// parser's, as for flags), and the default it falls back to.
    fn durations(&self) -> [(&'static str, &str, Limit, Duration); 6] {
        [
            (
                "fleet.heartbeat",
                &self.fleet.heartbeat,
                Limit::PERIOD,
                Duration::from_secs(30),
            ),
            (
                "lease.ttl",
                &self.lease.ttl,
                Limit::LEASE,
                Duration::from_secs(3600),
            ),
            (
                "reconcile.interval",
                &self.reconcile.interval,
                Limit::PERIOD,
                Duration::from_secs(10),
            ),
            (
                "reconcile.stuck_after",
                &self.reconcile.stuck_after,
                Limit::POSITIVE,
                Duration::from_secs(900),
            ),
            (
                "security.replay_window",
                &self.security.replay_window,
                Limit::POSITIVE,
                Duration::from_secs(300),
            ),
            (
                "security.key_grace",
                &self.security.key_grace,
                Limit::ANY,
                Duration::from_secs(86400),
            ),
        ]
    }

    fn duration(&self, key: &str) -> Duration {
        self.durations()
            .into_iter()
            .find(|(k, ..)| *k == key)
            .map(|(k, v, limit, default)| duration::parse(k, v, limit).unwrap_or(default))
            .unwrap_or_default()
    }

    fn validate(&self) -> std::result::Result<(), UserError> {
        for (key, value, limit, _) in self.durations() {
            duration::parse(key, value, limit)?;
        }
        for (i, h) in self.hooks.iter().enumerate() {
            h.validate(i)?;
        }
        if self.tmux.prefix.is_empty()
            || !self
                .tmux
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(usage(format!(
                "invalid tmux.prefix {:?}: use letters, digits, '-' or '_'",
                self.tmux.prefix
            )));
        }
        if !self.fleet.host.is_empty() && !crate::model::valid_name(&self.fleet.host) {
            return Err(usage(format!(
                "invalid fleet.host {:?}: use 1-32 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit",
                self.fleet.host
            )));
        }
        if self.worktree.root.trim().is_empty() {
            return Err(usage(
                "worktree.root is empty: name a directory (default \".mam/worktrees\")",
            ));
        }
        for c in &self.worktree.copy {
            let p = Path::new(c);
            if c.is_empty()
                || p.is_absolute()
                || p.components()
                    .any(|x| matches!(x, std::path::Component::ParentDir))
            {
                return Err(usage(format!(
                    "worktree.copy: {c:?} must be a path inside the repository (relative, without `..`)"
                )));
            }
        }
        Ok(())
    }

    pub fn replay_window(&self) -> Duration {
        self.duration("security.replay_window")
    }
    pub fn key_grace(&self) -> Duration {
        self.duration("security.key_grace")
    }
    pub fn stuck_after(&self) -> Duration {
        self.duration("reconcile.stuck_after")
    }
    pub fn lease_ttl(&self) -> Duration {
        self.duration("lease.ttl")
    }
    pub fn reconcile_interval(&self) -> Duration {
        self.duration("reconcile.interval")
    }
    pub fn fleet_heartbeat(&self) -> Duration {
        self.duration("fleet.heartbeat")
    }
}

fn read_layer(file: &Path) -> Result<Option<toml::Table>> {
    let bytes = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read config file {}", file.display()));
        }
    };
    parse_layer(file, bytes).map(Some)
}

/// One layer's bytes as TOML (UTF-8 checked); `file` names it in messages.
pub fn parse_layer(file: &Path, bytes: Vec<u8>) -> Result<toml::Table> {
    let text = String::from_utf8(bytes).map_err(|e| {
        usage(format!(
            "config file {} is not UTF-8 text ({e})",
            file.display()
        ))
        .hint("save it as UTF-8 (TOML files are UTF-8)")
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| config_error(file, &e.to_string()))?;
    Ok(table)
}

fn config_error(file: &Path, detail: &str) -> crate::error::UserError {
    usage(format!(
        "malformed config file {}: {}",
        file.display(),
        detail.trim()
    ))
    .hint(format!(
        "fix or remove the key in {} (see `mam init` for a commented template)",
        file.display()
    ))
}

/// Merge `over` into `base`, table by table; other values replace.
pub fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The commented template `mam init` writes.
pub const TEMPLATE: &str = r#"# mam workspace configuration. Every key is optional; the values shown are
# the defaults. Layers: built-in < $XDG_CONFIG_HOME/mam/config.toml < this
# file < MAM_* environment variables < command-line flags.

[tmux]
# socket = ""              # tmux -L name; empty = your default server (MAM_TMUX_SOCKET)
# prefix = "mam-"          # session names are prefix + job name

[broker]
# url = ""                 # empty = no MQTT; mqtt://127.0.0.1:1883 or mqtts://host:8883 (MAM_BROKER_URL)
# username = ""
# password_env = "MAM_BROKER_PASSWORD"
# ca_file = ""
# cert_file = ""
# key_file = ""
# topic_prefix = "mam"
# allow_insecure = false   # plain mqtt:// to a non-loopback host

[messages]
# inline_max = 1024

[reminders]
# burst = 5
# per_hour = 30

[reconcile]
# interval = "10s"
# stuck_after = "15m"

[security]
# replay_window = "5m"
# key_grace = "24h"

[worktree]
# root = ".mam/worktrees"  # `create --worktree` puts job NAME in <root>/NAME; "../<repo>-worktrees" keeps them beside the checkout
# copy = []                # untracked files copied into each new worktree, e.g. [".env"]
# setup = []               # shell lines run in the new worktree before the agent starts, e.g. ["npm ci"]

[lease]
# ttl = "1h"               # how long a lease lasts unless --ttl says otherwise
# hook = true              # mam create --worktree installs the lease-check pre-commit hook

[shared]
# dir = ""                 # shared read-only docs; empty = .mam/shared/ (MAM_SHARED_DIR for agents)

[fleet]
# host = ""                # this host's name in the fleet (job@host); empty = the host name
# heartbeat = "30s"        # the daemon sends its jobs' state at least this often; 3 missed: stale

# Agent profiles: override a built-in field by field, or add your own.
# [agents.myagent]
# cmd = ["python3", "agent.py"]
# ready = ['(?m)^> ?$']
# busy = ['Working']
# submit_delay_ms = 300
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_key_and_file() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("config.toml");
        std::fs::write(&f, "[tmux]\nsockett = \"x\"\n").unwrap();
        let err = Config::load(None, &f).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("sockett"), "{msg}");
        assert!(msg.contains(&f.display().to_string()), "{msg}");
        assert_eq!(crate::error::code_of(&err), crate::error::Code::Usage);
    }

    #[test]
    fn workspace_file_overrides_user_file() {
        let t = tempfile::tempdir().unwrap();
        let u = t.path().join("user.toml");
        let w = t.path().join("ws.toml");
        std::fs::write(&u, "[tmux]\nprefix = \"u-\"\n[messages]\ninline_max = 10\n").unwrap();
        std::fs::write(&w, "[tmux]\nprefix = \"w-\"\n").unwrap();
        let (c, s) = Config::load(Some(&u), &w).unwrap();
        assert_eq!(c.tmux.prefix, "w-");
        assert_eq!(c.messages.inline_max, 10);
        assert_eq!(s.files.len(), 2);
    }

    #[test]
    fn template_parses_and_bad_durations_are_named() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("c.toml");
        std::fs::write(&f, TEMPLATE).unwrap();
        Config::load(None, &f).unwrap();
        std::fs::write(&f, "[reconcile]\ninterval = \"soon\"\n").unwrap();
        let msg = format!("{:#}", Config::load(None, &f).unwrap_err());
        assert!(msg.contains("reconcile.interval"), "{msg}");
    }
}
