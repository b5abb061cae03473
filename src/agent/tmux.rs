//! The only place a tmux argv is built. Every call goes through `Tmux::run`,
//! which applies the socket, runs tmux without a shell, checks the exit status
//! and keeps stderr in the error. Text typed into panes is passed after `--`,
//! and an argument ending in `;` is escaped so it cannot end the tmux command.
//! This module knows panes, sessions and buffers — nothing about jobs.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result, anyhow};

use crate::error::environment;

/// A handle on one tmux server.
#[derive(Debug, Clone)]
pub struct Tmux {
    /// `-L name`, or `-S path` when the value holds a `/`; None = default server.
    socket: Option<String>,
}

/// One pane as `list-panes -a` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pane {
    pub session: String,
    pub pane_id: String,
    pub pid: u32,
    pub dead: bool,
    pub dead_status: Option<i32>,
    pub tag_ws: String,
    pub tag_job: String,
    /// Unix seconds of the last activity in the pane's window.
    pub activity: i64,
}

/// What `new_session` needs.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub name: &'a str,
    pub cwd: &'a std::path::Path,
    pub argv: &'a [String],
    pub env: &'a [(String, String)],
    pub width: u16,
    pub height: u16,
    /// Session user options set in the same tmux call (e.g. `@mam_ws`).
    pub tags: &'a [(&'a str, &'a str)],
}

const PANE_FORMAT: &str = "#{pane_id}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t#{@mam_ws}\t#{@mam_job}\t#{window_activity}\t#{session_name}";

/// The line between the pane list and the captured screen of
/// `list_panes_and_capture` (no pane line can be it: those start with `%`).
const CAPTURE_MARK: &str = "mam-capture-mark";

static BUFFER_SEQ: AtomicU32 = AtomicU32::new(0);

/// The longest socket path tmux can bind or connect to (108 bytes of
/// `sun_path`, one of them the terminating NUL).
pub const SOCKET_PATH_MAX: usize = 107;

impl Tmux {
    pub fn new(socket: &str) -> Tmux {
        Tmux {
            socket: (!socket.is_empty()).then(|| socket.to_string()),
        }
    }

    pub fn socket(&self) -> Option<&str> {
        self.socket.as_deref()
    }

    fn command(&self) -> Command {
        let mut c = Command::new("tmux");
        // Without `-u`, a tmux client whose locale is not UTF-8 (cron,
        // `env -i`, LANG=C) prints every tab of a `-F` format and every
        // non-ASCII character of a captured screen as `_`: mam's formats
        // would no longer parse and every live job would look lost.
        c.arg("-u");
        match &self.socket {
            Some(s) if s.contains('/') => {
                c.arg("-S").arg(s);
            }
            Some(s) => {
                c.arg("-L").arg(s);
            }
            None => {}
        }
        c
    }

    /// Run one tmux command line (which may hold several commands separated by
    /// `;` arguments). Returns stdout.
    fn run<S: AsRef<str>>(&self, args: &[S]) -> Result<String> {
        self.run_with_input(args, None)
    }

    fn run_with_input<S: AsRef<str>>(&self, args: &[S], input: Option<&[u8]>) -> Result<String> {
        let mut cmd = self.command();
        cmd.args(args.iter().map(|a| a.as_ref()));
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| spawn_error(e, args))?;
        if let Some(data) = input {
            let mut stdin = child.stdin.take().context("tmux stdin")?;
            stdin
                .write_all(data)
                .with_context(|| format!("writing to {}", show_argv(args)))?;
        }
        let out = child
            .wait_with_output()
            .with_context(|| format!("waiting for {}", show_argv(args)))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let too_long = stderr.contains("File name too long");
            let err = anyhow!(TmuxError {
                argv: show_argv(args),
                stderr,
                status: out.status.code(),
            });
            if too_long && let Err(why) = self.check_socket_path() {
                return Err(err.context(why));
            }
            return Err(err);
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The socket this handle's tmux client connects to, computed as tmux
    /// 3.x does: `-S path` as given; `-L name` (or `default`) inside
    /// `$TMUX_TMPDIR` (if it exists, else `/tmp`) + `/tmux-UID/`; with no
    /// socket set inside tmux, the server of `$TMUX`.
    pub fn socket_path(&self) -> PathBuf {
        let label = match &self.socket {
            Some(s) if s.contains('/') => return PathBuf::from(s),
            Some(s) => s.as_str(),
            None => {
                if let Some(t) = std::env::var_os("TMUX").filter(|t| !t.is_empty()) {
                    let t = t.to_string_lossy().into_owned();
                    return PathBuf::from(t.split(',').next().unwrap_or_default());
                }
                "default"
            }
        };
        let base = std::env::var_os("TMUX_TMPDIR")
            .filter(|d| !d.is_empty())
            .and_then(|d| PathBuf::from(d).canonicalize().ok())
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        // tmux names the directory after the real uid.
        let dir = base.join(format!("tmux-{}", crate::os::real_uid()));
        dir.canonicalize().unwrap_or(dir).join(label)
    }

