//! The git pre-commit hook that runs `mam lease check --staged`, installed
//! into a checkout (the main one with `mam lease hook install`; a worktree
//! made by `mam create --worktree` unless `lease.hook = false`).
//!
//! The hook goes where git looks for hooks (`core.hooksPath` when set, else
//! the repository's hooks directory, which its worktrees share). A
//! pre-commit hook that mam did not write is never replaced: installing
//! reports it, and says what line to add to it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// The line that marks a hook as mam's own.
const MARK: &str = "# mam: lease check (installed by `mam lease hook install`)";

/// What installing did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Installed {
    /// Written now.
    Written { path: PathBuf },
    /// mam's hook was there already, unchanged.
    Unchanged { path: PathBuf },
    /// Another pre-commit hook is there; left alone.
    Foreign { path: PathBuf, line: String },
}

/// The command the hook runs, as one shell line.
pub fn check_line(mam: &Path, workspace: &Path) -> String {
    format!(
        "{} --workspace {} lease check --staged",
        sh_quote(&mam.display().to_string()),
        sh_quote(&workspace.display().to_string())
    )
}

/// The whole hook script.
pub fn script(mam: &Path, workspace: &Path) -> String {
    format!(
        "#!/bin/sh\n{MARK}\n# Refuses a commit that touches a path another agent holds an exclusive\n# lease on. Skip it once with `git commit --no-verify`.\nexec {}\n",
        check_line(mam, workspace)
    )
}

/// Install the pre-commit hook into the checkout at `repo`, running `mam`
/// against `workspace`.
pub fn install(repo: &Path, mam: &Path, workspace: &Path) -> Result<Installed> {
    let dir = crate::git::hooks_dir(repo)?;
    let path = dir.join("pre-commit");
    let want = script(mam, workspace);
    match std::fs::read_to_string(&path) {
        Ok(have) if have == want => return Ok(Installed::Unchanged { path }),
        Ok(have) if !have.contains(MARK) => {
            return Ok(Installed::Foreign {
                path,
                line: check_line(mam, workspace),
            });
        }
        Ok(_) => {} // an older hook of mam's: rewritten below
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", path.display()));
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(".pre-commit.mam-{}", std::process::id()));
    std::fs::write(&tmp, &want).with_context(|| format!("cannot write {}", tmp.display()))?;
    crate::os::make_executable(&tmp)
        .with_context(|| format!("cannot make {} executable", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Installed::Written { path })
}

/// One word for sh: single-quoted unless plainly safe.
fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_line_quotes_what_needs_it() {
        assert_eq!(
            check_line(Path::new("/usr/bin/mam"), Path::new("/w/my ws")),
            "/usr/bin/mam --workspace '/w/my ws' lease check --staged"
        );
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
    }
}
