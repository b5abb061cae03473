//! Integration tests: the real `mam` binary against a private tmux server per
//! test, a real SQLite registry, and the scripted fake agent.

mod architecture;
mod bad_input;
mod core;
mod daemon;
mod dash;
mod delivery;
mod docs;
mod events;
mod fleet;
mod fleet_partition;
mod golden;
mod leases;
mod mcp;
mod messaging;
mod mqtt;
mod reconcile;
mod reminders;
#[path = "../support/mod.rs"]
mod support;
mod tables;
mod worktree;

use support::broker;
