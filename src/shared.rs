//! The shared docs: a directory of read-only files every agent can read
//! (`[shared] dir`, default `.mam/shared/`, given to agents as
//! `MAM_SHARED_DIR`), curated by the operator or a `pm`.
//!
//! Each file is written read-only (0444) and recorded in the registry's
//! manifest with its sha256; `verify` compares the directory with the
//! manifest. A change is one transaction: the manifest rows, a
//! `shared.changed` event and a broadcast to every running agent but the
//! one making it (typed with the usual "may need no action" hint). The
//! files are written to temporary names first and put in place after the
//! commit, so a refused or failed change leaves nothing behind.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{conflict, not_found, usage};
use crate::model::Role;
use crate::registry::Registry;
use crate::registry::messages::NewMessage;
use crate::registry::shared::SharedFile;

/// A file to add: where it is read from and its name in the shared dir.
#[derive(Debug, Clone)]
pub struct Source {
    pub from: PathBuf,
    pub name: String,
}

/// What a change did, and whom it told.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub added: Vec<SharedFile>,
    pub removed: Vec<String>,
    /// Broadcast message ids with their recipients.
    pub told: Vec<(String, String)>,
}

/// One file that is not as the manifest says.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub name: String,
    /// `changed`, `missing` or `unlisted` (in the directory, not in the
    /// manifest).
    pub problem: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

/// sha256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A shared file's name: one path segment of `[A-Za-z0-9._-]`, not
/// starting with a dot, at most 128 bytes.
pub fn check_file_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(usage(format!("invalid shared file name {name:?}"))
            .hint("use letters, digits, '.', '-' and '_' (not starting with '.'); give another with --as NAME")
            .into())
    }
}

/// Only the operator and jobs with role `pm` change the shared docs.
pub fn check_curator(reg: &Registry, actor: &str) -> Result<()> {
    if actor == "operator" {
        return Ok(());
    }
    let role = reg.job(actor)?.map(|j| j.role);
    if role == Some(Role::Pm) {
        return Ok(());
    }
    let what = match role {
        Some(r) => format!("{actor} is a {r}"),
        None => format!("{actor} is not a job here"),
    };
    Err(conflict(format!(
        "only the operator or a pm may change the shared docs; {what}"
    ))
    .hint("ask the operator or your pm to add it (`mam send pm …`)")
    .into())
}

