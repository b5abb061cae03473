//! A job's own git worktree (`mam create --worktree`): planning it (every
//! check before anything is made), adding it, copying untracked files into
//! it and running the setup commands; what `status` shows of it (one git
//! call per changed worktree, side by side, plus one per repository for
//! the ahead/behind counts; an unchanged worktree's status comes from the
//! cache); and the rule that removes one only when no work is lost. git
//! itself is driven through `crate::git`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::error::{conflict, not_found, usage};
use crate::git;
use crate::registry::jobs::Worktree;

/// What `create --worktree` asks for.
pub struct Request<'a> {
    /// Where mam runs (the workspace root): its repository gets the worktree.
    pub from: &'a Path,
    pub name: &'a str,
    pub branch: Option<&'a str>,
    pub base: Option<&'a str>,
    /// `[worktree] root`, resolved against the workspace root.
    pub root: &'a Path,
}

/// Check everything `create --worktree` needs before anything is made:
/// a git repository (exit 2), a valid branch name (2), a base that resolves
/// (3), a branch and a path that do not exist yet (4). Returns the record.
pub fn plan(req: &Request) -> Result<Worktree> {
    let Some(repo) = git::toplevel(req.from)? else {
        return Err(usage(format!(
            "--worktree: {} is not inside a git repository",
            req.from.display()
        ))
        .hint("run mam in a git checkout (or `git init` one), or leave out --worktree")
        .into());
    };
    let branch = match req.branch {
        Some(b) => b.to_string(),
        None => format!("mam/{}", req.name),
    };
    if !git::valid_branch_name(&repo, &branch)? {
        return Err(
            usage(format!("--branch {branch:?} is not a valid branch name"))
                .hint("see `git check-ref-format --help` for what a branch may be called")
                .into(),
        );
    }
    let (base_ref, base_commit) = match req.base {
        Some(b) => {
            let Some(oid) = git::resolve_commit(&repo, b)? else {
                return Err(not_found(format!(
                    "--base {b:?} names no commit in {}",
                    repo.display()
                ))
                .hint("give a branch, tag or commit that exists (`git branch -a` lists branches)")
                .into());
            };
            (git::branch_ref(&repo, b)?, oid)
        }
        None => {
            let Some(oid) = git::resolve_commit(&repo, "HEAD")? else {
                return Err(not_found(format!(
                    "--worktree: the repository {} has no commit yet to branch from",
                    repo.display()
                ))
                .hint("make a first commit, or pass --base")
                .into());
            };
            let current = git::current_branch(&repo)?.map(|b| format!("refs/heads/{b}"));
            (current, oid)
        }
    };
    if git::branch_exists(&repo, &branch)? {
        return Err(conflict(format!(
            "branch {branch} exists already in {}",
            repo.display()
        ))
        .hint(format!(
            "pick another with --branch, or delete it first (`git branch -d {branch}`)"
        ))
        .into());
    }
    let path = req.root.join(req.name);
    if path.symlink_metadata().is_ok() {
        return Err(
            conflict(format!("worktree path {} exists already", path.display()))
                .hint("move it away, or set another [worktree] root in .mam/config.toml")
                .into(),
        );
    }
    Ok(Worktree {
        path: path.display().to_string(),
        repo: repo.display().to_string(),
        branch,
        base_ref,
        base_commit,
        copied: Vec::new(),
        state: "present".into(),
    })
}

/// Make the directory that holds the worktrees, with a `.gitignore` so a
/// root inside the checkout (the default, `.mam/worktrees`) never shows in
/// the main checkout's `git status`. Returns it canonical (agents' trust is
/// keyed by the path they see as their cwd).
pub fn prepare_root(root: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(root)
        .with_context(|| format!("cannot create the worktree root {}", root.display()))?;
    let ignore = root.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# mam's worktrees: not part of the main checkout\n*\n",
        )
        .with_context(|| format!("cannot write {}", ignore.display()))?;
    }
    root.canonicalize()
        .with_context(|| format!("cannot resolve {}", root.display()))
}

/// `git worktree add` for a planned worktree.
pub fn add(w: &Worktree) -> Result<()> {
    git::worktree_add(
        Path::new(&w.repo),
        Path::new(&w.path),
        &w.branch,
        &w.base_commit,
    )
    .context("cannot add the worktree")
}

