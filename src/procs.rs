//! The processes that belong to an agent, read from /proc, and reaping them.
//! An agent owns its pane process, everything descended from it, and anything
//! still in its session or process group (tmux makes the pane process a
//! session leader; daemons a CLI leaves behind keep that session id).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Stat {
    ppid: i32,
    pgrp: i32,
    session: i32,
}

fn read_stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces or ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state ppid pgrp session ...
    Some(Stat {
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
    })
}

fn all_stats() -> HashMap<i32, Stat> {
    let mut out = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok())
                && let Some(st) = read_stat(pid)
            {
                out.insert(pid, st);
            }
        }
    }
    out
}

/// The agent's processes: `root`, its descendants, and members of its session
/// or process group. Never includes our own process or pid 1.
pub fn agent_processes(root: i32) -> BTreeSet<i32> {
    let stats = all_stats();
    let me = std::process::id() as i32;
    let mut set: BTreeSet<i32> = BTreeSet::new();
    if stats.contains_key(&root) {
        set.insert(root);
    }
    for (pid, st) in &stats {
        if st.session == root || st.pgrp == root {
            set.insert(*pid);
        }
    }
    // Descendants (to a fixed point).
    loop {
        let before = set.len();
        for (pid, st) in &stats {
            if set.contains(&st.ppid) {
                set.insert(*pid);
            }
        }
        if set.len() == before {
            break;
        }
    }
    set.remove(&me);
    set.remove(&1);
    set
}

pub fn alive(pid: i32) -> bool {
    // A zombie still has /proc/<pid>; count it as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rfind(')')
            .and_then(|i| s[i + 2..].chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}

/// SIGTERM every process in `pids` (plus anything that joined the agent's
/// tree since), wait up to `grace`, then SIGKILL what remains. Returns the
/// pids that were still alive at the end (should be empty).
pub fn reap(root: i32, mut pids: BTreeSet<i32>, grace: Duration) -> Vec<i32> {
    pids.extend(agent_processes(root));
    signal_all(&pids, libc::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if pids.iter().all(|p| !alive(*p)) {
            return Vec::new();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    pids.extend(agent_processes(root));
    signal_all(&pids, libc::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && pids.iter().any(|p| alive(*p)) {
        std::thread::sleep(Duration::from_millis(10));
    }
    pids.into_iter().filter(|p| alive(*p)).collect()
}

fn signal_all(pids: &BTreeSet<i32>, sig: i32) {
    for &p in pids {
        if p > 1 {
            // SAFETY: kill(2) with a positive pid and a valid signal number.
            unsafe {
                libc::kill(p, sig);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_reaps_a_child_tree() {
        // A shell in its own session with a grandchild that ignores SIGTERM.
        let mut child = std::process::Command::new("setsid")
            .args(["sh", "-c", "sh -c 'trap \"\" TERM; sleep 30' & sleep 30"])
            .spawn()
            .unwrap();
        let root = child.id() as i32;
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut found = BTreeSet::new();
        while Instant::now() < deadline {
            found = agent_processes(root);
            if found.len() >= 4 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(found.len() >= 4, "expected the tree, got {found:?}");
        let left = reap(root, found.clone(), Duration::from_millis(300));
        let _ = child.wait();
        assert!(left.is_empty(), "left alive: {left:?}");
        assert!(found.iter().all(|p| !alive(*p)));
    }
}
