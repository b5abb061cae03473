//! Finding the conversation id of a job that lacks one, from where each agent
//! CLI keeps its sessions on disk.
//!
//! A job is started in a working directory at a known time; the CLI writes its
//! session somewhere under the agent's `HOME`. [`discover`] looks there for the
//! newest session of that directory that began no earlier than the job (less
//! [`SLACK_MS`]) and that no other job already owns. Each store is described
//! next to the function that reads it; the formats were checked against the
//! real CLIs (Claude Code 2.1.197, Codex CLI 0.169.0, Gemini CLI 0.61.0,
//! Hermes Agent 0.19.0) by running them against a loopback fake model server
//! in a throwaway `HOME` and by reading their bundled sources.
//!
//! Odd files (unreadable, empty, not JSON, names that are not UTF-8) are
//! skipped, never fatal; a missing store is "nothing found".

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::Context;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How much earlier than `since_ms` a session may have started and still count.
pub const SLACK_MS: i64 = 5_000;

/// The longest first line we read from a session file. Codex puts its whole
/// system prompt in the first record (tens of KiB), so be generous.
const MAX_FIRST_LINE: u64 = 4 << 20;

/// What we know about the job whose id we look for.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    /// The HOME the agent ran with.
    pub home: &'a Path,
    /// The job's working directory (canonical).
    pub workdir: &'a Path,
    /// When the session started (unix ms): sessions older than this minus
    /// [`SLACK_MS`] are ignored.
    pub since_ms: i64,
    /// Ids other jobs already own: never returned.
    pub owned: &'a HashSet<String>,
}

impl Lookup<'_> {
    fn cutoff_ms(&self) -> i64 {
        self.since_ms.saturating_sub(SLACK_MS)
    }

    fn free(&self, id: &str) -> bool {
        !id.is_empty() && !self.owned.contains(id)
    }
}

/// Find the conversation id for `l` in the session store named `store` (a
/// profile's `conversation_store`: "claude", "codex", "gemini" or "hermes").
/// Unknown stores and missing directories give `Ok(None)`.
pub fn discover(store: &str, l: &Lookup) -> anyhow::Result<Option<String>> {
    match store {
        "claude" => Ok(claude(l)),
        "codex" => Ok(codex(l)),
        "gemini" => Ok(gemini(l)),
        "hermes" => hermes(l),
        _ => Ok(None),
    }
}

/// A session file that passed its store's checks: its id and how recent it is.
struct Candidate {
    id: String,
    mtime_ms: i64,
    name: String,
}

/// The newest candidate (by mtime, then by file name) whose id is free.
fn newest(mut found: Vec<Candidate>, l: &Lookup) -> Option<String> {
    found.sort_by(|a, b| (b.mtime_ms, &b.name).cmp(&(a.mtime_ms, &a.name)));
    found.into_iter().map(|c| c.id).find(|id| l.free(id))
}

pub(crate) fn mtime_ms(meta: &fs::Metadata) -> Option<i64> {
    let t = meta.modified().ok()?;
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

/// Regular files in `dir` with UTF-8 names, with their mtime (ms). A missing
/// or unreadable directory yields nothing.
pub(crate) fn files_in(dir: &Path) -> Vec<(String, PathBuf, i64)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for ent in rd.flatten() {
        let Ok(name) = ent.file_name().into_string() else {
            continue;
        };
        let Ok(meta) = ent.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let Some(m) = mtime_ms(&meta) else { continue };
        out.push((name, ent.path(), m));
    }
    out
}

/// Sub-directories of `dir` with UTF-8 names.
pub(crate) fn dirs_in(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .collect()
}

/// The first line of `path` parsed as a JSON object; `None` for anything else.
fn first_json_line(path: &Path) -> Option<serde_json::Map<String, Value>> {
    let f = fs::File::open(path).ok()?;
    let mut r = BufReader::new(f).take(MAX_FIRST_LINE);
    let mut buf = Vec::new();
    r.read_until(b'\n', &mut buf).ok()?;
    match serde_json::from_slice::<Value>(&buf).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// `8-4-4-4-12` hex digits, any version.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn same_dir(recorded: &str, workdir: &Path) -> bool {
    !recorded.is_empty() && Path::new(recorded) == workdir
}

// ---------------------------------------------------------------- Claude Code

/// Longest project directory name Claude Code uses before it shortens it.
const CLAUDE_MAX_NAME: usize = 200;

