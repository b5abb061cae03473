//! Proof of delivery from the agent's own record (`how = record`).
//!
//! Every agent CLI with a conversation store writes the user's turn there
//! when it takes it: Claude Code's session JSONL, Codex's rollout file,
//! Gemini CLI's chat file, aider's `.aider.chat.history.md`. Before typing,
//! mam notes the size of each store file of the job's working directory (the
//! *baseline*); after the submit key it looks at what was appended since (or
//! at whole files that are new) for a user turn holding the attempt's
//! *needle*: mam's own `[mam] mN from …` header, unique per message, or the
//! start of a task prompt. Only such a turn proves the agent took the text;
//! a busy spinner or an empty composer does not.
//!
//! Where each store lives follows the CLI's own overrides:
//! `CLAUDE_CONFIG_DIR`, `CODEX_HOME`, `GEMINI_CLI_HOME`, else `HOME`, taken
//! from the job's environment first and mam's own second (the agent's tmux
//! session inherits mam's environment).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::agent::discover::{self, Lookup};

/// Stores whose records prove delivery.
pub const STORES: &[&str] = &["claude", "codex", "gemini", "aider"];

/// Files looked at are those modified no earlier than this before the
/// attempt (clock skew between mam and the agent, coarse mtimes).
const SLACK_MS: i64 = 2_000;

/// The most of one file read per look (a long conversation is not re-read
/// whole: only what was appended since the baseline).
const MAX_READ: u64 = 32 << 20;

/// Where one job's agent keeps its record.
#[derive(Debug, Clone)]
pub struct Store {
    pub kind: String,
    /// The CLI's home for its own files (`~/.claude`, `~/.codex`, `~`).
    pub base: PathBuf,
    pub workdir: PathBuf,
}

/// The environment variable a store's location follows, if any.
fn override_var(kind: &str) -> Option<&'static str> {
    match kind {
        "claude" => Some("CLAUDE_CONFIG_DIR"),
        "codex" => Some("CODEX_HOME"),
        "gemini" => Some("GEMINI_CLI_HOME"),
        _ => None,
    }
}

impl Store {
    /// The store of a job: its profile's `conversation_store`, located with
    /// the job's environment (`env`) over mam's own. `None` when the profile
    /// has no record mam can read.
    pub fn for_job(kind: Option<&str>, env: &[(String, String)], workdir: &Path) -> Option<Store> {
        let kind = kind.filter(|k| STORES.contains(k))?;
        let var = |name: &str| crate::agent::profiles::agent_var(env, name).map(PathBuf::from);
        let home = var("HOME");
        let base = match (kind, override_var(kind).and_then(var)) {
            ("gemini", Some(dir)) => dir, // GEMINI_CLI_HOME replaces HOME
            (_, Some(dir)) => dir,
            ("claude", None) => home?.join(".claude"),
            ("codex", None) => home?.join(".codex"),
            (_, None) => home.unwrap_or_default(),
        };
        Some(Store {
            kind: kind.to_string(),
            base,
            workdir: workdir.to_path_buf(),
        })
    }

