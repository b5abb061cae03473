//! mam — multi-agent mux (library). See the README and SPEC for the product.
pub mod cli;
pub mod config;
pub mod error;
pub mod events;
pub mod lock;
pub mod profiles;
pub mod registry;
pub mod tmux;
pub mod workspace;

pub fn run() {}
