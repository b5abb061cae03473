//! Integration tests: the real `mam` binary against a private tmux server per
//! test, a real SQLite registry, and the scripted fake agent.

mod architecture;
mod bad_input;
mod broker;
mod core;
mod daemon;
mod delivery;
mod docs;
mod events;
mod messaging;
mod mqtt;
mod reconcile;
mod reminders;
mod support;
mod tables;