/// Claude Code's project directory name for `cwd`.
///
/// Found in the bundled JS of `@anthropic-ai/claude-code` 2.1.197 and checked
/// with a real run (`/tmp/x/my.proj_dir x` → `-tmp-x-my-proj-dir-x`): every
/// character of the path that is not an ASCII letter or digit becomes `-`
/// (JS string semantics, so one `-` per UTF-16 unit: a character outside the
/// BMP gives two). A result longer than 200 characters is cut to 200 and gets
/// `-` plus a base-36 hash of the path appended. That hash is a 32-bit
/// "multiply by 31 and add" over the UTF-16 units, taken as an absolute value;
/// since builds differ on the hash, Claude Code itself also accepts any
/// directory starting with the 200-character prefix and `-`, and so do we.
/// Sessions live in `<config>/projects/<name>/<session uuid>.jsonl`, where
/// `<config>` is `$CLAUDE_CONFIG_DIR` or `~/.claude` (we use the latter).
pub fn claude_project_dir_name(cwd: &Path) -> String {
    let s = cwd.to_string_lossy();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            for _ in 0..c.len_utf16() {
                out.push('-');
            }
        }
    }
    if out.len() <= CLAUDE_MAX_NAME {
        return out;
    }
    let mut h: i32 = 0;
    for u in s.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(u));
    }
    format!(
        "{}-{}",
        &out[..CLAUDE_MAX_NAME],
        base36(i64::from(h).unsigned_abs())
    )
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n == 0 {
        return "0".into();
    }
    let mut v = Vec::new();
    while n > 0 {
        v.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    v.reverse();
    String::from_utf8(v).unwrap_or_default()
}

/// `<home>/.claude/projects/<name>/<uuid>.jsonl`, created at the first
/// message. The file's lines all carry `sessionId` (the same uuid); the first
/// is often a `queue-operation` record, later ones carry `cwd`. The stem is
/// the id `claude --resume` takes. Sibling directories (`memory/`, per-session
/// folders) and non-UUID files are ignored.
fn claude(l: &Lookup) -> Option<String> {
    let projects = l.home.join(".claude").join("projects");
    let name = claude_project_dir_name(l.workdir);
    let mut dirs = vec![projects.join(&name)];
    if name.len() > CLAUDE_MAX_NAME {
        let prefix = format!("{}-", &name[..CLAUDE_MAX_NAME]);
        for (n, p) in dirs_in(&projects) {
            if n.starts_with(&prefix) && n != name {
                dirs.push(p);
            }
        }
    }
    let cutoff = l.cutoff_ms();
    let mut found = Vec::new();
    for dir in dirs {
        for (fname, _path, m) in files_in(&dir) {
            let Some(stem) = fname.strip_suffix(".jsonl") else {
                continue;
            };
            if m < cutoff || !is_uuid(stem) {
                continue;
            }
            found.push(Candidate {
                id: stem.to_string(),
                mtime_ms: m,
                name: fname.clone(),
            });
        }
    }
    newest(found, l)
}

// ---------------------------------------------------------------- Codex CLI

/// `<home>/.codex/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl`.
///
/// Checked with Codex CLI 0.169.0 (`codex exec` in a fresh HOME, once with
/// `TZ=Pacific/Honolulu`): the date directories and the file name's
/// `YYYY-MM-DDTHH-MM-SS` are in *local* time, the JSON timestamps in UTC. The
/// first line is
/// `{"timestamp":…,"ordinal":0,"type":"session_meta","payload":{"session_id":<uuid>,"id":<uuid>,"timestamp":…,"cwd":<abs path>,"originator":…,"cli_version":…,"source":…,"base_instructions":{…},…}}`
/// (one long line: the system prompt is in it). The uuid is a v7 one and is
/// what `codex resume` takes. Only day directories from the cutoff's date on
/// (see [`codex_first_day`]) are read.
fn codex(l: &Lookup) -> Option<String> {
    let root = l.home.join(".codex").join("sessions");
    let first_day = codex_first_day(l.cutoff_ms());
    let cutoff = l.cutoff_ms();
    let mut found = Vec::new();
    for (y, ypath) in dirs_in(&root) {
        let Ok(y) = y.parse::<u32>() else { continue };
        if y < first_day.0 {
            continue;
        }
        for (m, mpath) in dirs_in(&ypath) {
            let Ok(m) = m.parse::<u32>() else { continue };
            if (y, m) < (first_day.0, first_day.1) {
                continue;
            }
            for (d, dpath) in dirs_in(&mpath) {
                let Ok(d) = d.parse::<u32>() else { continue };
                if (y, m, d) < first_day {
                    continue;
                }
                for (fname, path, mt) in files_in(&dpath) {
                    if mt < cutoff {
                        continue;
                    }
                    let Some(stem) = fname
                        .strip_prefix("rollout-")
                        .and_then(|s| s.strip_suffix(".jsonl"))
                    else {
                        continue;
                    };
                    if let Some(id) = codex_rollout_id(&path, stem, l.workdir) {
                        found.push(Candidate {
                            id,
                            mtime_ms: mt,
                            name: fname.clone(),
                        });
                    }
                }
            }
        }
    }
    newest(found, l)
}

