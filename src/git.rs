//! The only place a git argv is built. Every call goes through one private
//! runner: `git -C <dir> <args>`, an argument vector without a shell, the
//! user's own git config and hooks, the exit status checked and stderr kept
//! in the error. Typed functions on top: repository facts, worktrees,
//! status, ahead/behind counts, ancestry, diffs. This module knows
//! repositories, branches and worktrees — nothing about jobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use anyhow::{Context, Result, anyhow};

use crate::error::environment;

/// A git command that failed: its argv, exit status and stderr.
#[derive(Debug)]
pub struct GitError {
    pub argv: String,
    pub status: Option<i32>,
    pub stderr: String,
}

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self
            .status
            .map_or("a signal".to_string(), |s| format!("status {s}"));
        write!(f, "`{}` failed with {status}", self.argv)?;
        if !self.stderr.is_empty() {
            write!(f, ": {}", self.stderr)?;
        }
        Ok(())
    }
}

impl std::error::Error for GitError {}

/// `git -C dir args…`, never through a shell. Status reads take no
/// optional locks, so they never contend with the agent's own git.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new("git");
    c.arg("--no-optional-locks")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn show(dir: &Path, args: &[&str]) -> String {
    format!("git -C {} {}", dir.display(), args.join(" "))
}

fn spawn(dir: &Path, args: &[&str]) -> Result<Child> {
    command(dir, args).spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            environment("git is not installed (or not on PATH)")
                .hint("install git (e.g. `sudo apt-get install git`)")
                .into()
        } else {
            anyhow::Error::from(e).context(format!("cannot run {}", show(dir, args)))
        }
    })
}

fn finish(child: Child, dir: &Path, args: &[&str]) -> Result<Output> {
    child
        .wait_with_output()
        .with_context(|| format!("waiting for {}", show(dir, args)))
}