/// Add (or replace) files, as `actor`.
pub fn add(reg: &mut Registry, dir: &Path, actor: &str, files: &[Source]) -> Result<Change> {
    check_curator(reg, actor)?;
    if files.is_empty() {
        return Err(usage("name at least one file to share").into());
    }
    let mut names = std::collections::BTreeSet::new();
    let mut read = Vec::new();
    for f in files {
        check_file_name(&f.name)?;
        if !names.insert(f.name.clone()) {
            return Err(usage(format!("{:?} is given twice", f.name)).into());
        }
        let meta = std::fs::metadata(&f.from)
            .map_err(|e| not_found(format!("cannot read {}: {e}", f.from.display())))?;
        if !meta.is_file() {
            return Err(usage(format!("{} is not a regular file", f.from.display())).into());
        }
        let bytes =
            std::fs::read(&f.from).with_context(|| format!("cannot read {}", f.from.display()))?;
        read.push((f.name.clone(), bytes));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Temporary files first; into place only after the commit.
    let mut temps = Vec::new();
    let result = (|| -> Result<Change> {
        for (name, bytes) in &read {
            let tmp = dir.join(format!(".{name}.mam-{}", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            std::fs::write(&tmp, bytes)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            temps.push(tmp.clone());
            crate::os::make_read_only(&tmp)
                .with_context(|| format!("cannot make {} read-only", tmp.display()))?;
        }
        let recipients = recipients(reg, actor)?;
        let change = reg.write(|tx| {
            let mut added = Vec::new();
            for (name, bytes) in &read {
                added.push(tx.put_shared_file(
                    name,
                    &sha256_hex(bytes),
                    bytes.len() as i64,
                    actor,
                )?);
            }
            let summary: Vec<String> = added
                .iter()
                .map(|f| format!("{} (sha256 {})", f.name, &f.sha256[..12]))
                .collect();
            let text = format!(
                "shared docs changed by {actor}: added {}; read them in $MAM_SHARED_DIR ({})",
                summary.join(", "),
                dir.display()
            );
            let names: Vec<&str> = added.iter().map(|f| f.name.as_str()).collect();
            tx.emit(
                "shared.changed",
                "-",
                json!({"by": actor, "added": names, "removed": []}),
            )?;
            let told = broadcast(tx, actor, &recipients, &text)?;
            Ok(Change {
                added,
                removed: Vec::new(),
                told,
            })
        })?;
        for ((name, _), tmp) in read.iter().zip(&temps) {
            let dest = dir.join(name);
            std::fs::rename(tmp, &dest)
                .with_context(|| format!("cannot put {} in place", dest.display()))?;
        }
        Ok(change)
    })();
    if result.is_err() {
        for t in &temps {
            let _ = std::fs::remove_file(t);
        }
    }
    result
}

/// Remove a file from the shared docs, as `actor`.
pub fn rm(reg: &mut Registry, dir: &Path, actor: &str, name: &str) -> Result<Change> {
    check_curator(reg, actor)?;
    check_file_name(name)?;
    if reg.shared_file(name)?.is_none() {
        return Err(not_found(format!("no shared file named {name:?}"))
            .hint("`mam shared list` shows them")
            .into());
    }
    let recipients = recipients(reg, actor)?;
    let change = reg.write(|tx| {
        tx.delete_shared_file(name)?;
        tx.emit(
            "shared.changed",
            "-",
            json!({"by": actor, "added": [], "removed": [name]}),
        )?;
        let text = format!(
            "shared docs changed by {actor}: removed {name} from $MAM_SHARED_DIR ({})",
            dir.display()
        );
        let told = broadcast(tx, actor, &recipients, &text)?;
        Ok(Change {
            added: Vec::new(),
            removed: vec![name.to_string()],
            told,
        })
    })?;
    let path = dir.join(name);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
    }
    Ok(change)
}

/// Every running agent but the actor.
fn recipients(reg: &Registry, actor: &str) -> Result<Vec<String>> {
    Ok(reg
        .jobs()?
        .into_iter()
        .filter(|j| j.name != actor && j.is_running())
        .map(|j| j.name)
        .collect())
}

fn broadcast(
    tx: &crate::registry::Tx,
    from: &str,
    to: &[String],
    text: &str,
) -> Result<Vec<(String, String)>> {
    to.iter()
        .map(|r| {
            let id = tx.insert_message(&NewMessage {
                from,
                to: r,
                kind: "broadcast",
                body: text,
                in_reply_to: None,
                question_id: None,
            })?;
            Ok((format!("m{id}"), r.clone()))
        })
        .collect()
}

/// Compare the directory with the manifest: changed and missing files,
/// and files no one added (mam's own temporary files are skipped).
pub fn verify(reg: &Registry, dir: &Path) -> Result<Vec<Finding>> {
    let manifest = reg.shared_files()?;
    let mut out = Vec::new();
    for f in &manifest {
        let path = dir.join(&f.name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let actual = sha256_hex(&bytes);
                if actual != f.sha256 {
                    out.push(Finding {
                        name: f.name.clone(),
                        problem: "changed".into(),
                        expected: Some(f.sha256.clone()),
                        actual: Some(actual),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.push(Finding {
                name: f.name.clone(),
                problem: "missing".into(),
                expected: Some(f.sha256.clone()),
                actual: None,
            }),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut extra: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && !manifest.iter().any(|f| &f.name == n))
            .collect();
        extra.sort();
        for name in extra {
            out.push(Finding {
                name,
                problem: "unlisted".into(),
                expected: None,
                actual: None,
            });
        }
    }
    Ok(out)
}