/// Copy `[worktree] copy` entries (files or directories, relative to the
/// repository's top) into the new worktree. Entries that do not exist in
/// the main checkout are skipped. Returns what was copied.
pub fn copy_files(w: &Worktree, entries: &[String]) -> Result<Vec<String>> {
    let mut copied = Vec::new();
    for e in entries {
        let from = Path::new(&w.repo).join(e);
        if from.symlink_metadata().is_err() {
            continue;
        }
        let to = Path::new(&w.path).join(e);
        copy_tree(&from, &to).with_context(|| {
            format!(
                "[worktree] copy: cannot copy {} to {}",
                from.display(),
                to.display()
            )
        })?;
        copied.push(e.clone());
    }
    Ok(copied)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(drop)
    }
}

/// A setup command that failed: which, how, and what it printed.
#[derive(Debug)]
pub struct SetupFailed {
    pub command: String,
    pub status: Option<i32>,
    pub output: String,
}

impl std::fmt::Display for SetupFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = self
            .status
            .map_or("was killed by a signal".to_string(), |s| {
                format!("exited with status {s}")
            });
        write!(f, "setup command `{}` {how}", self.command)?;
        let out = self.output.trim_end();
        if !out.is_empty() {
            write!(f, ":\n{out}")?;
        }
        Ok(())
    }
}

/// Run `[worktree] setup` in the worktree, in order; the first failure
/// stops and is returned (with the command's output).
pub fn setup(
    w: &Worktree,
    commands: &[String],
    env: &[(String, String)],
) -> Result<Option<SetupFailed>> {
    for c in commands {
        let run = crate::os::run_shell(Path::new(&w.path), c, env)
            .with_context(|| format!("cannot run setup command `{c}` (sh -c)"))?;
        if !run.success {
            return Ok(Some(SetupFailed {
                command: c.clone(),
                status: run.status,
                output: run.output,
            }));
        }
    }
    Ok(None)
}

/// What `status` shows of a job's worktree.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Seen {
    pub path: String,
    /// The branch checked out now (None: detached, or not looked at).
    pub branch: Option<String>,
    /// Changed and untracked paths, not counting the files mam copied in.
    pub dirty: Option<usize>,
    /// Commits on the branch that its base lacks, and the reverse.
    pub ahead: Option<u64>,
    pub behind: Option<u64>,
    /// The base as recorded (short name, or the commit).
    pub base: String,
    /// `present`, `missing` or `removed`.
    pub state: String,
    /// Why git could not tell, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The base to count against: the branch it was made from, else the
/// commit.
fn base_of(w: &Worktree) -> &str {
    w.base_ref.as_deref().unwrap_or(&w.base_commit)
}

/// A short name for a base (`main`, `origin/main`, or a short commit).
pub fn base_label(w: &Worktree) -> String {
    match &w.base_ref {
        Some(r) => r
            .strip_prefix("refs/heads/")
            .or_else(|| r.strip_prefix("refs/remotes/"))
            .unwrap_or(r)
            .to_string(),
        None => w.base_commit.chars().take(12).collect(),
    }
}

/// How many git processes `look` runs at once.
const PARALLEL: usize = 16;

/// The status cache: a worktree's last `git status`, and the fingerprint
/// of the worktree taken just before git ran (`git::fingerprint`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cached {
    /// None: the worktree was changing, so the next look runs git again.
    fp: Option<u64>,
    /// The ignored paths the fingerprint left out.
    skip: Vec<String>,
    status: git::Status,
}

/// Where `look` keeps its cache, under the state directory.
fn cache_file(state: &Path) -> PathBuf {
    state.join("cache").join("worktree-status.json")
}

