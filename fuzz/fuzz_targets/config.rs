//! Config parsing: any bytes as a config layer (UTF-8, TOML, the schema,
//! every duration and the prefix checked) and, when it is valid, every
//! `[agents.NAME]` in it resolved into a profile (regexes compiled) — each
//! step an error or a value, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mam::agent::profiles::Profile;
use mam::config::{Config, parse_layer};

fuzz_target!(|data: &[u8]| {
    let file = Path::new("fuzz/config.toml");
    let Ok(table) = parse_layer(file, data.to_vec()) else {
        return;
    };
    let Ok(cfg) = Config::check_layer(file, &table) else {
        return;
    };
    let _ = (cfg.replay_window(), cfg.key_grace(), cfg.stuck_after(), cfg.reconcile_interval());
    for name in cfg.agents.keys() {
        if let Ok(p) = Profile::resolve(name, &cfg.agents) {
            let _ = p.classify("> \nWorking (3s)");
        }
    }
});
