//! mam — multi-agent mux. Runs AI coding agents side by side in tmux sessions
//! and lets them and their operator coordinate through a SQLite registry of
//! jobs, with every state change recorded as a signed event.
//!
//! Data flows one way: `cli` → `commands` → `reconcile` → `mail` → `app` →
//! `agent` / `events` → `registry` → the leaves; ARCHITECTURE.md names each
//! room and what it must not touch, and tests/cli/architecture.rs checks it.
//! What differs between operating systems (process trees, filesystem types,
//! signals, file modes) lives in `os` alone.

pub mod agent;
pub mod app;
pub mod artifacts;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod dash;
pub mod duration;
pub mod error;
pub mod events;
pub mod git;
pub mod hooks;
pub mod lease;
pub mod lock;
pub mod mail;
pub mod mcp;
pub mod model;
pub mod os;
pub mod reconcile;
pub mod registry;
pub mod shared;
pub mod signing;
pub mod tools;
pub mod ui;
pub mod workspace;

use clap::Parser;

use crate::error::Code;

/// Parse `args` and run the command. Returns the exit code; prints errors
/// (as `mam: error: …` with a hint) on stderr. Only `main` exits.
pub fn run_from<I, T>(args: I) -> Code
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                // --help and --version: print as clap does, exit 0.
                let _ = e.print();
                return Code::Ok;
            }
            // Usage errors in our own format: `mam: error: …`.
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("mam: error: {text}");
            return Code::Usage;
        }
    };
    match commands::dispatch(cli) {
        Ok(()) => Code::Ok,
        Err(e) => {
            eprint!("{}", error::render(&e));
            error::code_of(&e)
        }
    }
}
