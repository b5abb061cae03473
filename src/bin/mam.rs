//! The `mam` binary: run the library and exit with its code.
//!
//! A panic is a bug in mam, never the user's fault: it is reported as one
//! line (`mam: internal error: …`, where, and how to report it) and exits 1
//! like any unexpected error, not with Rust's 101 and its backtrace notice.
//! What the command committed before it stays committed (every write is one
//! transaction). Output that cannot be written (a full disk, a closed
//! terminal) is not a bug: it is an environment error, exit 6.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set when the panic was a failed write to stdout or stderr.
static OUTPUT_FAILED: AtomicBool = AtomicBool::new(false);

fn main() {
    mam::os::restore_sigpipe();
    mam::registry::tune_sqlite_at_start();
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        if let Some(why) = what
            .strip_prefix("failed printing to stdout: ")
            .or_else(|| what.strip_prefix("failed printing to stderr: "))
        {
            OUTPUT_FAILED.store(true, Ordering::SeqCst);
            eprintln!("mam: error: cannot write the output: {why}");
            eprintln!("hint: check the disk or the pipe the output goes to");
            return;
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("mam: internal error: {what}{at}");
        eprintln!(
            "hint: this is a bug in mam {}; please report it with the command you ran",
            env!("CARGO_PKG_VERSION")
        );
    }));
    let code = match std::panic::catch_unwind(|| mam::run_from(std::env::args_os())) {
        Ok(code) => code.as_i32(),
        Err(_) if OUTPUT_FAILED.load(Ordering::SeqCst) => mam::error::Code::Environment.as_i32(),
        Err(_) => mam::error::Code::Unexpected.as_i32(),
    };
    std::process::exit(code);
}