fn read_cache(state: &Path) -> BTreeMap<String, Cached> {
    std::fs::read(cache_file(state))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Replace the cache file whole (`os::replace_file`). Failing to write
/// only costs the next look its git calls.
fn write_cache(state: &Path, cache: &BTreeMap<String, Cached>) {
    let file = cache_file(state);
    if let (Some(dir), Ok(bytes)) = (file.parent(), serde_json::to_vec(cache)) {
        let _ = std::fs::create_dir_all(dir).and_then(|()| crate::os::replace_file(&file, &bytes));
    }
}

/// The ignored directories of a status (trailing `/` dropped): what a
/// fingerprint may leave out. git does not look inside them, and lists a
/// directory so only when none of its files is tracked.
fn ignored_dirs(st: &git::Status) -> Vec<String> {
    st.ignored
        .iter()
        .filter_map(|p| p.strip_suffix('/'))
        .map(str::to_string)
        .collect()
}

/// The status of each present worktree: from the cache when the worktree's
/// fingerprint is the one taken before its cached status, else from
/// `git status` (run side by side), which is then cached with the
/// fingerprint taken before it ran. A change made while git runs changes
/// the fingerprint, so it is seen on the next look.
///
/// A fingerprint leaves out ignored directories only when a status taken
/// after it confirms they are still ignored (so a `.gitignore` edit that
/// un-ignores one is never missed); a hit whose skip list is older than
/// its status moves to the status's list, fingerprinted before the hit was
/// checked.
fn statuses(dirs: &[&Path], state: &Path) -> Vec<Result<git::Status>> {
    let mut cache = read_cache(state);
    let mut changed = false;
    let mut out: Vec<Option<Result<git::Status>>> = Vec::with_capacity(dirs.len());
    let mut todo: Vec<(usize, Option<u64>, Vec<String>)> = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let key = dir.to_string_lossy();
        let Some(entry) = cache.get_mut(key.as_ref()) else {
            out.push(None);
            todo.push((i, git::fingerprint(dir, &[]), Vec::new()));
            continue;
        };
        let want = ignored_dirs(&entry.status);
        let fp_want = if want != entry.skip && entry.fp.is_some() {
            git::fingerprint(dir, &want)
        } else {
            None
        };
        let fp = git::fingerprint(dir, &entry.skip);
        if entry.fp.is_some() && entry.fp == fp {
            if fp_want.is_some() {
                entry.fp = fp_want;
                entry.skip = want;
                changed = true;
            }
            out.push(Some(Ok(entry.status.clone())));
        } else {
            out.push(None);
            todo.push((i, fp, entry.skip.clone()));
        }
    }
    if !todo.is_empty() {
        changed = true;
        let run: Vec<&Path> = todo.iter().map(|(i, _, _)| dirs[*i]).collect();
        for ((i, fp, skip), st) in todo.into_iter().zip(git::status_many(&run, PARALLEL)) {
            if let Ok(st) = &st {
                let now_ignored = ignored_dirs(st);
                // Paired with its fingerprint only when there is one and
                // every directory it left out is still ignored. Else (the
                // worktree was changing, or was too big with nothing left
                // out, or a skipped directory is no longer ignored) the next
                // look runs git again, leaving out what git now says is
                // ignored.
                let (fp, skip) = if fp.is_some() && skip.iter().all(|p| now_ignored.contains(p)) {
                    (fp, skip)
                } else {
                    (None, now_ignored)
                };
                let entry = Cached {
                    fp,
                    skip,
                    status: st.clone(),
                };
                cache.insert(dirs[i].to_string_lossy().into_owned(), entry);
            }
            out[i] = Some(st);
        }
    }
    if changed {
        // Worktrees that are gone are forgotten (a look at a few jobs keeps
        // the others' entries).
        cache.retain(|path, _| Path::new(path).is_dir());
        write_cache(state, &cache);
    }
    out.into_iter().flatten().collect()
}