    /// The record files of this job's working directory modified since
    /// `since_ms` (less a little slack), with their sizes.
    pub fn files(&self, since_ms: i64) -> BTreeMap<PathBuf, u64> {
        let cutoff = since_ms.saturating_sub(SLACK_MS);
        let mut out = BTreeMap::new();
        let mut add = |path: PathBuf| {
            if let Ok(meta) = fs::metadata(&path)
                && meta.is_file()
                && discover::mtime_ms(&meta).is_some_and(|m| m >= cutoff)
            {
                out.insert(path, meta.len());
            }
        };
        match self.kind.as_str() {
            "claude" => {
                let dir = self
                    .base
                    .join("projects")
                    .join(discover::claude_project_dir_name(&self.workdir));
                for (name, path, _) in discover::files_in(&dir) {
                    if name.ends_with(".jsonl") {
                        add(path);
                    }
                }
            }
            "codex" => {
                // sessions/YYYY/MM/DD/rollout-*.jsonl, local-time dates: the
                // newest two day directories cover a turn across midnight.
                let root = self.base.join("sessions");
                let mut days: Vec<PathBuf> = Vec::new();
                for (_, y) in newest_dirs(&root, 1) {
                    for (_, m) in newest_dirs(&y, 2) {
                        days.extend(newest_dirs(&m, 2).into_iter().map(|(_, d)| d));
                    }
                }
                days.sort();
                days.reverse();
                for day in days.into_iter().take(2) {
                    for (name, path, _) in discover::files_in(&day) {
                        if name.starts_with("rollout-") && name.ends_with(".jsonl") {
                            add(path);
                        }
                    }
                }
            }
            "gemini" => {
                let owned = Default::default();
                let l = Lookup {
                    home: &self.base,
                    workdir: &self.workdir,
                    since_ms,
                    owned: &owned,
                };
                for dir in discover::gemini_project_dirs(&l) {
                    for (name, path, _) in discover::files_in(&dir.join("chats")) {
                        if name.starts_with("session-") && name.ends_with(".jsonl") {
                            add(path);
                        }
                    }
                }
            }
            "aider" => add(self.workdir.join(".aider.chat.history.md")),
            _ => {}
        }
        out
    }

    /// Whether a user turn holding `needle` was written after `baseline`
    /// (files new since then are read whole).
    pub fn shows(&self, baseline: &BTreeMap<PathBuf, u64>, since_ms: i64, needle: &str) -> bool {
        let escaped = json_escaped(needle);
        for (path, size) in self.files(since_ms) {
            let from = match baseline.get(&path) {
                Some(&old) if old <= size => old,
                _ => 0, // new, or rewritten shorter: read it whole
            };
            if from == size {
                continue;
            }
            let Some(text) = read_from(&path, from) else {
                continue;
            };
            let hit = if self.kind == "aider" {
                aider_user_turn(&text, needle)
            } else {
                text.lines()
                    .filter(|l| l.contains(&escaped))
                    .any(|l| json_user_turn(l, needle))
            };
            if hit {
                return true;
            }
        }
        false
    }
}

/// Sub-directories, newest name first, at most `n`.
fn newest_dirs(dir: &Path, n: usize) -> Vec<(String, PathBuf)> {
    let mut v = discover::dirs_in(dir);
    v.sort_by(|a, b| b.0.cmp(&a.0));
    v.truncate(n);
    v
}

