//! Holding off SIGINT, SIGTERM and SIGHUP while mam types into a pane and
//! records what happened, so an interrupted `send` finishes the one delivery
//! it started (and records it) before the signal takes effect. SIGKILL cannot
//! be held: the attempt rows cover that (see `registry::attempts`).

/// Signals are blocked while this lives; a signal that arrived meanwhile is
/// delivered (with its default action) when it is dropped.
pub struct Hold {
    old: libc::sigset_t,
}

impl Hold {
    pub fn new() -> Hold {
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
            Hold { old }
        }
    }
}

impl Default for Hold {
    fn default() -> Self {
        Hold::new()
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}