/// Look at many worktrees: one `git status` per present worktree that
/// changed since the last look (run side by side; the others come from the
/// status cache under `state`), then one
/// `git for-each-ref` per repository for every branch's ahead/behind
/// against its base (falling back to one `rev-list` per job when git is
/// older than 2.41 or a base is gone). Missing or removed worktrees cost a
/// stat at most.
pub fn look(worktrees: &[&Worktree], state: &Path) -> Vec<Seen> {
    let mut seen: Vec<Seen> = worktrees
        .iter()
        .map(|w| Seen {
            path: w.path.clone(),
            base: base_label(w),
            state: w.state.clone(),
            ..Seen::default()
        })
        .collect();
    let mut todo: Vec<usize> = Vec::new();
    for (i, w) in worktrees.iter().enumerate() {
        if w.state == "present" {
            if Path::new(&w.path).is_dir() {
                todo.push(i);
            } else {
                seen[i].state = "missing".into();
            }
        }
    }
    let dirs: Vec<&Path> = todo
        .iter()
        .map(|&i| Path::new(&worktrees[i].path))
        .collect();
    let statuses = statuses(&dirs, state);
    // (repo) → the jobs whose branch is checked out as recorded.
    let mut by_repo: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (&i, st) in todo.iter().zip(statuses) {
        let w = worktrees[i];
        match st {
            Ok(st) => {
                let untracked = st
                    .untracked
                    .iter()
                    .filter(|p| !under_any(p, &w.copied))
                    .count();
                seen[i].dirty = Some(st.changed.len() + untracked);
                if st.branch.as_deref() == Some(w.branch.as_str()) {
                    by_repo.entry(w.repo.as_str()).or_default().push(i);
                } else if let Some(head) = &st.head {
                    // Another branch or a detached HEAD: count what is
                    // checked out.
                    if let Ok((a, b)) = git::ahead_behind(Path::new(&w.path), base_of(w), head) {
                        seen[i].ahead = Some(a);
                        seen[i].behind = Some(b);
                    }
                }
                seen[i].branch = st.branch;
            }
            Err(e) => seen[i].error = Some(format!("{e:#}")),
        }
    }
    for (repo, jobs) in by_repo {
        let branches: Vec<&str> = jobs.iter().map(|&i| worktrees[i].branch.as_str()).collect();
        let bases: BTreeSet<&str> = jobs.iter().map(|&i| base_of(worktrees[i])).collect();
        let bases: Vec<&str> = bases.into_iter().collect();
        let many = git::ahead_behind_many(Path::new(repo), &branches, &bases).ok();
        for &i in &jobs {
            let w = worktrees[i];
            let got = many
                .as_ref()
                .and_then(|m| m.get(&(w.branch.clone(), base_of(w).to_string())).copied())
                .or_else(|| one_ahead_behind(w));
            if let Some((a, b)) = got {
                seen[i].ahead = Some(a);
                seen[i].behind = Some(b);
            }
        }
    }
    seen
}

/// Ahead/behind of one job's branch against its base, else against the
/// commit it was made from (the base branch may be gone).
fn one_ahead_behind(w: &Worktree) -> Option<(u64, u64)> {
    let repo = Path::new(&w.repo);
    git::ahead_behind(repo, base_of(w), &w.branch)
        .or_else(|_| git::ahead_behind(repo, &w.base_commit, &w.branch))
        .ok()
}

/// Whether `path` is one of `entries` or inside one of them.
fn under_any(path: &str, entries: &[String]) -> bool {
    entries.iter().any(|e| {
        let e = e.trim_end_matches('/');
        path == e || path.starts_with(&format!("{e}/"))
    })
}

/// What removing a worktree would lose, from git (never from a cache).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The worktree directory is gone already.
    pub missing: bool,
    /// Uncommitted paths: changed, or untracked (files mam copied in and
    /// nobody changed do not count).
    pub uncommitted: Vec<String>,
    /// Untracked files mam copied in that nobody changed.
    pub copies: Vec<String>,
    /// The branch's tip, if the branch exists.
    pub tip: Option<String>,
    /// Commits on the branch (or checked out in the worktree) that the base
    /// lacks.
    pub unmerged: u64,
    /// Every one of those commits is on a remote-tracking branch.
    pub pushed: bool,
    pub base: String,
}

impl Check {
    /// Removable without `--force`: nothing uncommitted, and the branch is
    /// merged into its base or pushed.
    pub fn safe(&self) -> bool {
        // A worktree already gone loses nothing more: its branch stays
        // unless merged.
        self.missing || (self.uncommitted.is_empty() && (self.unmerged == 0 || self.pushed))
    }

    /// What removing would lose, in words (empty when nothing).
    pub fn losses(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.uncommitted.is_empty() {
            let n = self.uncommitted.len();
            let list = self
                .uncommitted
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if n > 10 {
                format!(", … ({} more)", n - 10)
            } else {
                String::new()
            };
            v.push(format!(
                "{n} uncommitted {} ({list}{more})",
                if n == 1 { "change" } else { "changes" }
            ));
        }
        if self.unmerged > 0 && !self.pushed {
            v.push(format!(
                "{} {} not merged into {} and not pushed",
                self.unmerged,
                if self.unmerged == 1 {
                    "commit"
                } else {
                    "commits"
                },
                self.base
            ));
        }
        v
    }
}

