//! The processes that belong to an agent, and reaping them. An agent owns its
//! pane process, everything descended from it, and anything still in its
//! session or process group (tmux makes the pane process a session leader;
//! daemons a CLI leaves behind keep that session id).
//!
//! The process table comes from sysinfo (/proc on Linux, sysctl on macOS and
//! FreeBSD), asked for nothing but pid, parent and state; session ids come
//! from getsid and process groups from getpgid, signals from kill(2) through
//! rustix. The table is read afresh on every call: reaping must see what
//! appeared since.

use std::collections::{BTreeSet, HashMap};
use std::sync::Once;
use std::time::{Duration, Instant};

use rustix::process::Signal;
use sysinfo::{Pid, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System};

#[derive(Debug, Clone, Copy)]
struct Entry {
    parent: Option<i32>,
    session: Option<i32>,
    group: Option<i32>,
}

fn new_system() -> System {
    // sysinfo keeps /proc/<pid>/stat open between refreshes by default; a
    // System here lives for one call, so that would only hold descriptors.
    static NO_CACHED_FILES: Once = Once::new();
    NO_CACHED_FILES.call_once(|| {
        sysinfo::set_open_files_limit(0);
    });
    System::new()
}

/// Pid, parent and state only. Without `without_tasks` sysinfo lists every
/// thread on Linux as a process of its own, its parent the thread's process.
fn processes_only() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing().without_tasks()
}

fn raw(pid: Pid) -> Option<i32> {
    i32::try_from(pid.as_u32()).ok()
}

fn rustix_pid(pid: i32) -> Option<rustix::process::Pid> {
    rustix::process::Pid::from_raw(pid)
}

/// Every process: its parent, session and process group.
fn table() -> HashMap<i32, Entry> {
    let mut sys = new_system();
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, processes_only());
    sys.processes()
        .iter()
        .filter_map(|(&pid, p)| {
            let pid = raw(pid)?;
            if p.thread_kind().is_some() {
                return None; // a kernel thread, or a thread listed as a task
            }
            // libc, not rustix: rustix's getpgid assumes a group id above 0,
            // and a process can have 0 (kernel threads, other namespaces).
            // SAFETY: getpgid only reads its pid argument.
            let group = unsafe { libc::getpgid(pid) };
            let entry = Entry {
                parent: p.parent().and_then(raw),
                session: p.session_id().and_then(raw),
                group: (group > 0).then_some(group),
            };
            Some((pid, entry))
        })
        .collect()
}

/// The agent's processes: `root`, its descendants, and members of its session
/// or process group. Never includes our own process or pid 1, and is empty
/// for a `root` of 1 or less (pid 1's session is the whole system).
pub fn agent_processes(root: i32) -> BTreeSet<i32> {
    if root <= 1 {
        return BTreeSet::new();
    }
    let procs = table();
    tree_of(root, &procs)
}