    /// A Unix socket path must fit `sun_path` (108 bytes with its NUL):
    /// tmux fails on a longer one with "File name too long".
    pub fn check_socket_path(&self) -> std::result::Result<(), crate::error::UserError> {
        let path = self.socket_path();
        let n = path.as_os_str().len();
        if n <= SOCKET_PATH_MAX {
            return Ok(());
        }
        Err(environment(format!(
            "tmux socket path {} is {n} bytes; the limit is {SOCKET_PATH_MAX} (sun_path of a Unix socket)",
            path.display()
        ))
        .hint("set TMUX_TMPDIR to a short directory such as /tmp, or use a shorter tmux.socket (MAM_TMUX_SOCKET)"))
    }

    /// The tmux version as (major, minor), e.g. (3, 3) for 3.3a.
    pub fn version(&self) -> Result<(u32, u32)> {
        let v = self.run(&["-V"])?;
        parse_version(&v).ok_or_else(|| anyhow!("cannot parse tmux version from {v:?}"))
    }

    /// Create a detached session running `argv` (no shell), with
    /// `remain-on-exit on` and the given session tags, all in one tmux call.
    /// Returns the new pane.
    pub fn new_session(&self, s: &NewSession) -> Result<(String, u32)> {
        let mut args: Vec<String> = vec![
            "new-session".into(),
            "-d".into(),
            "-s".into(),
            s.name.into(),
            "-x".into(),
            s.width.to_string(),
            "-y".into(),
            s.height.to_string(),
            "-c".into(),
            s.cwd.display().to_string(),
            "-P".into(),
            "-F".into(),
            "#{pane_id}\t#{pane_pid}".into(),
        ];
        for (k, v) in s.env {
            args.push("-e".into());
            args.push(escape_arg(&format!("{k}={v}")));
        }
        args.push("--".into());
        args.extend(s.argv.iter().map(|a| escape_arg(a)));
        // Commands after new-session in the same call apply to the new
        // session (an explicit `=name` target is not resolvable there yet).
        for (k, v) in s.tags {
            args.extend([";", "set-option", k, &escape_arg(v)].map(String::from));
        }
        args.extend([";", "set-option", "-w", "remain-on-exit", "on"].map(String::from));
        let out = self.run(&args)?;
        let line = out.lines().next().unwrap_or_default();
        let (pane, pid) = line
            .split_once('\t')
            .ok_or_else(|| anyhow!("unexpected new-session output {out:?}"))?;
        let pid = pid
            .trim()
            .parse()
            .with_context(|| format!("bad pane pid in {out:?}"))?;
        Ok((pane.to_string(), pid))
    }

