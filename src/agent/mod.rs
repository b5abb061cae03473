//! Agents in tmux: the tmux client, the agent profiles, reading the screen
//! (probe), the agent's own record of what it was sent (record, discover),
//! and starting and stopping an agent (runtime).

pub mod discover;
pub mod probe;
pub mod profiles;
pub mod record;
pub mod runtime;
pub mod tmux;