/// Look at a worktree as removing it needs: its uncommitted paths, and
/// whether its branch (and what is checked out) is merged into its base or
/// pushed.
pub fn check(w: &Worktree) -> Result<Check> {
    let repo = Path::new(&w.repo);
    let dir = Path::new(&w.path);
    let missing = !dir.is_dir();
    let mut uncommitted = Vec::new();
    let mut copies = Vec::new();
    let mut heads: Vec<String> = Vec::new();
    if !missing {
        let st = git::status(dir)?;
        uncommitted.extend(st.changed);
        for p in st.untracked {
            if copy_unchanged(w, &p) {
                copies.push(p);
            } else {
                uncommitted.push(p);
            }
        }
        if let Some(h) = st.head {
            heads.push(h);
        }
    }
    let tip = git::resolve_commit(repo, &format!("refs/heads/{}", w.branch))?;
    heads.extend(tip.clone());
    heads.dedup();
    let base = match git::resolve_commit(repo, base_of(w))? {
        Some(_) => base_of(w).to_string(),
        None => w.base_commit.clone(),
    };
    let mut unmerged = 0;
    let mut pushed = true;
    for h in &heads {
        if !git::is_ancestor(repo, h, &base)? {
            let (ahead, _) = git::ahead_behind(repo, &base, h)?;
            unmerged = unmerged.max(ahead);
            pushed &= git::unpushed_count(repo, h)? == 0;
        }
    }
    Ok(Check {
        missing,
        uncommitted,
        copies,
        tip,
        unmerged,
        pushed: unmerged > 0 && pushed,
        base: base_label(w),
    })
}

/// An untracked file that mam copied in and that still equals the main
/// checkout's.
fn copy_unchanged(w: &Worktree, rel: &str) -> bool {
    if !under_any(rel, &w.copied) {
        return false;
    }
    let a = std::fs::read(Path::new(&w.path).join(rel));
    let b = std::fs::read(Path::new(&w.repo).join(rel));
    matches!((a, b), (Ok(a), Ok(b)) if a == b)
}

/// What `remove` did.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    /// Uncommitted paths thrown away (only with `force`).
    pub discarded: Vec<String>,
    /// The branch was merged into its base and is deleted.
    pub branch_deleted: bool,
    /// The branch was kept (its commits are not in the base).
    pub branch_kept: bool,
}

/// Remove a worktree after `check`: the directory (git's own check runs
/// too unless `force`), then its branch only when merged into its base
/// (and only if it still points at the checked tip). A branch with
/// unmerged commits is never deleted, also with `force`.
pub fn remove(w: &Worktree, c: &Check, force: bool) -> Result<Removed> {
    let repo = Path::new(&w.repo);
    if c.missing {
        git::worktree_prune(repo)?;
    } else {
        // mam's own copies go first, so git's check sees only real work.
        for p in &c.copies {
            let _ = std::fs::remove_file(Path::new(&w.path).join(p));
        }
        git::worktree_remove(repo, Path::new(&w.path), force)
            .context("cannot remove the worktree")?;
    }
    let mut out = Removed {
        discarded: if force {
            c.uncommitted.clone()
        } else {
            Vec::new()
        },
        branch_deleted: false,
        branch_kept: false,
    };
    if let Some(tip) = &c.tip {
        if c.unmerged == 0 {
            git::delete_branch_at(repo, &w.branch, tip)?;
            out.branch_deleted = true;
        } else {
            out.branch_kept = true;
        }
    }
    Ok(out)
}

/// The diff of a job's worktree against its base: the merge base of the
/// base and what is checked out, so later commits on the base do not show
/// as reverted. Untracked files (not counting mam's copies) are listed
/// after it.
pub fn diff(w: &Worktree, stat: bool) -> Result<(String, Vec<String>)> {
    let dir = Path::new(&w.path);
    let from = git::merge_base(dir, base_of(w), "HEAD")
        .or_else(|_| git::merge_base(dir, &w.base_commit, "HEAD"))?;
    let text = git::diff(dir, &from, stat)?;
    let st = git::status(dir)?;
    let untracked = st
        .untracked
        .into_iter()
        .filter(|p| !copy_unchanged(w, p))
        .collect();
    Ok((text, untracked))
}