fn failure(out: &Output, dir: &Path, args: &[&str]) -> anyhow::Error {
    anyhow!(GitError {
        argv: show(dir, args),
        status: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

/// Run git and return its output whatever its status (for the calls whose
/// exit status is the answer).
fn output(dir: &Path, args: &[&str]) -> Result<Output> {
    finish(spawn(dir, args)?, dir, args)
}

/// Run git; an error unless it exits 0. Returns stdout.
fn run(dir: &Path, args: &[&str]) -> Result<String> {
    let out = output(dir, args)?;
    if !out.status.success() {
        return Err(failure(&out, dir, args));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The top of the working tree holding `dir`, or None outside any git
/// repository.
pub fn toplevel(dir: &Path) -> Result<Option<PathBuf>> {
    let out = output(dir, &["rev-parse", "--show-toplevel"])?;
    if !out.status.success() {
        return Ok(None);
    }
    let top = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok((!top.is_empty()).then(|| PathBuf::from(top)))
}

/// The branch checked out in `dir` (None when HEAD is detached).
pub fn current_branch(dir: &Path) -> Result<Option<String>> {
    let out = output(dir, &["symbolic-ref", "--quiet", "--short", "HEAD"])?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok((out.status.success() && !name.is_empty()).then_some(name))
}

/// The commit `rev` names, or None when it names none.
pub fn resolve_commit(dir: &Path, rev: &str) -> Result<Option<String>> {
    let spec = format!("{rev}^{{commit}}");
    let out = output(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
    )?;
    let oid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok((out.status.success() && !oid.is_empty()).then_some(oid))
}

/// The full name of the branch `rev` names (`refs/heads/…` or
/// `refs/remotes/…`), or None when it names a commit, a tag or nothing.
pub fn branch_ref(dir: &Path, rev: &str) -> Result<Option<String>> {
    let out = output(
        dir,
        &[
            "rev-parse",
            "--symbolic-full-name",
            "--verify",
            "--quiet",
            "--end-of-options",
            rev,
        ],
    )?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let is_branch = name.starts_with("refs/heads/") || name.starts_with("refs/remotes/");
    Ok((out.status.success() && is_branch).then_some(name))
}

/// Whether `refs/heads/<branch>` exists.
pub fn branch_exists(dir: &Path, branch: &str) -> Result<bool> {
    let r = format!("refs/heads/{branch}");
    let out = output(dir, &["show-ref", "--verify", "--quiet", &r])?;
    Ok(out.status.success())
}

/// Whether `branch` is a valid new branch name (`git check-ref-format`).
pub fn valid_branch_name(dir: &Path, branch: &str) -> Result<bool> {
    let out = output(dir, &["check-ref-format", "--branch", branch])?;
    Ok(out.status.success() && !branch.starts_with('-'))
}

/// `git worktree add -b <branch> <path> <base>`: a new branch at `base`,
/// checked out in a new worktree at `path` (the user's hooks run).
pub fn worktree_add(repo: &Path, path: &Path, branch: &str, base: &str) -> Result<()> {
    let p = path.to_string_lossy();
    run(
        repo,
        &[
            "worktree",
            "add",
            "--no-track",
            "-b",
            branch,
            "--",
            &p,
            base,
        ],
    )
    .map(drop)
}

/// `git worktree remove [--force] <path>`.
pub fn worktree_remove(repo: &Path, path: &Path, force: bool) -> Result<()> {
    let p = path.to_string_lossy();
    let mut args = vec!["worktree", "remove"];
    if force {
        // Twice: also a worktree that is locked.
        args.extend(["--force", "--force"]);
    }
    args.extend(["--", &p]);
    run(repo, &args).map(drop)
}

/// `git worktree prune`: forget worktrees whose directory is gone.
pub fn worktree_prune(repo: &Path) -> Result<()> {
    run(repo, &["worktree", "prune"]).map(drop)
}

/// Delete `refs/heads/<branch>` only if it still points at `oid` (so a
/// commit made after the caller's checks is never lost).
pub fn delete_branch_at(repo: &Path, branch: &str, oid: &str) -> Result<()> {
    let r = format!("refs/heads/{branch}");
    run(repo, &["update-ref", "-d", &r, oid]).map(drop)
}

/// Whether `ancestor` is an ancestor of (or the same as) `of`.
pub fn is_ancestor(dir: &Path, ancestor: &str, of: &str) -> Result<bool> {
    let args = ["merge-base", "--is-ancestor", ancestor, of];
    let out = output(dir, &args)?;
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(failure(&out, dir, &args)),
    }
}

/// How many commits reachable from `oid` are on no remote-tracking branch
/// (0: all of them are pushed somewhere).
pub fn unpushed_count(dir: &Path, oid: &str) -> Result<u64> {
    let out = run(dir, &["rev-list", "--count", oid, "--not", "--remotes"])?;
    out.trim()
        .parse()
        .with_context(|| format!("unexpected rev-list output {out:?}"))
}

/// `git rev-list --left-right --count base...head`: (ahead, behind) of
/// `head` against `base`.
pub fn ahead_behind(dir: &Path, base: &str, head: &str) -> Result<(u64, u64)> {
    let range = format!("{base}...{head}");
    let out = run(dir, &["rev-list", "--left-right", "--count", &range])?;
    let mut it = out.split_whitespace().map(str::parse::<u64>);
    match (it.next(), it.next()) {
        (Some(Ok(behind)), Some(Ok(ahead))) => Ok((ahead, behind)),
        _ => Err(anyhow!("unexpected rev-list output {out:?}")),
    }
}

/// Ahead/behind of several branches against several bases, in one
/// `git for-each-ref` call (`%(ahead-behind:…)`, git 2.41 or newer):
/// `(branch, base) → (ahead, behind)` for every branch that exists. An
/// error when git is older or a base does not resolve; callers then ask
/// `ahead_behind` one by one.
pub fn ahead_behind_many(
    repo: &Path,
    branches: &[&str],
    bases: &[&str],
) -> Result<BTreeMap<(String, String), (u64, u64)>> {
    let mut format = "%(refname:lstrip=2)".to_string();
    for b in bases {
        format.push_str(&format!("\t%(ahead-behind:{b})"));
    }
    let format = format!("--format={format}");
    let refs: Vec<String> = branches.iter().map(|b| format!("refs/heads/{b}")).collect();
    let mut args = vec!["for-each-ref", format.as_str(), "--"];
    args.extend(refs.iter().map(String::as_str));
    let out = run(repo, &args)?;
    let mut map = BTreeMap::new();
    for line in out.lines() {
        let mut fields = line.split('\t');
        let Some(branch) = fields.next() else {
            continue;
        };
        for (base, ab) in bases.iter().zip(fields) {
            let mut n = ab.split(' ').map(str::parse::<u64>);
            if let (Some(Ok(a)), Some(Ok(b))) = (n.next(), n.next()) {
                map.insert((branch.to_string(), base.to_string()), (a, b));
            }
        }
    }
    Ok(map)
}

/// A worktree as `git status --porcelain=v2 --branch` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Status {
    /// The branch checked out (None: detached HEAD).
    pub branch: Option<String>,
    /// The commit checked out (None: no commit yet).
    pub head: Option<String>,
    /// Changed tracked paths (staged or not, conflicts included).
    pub changed: Vec<String>,
    /// Untracked paths (ignored ones are not listed).
    pub untracked: Vec<String>,
    /// Ignored files and directories (a directory once, with a trailing
    /// `/`); only `status_many` asks for them.
    #[serde(default)]
    pub ignored: Vec<String>,
}

const STATUS_ARGS: &[&str] = &[
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--untracked-files=all",
];

/// The status of the worktree at `dir`.
pub fn status(dir: &Path) -> Result<Status> {
    run(dir, STATUS_ARGS).map(|o| parse_status(&o))
}

/// `STATUS_ARGS` and the ignored paths, those matching an ignore pattern
/// (an ignored directory once, not what is inside it).
const STATUS_IGNORED_ARGS: &[&str] = &[
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--untracked-files=all",
    "--ignored=matching",
];

/// The status of many worktrees (with their ignored paths), their git
/// processes running side by side (`parallel` at a time); one result per
/// directory, in order.
pub fn status_many(dirs: &[&Path], parallel: usize) -> Vec<Result<Status>> {
    let args = STATUS_IGNORED_ARGS;
    let mut results: Vec<Option<Result<Status>>> = dirs.iter().map(|_| None).collect();
    for (chunk_no, chunk) in dirs.chunks(parallel.max(1)).enumerate() {
        let children: Vec<Result<Child>> = chunk.iter().map(|d| spawn(d, args)).collect();
        for (i, child) in children.into_iter().enumerate() {
            let dir = chunk[i];
            let r = child.and_then(|c| finish(c, dir, args)).and_then(|out| {
                if out.status.success() {
                    Ok(parse_status(&String::from_utf8_lossy(&out.stdout)))
                } else {
                    Err(failure(&out, dir, args))
                }
            });
            results[chunk_no * parallel.max(1) + i] = Some(r);
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every slot"))
        .collect()
}

fn parse_status(out: &str) -> Status {
    let mut s = Status::default();
    let mut records = out.split('\0').filter(|r| !r.is_empty());
    while let Some(rec) = records.next() {
        if let Some(h) = rec.strip_prefix("# branch.head ") {
            s.branch = (h != "(detached)").then(|| h.to_string());
        } else if let Some(o) = rec.strip_prefix("# branch.oid ") {
            s.head = (o != "(initial)").then(|| o.to_string());
        } else if rec.starts_with('#') {
        } else if let Some(p) = rec.strip_prefix("? ") {
            s.untracked.push(p.to_string());
        } else if let Some(p) = rec.strip_prefix("! ") {
            s.ignored.push(p.to_string());
        } else if let Some(rest) = rec.strip_prefix("1 ") {
            s.changed.push(field_after(rest, 7).to_string());
        } else if let Some(rest) = rec.strip_prefix("2 ") {
            s.changed.push(field_after(rest, 8).to_string());
            records.next(); // the original path of a rename or copy
        } else if let Some(rest) = rec.strip_prefix("u ") {
            s.changed.push(field_after(rest, 9).to_string());
        }
    }
    s
}

/// The rest of `line` after `n` space-separated fields (a path may hold
/// spaces).
fn field_after(line: &str, n: usize) -> &str {
    line.splitn(n + 1, ' ').nth(n).unwrap_or_default()
}

/// The most entries `fingerprint` looks at before it gives up (a bigger
/// worktree is left to `git status`).
const FINGERPRINT_MAX_ENTRIES: usize = 50_000;

/// How recent a change may be for a fingerprint to be trusted. A file's
/// ctime is the kernel's coarse clock at its last change (a tick, at most
/// 10 ms, behind the real time), and no one can set it: a change made
/// after a fingerprint whose every ctime is older than this margin always
/// shows as a new ctime.
const FINGERPRINT_SETTLED: std::time::Duration = std::time::Duration::from_millis(50);

/// A digest of everything `git status` of the worktree at `dir` depends on,
/// read without running git: the worktree's HEAD, its ref, the index and
/// the ignore and config files (their metadata, and HEAD and the ref by
/// content), and the type, size, inode, mtime and ctime of every file and
/// directory of the working tree but `.git` and the `ignored` paths (as
/// `Status::ignored` lists them). The same digest means the same status:
/// editing, adding, removing or renaming a file changes a ctime, staging
/// changes the index, a commit changes the ref. None when it cannot tell:
/// something changed within the last `FINGERPRINT_SETTLED` (so a change in
/// the same clock tick could not be told apart), the worktree is too big,
/// or anything could not be read. The user's global excludes file and
/// config are covered too; system-wide git config is not.
pub fn fingerprint(dir: &Path, ignored: &[String]) -> Option<u64> {
    use std::hash::Hasher;
    let start = std::time::SystemTime::now();
    let settled = start.checked_sub(FINGERPRINT_SETTLED)?;
    let settled = settled.duration_since(std::time::UNIX_EPOCH).ok()?;
    let settled_ns = i128::try_from(settled.as_nanos()).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let dot_git = dir.join(".git");
    let gitdir = match std::fs::symlink_metadata(&dot_git).ok()? {
        m if m.is_dir() => dot_git,
        _ => {
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let p = PathBuf::from(text.strip_prefix("gitdir: ")?.trim_end());
            if p.is_relative() { dir.join(p) } else { p }
        }
    };
    let common = match std::fs::read_to_string(gitdir.join("commondir")) {
        Ok(c) => {
            let p = PathBuf::from(c.trim_end());
            if p.is_relative() { gitdir.join(p) } else { p }
        }
        Err(_) => gitdir.clone(),
    };
    let head = std::fs::read_to_string(gitdir.join("HEAD")).ok()?;
    h.write(head.as_bytes());
    if let Some(r) = head.trim_end().strip_prefix("ref: ") {
        // Loose or packed: the loose file's content when it exists, and the
        // packed-refs metadata below.
        if r.contains("..") {
            return None;
        }
        h.write(std::fs::read(common.join(r)).unwrap_or_default().as_slice());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    let mut meta_files = vec![
        gitdir.join("index"),
        gitdir.join("config.worktree"),
        common.join("packed-refs"),
        common.join("config"),
        common.join("info/exclude"),
    ];
    meta_files.extend(home.map(|h| h.join(".gitconfig")));
    if let Some(x) = xdg {
        meta_files.push(x.join("git/config"));
        meta_files.push(x.join("git/ignore"));
    }
    for f in &meta_files {
        match std::fs::symlink_metadata(f) {
            Ok(m) => hash_meta(&mut h, &m, settled_ns)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => h.write_u8(0),
            Err(_) => return None,
        }
    }
    let skip: std::collections::HashSet<&str> =
        ignored.iter().map(|p| p.trim_end_matches('/')).collect();
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    let mut seen = 0usize;
    while let Some((abs, rel)) = todo.pop() {
        let mut entries: Vec<(std::ffi::OsString, PathBuf)> = std::fs::read_dir(&abs)
            .ok()?
            .map(|e| e.map(|e| (e.file_name(), e.path())))
            .collect::<std::io::Result<_>>()
            .ok()?;
        entries.sort();
        for (name, path) in entries {
            let name = name.to_str()?;
            if rel.is_empty() && name == ".git" {
                continue;
            }
            let r = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            if skip.contains(r.as_str()) {
                continue;
            }
            seen += 1;
            if seen > FINGERPRINT_MAX_ENTRIES {
                return None;
            }
            let m = std::fs::symlink_metadata(&path).ok()?;
            h.write(r.as_bytes());
            h.write_u8(0);
            hash_meta(&mut h, &m, settled_ns)?;
            if m.is_dir() {
                todo.push((path, r));
            }
        }
    }
    Some(h.finish())
}

/// A file's metadata into the fingerprint; None when it changed too
/// recently to be trusted.
fn hash_meta(
    h: &mut std::collections::hash_map::DefaultHasher,
    m: &std::fs::Metadata,
    settled_ns: i128,
) -> Option<()> {
    use std::hash::Hasher;
    let (ctime_ns, mtime_ns, ino, dev_mode) = crate::os::file_stamp(m);
    if ctime_ns >= settled_ns {
        return None;
    }
    for v in [ctime_ns, mtime_ns, i128::from(ino), i128::from(dev_mode)] {
        h.write_i128(v);
    }
    h.write_u64(m.len());
    Some(())
}

/// The merge base of two commits.
pub fn merge_base(dir: &Path, a: &str, b: &str) -> Result<String> {
    Ok(run(dir, &["merge-base", a, b])?.trim().to_string())
}

/// `git diff [--stat] <commit>`: the working tree's tracked files against
/// `commit`, as git prints it (no colour, no pager).
pub fn diff(dir: &Path, commit: &str, stat: bool) -> Result<String> {
    let mut args = vec!["-c", "color.ui=false", "diff", "--no-ext-diff"];
    if stat {
        args.push("--stat");
    }
    args.extend([commit, "--"]);
    run(dir, &args)
}

/// Run git for bytes: stdout on success; outside a repository a usage
/// error naming `dir` (for the commands a user points at a checkout).
fn run_bytes(dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = output(dir, args)?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    if String::from_utf8_lossy(&out.stderr).contains("not a git repository") {
        return Err(
            crate::error::usage(format!("{} is not in a git repository", dir.display()))
                .hint("run this in a git checkout, or name the files to check")
                .into(),
        );
    }
    Err(failure(&out, dir, args))
}

/// The paths staged for the next commit in the checkout at `dir`, as git
/// names them (relative to the top of that checkout, whatever `dir` and
/// `diff.relative` say). Added, copied, modified, renamed (both names) and
/// deleted files all count.
pub fn staged_paths(dir: &Path) -> Result<Vec<String>> {
    let out = run_bytes(
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
    let out = run_bytes(
        dir,
        &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
    )?;
    let text = String::from_utf8(out).context("git printed a hooks path that is not UTF-8")?;
    Ok(PathBuf::from(text.trim_end_matches(['\n', '\r'])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_v2_is_parsed_with_spaces_renames_and_conflicts() {
        let out = "# branch.oid 0123abcd\0# branch.head mam/a\0\
                   1 .M N... 100644 100644 100644 aaa bbb src/my file.rs\0\
                   2 R. N... 100644 100644 100644 aaa bbb R100 new name\0old name\0\
                   u UU N... 100644 100644 100644 100644 a b c both.txt\0\
                   ? .env local\0";
        let s = parse_status(out);
        assert_eq!(s.branch.as_deref(), Some("mam/a"));
        assert_eq!(s.head.as_deref(), Some("0123abcd"));
        assert_eq!(s.changed, ["src/my file.rs", "new name", "both.txt"]);
        assert_eq!(s.untracked, [".env local"]);
        let s = parse_status("# branch.oid (initial)\0# branch.head (detached)\0");
        assert_eq!((s.branch, s.head), (None, None));
    }

    #[test]
    fn a_failure_keeps_argv_status_and_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let err = run(dir.path(), &["rev-parse", "--verify", "no-such-ref"]).unwrap_err();
        let g = err.downcast_ref::<GitError>().expect("a GitError");
        assert_eq!(g.status, Some(128));
        assert!(
            g.argv.ends_with("rev-parse --verify no-such-ref"),
            "{}",
            g.argv
        );
        assert!(!g.stderr.is_empty());
    }
}