fn read_from(path: &Path, from: u64) -> Option<String> {
    let mut f = fs::File::open(path).ok()?;
    f.seek(SeekFrom::Start(from)).ok()?;
    let mut buf = Vec::new();
    f.take(MAX_READ).read_to_end(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// `needle` as it appears inside a JSON string.
fn json_escaped(needle: &str) -> String {
    let s = serde_json::to_string(needle).unwrap_or_default();
    s[1..s.len().saturating_sub(1)].to_string()
}

/// One JSONL record that is a user turn whose text holds `needle`:
/// Claude `{"type":"user","message":{"role":"user","content":…}}`, Codex
/// `{"type":"response_item","payload":{"type":"message","role":"user",…}}`
/// or `{"type":"event_msg","payload":{"type":"user_message","message":…}}`,
/// Gemini `{"type":"user","content":…}`. The needle must be in the turn's
/// text, not elsewhere in the record (a tool result quoting it).
fn json_user_turn(line: &str, needle: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(line) else {
        return false;
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let text_has = |v: Option<&Value>| v.is_some_and(|v| text_of(v).contains(needle));
    if let Some(p) = v.get("payload") {
        let is_user = s(p, "role").as_deref() == Some("user")
            || s(p, "type").as_deref() == Some("user_message");
        return is_user && (text_has(p.get("content")) || text_has(p.get("message")));
    }
    if s(&v, "type").as_deref() == Some("user") {
        if let Some(m) = v.get("message") {
            return s(m, "role").as_deref() == Some("user") && text_has(m.get("content"));
        }
        return text_has(v.get("content")) || text_has(v.get("parts"));
    }
    false
}

/// All the text in a content value: a string, or the `text` fields of a list
/// of parts.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().map(text_of).collect::<Vec<_>>().join("\n"),
        Value::Object(o) => o
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

/// aider writes each user input as `#### <line>` lines in its history.
fn aider_user_turn(text: &str, needle: &str) -> bool {
    text.lines()
        .filter_map(|l| l.strip_prefix("#### "))
        .any(|l| l.contains(needle))
}

/// The text to look for in the record for a typed text: its first line up to
/// the first character a CLI might rewrite (tabs become spaces, quotes and
/// backslashes are escaped differently), at most 80 characters; `None` when
/// that leaves too little to be unique.
pub fn needle_for(text: &str) -> Option<String> {
    let first = text.lines().next().unwrap_or("");
    let safe: String = first
        .chars()
        .take_while(|c| c.is_alphanumeric() || " _-:.,;!?()[]#@/+=%&*".contains(*c))
        .take(80)
        .collect();
    let safe = safe.trim_end().to_string();
    (safe.chars().count() >= 12).then_some(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_turns_of_each_store() {
        let n = "[mam] m3 from operator:";
        assert!(json_user_turn(
            r#"{"type":"user","message":{"role":"user","content":"[mam] m3 from operator: hi"}}"#,
            n
        ));
        assert!(json_user_turn(
            r#"{"type":"user","message":{"role":"user","content":[{"type":"text","text":"[mam] m3 from operator: hi"}]}}"#,
            n
        ));
        assert!(json_user_turn(
            r#"{"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"[mam] m3 from operator: hi"}]}}"#,
            n
        ));
        assert!(json_user_turn(
            r#"{"type":"event_msg","payload":{"type":"user_message","message":"[mam] m3 from operator: hi"}}"#,
            n
        ));
        assert!(json_user_turn(
            r#"{"id":"x","type":"user","content":[{"text":"[mam] m3 from operator: hi"}]}"#,
            n
        ));
        // The assistant quoting it, or another message, is no proof.
        assert!(!json_user_turn(
            r#"{"type":"assistant","message":{"role":"assistant","content":"[mam] m3 from operator: hi"}}"#,
            n
        ));
        assert!(!json_user_turn(
            r#"{"type":"user","message":{"role":"user","content":"[mam] m33 from operator: hi"}}"#,
            n
        ));
        assert!(aider_user_turn("\n#### [mam] m3 from operator: hi\n", n));
        assert!(!aider_user_turn("[mam] m3 from operator: hi\n", n));
    }

    #[test]
    fn needles() {
        assert_eq!(
            needle_for("[mam] m12 from pm: do \"this\"").as_deref(),
            Some("[mam] m12 from pm: do")
        );
        assert_eq!(needle_for("short"), None);
        assert_eq!(needle_for("tab\there and more"), None);
        assert_eq!(
            needle_for("Write the parser\nthen test it").as_deref(),
            Some("Write the parser")
        );
    }

    #[test]
    fn appended_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        let wd = dir.path().join("wd");
        fs::create_dir_all(&wd).unwrap();
        let store = Store {
            kind: "aider".into(),
            base: dir.path().to_path_buf(),
            workdir: wd.clone(),
        };
        let hist = wd.join(".aider.chat.history.md");
        fs::write(&hist, "#### [mam] m1 from operator: old\n").unwrap();
        let base = store.files(0);
        assert!(!store.shows(&base, 0, "[mam] m1 from operator:"));
        fs::write(
            &hist,
            "#### [mam] m1 from operator: old\n#### [mam] m2 from operator: new\n",
        )
        .unwrap();
        assert!(store.shows(&base, 0, "[mam] m2 from operator:"));
        assert!(!store.shows(&base, 0, "[mam] m1 from operator:"));
    }
}
