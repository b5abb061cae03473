//! Workspace discovery and the `Paths` struct: every path `mam` uses, resolved
//! once. Also the local-filesystem check for the state directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::{environment, usage};

/// Every path of one workspace.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The workspace root (where agents work by default).
    pub root: PathBuf,
    /// The state directory: `<root>/.mam`, or `MAM_STATE_DIR`.
    pub state: PathBuf,
    pub db: PathBuf,
    pub key: PathBuf,
    /// This host's Ed25519 key for fleet traffic (`host.key`, 0600).
    pub host_key: PathBuf,
    pub config: PathBuf,
    pub attachments: PathBuf,
    pub locks: PathBuf,
    pub reconcile_lock: PathBuf,
    pub setup_lock: PathBuf,
    /// Held by every registry write transaction (`Registry::write`), so
    /// writers queue in the kernel instead of polling SQLite's lock.
    pub write_lock: PathBuf,
}

impl Paths {
    pub fn new(root: PathBuf, state: PathBuf) -> Paths {
        Paths {
            db: state.join("mam.db"),
            key: state.join("secret.key"),
            host_key: state.join("host.key"),
            config: state.join("config.toml"),
            attachments: state.join("attachments"),
            locks: state.join("locks"),
            reconcile_lock: state.join("reconcile.lock"),
            setup_lock: state.join("locks").join("setup.lock"),
            write_lock: state.join("write.lock"),
            root,
            state,
        }
    }

    /// Discover the workspace for `cwd`: an explicit directory wins; else the
    /// nearest ancestor holding `.mam/`; else the nearest holding `.git`; else
    /// `cwd`. `state_dir` (from `MAM_STATE_DIR`) relocates the state directory.
    pub fn discover(
        explicit: Option<&Path>,
        state_dir: Option<&Path>,
        cwd: &Path,
    ) -> Result<Paths> {
        let root = match explicit {
            Some(dir) => {
                let dir = absolute(dir, cwd);
                if !dir.is_dir() {
                    return Err(
                        usage(format!("workspace {} is not a directory", dir.display()))
                            .hint("pass an existing directory to --workspace or MAM_WORKSPACE")
                            .into(),
                    );
                }
                dir
            }
            None => find_root(cwd),
        };
        let root = root.canonicalize().unwrap_or(root);
        let state = match state_dir {
            Some(s) if !s.as_os_str().is_empty() => absolute(s, cwd),
            _ => root.join(".mam"),
        };
        Ok(Paths::new(root, state))
    }

    /// Whether the state directory has been created.
    pub fn exists(&self) -> bool {
        self.state.is_dir()
    }

    /// Create the state directory and its subdirectories. Returns true when it
    /// was created now (the caller says so on stderr).
    pub fn ensure(&self) -> Result<bool> {
        let created = !self.state.is_dir();
        if created {
            check_local_fs(nearest_existing(&self.state))?;
        }
        for dir in [&self.state, &self.attachments, &self.locks] {
            create_private_dir(dir)?;
        }
        if created {
            check_local_fs(&self.state)?;
        }
        Ok(created)
    }

    /// The per-job lock file.
    pub fn job_lock(&self, job: &str) -> PathBuf {
        self.locks.join(format!("{job}.lock"))
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    match crate::os::create_private_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create directory {}", dir.display())),
    }
}

fn absolute(p: &Path, cwd: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

fn find_root(cwd: &Path) -> PathBuf {
    if let Some(dir) = cwd.ancestors().find(|d| d.join(".mam").is_dir()) {
        return dir.to_path_buf();
    }
    if let Some(dir) = cwd.ancestors().find(|d| d.join(".git").exists()) {
        return dir.to_path_buf();
    }
    cwd.to_path_buf()
}

fn nearest_existing(p: &Path) -> &Path {
    p.ancestors().find(|a| a.exists()).unwrap_or(Path::new("/"))
}

/// Refuse a state directory on a network filesystem.
pub fn check_local_fs(dir: &Path) -> Result<()> {
    if let Some(name) = crate::os::fstype::network_fs(dir) {
        return Err(environment(format!(
            "state directory {} is on a network filesystem ({name}); file locks and SQLite are not safe there",
            dir.display()
        ))
        .hint("set MAM_STATE_DIR to a directory on local disk, e.g. MAM_STATE_DIR=$HOME/.local/state/mam/<project>")
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_prefers_mam_then_git_then_cwd() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().canonicalize().unwrap();
        let deep = base.join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(Paths::discover(None, None, &deep).unwrap().root, deep);
        std::fs::create_dir_all(base.join("a/.git")).unwrap();
        assert_eq!(
            Paths::discover(None, None, &deep).unwrap().root,
            base.join("a")
        );
        std::fs::create_dir_all(base.join("a/b/.mam")).unwrap();
        let p = Paths::discover(None, None, &deep).unwrap();
        assert_eq!(p.root, base.join("a/b"));
        assert_eq!(p.state, base.join("a/b/.mam"));
        let p = Paths::discover(None, Some(Path::new("/var/tmp/x")), &deep).unwrap();
        assert_eq!(p.state, Path::new("/var/tmp/x"));
        assert_eq!(p.db, Path::new("/var/tmp/x/mam.db"));
    }

    #[test]
    fn a_local_state_directory_is_accepted() {
        assert!(check_local_fs(Path::new("/tmp")).is_ok());
    }
}
