//! Integration tests: the real `mam` binary against a private tmux server per
//! test, a real SQLite registry, and the scripted fake agent.

mod bad_input;
mod core;
mod docs;
mod messaging;
mod reconcile;
mod support;
