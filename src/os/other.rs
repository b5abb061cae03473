//! The non-POSIX side of `os` (Windows): just enough for mam to build.
//! Every command that needs a workspace stops at `require_posix` (exit 6)
//! first, so none of this runs; where it would, it does nothing rather than
//! guess (it never signals a process).

use std::fs::{File, Metadata, OpenOptions};
use std::path::Path;

pub struct SignalHold;

impl SignalHold {
    pub fn new() -> SignalHold {
        SignalHold
    }
}

impl Default for SignalHold {
    fn default() -> Self {
        SignalHold::new()
    }
}

pub fn restore_sigpipe() {}

pub fn real_uid() -> u32 {
    0
}

/// No uids here: the key file's owner and mode checks are skipped.
pub fn effective_uid() -> Option<u32> {
    None
}

pub fn owner_and_mode(_meta: &Metadata) -> Option<(u32, u32)> {
    None
}

/// No trustworthy change stamp here: a ctime that is always "just now",
/// so nothing is cached on it.
pub fn file_stamp(_meta: &Metadata) -> (i128, i128, u64, u64) {
    (i128::MAX, 0, 0, 0)
}

pub fn hostname() -> Option<String> {
    std::env::var("COMPUTERNAME").ok().filter(|h| !h.is_empty())
}

pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Executable bits are not a thing here: nothing to do.
pub fn make_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

pub fn make_read_only(path: &Path) -> std::io::Result<()> {
    let mut p = std::fs::metadata(path)?.permissions();
    p.set_readonly(true);
    std::fs::set_permissions(path, p)
}

/// The process tree cannot be read here: an empty tree, nothing signalled.
pub mod procs {
    use std::collections::BTreeSet;
    use std::time::Duration;

    pub fn agent_processes(_root: i32) -> BTreeSet<i32> {
        BTreeSet::new()
    }

    pub fn alive(_pid: i32) -> bool {
        false
    }

    pub fn reap(_root: i32, _pids: BTreeSet<i32>, _grace: Duration) -> Vec<i32> {
        Vec::new()
    }
}

/// What a shell command line printed and how it ended.
#[derive(Debug, Clone)]
pub struct ShellRun {
    pub success: bool,
    pub status: Option<i32>,
    pub output: String,
}

/// No POSIX shell here (mam stops at `require_posix` before this).
pub fn run_shell(_dir: &Path, _line: &str, _env: &[(String, String)]) -> std::io::Result<ShellRun> {
    Err(std::io::Error::other("mam needs a POSIX system"))
}

pub fn own_process_group(_cmd: &mut std::process::Command) {}

/// Never signals anything here.
pub fn kill_group(_pid: u32) {}