/// The earliest (year, month, day) a rollout written at or after `cutoff_ms`
/// can be filed under. Codex files by the *agent's* local date, and the agent
/// may run under another `TZ` than we do, so take the UTC date 14 hours
/// earlier: no time zone is further behind UTC than that (UTC−12), so this is
/// on or before both the UTC and any local date. It costs at most one extra
/// day directory.
fn codex_first_day(cutoff_ms: i64) -> (u32, u32, u32) {
    let back = cutoff_ms.saturating_sub(14 * 3_600_000);
    let Ok(ts) = jiff::Timestamp::from_millisecond(back) else {
        return (0, 0, 0);
    };
    let d = ts.to_zoned(jiff::tz::TimeZone::UTC).date();
    (
        u32::try_from(d.year()).unwrap_or(0),
        u32::try_from(d.month()).unwrap_or(0),
        u32::try_from(d.day()).unwrap_or(0),
    )
}

/// The session id of a rollout whose `session_meta` records `workdir` as cwd.
fn codex_rollout_id(path: &Path, stem: &str, workdir: &Path) -> Option<String> {
    let first = first_json_line(path)?;
    let meta = match first.get("type").and_then(Value::as_str) {
        Some("session_meta") => first.get("payload")?.as_object()?,
        Some(_) => return None,
        // Older rollouts: the metadata object itself, unwrapped.
        None => &first,
    };
    let cwd = meta.get("cwd").and_then(Value::as_str)?;
    if !same_dir(cwd, workdir) {
        return None;
    }
    let from_meta = ["id", "session_id"]
        .iter()
        .filter_map(|k| meta.get(*k).and_then(Value::as_str))
        .find(|s| !s.is_empty())
        .map(str::to_string);
    from_meta.or_else(|| {
        // rollout-YYYY-MM-DDTHH-MM-SS-<uuid>: the uuid is the last 36 chars.
        let tail = stem.get(stem.len().checked_sub(36)?..)?;
        is_uuid(tail).then(|| tail.to_string())
    })
}

// ---------------------------------------------------------------- Gemini CLI

/// Where Gemini CLI keeps a project's files, for `workdir`.
///
/// Checked with Gemini CLI 0.61.0 (bundle source and a real `gemini -p` run):
/// `~/.gemini/projects.json` is `{"projects": {"<absolute project root>":
/// "<slug>"}}`; the slug is the root's base name lower-cased with every run
/// of characters other than `a-z0-9` turned into one `-` and the ends trimmed
/// (`My.Proj_dir x` → `my-proj-dir-x`), with `-1`, `-2`, … appended on a
/// clash. Each `~/.gemini/tmp/<slug>/` holds a `.project_root` file naming the
/// root. Older releases used `~/.gemini/tmp/<sha256 hex of the root>/`
/// (still the `projectHash` in session files). `$GEMINI_CLI_HOME` replaces
/// HOME when set. We take the registry entry, any directory whose
/// `.project_root` names the workdir, and the legacy hash directory.
pub(crate) fn gemini_project_dirs(l: &Lookup) -> Vec<PathBuf> {
    let root = l.home.join(".gemini");
    let tmp = root.join("tmp");
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut add = |p: PathBuf| {
        if !dirs.contains(&p) {
            dirs.push(p);
        }
    };
    if let Ok(text) = fs::read_to_string(root.join("projects.json"))
        && let Ok(v) = serde_json::from_str::<Value>(&text)
        && let Some(map) = v.get("projects").and_then(Value::as_object)
    {
        for (k, slug) in map {
            let Some(slug) = slug.as_str() else { continue };
            if same_dir(k, l.workdir) && is_plain_name(slug) {
                add(tmp.join(slug));
            }
        }
    }
    for (_name, p) in dirs_in(&tmp) {
        if let Ok(owner) = fs::read_to_string(p.join(".project_root"))
            && same_dir(owner.trim(), l.workdir)
        {
            add(p);
        }
    }
    add(tmp.join(gemini_project_hash(l.workdir)));
    dirs
}

/// sha256 hex of the project root path, as Gemini CLI's `projectHash`.
pub fn gemini_project_hash(workdir: &Path) -> String {
    hex::encode(Sha256::digest(workdir.to_string_lossy().as_bytes()))
}