fn tree_of(root: i32, procs: &HashMap<i32, Entry>) -> BTreeSet<i32> {
    let me = std::process::id() as i32;
    let mut set: BTreeSet<i32> = BTreeSet::new();
    if procs.contains_key(&root) {
        set.insert(root);
    }
    for (pid, e) in procs {
        if e.session == Some(root) || e.group == Some(root) {
            set.insert(*pid);
        }
    }
    // Descendants (to a fixed point).
    loop {
        let before = set.len();
        for (pid, e) in procs {
            if e.parent.is_some_and(|p| set.contains(&p)) {
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

/// Whether `pid` is running. A zombie (exited, not yet waited for) is gone.
pub fn alive(pid: i32) -> bool {
    let Ok(id) = u32::try_from(pid) else {
        return false;
    };
    let id = Pid::from_u32(id);
    let mut sys = new_system();
    sys.refresh_processes_specifics(ProcessesToUpdate::Some(&[id]), true, processes_only());
    sys.process(id)
        .is_some_and(|p| !matches!(p.status(), ProcessStatus::Zombie | ProcessStatus::Dead))
}

/// SIGTERM every process in `pids` (plus anything that joined the agent's
/// tree since), wait up to `grace`, then SIGKILL what remains. Returns the
/// pids that were still alive at the end (should be empty).
pub fn reap(root: i32, mut pids: BTreeSet<i32>, grace: Duration) -> Vec<i32> {
    pids.extend(agent_processes(root));
    signal_all(&pids, Signal::TERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if pids.iter().all(|p| !alive(*p)) {
            return Vec::new();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    pids.extend(agent_processes(root));
    signal_all(&pids, Signal::KILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && pids.iter().any(|p| alive(*p)) {
        std::thread::sleep(Duration::from_millis(10));
    }
    pids.into_iter().filter(|p| alive(*p)).collect()
}

fn signal_all(pids: &BTreeSet<i32>, sig: Signal) {
    for &p in pids {
        // Never pid 1, never 0 or negative (those signal process groups).
        if p > 1
            && let Some(pid) = rustix_pid(p)
        {
            // ESRCH (gone already) and EPERM (not ours) are both fine here.
            let _ = rustix::process::kill_process(pid, sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_for_tree(root: i32, at_least: usize) -> BTreeSet<i32> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut found = BTreeSet::new();
        while Instant::now() < deadline {
            found = agent_processes(root);
            if found.len() >= at_least {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        found
    }

    #[test]
    fn finds_and_reaps_a_child_tree_and_nothing_else() {
        // Outside the tree: our own child, in our session.
        let mut bystander = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        // A shell in its own session with a grandchild that ignores SIGTERM.
        let mut child = std::process::Command::new("setsid")
            .args(["sh", "-c", "sh -c 'trap \"\" TERM; sleep 30' & sleep 30"])
            .spawn()
            .unwrap();
        let root = child.id() as i32;
        let found = wait_for_tree(root, 4);
        assert!(found.len() >= 4, "expected the tree, got {found:?}");
        let outside = bystander.id() as i32;
        assert!(!found.contains(&outside), "{outside} is not the agent's");
        assert!(!found.contains(&(std::process::id() as i32)));
        let left = reap(root, found.clone(), Duration::from_millis(300));
        let _ = child.wait();
        assert!(left.is_empty(), "left alive: {left:?}");
        assert!(found.iter().all(|p| !alive(*p)));
        assert!(alive(outside), "the bystander must survive");
        let _ = bystander.kill();
        let _ = bystander.wait();
    }

    #[test]
    fn a_zombie_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // Exited but not waited for: still in the table, as a zombie.
        assert!(!alive(pid));
        #[cfg(target_os = "linux")]
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        let _ = child.wait();
        assert!(alive(std::process::id() as i32));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn threads_are_not_processes() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            tx.send(unsafe { libc::gettid() }).unwrap();
            let _ = done_rx.recv();
        });
        let tid = rx.recv().unwrap();
        let procs = table();
        done_tx.send(()).unwrap();
        t.join().unwrap();
        assert!(procs.contains_key(&(std::process::id() as i32)));
        assert!(
            !procs.contains_key(&tid),
            "thread {tid} listed as a process"
        );
    }

    #[test]
    fn no_tree_for_init_or_nonsense_roots() {
        for root in [-1, 0, 1] {
            assert!(agent_processes(root).is_empty(), "root {root}");
        }
    }

    #[test]
    fn the_tree_follows_parents_sessions_and_groups() {
        let e = |parent, session, group| Entry {
            parent: Some(parent),
            session: Some(session),
            group: Some(group),
        };
        let procs: HashMap<i32, Entry> = [
            (1, e(0, 1, 1)),
            (100, e(1, 100, 100)),   // root
            (101, e(100, 100, 100)), // child
            (102, e(101, 100, 102)), // grandchild, own group
            (103, e(1, 100, 100)),   // reparented to init, same session
            (104, e(1, 104, 104)),   // daemon that left with setsid...
            (105, e(104, 104, 104)), // ...and its child
            (106, e(1, 106, 100)),   // group id of root, other session
            (200, e(1, 200, 200)),   // unrelated
            (201, e(200, 200, 200)), // unrelated child
        ]
        .into_iter()
        .collect();
        let tree: Vec<i32> = tree_of(100, &procs).into_iter().collect();
        assert_eq!(tree, [100, 101, 102, 103, 106]);
    }
}