/// What `retire` did (or would do) with one job's worktree.
#[derive(Debug, Clone, Serialize)]
pub struct Retired {
    pub job: String,
    pub path: String,
    pub branch: String,
    /// `removed`, `kept` (work would be lost), `forgot` (deleted outside
    /// mam already), `would remove`, `would keep`, `would forget` (dry run).
    pub action: &'static str,
    /// What removing loses or would lose (with `force`: what was discarded).
    pub losses: Vec<String>,
    pub discarded: Vec<String>,
    pub branch_deleted: bool,
    pub branch_kept: bool,
    pub base: String,
    /// Commits on the branch its base lacks, and whether they are pushed.
    pub unmerged: u64,
    pub pushed: bool,
}

impl Retired {
    /// Removal was refused (or would be): work would be lost.
    pub fn kept(&self) -> bool {
        matches!(self.action, "kept" | "would keep")
    }

    /// One line for a human.
    pub fn line(&self) -> String {
        let mut s = format!("{}: {} worktree {}", self.job, self.action, self.path);
        if self.action.ends_with("forget") || self.action == "forgot" {
            s.push_str(" (deleted outside mam)");
        }
        if self.kept() {
            s.push_str(&format!(": {}", self.losses.join("; ")));
            return s;
        }
        if !self.discarded.is_empty() {
            s.push_str(&format!("; discarded {}", self.losses[0]));
        }
        if self.branch_deleted {
            s.push_str(&format!(
                "; branch {} deleted (merged into {})",
                self.branch, self.base
            ));
        } else if self.branch_kept {
            let n = self.unmerged;
            s.push_str(&format!(
                "; branch {} kept ({n} {} not merged into {}{})",
                self.branch,
                if n == 1 { "commit" } else { "commits" },
                self.base,
                if self.pushed {
                    "; pushed"
                } else {
                    " and not pushed"
                }
            ));
        }
        s
    }
}

/// Remove a job's worktree if no work is lost (or, with `force`, discarding
/// its uncommitted changes — never a branch with unmerged commits), and
/// record it on the job. `dry_run`: only say what would happen. The caller
/// makes sure the agent is not running and holds the job lock.
pub fn retire(
    reg: &mut crate::registry::Registry,
    job: &crate::registry::jobs::Job,
    force: bool,
    dry_run: bool,
) -> Result<Option<Retired>> {
    let Some(w) = &job.worktree else {
        return Ok(None);
    };
    if w.state == "removed" {
        return Ok(None);
    }
    let c = check(w)?;
    let mut r = Retired {
        job: job.name.clone(),
        path: w.path.clone(),
        branch: w.branch.clone(),
        action: "removed",
        losses: c.losses(),
        discarded: Vec::new(),
        branch_deleted: false,
        branch_kept: false,
        base: c.base.clone(),
        unmerged: c.unmerged,
        pushed: c.pushed,
    };
    let go = c.safe() || force;
    if c.missing {
        r.losses.clear();
    }
    if dry_run {
        r.action = match (go, c.missing) {
            (_, true) => "would forget",
            (true, false) => "would remove",
            (false, false) => "would keep",
        };
        r.branch_deleted = go && c.tip.is_some() && c.unmerged == 0;
        r.branch_kept = go && c.tip.is_some() && c.unmerged > 0;
        if force {
            r.discarded = c.uncommitted.clone();
        }
        return Ok(Some(r));
    }
    if !go {
        r.action = "kept";
        return Ok(Some(r));
    }
    if c.missing {
        r.action = "forgot";
    }
    let done = remove(w, &c, force)?;
    r.discarded = done.discarded;
    r.branch_deleted = done.branch_deleted;
    r.branch_kept = done.branch_kept;
    let why = if r.branch_deleted {
        format!("removed; branch {} deleted (merged)", w.branch)
    } else {
        format!("removed; branch {} kept", w.branch)
    };
    reg.write(|tx| tx.set_worktree_state(&job.name, "removed", &why))?;
    Ok(Some(r))
}
