//! Advisory file locks (per job, the reconcile daemon, first-time setup).
//! On contention we say what we wait for, then poll until a deadline; every
//! error names the lock file.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::error::timeout;

/// A held exclusive lock; released on drop (and by the OS if we die).
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file itself (e.g. to record the holder's pid).
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open(path: &Path) -> Result<File> {
    // The locks directory may be gone (tidied away, or an older layout).
    if let Some(dir) = path.parent()
        && !dir.is_dir()
    {
        crate::os::create_private_dir(dir)
            .with_context(|| format!("cannot create lock directory {}", dir.display()))?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open lock file {}", path.display()))
}

/// Take the lock if it is free; `None` if someone else holds it.
pub fn try_lock(path: &Path) -> Result<Option<FileLock>> {
    let file = open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(FileLock {
            file,
            path: path.to_path_buf(),
        })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Take the lock, waiting up to `wait` without polling: the waiter sleeps in
/// the kernel (`flock`) and gets the lock the moment it is released, so a
/// queue of processes hands it on with no gap. Times out with exit code 5.
/// For locks held briefly and often (the registry's write lock); the wait
/// is bounded by a timer, not a helper thread (`os::lock_exclusive_until`).
pub fn lock_queued(path: &Path, wait: Duration) -> Result<FileLock> {
    if let Some(l) = try_lock(path)? {
        return Ok(l);
    }
    let file = open(path)?;
    match crate::os::lock_exclusive_until(file, wait) {
        Ok(Some(file)) => Ok(FileLock {
            file,
            path: path.to_path_buf(),
        }),
        Err(e) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
        Ok(None) => Err(timeout(format!(
            "timed out after {:.1}s waiting for lock on {}",
            wait.as_secs_f64(),
            path.display()
        ))
        .hint("another mam command is writing to the registry; try again, or find it with `fuser` / `lsof`")
        .into()),
    }
}

/// Take the lock, waiting up to `wait`. Says "waiting for lock on …" on
/// stderr when `announce` and the lock is busy. Times out with exit code 5.
pub fn lock(path: &Path, wait: Duration, announce: bool) -> Result<FileLock> {
    if let Some(l) = try_lock(path)? {
        return Ok(l);
    }
    if announce {
        eprintln!("mam: waiting for lock on {}", path.display());
    }
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        std::thread::sleep(pause);
        if let Some(l) = try_lock(path)? {
            return Ok(l);
        }
        if Instant::now() >= deadline {
            return Err(timeout(format!(
                "timed out after {:.1}s waiting for lock on {}",
                wait.as_secs_f64(),
                path.display()
            ))
            .hint("another mam command is working on this; try again, or find it with `fuser` / `lsof`")
            .into());
        }
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_waits_then_times_out() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.lock");
        let held = lock(&p, Duration::from_secs(1), false).unwrap();
        assert!(try_lock(&p).unwrap().is_none());
        let err = lock(&p, Duration::from_millis(50), false).unwrap_err();
        assert_eq!(crate::error::code_of(&err), crate::error::Code::Timeout);
        assert!(format!("{err}").contains("x.lock"));
        drop(held);
        assert!(try_lock(&p).unwrap().is_some());
    }

    #[test]
    fn queued_waiter_times_out_then_gets_the_lock_when_released() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("w.lock");
        let held = lock_queued(&p, Duration::from_secs(1)).unwrap();
        let err = lock_queued(&p, Duration::from_millis(50)).unwrap_err();
        assert_eq!(crate::error::code_of(&err), crate::error::Code::Timeout);
        assert_eq!(
            format!("{err}"),
            format!("timed out after 0.1s waiting for lock on {}", p.display())
        );
        // A waiter blocked in the kernel gets the lock once it is released.
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || {
                tx.send(()).unwrap();
                lock_queued(&p, Duration::from_secs(30)).map(|_| ())
            })
        };
        rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !waiter.is_finished(),
            "the waiter must wait while the lock is held"
        );
        drop(held);
        waiter.join().unwrap().unwrap();
        assert!(try_lock(&p).unwrap().is_some());
    }
}