    /// Every pane of every session on this server, in one call. A server that
    /// is not running has no panes; any other failure is an error (callers
    /// must not treat a tmux failure as "no sessions").
    pub fn list_panes(&self) -> Result<Vec<Pane>> {
        match self.run(&["list-panes", "-a", "-F", PANE_FORMAT]) {
            Ok(out) => Ok(out.lines().filter_map(parse_pane).collect()),
            Err(e) if lists_no_panes(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The visible screen of a pane.
    pub fn capture(&self, pane: &str) -> Result<String> {
        self.run(&["capture-pane", "-p", "-t", pane])
    }

    /// The pane's screen plus `lines` of history.
    pub fn capture_history(&self, pane: &str, lines: u32) -> Result<String> {
        let start = format!("-{lines}");
        self.run(&["capture-pane", "-p", "-J", "-S", &start, "-t", pane])
    }

    /// Type text literally (`send-keys -l`).
    pub fn send_literal(&self, pane: &str, text: &str) -> Result<()> {
        let text = escape_arg(text);
        self.run(&["send-keys", "-t", pane, "-l", "--", &text])
            .map(drop)
    }

    /// Paste text as a bracketed paste through a private, deleted-after buffer,
    /// in one tmux call.
    pub fn paste(&self, pane: &str, text: &str) -> Result<()> {
        let buf = format!(
            "mam-{}-{}",
            std::process::id(),
            BUFFER_SEQ.fetch_add(1, Ordering::Relaxed)
        );
        self.run_with_input(
            &[
                "load-buffer",
                "-b",
                &buf,
                "-",
                ";",
                "paste-buffer",
                "-p",
                "-d",
                "-b",
                &buf,
                "-t",
                pane,
            ],
            Some(text.as_bytes()),
        )
        .map(drop)
    }

    /// Send tmux key names (`Enter`, `C-d`, `1`…), one call.
    pub fn send_keys(&self, pane: &str, keys: &[String]) -> Result<()> {
        let mut args: Vec<String> = vec!["send-keys".into(), "-t".into(), pane.into(), "--".into()];
        args.extend(keys.iter().map(|k| escape_arg(k)));
        self.run(&args).map(drop)
    }

    /// Kill a session by exact name. A session that is already gone is fine.
    pub fn kill_session(&self, name: &str) -> Result<()> {
        match self.run(&["kill-session", "-t", &format!("={name}")]) {
            Ok(_) => Ok(()),
            Err(e) if is_no_server(&e) || is_missing_target(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A pane's dead flag, exit status, `window_activity` and visible screen,
    /// in one call. `None` if the pane or the server no longer exists.
    pub fn pane_screen(&self, pane: &str) -> Result<Option<PaneScreen>> {
        let out = self.run(&[
            "display-message",
            "-p",
            "-t",
            pane,
            "#{pane_dead}\t#{pane_dead_status}\t#{window_activity}",
            ";",
            "capture-pane",
            "-p",
            "-t",
            pane,
        ]);
        let out = match out {
            Ok(o) => o,
            Err(e) if is_missing_target(&e) || is_no_server(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (head, screen) = out.split_once('\n').unwrap_or((&out, ""));
        let mut f = head.split('\t');
        let dead = f.next().unwrap_or("");
        let status = f.next().unwrap_or("");
        let activity = f.next().unwrap_or("");
        Ok(Some(PaneScreen {
            screen: screen.to_string(),
            dead: dead == "1",
            dead_status: status.trim().parse().ok(),
            activity: activity.trim().parse().unwrap_or(0),
        }))
    }

    /// Where a pane runs and the kind/role tags of its session:
    /// (current path, `@mam_kind`, `@mam_role`), empty when unset.
    pub fn pane_origin(&self, pane: &str) -> Result<(String, String, String)> {
        let info = self.run(&[
            "display-message",
            "-p",
            "-t",
            pane,
            "#{pane_current_path}\t#{@mam_kind}\t#{@mam_role}",
        ])?;
        let mut f = info.trim_end_matches('\n').splitn(3, '\t');
        let mut next = || f.next().unwrap_or("").to_string();
        Ok((next(), next(), next()))
    }

    /// Attach to a session from the terminal mam runs in: `switch-client`
    /// when it runs inside a client of this same server, else
    /// `attach-session` (dropping `$TMUX` first when it names another
    /// server, which tmux would otherwise refuse as nesting).
    pub fn attach_here(&self, name: &str) -> Result<()> {
        let tmux_var = std::env::var("TMUX").ok();
        let inside_same_server = self.inside_same_server();
        if tmux_var.is_some() && !inside_same_server {
            // SAFETY: mam is single-threaded here; only one variable is dropped.
            unsafe { std::env::remove_var("TMUX") };
        }
        self.attach(name, inside_same_server)
    }

    /// Whether mam runs inside a client of this same tmux server (`$TMUX`
    /// names its socket): there, attaching is a `switch-client`.
    pub fn inside_same_server(&self) -> bool {
        let ours = socket_path_hint(self.socket().unwrap_or("default"));
        std::env::var("TMUX")
            .ok()
            .is_some_and(|t| t.split(',').next() == Some(ours.to_string_lossy().as_ref()))
    }

    /// Every pane of every session (as `list_panes`) and the visible screen
    /// of `capture` (when given), in one tmux call. A capture target that is
    /// gone costs a second call (the panes alone) and gives no screen.
    pub fn list_panes_and_capture(
        &self,
        capture: Option<&str>,
    ) -> Result<(Vec<Pane>, Option<String>)> {
        let Some(pane) = capture else {
            return Ok((self.list_panes()?, None));
        };
        let out = self.run(&[
            "list-panes",
            "-a",
            "-F",
            PANE_FORMAT,
            ";",
            "display-message",
            "-p",
            CAPTURE_MARK,
            ";",
            "capture-pane",
            "-p",
            "-t",
            pane,
        ]);
        match out {
            Ok(out) => {
                let (list, screen) = match out.find(&format!("{CAPTURE_MARK}\n")) {
                    Some(i) => (
                        &out[..i],
                        Some(out[i + CAPTURE_MARK.len() + 1..].to_string()),
                    ),
                    None => (out.as_str(), None),
                };
                Ok((list.lines().filter_map(parse_pane).collect(), screen))
            }
            Err(e) if lists_no_panes(&e) => Ok((Vec::new(), None)),
            Err(e) if is_missing_target(&e) => Ok((self.list_panes()?, None)),
            Err(e) => Err(e),
        }
    }

    /// Attach (outside tmux) or switch the client (inside tmux) to a session.
    /// Inherits the terminal.
    fn attach(&self, name: &str, inside_tmux: bool) -> Result<()> {
        let target = format!("={name}");
        let args: Vec<&str> = if inside_tmux {
            vec!["switch-client", "-t", &target]
        } else {
            vec!["attach-session", "-t", &target]
        };
        let status = self
            .command()
            .args(&args)
            .status()
            .map_err(|e| spawn_error(e, &args))?;
        if !status.success() {
            return Err(anyhow!("{} exited with {status}", show_argv(&args)));
        }
        Ok(())
    }
}

/// What `pane_screen` read (the screen as tmux printed it).
#[derive(Debug, Clone)]
pub struct PaneScreen {
    pub screen: String,
    pub dead: bool,
    pub dead_status: Option<i32>,
    pub activity: i64,
}

/// A failed tmux call: its argv, exit status and stderr.
#[derive(Debug)]
pub struct TmuxError {
    pub argv: String,
    pub stderr: String,
    pub status: Option<i32>,
}

impl std::fmt::Display for TmuxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` failed", self.argv)?;
        if let Some(c) = self.status {
            write!(f, " (exit {c})")?;
        }
        if !self.stderr.is_empty() {
            write!(f, ": {}", self.stderr)?;
        }
        Ok(())
    }
}

impl std::error::Error for TmuxError {}

fn tmux_stderr(e: &anyhow::Error) -> Option<&str> {
    e.chain()
        .find_map(|c| c.downcast_ref::<TmuxError>())
        .map(|t| t.stderr.as_str())
}

/// The server is not running (no socket, or nobody listening), or it went
/// away while it answered: as its last session ends, tmux 3.3 exits, and a
/// client that reached it then reads "server exited unexpectedly".
pub fn is_no_server(e: &anyhow::Error) -> bool {
    tmux_stderr(e).is_some_and(|s| {
        s.contains("no server running")
            || (s.contains("error connecting to") && s.contains("No such file or directory"))
            || s.contains("Connection refused")
            || s.contains("server exited unexpectedly")
    })
}

/// A `list-panes -a` that failed because there is nothing to list: no
/// server, or one whose last session has just ended and which is exiting
/// (it has no sessions, so "no current target" — only a command without a
/// target can fail so).
fn lists_no_panes(e: &anyhow::Error) -> bool {
    is_no_server(e) || tmux_stderr(e).is_some_and(|s| s.contains("no current target"))
}

/// The target session or pane does not exist.
pub fn is_missing_target(e: &anyhow::Error) -> bool {
    tmux_stderr(e).is_some_and(|s| {
        s.contains("can't find session")
            || s.contains("can't find pane")
            || s.contains("can't find window")
    })
}

/// A session of that name exists already.
pub fn is_duplicate_session(e: &anyhow::Error) -> bool {
    tmux_stderr(e).is_some_and(|s| s.contains("duplicate session"))
}

fn spawn_error<S: AsRef<str>>(e: std::io::Error, args: &[S]) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        environment("tmux is not installed (not found on PATH)")
            .hint("install tmux 3.0 or newer: `sudo apt-get install tmux`, `brew install tmux`, or `sudo dnf install tmux`")
            .into()
    } else {
        anyhow!(e).context(format!("cannot run {}", show_argv(args)))
    }
}

fn show_argv<S: AsRef<str>>(args: &[S]) -> String {
    let mut s = String::from("tmux");
    for a in args {
        let a = a.as_ref();
        s.push(' ');
        if a.len() > 60 {
            s.push_str(&format!("{}…", a.chars().take(60).collect::<String>()));
        } else {
            s.push_str(a);
        }
    }
    s
}

/// Escape an argument that would otherwise end the tmux command: a trailing
/// `;` becomes `\;`, which tmux turns back into a literal `;`.
pub fn escape_arg(a: &str) -> String {
    if let Some(head) = a.strip_suffix(';') {
        format!("{head}\\;")
    } else {
        a.to_string()
    }
}

fn parse_pane(line: &str) -> Option<Pane> {
    let mut f = line.splitn(8, '\t');
    let pane_id = f.next()?.to_string();
    let pid = f.next()?.parse().ok()?;
    let dead = f.next()? == "1";
    let dead_status = f.next()?.parse().ok();
    let tag_ws = f.next()?.to_string();
    let tag_job = f.next()?.to_string();
    let activity = f.next()?.parse().unwrap_or(0);
    let session = f.next()?.to_string();
    Some(Pane {
        session,
        pane_id,
        pid,
        dead,
        dead_status: if dead { dead_status } else { None },
        tag_ws,
        tag_job,
        activity,
    })
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    // "tmux 3.3a", "tmux next-3.4", "tmux master"
    let num = v
        .split_whitespace()
        .nth(1)?
        .trim_start_matches(|c: char| !c.is_ascii_digit());
    let mut parts = num.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()
        .unwrap_or("0")
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    Some((major, minor.parse().unwrap_or(0)))
}

/// Where tmux keeps a named socket (for messages).
pub fn socket_path_hint(socket: &str) -> PathBuf {
    if socket.contains('/') {
        PathBuf::from(socket)
    } else {
        let uid = crate::os::real_uid();
        let base = std::env::var("TMUX_TMPDIR").unwrap_or_else(|_| "/tmp".into());
        PathBuf::from(base).join(format!("tmux-{uid}")).join(socket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_semicolon_is_escaped() {
        assert_eq!(escape_arg("ls;"), "ls\\;");
        assert_eq!(escape_arg("a;b"), "a;b");
        assert_eq!(escape_arg(""), "");
    }

    /// A failed tmux call with this stderr (as tmux 3.3a words it).
    fn failed(stderr: &str) -> anyhow::Error {
        anyhow::Error::new(TmuxError {
            argv: "tmux list-panes -a".into(),
            stderr: stderr.into(),
            status: Some(1),
        })
        .context("cannot list panes")
    }

    #[test]
    fn a_server_gone_or_going_is_told_from_other_failures() {
        for gone in [
            "no server running on /tmp/tmux-0/mam-test",
            "error connecting to /tmp/tmux-0/x (No such file or directory)",
            "error connecting to /tmp/tmux-0/x (Connection refused)",
            "server exited unexpectedly",
        ] {
            assert!(is_no_server(&failed(gone)), "{gone}");
            assert!(lists_no_panes(&failed(gone)), "{gone}");
        }
        assert!(lists_no_panes(&failed("no current target")));
        assert!(!is_no_server(&failed("no current target")));
        for other in [
            "can't find session: mam-k",
            "error connecting to /tmp/tmux-0/x (Permission denied)",
            "unknown option -- z",
        ] {
            assert!(!is_no_server(&failed(other)), "{other}");
            assert!(!lists_no_panes(&failed(other)), "{other}");
        }
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("tmux 3.3a\n"), Some((3, 3)));
        assert_eq!(parse_version("tmux next-3.5"), Some((3, 5)));
        assert_eq!(parse_version("tmux 2.9"), Some((2, 9)));
    }

    #[test]
    fn pane_lines_parse_with_odd_session_names() {
        let p = parse_pane("%3\t1234\t1\t7\tw1\talice\t1700000000\tmam-al\tice's").unwrap();
        assert_eq!(p.pane_id, "%3");
        assert_eq!(p.pid, 1234);
        assert!(p.dead);
        assert_eq!(p.dead_status, Some(7));
        assert_eq!(p.session, "mam-al\tice's");
        let p = parse_pane("%4\t99\t0\t\t\t\t0\tplain").unwrap();
        assert!(!p.dead);
        assert_eq!(p.dead_status, None);
        assert_eq!(p.tag_ws, "");
    }
}
