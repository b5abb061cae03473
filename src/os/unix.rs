//! The POSIX side of `os`: holding off signals while mam types into a pane,
//! SIGPIPE, uids, and private (0600 / 0700) files and directories.

use std::fs::{File, Metadata, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// SIGINT, SIGTERM and SIGHUP are blocked while this lives, so an
/// interrupted `send` finishes the one delivery it started (and records it)
/// before the signal takes effect; a signal that arrived meanwhile is
/// delivered (with its default action) when it is dropped. SIGKILL cannot be
/// held: the attempt rows cover that (see `registry::attempts`).
pub struct SignalHold {
    old: libc::sigset_t,
}

impl SignalHold {
    pub fn new() -> SignalHold {
        // SAFETY: sigset_t is plain data initialised by sigemptyset, and
        // pthread_sigmask only reads `set` and writes `old`.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::sigaddset(&mut set, s);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            SignalHold { old }
        }
    }
}

impl Default for SignalHold {
    fn default() -> Self {
        SignalHold::new()
    }
}

impl Drop for SignalHold {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

/// Die quietly on a closed pipe (`mam status | head`) instead of failing a
/// write and reporting it. Call before any thread starts.
pub fn restore_sigpipe() {
    // SAFETY: resetting a signal disposition before any threads start.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The real uid (what tmux names its socket directory after).
pub fn real_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The effective uid (who must own the key file).
pub fn effective_uid() -> Option<u32> {
    Some(rustix::process::geteuid().as_raw())
}

/// This machine's host name (`gethostname`), or None when it has none or
/// it is not UTF-8.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes and we stop at the first NUL (or the end).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    std::str::from_utf8(&buf[..end])
        .ok()
        .filter(|h| !h.is_empty())
        .map(str::to_string)
}

/// A file's owner uid and permission bits (`& 0o777`).
pub fn owner_and_mode(meta: &Metadata) -> Option<(u32, u32)> {
    Some((meta.uid(), meta.mode() & 0o777))
}

/// Create `dir` and its missing parents, mode 0700.
/// A file's change stamp: (ctime and mtime in nanoseconds since the epoch,
/// inode, device), for telling whether it changed since it was last seen.
pub fn file_stamp(meta: &Metadata) -> (i128, i128, u64, u64) {
    let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
    (
        ns(meta.ctime(), meta.ctime_nsec()),
        ns(meta.mtime(), meta.mtime_nsec()),
        meta.ino(),
        meta.dev() ^ u64::from(meta.mode()).rotate_left(48),
    )
}

pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .recursive(true)
        .create(dir)
}

/// Create a new file, mode 0600, never through a symbolic link (fails with
/// `AlreadyExists` when anything is at `path`).
pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// What a shell command line printed and how it ended.
#[derive(Debug, Clone)]
pub struct ShellRun {
    pub success: bool,
    /// The exit status (None: ended by a signal).
    pub status: Option<i32>,
    /// Its stdout and stderr, in that order.
    pub output: String,
}

/// Run one user-configured command line with `sh -c` in `dir`, stdin
/// closed, with `env` added (the `[worktree] setup` commands: shell lines
/// by design, the user's own, like git hooks).
pub fn run_shell(dir: &Path, line: &str, env: &[(String, String)]) -> std::io::Result<ShellRun> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .output()?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(ShellRun {
        success: out.status.success(),
        status: out.status.code(),
        output,
    })
}

/// Make a file executable (0755): a git hook.
pub fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// Make a file read-only for everyone (0444): a shared doc.
pub fn make_read_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444))
}

/// Make `cmd` start in a process group of its own, so [`kill_group`] ends
/// it and everything it started (a hook's `sh -c` and its children).
pub fn own_process_group(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
}

/// SIGKILL the process group led by `pid` (made by [`own_process_group`]).
pub fn kill_group(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    // SAFETY: killpg only sends a signal; a group that is gone is ESRCH.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
}

/// The signal that ends a timed wait for a lock ([`lock_until`]); its
/// handler does nothing, it only makes the blocking `flock` return EINTR.
#[cfg(target_os = "linux")]
const LOCK_TIMER_SIGNAL: libc::c_int = libc::SIGALRM;

#[cfg(target_os = "linux")]
extern "C" fn lock_timer_fired(_: libc::c_int) {}

/// Block in `flock(LOCK_EX)` until the lock is ours or `wait` has passed,
/// with no helper thread: a POSIX timer aimed at this thread alone
/// (`SIGEV_THREAD_ID`, so no other thread of the process sees the signal)
/// fires at the deadline and then every 10 ms until it is deleted, so a
/// signal that lands just before the call blocks is followed by another.
/// The signal's handler is installed once, without `SA_RESTART`.
#[cfg(target_os = "linux")]
pub fn lock_until(file: File, wait: std::time::Duration) -> std::io::Result<Option<File>> {
    use std::io::Error;
    use std::os::fd::AsRawFd;
    static HANDLER: std::sync::Once = std::sync::Once::new();
    HANDLER.call_once(|| {
        // SAFETY: installs a handler that does nothing (async-signal-safe)
        // for a signal mam uses for nothing else.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = lock_timer_fired as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = 0;
            libc::sigaction(LOCK_TIMER_SIGNAL, &sa, std::ptr::null_mut());
        }
    });
    let deadline = std::time::Instant::now() + wait;
    // SAFETY: plain-data structs initialised here; the timer is deleted
    // before returning, and the signal mask restored.
    unsafe {
        let mut unblock: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut unblock);
        libc::sigaddset(&mut unblock, LOCK_TIMER_SIGNAL);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &unblock, &mut old);
        let mut ev: libc::sigevent = std::mem::zeroed();
        ev.sigev_notify = libc::SIGEV_THREAD_ID;
        ev.sigev_signo = LOCK_TIMER_SIGNAL;
        ev.sigev_notify_thread_id = libc::gettid();
        let mut timer: libc::timer_t = std::mem::zeroed();
        if libc::timer_create(libc::CLOCK_MONOTONIC, &mut ev, &mut timer) != 0 {
            let e = Error::last_os_error();
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            return Err(e);
        }
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 10_000_000,
            },
            it_value: libc::timespec {
                tv_sec: wait.as_secs() as libc::time_t,
                // Never zero: that would disarm the timer.
                tv_nsec: wait.subsec_nanos().max(1) as libc::c_long,
            },
        };
        let got = if libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()) != 0 {
            Err(Error::last_os_error())
        } else {
            loop {
                if libc::flock(file.as_raw_fd(), libc::LOCK_EX) == 0 {
                    break Ok(true);
                }
                let e = Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    break Err(e);
                }
                if std::time::Instant::now() >= deadline {
                    break Ok(false);
                }
            }
        };
        libc::timer_delete(timer);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        got.map(|locked| locked.then_some(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_and_dirs_are_ours_alone() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b");
        create_private_dir(&dir).unwrap();
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(
            owner_and_mode(&meta),
            Some((effective_uid().unwrap(), 0o700))
        );
        let f = dir.join("f");
        drop(create_private_file(&f).unwrap());
        let meta = std::fs::metadata(&f).unwrap();
        assert_eq!(owner_and_mode(&meta).unwrap().1, 0o600);
        let e = create_private_file(&f).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        let link = dir.join("link");
        std::os::unix::fs::symlink(t.path().join("elsewhere"), &link).unwrap();
        assert!(create_private_file(&link).is_err());
        assert!(!t.path().join("elsewhere").exists());
    }
}