/// One path component, no separators, not `.`/`..`.
fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// `<project dir>/chats/session-<YYYY-MM-DDTHH-MM (UTC)>-<first 8 of uuid>.jsonl`,
/// first line `{"sessionId":<uuid>,"projectHash":<sha256 hex>,"startTime":…,
/// "lastUpdated":…,"kind":"main"}`. Subagent chats live in
/// `chats/<parent id>/<id>.jsonl` and are not looked at. Older releases wrote
/// one pretty-printed `session-….json` object; for those the `sessionId` is
/// picked out of the file's head.
fn gemini(l: &Lookup) -> Option<String> {
    let cutoff = l.cutoff_ms();
    let mut found = Vec::new();
    for dir in gemini_project_dirs(l) {
        for (fname, path, m) in files_in(&dir.join("chats")) {
            if m < cutoff || !fname.starts_with("session-") {
                continue;
            }
            let id = if fname.ends_with(".jsonl") {
                let Some(first) = first_json_line(&path) else {
                    continue;
                };
                if first.get("kind").and_then(Value::as_str) == Some("subagent") {
                    continue;
                }
                first
                    .get("sessionId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            } else if fname.ends_with(".json") {
                gemini_json_session_id(&path)
            } else {
                None
            };
            let Some(id) = id.filter(|s| !s.is_empty()) else {
                continue;
            };
            found.push(Candidate {
                id,
                mtime_ms: m,
                name: fname,
            });
        }
    }
    newest(found, l)
}

/// `"sessionId": "<id>"` from the first 64 KiB of a legacy `.json` chat.
fn gemini_json_session_id(path: &Path) -> Option<String> {
    let f = fs::File::open(path).ok()?;
    let mut head = Vec::new();
    f.take(64 << 10).read_to_end(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head);
    let re = regex::Regex::new(r#""sessionId"\s*:\s*"([^"\\]+)""#).ok()?;
    Some(re.captures(&text)?.get(1)?.as_str().to_string())
}

// ---------------------------------------------------------------- Hermes

/// `<home>/.hermes/state.db` (SQLite, WAL; Hermes itself honours
/// `$HERMES_HOME`, which we do not). Table `sessions` with, among others,
/// `id TEXT PRIMARY KEY` (`YYYYMMDD_HHMMSS_<6 hex>`), `source` (`cli`),
/// `started_at REAL` (Unix *seconds*, `time.time()` when the row is written,
/// i.e. at the first message) and `cwd TEXT` (the directory Hermes ran in).
/// Checked in Hermes Agent 0.19.0's `hermes_state.py` and in state.db files
/// written by real runs.
fn hermes(l: &Lookup) -> anyhow::Result<Option<String>> {
    use rusqlite::{Connection, OpenFlags};

    let db = l.home.join(".hermes").join("state.db");
    if !db.is_file() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {}", db.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    let Some(workdir) = l.workdir.to_str() else {
        return Ok(None);
    };
    let cutoff_s = l.cutoff_ms() as f64 / 1000.0;
    let sql = "SELECT id FROM sessions WHERE cwd = ?1 AND started_at >= ?2 \
               ORDER BY started_at DESC, id DESC";
    let mut stmt = match conn.prepare(sql) {
        Ok(s) => s,
        // No `sessions` table (or an older schema without `cwd`): nothing to find.
        Err(e) if e.to_string().contains("no such") => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", db.display())),
    };
    let rows = stmt
        .query_map(rusqlite::params![workdir, cutoff_s], |r| {
            r.get::<_, Option<String>>(0)
        })
        .with_context(|| format!("reading {}", db.display()))?;
    for row in rows {
        let id = row.with_context(|| format!("reading {}", db.display()))?;
        if let Some(id) = id
            && l.free(&id)
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::os::unix::ffi::OsStrExt;
    use std::time::{Duration, SystemTime};

    const NOW_MS: i64 = 1_795_241_578_000; // 2026-11-21T06:12:58Z

    fn at(ms: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms as u64)
    }

    fn write(path: &Path, text: &str, mtime_ms: i64) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(at(mtime_ms))
            .unwrap();
    }

    struct Env {
        _tmp: tempfile::TempDir,
        home: PathBuf,
        work: PathBuf,
        other: PathBuf,
    }

    fn env() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let work = tmp.path().join("my.proj_dir x");
        let other = tmp.path().join("other");
        for d in [&home, &work, &other] {
            fs::create_dir_all(d).unwrap();
        }
        Env {
            _tmp: tmp,
            home,
            work,
            other,
        }
    }

    fn find(store: &str, home: &Path, work: &Path, since: i64, owned: &[&str]) -> Option<String> {
        let owned: HashSet<String> = owned.iter().map(|s| s.to_string()).collect();
        let l = Lookup {
            home,
            workdir: work,
            since_ms: since,
            owned: &owned,
        };
        discover(store, &l).unwrap()
    }

    // ------------------------------------------------------------ claude

    #[test]
    fn claude_dir_name_matches_claude_code() {
        assert_eq!(
            claude_project_dir_name(Path::new("/tmp/dprobe/my.proj_dir x")),
            "-tmp-dprobe-my-proj-dir-x"
        );
        assert_eq!(
            claude_project_dir_name(Path::new("/home/u/Code/ÄbC")),
            "-home-u-Code--bC"
        );
        // A non-BMP character is two UTF-16 units, hence two dashes.
        assert_eq!(claude_project_dir_name(Path::new("/a/😀")), "-a---");
        let long = format!("/{}", "a".repeat(250));
        let name = claude_project_dir_name(Path::new(&long));
        assert!(name.starts_with(&format!("-{}-", "a".repeat(199))));
        assert!(name.len() > 201);
        // Expected values produced by Claude Code 2.1.197's own function under node.
        assert_eq!(claude_project_dir_name(Path::new("/tmp/a😀é")), "-tmp-a---");
        let long = format!("/home/user/{}déjà vu😀", "projects/".repeat(25));
        assert_eq!(
            claude_project_dir_name(Path::new(&long)),
            format!("-home-user-{}-wu35pn", "projects-".repeat(21))
        );
        // The hash of "abc" in JS's 31-multiplier scheme is 96354 = "22ci" in base 36.
        assert_eq!(base36(96354), "22ci");
    }

    fn claude_line(id: &str, cwd: &Path) -> String {
        format!(
            "{{\"type\":\"queue-operation\",\"operation\":\"enqueue\",\"timestamp\":\"2026-11-21T06:37:39.488Z\",\"sessionId\":\"{id}\",\"content\":\"hello\"}}\n\
             {{\"parentUuid\":null,\"isSidechain\":false,\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":\"hello\"}},\"uuid\":\"8419b650-956b-4685-bf69-cd9b7172fc31\",\"timestamp\":\"2026-11-21T06:37:39.594Z\",\"cwd\":\"{}\",\"sessionId\":\"{id}\",\"version\":\"2.1.197\"}}\n",
            cwd.display()
        )
    }

    #[test]
    fn claude_finds_newest_free_session_of_the_workdir() {
        let e = env();
        let proj = e
            .home
            .join(".claude/projects")
            .join(claude_project_dir_name(&e.work));
        let a = "9e093879-ef62-4821-bdb2-c78166ea9d0d";
        let b = "11111111-2222-4333-8444-555555555555";
        let old = "22222222-2222-4333-8444-555555555555";
        write(
            &proj.join(format!("{a}.jsonl")),
            &claude_line(a, &e.work),
            NOW_MS + 1_000,
        );
        write(
            &proj.join(format!("{b}.jsonl")),
            &claude_line(b, &e.work),
            NOW_MS + 2_000,
        );
        write(
            &proj.join(format!("{old}.jsonl")),
            &claude_line(old, &e.work),
            NOW_MS - 60_000,
        );
        // Noise: not a uuid, a directory, an empty file, a non-UTF-8 name.
        write(&proj.join("agent-1234.jsonl"), "{}", NOW_MS + 9_000);
        fs::create_dir_all(proj.join("memory")).unwrap();
        fs::create_dir_all(proj.join("33333333-2222-4333-8444-555555555555.jsonl")).unwrap();
        write(
            &proj.join(std::ffi::OsStr::from_bytes(b"\xff\xfe.jsonl")),
            "",
            NOW_MS + 9_000,
        );
        // Another directory's newer session.
        let other = e
            .home
            .join(".claude/projects")
            .join(claude_project_dir_name(&e.other));
        let c = "44444444-2222-4333-8444-555555555555";
        write(
            &other.join(format!("{c}.jsonl")),
            &claude_line(c, &e.other),
            NOW_MS + 9_000,
        );

        assert_eq!(
            find("claude", &e.home, &e.work, NOW_MS, &[]).as_deref(),
            Some(b)
        );
        assert_eq!(
            find("claude", &e.home, &e.work, NOW_MS, &[b]).as_deref(),
            Some(a)
        );
        assert_eq!(find("claude", &e.home, &e.work, NOW_MS, &[a, b]), None);
        // Within the 5 s slack the older one counts; beyond it it does not.
        assert_eq!(
            find("claude", &e.home, &e.work, NOW_MS - 57_000, &[a, b]).as_deref(),
            Some(old)
        );
        assert_eq!(find("claude", &e.home, &e.work, NOW_MS + 10_000, &[]), None);
        assert_eq!(
            find("claude", &e.home, &e.other, NOW_MS, &[]).as_deref(),
            Some(c)
        );
    }

    #[test]
    fn claude_long_path_accepts_any_hash_suffix() {
        let e = env();
        let long = e.work.join("x".repeat(120)).join("y".repeat(120));
        let name = claude_project_dir_name(&long);
        let alt = format!("{}-someotherhash", &name[..CLAUDE_MAX_NAME]);
        let id = "55555555-2222-4333-8444-555555555555";
        let proj = e.home.join(".claude/projects").join(alt);
        write(
            &proj.join(format!("{id}.jsonl")),
            &claude_line(id, &long),
            NOW_MS,
        );
        assert_eq!(
            find("claude", &e.home, &long, NOW_MS, &[]).as_deref(),
            Some(id)
        );
    }

    // ------------------------------------------------------------ codex

    fn codex_line(id: &str, cwd: &Path) -> String {
        format!(
            "{{\"timestamp\":\"2026-11-21T06:36:24.064Z\",\"ordinal\":0,\"type\":\"session_meta\",\"payload\":{{\"account_scoped\":true,\"session_id\":\"{id}\",\"id\":\"{id}\",\"timestamp\":\"2026-11-21T06:36:20.806Z\",\"cwd\":\"{}\",\"runtime_workspace_roots\":[\"{0}\"],\"originator\":\"codex_exec\",\"cli_version\":\"0.169.0\",\"source\":\"exec\",\"model_provider\":\"openai\",\"base_instructions\":{{\"text\":\"You are Codex.{}\"}}}}}}\n\
             {{\"timestamp\":\"2026-11-21T06:36:24.070Z\",\"type\":\"response_item\",\"payload\":{{\"type\":\"message\",\"role\":\"user\",\"content\":[]}}}}\n",
            cwd.display(),
            " lorem".repeat(5000),
        )
    }

    fn codex_path(home: &Path, ms: i64, id: &str) -> PathBuf {
        let z = jiff::Timestamp::from_millisecond(ms)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::system());
        home.join(".codex/sessions")
            .join(z.strftime("%Y/%m/%d").to_string())
            .join(format!(
                "rollout-{}-{id}.jsonl",
                z.strftime("%Y-%m-%dT%H-%M-%S")
            ))
    }

    #[test]
    fn codex_finds_rollout_by_cwd() {
        let e = env();
        let a = "01a1fcd1-dcbc-76c1-99e5-164e6e2e53d8";
        let b = "01a1fcd2-b0ab-77c0-b58f-039583677566";
        let c = "01a1fcd3-b0ab-77c0-b58f-039583677566";
        let old = "01a1fcd0-b0ab-77c0-b58f-039583677566";
        write(
            &codex_path(&e.home, NOW_MS + 1_000, a),
            &codex_line(a, &e.work),
            NOW_MS + 1_000,
        );
        write(
            &codex_path(&e.home, NOW_MS + 2_000, b),
            &codex_line(b, &e.work),
            NOW_MS + 2_000,
        );
        write(
            &codex_path(&e.home, NOW_MS + 3_000, c),
            &codex_line(c, &e.other),
            NOW_MS + 3_000,
        );
        let two_days = 2 * 86_400_000;
        write(
            &codex_path(&e.home, NOW_MS - two_days, old),
            &codex_line(old, &e.work),
            NOW_MS - two_days,
        );
        // Bad files in today's directory.
        let day = codex_path(&e.home, NOW_MS, a)
            .parent()
            .unwrap()
            .to_path_buf();
        write(
            &day.join("rollout-2026-11-21T06-40-00-bad.jsonl"),
            "not json\n",
            NOW_MS + 5_000,
        );
        write(
            &day.join("rollout-2026-11-21T06-40-01-empty.jsonl"),
            "",
            NOW_MS + 5_000,
        );
        write(
            &day.join("rollout-2026-11-21T06-40-02-arr.jsonl"),
            "[1,2]\n",
            NOW_MS + 5_000,
        );
        write(
            &e.home.join(".codex/sessions/notayear/x.jsonl"),
            "{}",
            NOW_MS,
        );

        assert_eq!(
            find("codex", &e.home, &e.work, NOW_MS, &[]).as_deref(),
            Some(b)
        );
        assert_eq!(
            find("codex", &e.home, &e.work, NOW_MS, &[b]).as_deref(),
            Some(a)
        );
        assert_eq!(find("codex", &e.home, &e.work, NOW_MS, &[a, b]), None);
        assert_eq!(
            find("codex", &e.home, &e.other, NOW_MS, &[]).as_deref(),
            Some(c)
        );
        assert_eq!(
            find("codex", &e.home, &e.work, NOW_MS - two_days, &[a, b]).as_deref(),
            Some(old)
        );
    }

    #[test]
    fn codex_id_falls_back_to_file_name() {
        let e = env();
        let id = "01a1fcd1-dcbc-76c1-99e5-164e6e2e53d8";
        let line = format!(
            "{{\"timestamp\":\"2026-11-21T06:36:24.064Z\",\"type\":\"session_meta\",\"payload\":{{\"cwd\":\"{}\"}}}}\n",
            e.work.display()
        );
        write(&codex_path(&e.home, NOW_MS, id), &line, NOW_MS);
        assert_eq!(
            find("codex", &e.home, &e.work, NOW_MS, &[]).as_deref(),
            Some(id)
        );
    }

    #[test]
    fn codex_first_day_covers_every_time_zone() {
        // 2026-11-21T00:30Z: the 20th in the Americas, the 21st in UTC.
        assert_eq!(codex_first_day(1_795_221_000_000), (2026, 11, 20));
        // 2026-11-21T20:00Z: the 21st everywhere west of UTC+4.
        assert_eq!(codex_first_day(1_795_291_200_000), (2026, 11, 21));
    }

    #[test]
    fn codex_rollout_filed_under_an_earlier_local_date_is_found() {
        // An agent under TZ=Pacific/Honolulu (UTC−10) at 06:37Z files the
        // rollout under the previous day, as seen with Codex 0.169.0.
        let e = env();
        let id = "01a1fcd2-b0ab-77c0-b58f-039583677566";
        let ms = 1_795_243_034_000; // 2026-11-21T06:37:14Z
        let path = e
            .home
            .join(".codex/sessions/2026/11/20")
            .join(format!("rollout-2026-11-20T20-37-14-{id}.jsonl"));
        write(&path, &codex_line(id, &e.work), ms + 3_000);
        assert_eq!(
            find("codex", &e.home, &e.work, ms, &[]).as_deref(),
            Some(id)
        );
    }

    // ------------------------------------------------------------ gemini

    fn gemini_line(id: &str, cwd: &Path) -> String {
        format!(
            "{{\"sessionId\":\"{id}\",\"projectHash\":\"{}\",\"startTime\":\"2026-11-21T06:38:03.896Z\",\"lastUpdated\":\"2026-11-21T06:38:03.896Z\",\"kind\":\"main\"}}\n\
             {{\"id\":\"fe03d524-bede-479c-b6a1-951bc47464e8\",\"timestamp\":\"2026-11-21T06:38:04.194Z\",\"type\":\"user\",\"content\":[{{\"text\":\"hello\"}}]}}\n\
             {{\"$set\":{{\"lastUpdated\":\"2026-11-21T06:38:04.194Z\"}}}}\n",
            gemini_project_hash(cwd)
        )
    }

    fn gemini_project(home: &Path, slug: &str, root: &Path, registry: bool) -> PathBuf {
        let dir = home.join(".gemini/tmp").join(slug);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(".project_root"), root.to_string_lossy().as_bytes()).unwrap();
        if registry {
            let reg = home.join(".gemini/projects.json");
            let mut v: Value = fs::read_to_string(&reg)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_else(|| serde_json::json!({"projects": {}}));
            v["projects"][root.to_string_lossy().as_ref()] = Value::from(slug);
            fs::write(&reg, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        }
        dir.join("chats")
    }

    #[test]
    fn gemini_project_hash_is_sha256_hex_of_root() {
        assert_eq!(
            gemini_project_hash(Path::new("/tmp/dprobe/My.Proj_dir x")),
            "32a1357238fd43611a4ee9a18bd40be43ac8efbde27ae6906a8045095ec4230d"
        );
    }

    #[test]
    fn gemini_finds_session_via_registry_marker_and_hash_dirs() {
        let e = env();
        let chats = gemini_project(&e.home, "my-proj-dir-x", &e.work, true);
        let other_chats = gemini_project(&e.home, "other", &e.other, true);
        let a = "4ef27215-ca61-4c40-97c1-e78b460c941a";
        let b = "5ef27215-ca61-4c40-97c1-e78b460c941a";
        let c = "6ef27215-ca61-4c40-97c1-e78b460c941a";
        let old = "7ef27215-ca61-4c40-97c1-e78b460c941a";
        let sub = "8ef27215-ca61-4c40-97c1-e78b460c941a";
        write(
            &chats.join("session-2026-11-21T06-38-4ef27215.jsonl"),
            &gemini_line(a, &e.work),
            NOW_MS + 1_000,
        );
        write(
            &chats.join("session-2026-11-21T06-39-5ef27215.jsonl"),
            &gemini_line(b, &e.work),
            NOW_MS + 2_000,
        );
        write(
            &chats.join("session-2026-11-20T06-39-7ef27215.jsonl"),
            &gemini_line(old, &e.work),
            NOW_MS - 86_400_000,
        );
        write(
            &other_chats.join("session-2026-11-21T06-40-6ef27215.jsonl"),
            &gemini_line(c, &e.other),
            NOW_MS + 3_000,
        );
        // A subagent record, bad and empty files, a non-session file.
        write(
            &chats.join("session-2026-11-21T06-41-8ef27215.jsonl"),
            &gemini_line(sub, &e.work).replace("\"main\"", "\"subagent\""),
            NOW_MS + 4_000,
        );
        write(
            &chats.join(format!("{a}/{sub}.jsonl")),
            &gemini_line(sub, &e.work),
            NOW_MS + 4_000,
        );
        write(
            &chats.join("session-2026-11-21T06-42-bad.jsonl"),
            "{\"sessionId\":",
            NOW_MS + 5_000,
        );
        write(
            &chats.join("session-2026-11-21T06-43-empty.jsonl"),
            "",
            NOW_MS + 5_000,
        );
        write(
            &chats.join("notes.jsonl"),
            &gemini_line(sub, &e.work),
            NOW_MS + 5_000,
        );

        assert_eq!(
            find("gemini", &e.home, &e.work, NOW_MS, &[]).as_deref(),
            Some(b)
        );
        assert_eq!(
            find("gemini", &e.home, &e.work, NOW_MS, &[b]).as_deref(),
            Some(a)
        );
        assert_eq!(find("gemini", &e.home, &e.work, NOW_MS, &[a, b]), None);
        assert_eq!(
            find("gemini", &e.home, &e.other, NOW_MS, &[]).as_deref(),
            Some(c)
        );

        // Without projects.json the .project_root marker still finds the directory.
        fs::remove_file(e.home.join(".gemini/projects.json")).unwrap();
        assert_eq!(
            find("gemini", &e.home, &e.work, NOW_MS, &[]).as_deref(),
            Some(b)
        );
        // A corrupt registry is ignored.
        fs::write(e.home.join(".gemini/projects.json"), "{oops").unwrap();
        assert_eq!(
            find("gemini", &e.home, &e.work, NOW_MS, &[]).as_deref(),
            Some(b)
        );
    }

    #[test]
    fn gemini_legacy_hash_dir_and_json_files() {
        let e = env();
        let chats = e
            .home
            .join(".gemini/tmp")
            .join(gemini_project_hash(&e.work))
            .join("chats");
        let id = "9ef27215-ca61-4c40-97c1-e78b460c941a";
        let text = format!(
            "{{\n  \"sessionId\": \"{id}\",\n  \"projectHash\": \"{}\",\n  \"messages\": []\n}}",
            gemini_project_hash(&e.work)
        );
        write(
            &chats.join("session-2026-11-21T06-38-9ef27215.json"),
            &text,
            NOW_MS,
        );
        assert_eq!(
            find("gemini", &e.home, &e.work, NOW_MS, &[]).as_deref(),
            Some(id)
        );
    }

    // ------------------------------------------------------------ hermes

    fn hermes_db(home: &Path, rows: &[(&str, &str, f64)]) {
        let dir = home.join(".hermes");
        fs::create_dir_all(&dir).unwrap();
        let c = rusqlite::Connection::open(dir.join("state.db")).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE IF NOT EXISTS sessions (
                id TEXT PRIMARY KEY, source TEXT NOT NULL, user_id TEXT, model TEXT,
                started_at REAL NOT NULL, ended_at REAL, end_reason TEXT,
                message_count INTEGER DEFAULT 0, cwd TEXT, git_repo_root TEXT, title TEXT,
                profile_name TEXT);",
        )
        .unwrap();
        for (id, cwd, started) in rows {
            c.execute(
                "INSERT INTO sessions (id, source, cwd, started_at, end_reason, message_count)
                 VALUES (?1, 'cli', ?2, ?3, 'cli_close', 2)",
                rusqlite::params![id, cwd, started],
            )
            .unwrap();
        }
    }

    #[test]
    fn hermes_finds_newest_row_for_cwd() {
        let e = env();
        let w = e.work.to_str().unwrap();
        let o = e.other.to_str().unwrap();
        let s = |ms: i64| ms as f64 / 1000.0 + 0.9805017;
        hermes_db(
            &e.home,
            &[
                ("20261121_061300_0003c9", w, s(NOW_MS + 1_000)),
                ("20261121_061301_b76243", w, s(NOW_MS + 2_000)),
                ("20261121_061302_58df1c", o, s(NOW_MS + 3_000)),
                ("20261120_061302_aaaaaa", w, s(NOW_MS - 86_400_000)),
            ],
        );
        assert_eq!(
            find("hermes", &e.home, &e.work, NOW_MS, &[]).as_deref(),
            Some("20261121_061301_b76243")
        );
        assert_eq!(
            find(
                "hermes",
                &e.home,
                &e.work,
                NOW_MS,
                &["20261121_061301_b76243"]
            )
            .as_deref(),
            Some("20261121_061300_0003c9")
        );
        assert_eq!(
            find(
                "hermes",
                &e.home,
                &e.work,
                NOW_MS,
                &["20261121_061301_b76243", "20261121_061300_0003c9"]
            ),
            None
        );
        assert_eq!(
            find("hermes", &e.home, &e.other, NOW_MS, &[]).as_deref(),
            Some("20261121_061302_58df1c")
        );
    }

    #[test]
    fn hermes_missing_db_or_table_is_none() {
        let e = env();
        assert_eq!(find("hermes", &e.home, &e.work, NOW_MS, &[]), None);
        fs::create_dir_all(e.home.join(".hermes")).unwrap();
        rusqlite::Connection::open(e.home.join(".hermes/state.db"))
            .unwrap()
            .execute_batch("CREATE TABLE other (x);")
            .unwrap();
        assert_eq!(find("hermes", &e.home, &e.work, NOW_MS, &[]), None);
    }

    // ------------------------------------------------------------ all

    #[test]
    fn unknown_store_and_empty_home_are_none() {
        let e = env();
        for store in ["claude", "codex", "gemini", "hermes", "aider", ""] {
            assert_eq!(find(store, &e.home, &e.work, NOW_MS, &[]), None, "{store}");
        }
        let missing = e.home.join("nope");
        for store in ["claude", "codex", "gemini", "hermes"] {
            assert_eq!(find(store, &missing, &e.work, NOW_MS, &[]), None, "{store}");
        }
    }
}
