//! Agent profiles as data (SPEC §4): the schema, the built-ins (TOML files
//! included at build time), merging a user's `[agents.NAME]` over them, and the
//! classification of a captured screen by a profile's rules.

use std::collections::BTreeMap;

use anyhow::Result;
use regex::Regex;
use serde::{Deserialize, Deserializer};

use crate::config::merge;
use crate::error::{not_found, usage};

/// Built-in profiles, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("claude", include_str!("claude.toml")),
    ("codex", include_str!("codex.toml")),
    ("gemini", include_str!("gemini.toml")),
    ("aider", include_str!("aider.toml")),
    ("hermes", include_str!("hermes.toml")),
    ("shell", include_str!("shell.toml")),
];

/// A command line: an argv array, or a string split like a shell would.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Argv(pub Vec<String>);

impl<'de> Deserialize<'de> for Argv {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        match Raw::deserialize(d)? {
            Raw::Many(v) => Ok(Argv(v)),
            Raw::One(s) => split_command(&s)
                .map(Argv)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Split a command string the way a POSIX shell splits words.
pub fn split_command(s: &str) -> std::result::Result<Vec<String>, String> {
    match shlex::split(s) {
        Some(v) if !v.is_empty() => Ok(v),
        Some(_) => Err("empty command".into()),
        None => Err(format!("unbalanced quotes in command {s:?}")),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasteMode {
    /// `load-buffer` + `paste-buffer -p` (bracketed paste).
    #[default]
    Bracketed,
    /// `send-keys -l`; multi-line text still goes as a bracketed paste.
    Literal,
}

/// How trust in the working directory is set up before start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustSetup {
    /// Record `projects[<dir>].hasTrustDialogAccepted` in `~/.claude.json`.
    ClaudeJson,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialogSpec {
    /// Pattern that identifies the dialog on screen.
    #[serde(rename = "match")]
    pub matches: String,
    /// tmux key names that answer it; empty = it needs a human.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Never answer when this also matches (e.g. the highlighted option exits).
    #[serde(default)]
    pub refuse_if: Option<String>,
    /// A short name for reports.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitSpec {
    /// Text typed and submitted (e.g. `/exit`).
    #[serde(default)]
    pub text: Option<String>,
    /// tmux key names sent in order (e.g. `["C-d"]`).
    #[serde(default)]
    pub keys: Vec<String>,
}

/// A profile as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    #[serde(default)]
    pub description: Option<String>,
    pub cmd: Argv,
    #[serde(default)]
    pub resume_cmd: Option<Argv>,
    #[serde(default)]
    pub continue_cmd: Option<Argv>,
    /// Arguments added on a fresh start when mam mints the conversation id.
    #[serde(default)]
    pub new_session_args: Vec<String>,
    /// Arguments added on every start that trust the working directory up front
    /// (`{workdir}` is replaced).
    #[serde(default)]
    pub trust_args: Vec<String>,
    #[serde(default)]
    pub trust_setup: Option<TrustSetup>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub ready: Vec<String>,
    #[serde(default)]
    pub busy: Vec<String>,
    #[serde(default)]
    pub queued: Vec<String>,
    #[serde(default)]
    pub error: Vec<String>,
    #[serde(default)]
    pub dialogs: Vec<DialogSpec>,
    /// Pattern with one capture group: a conversation id shown on screen.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Where the CLI keeps conversations, for discovery (`claude`, `codex`,
    /// `gemini`, `hermes`); see the README.
    #[serde(default)]
    pub conversation_store: Option<String>,
    #[serde(default)]
    pub paste: PasteMode,
    #[serde(default = "default_submit_key")]
    pub submit_key: String,
    #[serde(default = "default_delay")]
    pub submit_delay_ms: u64,
    #[serde(default = "default_delay")]
    pub settle_ms: u64,
    /// How long the ready screen must stay still after a turn mam started
    /// before the next text is typed (some CLIs show their idle prompt for a
    /// moment after Enter, before they draw that they work).
    #[serde(default = "default_turn_settle")]
    pub turn_settle_ms: u64,
    #[serde(default)]
    pub exit: ExitSpec,
    /// tmux keys that empty a composer holding text without submitting it
    /// (sent one at a time until the ready screen shows; only ever used on
    /// text mam itself typed).
    #[serde(default)]
    pub clear: Vec<String>,
    /// Pattern the screen shows once the first `clear` key has armed the
    /// rest (`esc again to clear`), for CLIs whose clear is a double press
    /// within a short window. With it, each later key goes out only while
    /// the pattern shows, and the sequence starts over when it does not (a
    /// second press that comes too late only arms again). Without it the
    /// keys go out at fixed intervals.
    #[serde(default)]
    pub clear_armed: Option<String>,
    /// How mam's MCP server is wired into this CLI (none: the agent uses
    /// the `mam` command line).
    #[serde(default)]
    pub mcp_wiring: Option<McpWiring>,
    /// Wire the MCP server in by default (`mam create --mcp` / `--no-mcp`
    /// decide per job).
    #[serde(default)]
    pub mcp: bool,
}

fn default_submit_key() -> String {
    "Enter".into()
}
fn default_delay() -> u64 {
    300
}
fn default_turn_settle() -> u64 {
    1000
}

/// How mam's MCP server (`mam mcp`) is registered with a CLI at start,
/// without touching the user's own settings files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum McpWiring {
    /// `--mcp-config FILE` (a file mam writes under `.mam/mcp/`), with
    /// `--allowedTools mcp__mam` so its tools need no approval.
    ClaudeConfig,
    /// `-c mcp_servers.mam.command=…` / `.args` / `.env` overrides.
    CodexConfig,
    /// `GEMINI_CLI_SYSTEM_DEFAULTS_PATH` pointing at a settings file mam
    /// writes under `.mam/mcp/` (the lowest-priority layer, merged under the
    /// user's settings), with the server trusted.
    GeminiDefaults,
}

/// A dialog with its patterns compiled.
#[derive(Debug, Clone)]
pub struct Dialog {
    pub name: String,
    pub matches: Regex,
    pub keys: Vec<String>,
    pub refuse_if: Option<Regex>,
}

/// A profile ready to use: the spec plus compiled patterns.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub spec: ProfileSpec,
    pub ready: Vec<Regex>,
    pub busy: Vec<Regex>,
    pub queued: Vec<Regex>,
    pub error: Vec<Regex>,
    pub dialogs: Vec<Dialog>,
    pub conversation_id: Option<Regex>,
    pub clear_armed: Option<Regex>,
}

/// What a screen shows, by a profile's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// Start-up failed: the matched text.
    Error(String),
    /// A dialog mam may answer (index into `Profile::dialogs`).
    Dialog(usize),
    /// A dialog mam must not answer (no keys, or its refuse guard matched).
    NeedsHuman(usize),
    /// Working; input typed now is queued (if the profile shows it) or lost.
    Busy,
    /// Idle at an empty prompt.
    Ready,
    /// Anything else: still starting, or mid-redraw.
    Other,
}

