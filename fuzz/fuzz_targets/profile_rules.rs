//! Every built-in profile's rules over arbitrary screens: classify, the rule
//! report, the conversation id and the clear-armed check on the raw and the
//! normalised screen. libFuzzer's `-timeout` (scripts/fuzz-smoke.sh passes
//! 2 s) bounds the time per screen, so a pattern that blew up on some input
//! would be reported as a timeout.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mam::agent::profiles::{BUILTIN, Profile, normalise_screen};

static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| {
    BUILTIN
        .iter()
        .map(|(name, _)| Profile::resolve(name, &BTreeMap::new()).expect("built-in compiles"))
        .collect()
});

fuzz_target!(
    // Compile the profiles before the first input: under a loaded machine
    // that took longer than the per-input timeout, which libFuzzer then
    // reported as a hang on the empty input.
    init: {
        LazyLock::force(&PROFILES);
    },
    |data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let screen = normalise_screen(&raw);
    for p in PROFILES.iter() {
        for s in [raw.as_ref(), screen.as_str()] {
            let _ = p.classify(s);
            let report = p.rule_report(s);
            assert!(!report.is_empty() || p.ready.is_empty());
            let _ = p.conversation_id_on(s);
            let _ = p.shows_queued(s);
            if let Some(r) = &p.clear_armed {
                let _ = r.is_match(s);
            }
        }
    }
    }
);
