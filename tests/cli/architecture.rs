//! The architecture of ARCHITECTURE.md, checked against the source: every
//! room imports only rooms below it (so there is no import loop), and the
//! seals hold — SQL only in the registry, processes only in `agent::tmux`
//! (tmux) and `git` (git), MQTT only in `events`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each room with its layer: a room may use only rooms of a lower layer.
/// A new top-level module must be placed here (and in ARCHITECTURE.md).
const ROOMS: &[(&str, u8)] = &[
    ("commands", 9),
    ("mcp", 8),
    ("dash", 8),
    ("reconcile", 7),
    ("tools", 7),
    ("mail", 6),
    ("app", 5),
    ("agent", 4),
    ("events", 4),
    ("lease", 4),
    ("shared", 4),
    ("hooks", 4),
    ("config", 3),
    ("registry", 3),
    ("artifacts", 2),
    ("cli", 2),
    ("duration", 2),
    ("git", 2),
    ("lock", 2),
    ("signing", 2),
    ("ui", 2),
    ("workspace", 2),
    ("clock", 1),
    ("os", 1),
    ("error", 0),
    ("model", 0),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every non-test source file of the library: (path under src/, text with
/// comments and the `#[cfg(test)]` tail removed).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&src(), &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(src()).unwrap().display().to_string();
        let name = f.file_stem().unwrap().to_string_lossy();
        if rel == "lib.rs" || rel.starts_with("bin/") || name.starts_with("tests") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        out.push((rel, code));
    }
    out
}

fn room_of(rel: &str) -> &str {
    let first = rel.split('/').next().unwrap();
    first.strip_suffix(".rs").unwrap_or(first)
}

/// The rooms a piece of code names through `crate::…`.
fn used_rooms(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let head = item.trim().split("::").next().unwrap_or("");
                if !head.is_empty() {
                    out.insert(head.to_string());
                }
            }
        } else {
            let head: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !head.is_empty() {
                out.insert(head);
            }
        }
    }
    out
}

fn layer(room: &str) -> Option<u8> {
    ROOMS.iter().find(|(r, _)| *r == room).map(|(_, l)| *l)
}

/// What a layering check finds wrong in `files` (empty when it holds).
fn layering_faults(files: &[(String, String)]) -> Vec<String> {
    let mut faults = Vec::new();
    for (rel, code) in files {
        let room = room_of(rel);
        let Some(mine) = layer(room) else {
            faults.push(format!(
                "{rel}: room `{room}` is not in ROOMS (tests/cli/architecture.rs) nor, presumably, in ARCHITECTURE.md"
            ));
            continue;
        };
        for used in used_rooms(code) {
            if used == room {
                continue;
            }
            match layer(&used) {
                Some(theirs) if theirs < mine => {}
                Some(theirs) => faults.push(format!(
                    "{rel}: `{room}` (layer {mine}) uses `{used}` (layer {theirs}): only lower layers may be used"
                )),
                None => faults.push(format!("{rel}: uses unknown room `{used}`")),
            }
        }
    }
    faults
}

#[test]
fn every_room_uses_only_rooms_below_it() {
    let files = sources();
    assert!(
        files.len() > 40 && files.iter().any(|(r, _)| r == "registry/jobs.rs"),
        "the source walk found only {} files",
        files.len()
    );
    let faults = layering_faults(&files);
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn the_layering_check_catches_an_upward_import() {
    let files = vec![
        (
            "registry/jobs.rs".to_string(),
            "use crate::mail::deliver;\nuse crate::{error, model::JobState};".to_string(),
        ),
        ("newroom.rs".to_string(), String::new()),
    ];
    assert_eq!(
        layering_faults(&files),
        vec![
            "registry/jobs.rs: `registry` (layer 3) uses `mail` (layer 6): only lower layers may be used"
                .to_string(),
            "newroom.rs: room `newroom` is not in ROOMS (tests/cli/architecture.rs) nor, presumably, in ARCHITECTURE.md"
                .to_string(),
        ]
    );
}

/// The files whose code mentions `needle`.
fn files_naming(needle: &str) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(_, code)| code.contains(needle))
        .map(|(rel, _)| rel)
        .collect()
}

#[test]
fn the_seals_hold() {
    // mam's own registry is SQL in registry/ only; agent::discover reads the
    // SQLite store of another tool (Hermes), never mam's; error.rs only
    // recognises SQLite's damaged-database codes to classify them (exit 6).
    let sql: Vec<String> = files_naming("rusqlite")
        .into_iter()
        .filter(|f| !f.starts_with("registry/"))
        .collect();
    assert_eq!(
        sql,
        vec!["agent/discover.rs".to_string(), "error.rs".to_string()]
    );
    // Only agent::tmux (tmux) and git (git) start processes, and os::unix
    // the user's own `[worktree] setup` shell lines.
    assert_eq!(
        files_naming("Command::new"),
        vec![
            "agent/tmux.rs".to_string(),
            "git.rs".to_string(),
            "hooks.rs".to_string(),
            "os/unix.rs".to_string()
        ]
    );
    // OS-specific code stays in os/.
    for needle in ["libc::", "std::os::unix"] {
        let outside: Vec<String> = files_naming(needle)
            .into_iter()
            .filter(|f| !f.starts_with("os/"))
            .collect();
        assert_eq!(outside, Vec::<String>::new(), "{needle} outside os/");
    }
    assert_eq!(files_naming("rumqttc"), vec!["events/mqtt.rs".to_string()]);
    // The registry's connection and transaction stay private.
    for (rel, code) in sources() {
        if rel.starts_with("registry/") {
            assert!(
                !code.contains("pub fn conn("),
                "{rel} exposes the connection"
            );
            assert!(!code.contains("pub tx:"), "{rel} exposes the transaction");
        }
    }
}

/// Every event kind the code emits is one a `[[hooks]]` entry may name
/// (`config::EVENT_KINDS`), so a new event cannot be unhookable; and every
/// listed kind is emitted somewhere: as a literal, or built at run time
/// from a state (`job.done`/`job.failed` in registry/jobs.rs,
/// `lease.released`/`lease.broken` by `end_lease`).
#[test]
fn every_emitted_event_kind_can_be_hooked_and_every_hookable_kind_is_emitted() {
    let re = regex::Regex::new(r#"\bemit\(\s*"([a-z_.]+)""#).unwrap();
    let emitted: BTreeSet<String> = sources()
        .iter()
        .flat_map(|(_, code)| {
            re.captures_iter(code)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let listed: BTreeSet<String> = mam::config::EVENT_KINDS
        .iter()
        .map(|k| k.to_string())
        .collect();
    let built = ["job.done", "job.failed", "lease.broken", "lease.released"];
    let unlisted: Vec<&String> = emitted.difference(&listed).collect();
    assert_eq!(unlisted, Vec::<&String>::new(), "emitted, not hookable");
    let never: Vec<&String> = listed
        .difference(&emitted)
        .filter(|k| !built.contains(&k.as_str()))
        .collect();
    assert_eq!(never, Vec::<&String>::new(), "hookable, never emitted");
    for k in built {
        assert!(!emitted.contains(k), "{k} is now a literal: drop it here");
        assert!(listed.contains(k), "{k}");
    }
}