impl Profile {
    /// Compile a spec. Errors name the profile and the bad pattern.
    pub fn compile(name: &str, spec: ProfileSpec) -> Result<Profile> {
        let re = |field: &str, p: &str| -> Result<Regex> {
            Regex::new(p).map_err(|e| {
                usage(format!("profile {name}: invalid pattern in {field}: {e}")).into()
            })
        };
        let many = |field: &str, ps: &[String]| -> Result<Vec<Regex>> {
            ps.iter().map(|p| re(field, p)).collect()
        };
        if spec.cmd.0.is_empty() {
            return Err(usage(format!("profile {name}: cmd is empty")).into());
        }
        for (key, v) in [
            ("submit_delay_ms", spec.submit_delay_ms),
            ("settle_ms", spec.settle_ms),
            ("turn_settle_ms", spec.turn_settle_ms),
        ] {
            let what = format!("profile {name}: {key}");
            crate::duration::millis(&what, v, crate::duration::Limit::DELAY)?;
        }
        let mut dialogs = Vec::new();
        for (i, d) in spec.dialogs.iter().enumerate() {
            dialogs.push(Dialog {
                name: d
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("dialog {}", i + 1)),
                matches: re("dialogs.match", &d.matches)?,
                keys: d.keys.clone(),
                refuse_if: d
                    .refuse_if
                    .as_deref()
                    .map(|p| re("dialogs.refuse_if", p))
                    .transpose()?,
            });
        }
        Ok(Profile {
            name: name.to_string(),
            ready: many("ready", &spec.ready)?,
            busy: many("busy", &spec.busy)?,
            queued: many("queued", &spec.queued)?,
            error: many("error", &spec.error)?,
            conversation_id: spec
                .conversation_id
                .as_deref()
                .map(|p| re("conversation_id", p))
                .transpose()?,
            clear_armed: spec
                .clear_armed
                .as_deref()
                .map(|p| re("clear_armed", p))
                .transpose()?,
            dialogs,
            spec,
        })
    }

    /// Resolve a profile by name: the built-in (if any) with the user's table
    /// merged over it field by field, or the user's table alone.
    pub fn resolve(name: &str, user: &BTreeMap<String, toml::Table>) -> Result<Profile> {
        let builtin = BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
        let mut table = match builtin {
            Some(text) => text
                .parse::<toml::Table>()
                .map_err(|e| anyhow::anyhow!("built-in profile {name} is malformed: {e}"))?,
            None => toml::Table::new(),
        };
        match user.get(name) {
            Some(over) => merge(&mut table, over.clone()),
            None if builtin.is_none() => {
                let mut known: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
                known.extend(user.keys().map(String::as_str));
                known.sort();
                known.dedup();
                return Err(not_found(format!("unknown agent profile {name:?}"))
                    .hint(format!(
                        "known profiles: {}; add one as [agents.{name}] in .mam/config.toml",
                        known.join(", ")
                    ))
                    .into());
            }
            None => {}
        }
        let spec: ProfileSpec = table.try_into().map_err(|e: toml::de::Error| {
            usage(format!("profile {name}: {}", e.message().trim()))
                .hint(format!("check [agents.{name}] in your config"))
        })?;
        Profile::compile(name, spec)
    }

    /// Classify a screen (lines joined with `\n`, trailing spaces trimmed).
    pub fn classify(&self, screen: &str) -> Screen {
        if let Some(m) = self.error.iter().find_map(|r| r.find(screen)) {
            return Screen::Error(m.as_str().to_string());
        }
        for (i, d) in self.dialogs.iter().enumerate() {
            if d.matches.is_match(screen) {
                let refused = d.refuse_if.as_ref().is_some_and(|r| r.is_match(screen));
                return if refused || d.keys.is_empty() {
                    Screen::NeedsHuman(i)
                } else {
                    Screen::Dialog(i)
                };
            }
        }
        if self.is_busy(screen) {
            return Screen::Busy;
        }
        if !self.ready.is_empty() && self.ready.iter().all(|r| r.is_match(screen)) {
            return Screen::Ready;
        }
        Screen::Other
    }

    /// Every rule of the profile and whether it matches `screen`, in the
    /// order `classify` checks them: (kind, name or pattern, matches).
    pub fn rule_report(&self, screen: &str) -> Vec<(String, String, bool)> {
        let mut v = Vec::new();
        for r in &self.error {
            v.push(("error".into(), r.as_str().to_string(), r.is_match(screen)));
        }
        for d in &self.dialogs {
            let hit = d.matches.is_match(screen);
            let refused = d.refuse_if.as_ref().is_some_and(|r| r.is_match(screen));
            let name = if d.keys.is_empty() {
                format!("{} (needs a human)", d.name)
            } else if hit && refused {
                format!("{} (refused: its guard matches)", d.name)
            } else {
                format!("{} (answered with {})", d.name, d.keys.join(" "))
            };
            v.push(("dialog".into(), name, hit));
        }
        for r in &self.busy {
            v.push(("busy".into(), r.as_str().to_string(), r.is_match(screen)));
        }
        for r in &self.queued {
            v.push(("queued".into(), r.as_str().to_string(), r.is_match(screen)));
        }
        for r in &self.ready {
            v.push(("ready".into(), r.as_str().to_string(), r.is_match(screen)));
        }
        v
    }

    /// The environment a job's agent runs with, as far as mam sets it: the
    /// profile's `env`, then the job's own (`--env`), later ones winning.
    pub fn agent_env(&self, job_env: &[(String, String)]) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        env.extend(job_env.iter().cloned());
        env
    }

    pub fn is_busy(&self, screen: &str) -> bool {
        self.busy.iter().any(|r| r.is_match(screen))
    }

    pub fn shows_queued(&self, screen: &str) -> bool {
        self.queued.iter().any(|r| r.is_match(screen))
    }

    /// Whether input typed while busy is accepted as queued.
    pub fn accepts_queued_input(&self) -> bool {
        !self.queued.is_empty()
    }

    /// A conversation id shown on screen, if the profile knows where.
    pub fn conversation_id_on(&self, screen: &str) -> Option<String> {
        self.conversation_id
            .as_ref()?
            .captures(screen)?
            .get(1)
            .map(|m| m.as_str().to_string())
    }
}

/// A variable as an agent sees it: from `env` (see [`Profile::agent_env`]),
/// else inherited from mam's own environment (tmux passes that on). Empty
/// counts as unset.
pub fn agent_var(env: &[(String, String)], name: &str) -> Option<String> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(name).ok())
        .filter(|v| !v.is_empty())
}

/// Normalise a captured screen: trailing spaces trimmed on each line,
/// trailing blank lines dropped.
pub fn normalise_screen(raw: &str) -> String {
    let lines: Vec<&str> = raw
        .lines()
        .map(|l| l.trim_end_matches([' ', '\r']))
        .collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    lines[..end].join("\n")
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hermes;
