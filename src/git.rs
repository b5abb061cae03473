//! The git calls mam makes, as typed functions over one private runner:
//! an argument vector (never a shell), `-C DIR`, the exit status checked
//! and git's stderr kept in the error.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::error::{environment, usage};

/// Run `git -C dir ARGS`; its stdout on success.
fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::Error::from(
                    environment("git is not installed (not found on PATH)")
                        .hint("install git, e.g. `sudo apt-get install git`"),
                )
            } else {
                anyhow::Error::from(e).context("cannot run git")
            }
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        if stderr.contains("not a git repository") {
            return Err(
                usage(format!("{} is not in a git repository", dir.display()))
                    .hint("run this in a git checkout, or name the files to check")
                    .into(),
            );
        }
        anyhow::bail!(
            "git -C {} {} failed ({}): {stderr}",
            dir.display(),
            args.join(" "),
            out.status
        );
    }
    Ok(out.stdout)
}

/// The paths staged for the next commit in the checkout at `dir`, as git
/// names them (relative to the top of that checkout, whatever `dir` and
/// `diff.relative` say). Added, copied,
/// modified, renamed (both names) and deleted files all count.
pub fn staged_paths(dir: &Path) -> Result<Vec<String>> {
    let out = run(
        dir,
        &[
            "diff",
            "--cached",
            "--name-only",
            "--no-renames",
            "--no-relative",
            "-z",
            "--no-ext-diff",
        ],
    )?;
    Ok(out
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

/// Where git looks for the hooks of the checkout at `dir`: `core.hooksPath`
/// when set, else the repository's `hooks/` (shared by its worktrees).
pub fn hooks_dir(dir: &Path) -> Result<PathBuf> {
    let out = run(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
    )?;
    let text = String::from_utf8(out).context("git printed a hooks path that is not UTF-8")?;
    Ok(PathBuf::from(text.trim_end_matches(['\n', '\r'])))
}
