//! Everything that differs between operating systems, in one room:
//!
//! - `procs`: the agent's process tree (its pane process, descendants, session
//!   and process group) and reaping it after `mam stop`, read through sysinfo;
//! - `fstype`: whether the state directory is on a network filesystem (Linux
//!   `statfs` magic numbers, the BSDs' and macOS's `f_fstypename`);
//! - `SignalHold`, `restore_sigpipe`, uids, and the 0600/0700 private files and
//!   directories mam keeps its keys, locks and attachments in.
//!
//! mam drives tmux, so it needs a POSIX system. Elsewhere (Windows) it still
//! builds — the unix-only parts are replaced by the inert versions in
//! `other.rs` — and every command that needs a workspace stops at
//! [`require_posix`] with exit 6 before any of them could run.

pub mod fstype;

#[cfg(unix)]
pub mod procs;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(not(unix))]
mod other;
#[cfg(not(unix))]
pub use other::*;

use std::path::{Path, PathBuf};

use crate::error::{UserError, environment};

/// Take an exclusive `flock` on `file`, sleeping in the kernel until it is
/// free (the lock passes to a waiter the instant it is released, with no
/// polling) or `wait` has passed: `Some(file)` holding the lock, or `None`
/// at the deadline. On Linux a timer aimed at the calling thread interrupts
/// the blocking call at the deadline ([`unix::lock_until`]); elsewhere a
/// helper thread does the waiting.
pub fn lock_exclusive_until(
    file: std::fs::File,
    wait: std::time::Duration,
) -> std::io::Result<Option<std::fs::File>> {
    #[cfg(target_os = "linux")]
    {
        unix::lock_until(file, wait)
    }
    #[cfg(not(target_os = "linux"))]
    {
        lock_in_thread(file, wait)
    }
}

/// [`lock_exclusive_until`] where no thread-directed timer exists: a helper
/// thread blocks in `lock` and hands the file back; after the deadline
/// nobody receives it, and dropping it unlocks.
#[cfg(not(target_os = "linux"))]
fn lock_in_thread(
    file: std::fs::File,
    wait: std::time::Duration,
) -> std::io::Result<Option<std::fs::File>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let got = file.lock().map(|()| file);
        let _ = tx.send(got);
    });
    match rx.recv_timeout(wait) {
        Ok(got) => got.map(Some),
        Err(_) => Ok(None),
    }
}

/// Replace the file at `path` whole with `bytes`: they are written to a
/// temporary file beside it (`PATH.mam-PID`), which is renamed over it, so
/// a reader sees the old file or the new one, never half of either. The
/// temporary file is removed when anything fails.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".mam-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let done = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// The error every tmux-driving command gives on a system without POSIX
/// (exit 6).
pub fn unsupported_system() -> UserError {
    environment(format!(
        "mam needs tmux on a POSIX system; this is {}",
        std::env::consts::OS
    ))
    .hint("on Windows, install mam and tmux inside WSL and run it there")
}

/// Ok on a POSIX system; [`unsupported_system`] elsewhere.
pub fn require_posix() -> Result<(), UserError> {
    if cfg!(unix) {
        Ok(())
    } else {
        Err(unsupported_system())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn a_non_posix_system_is_an_environment_error_naming_wsl() {
        let e = unsupported_system();
        assert_eq!(e.code, Code::Environment);
        assert!(e.message.starts_with("mam needs tmux on a POSIX system"));
        assert!(e.hint.unwrap().contains("WSL"));
        assert!(require_posix().is_ok());
    }
}
