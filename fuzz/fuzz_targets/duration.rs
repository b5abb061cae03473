//! Duration parsing: a text duration, a seconds flag and a milliseconds key
//! against every limit; an accepted value lies inside the limit, and what
//! `show` prints for it parses back to it (to the millisecond `show` keeps).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mam::duration::{self, Limit};

const LIMITS: [Limit; 5] = [
    Limit::ANY,
    Limit::POSITIVE,
    Limit::PERIOD,
    Limit::REPEAT,
    Limit::DELAY,
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let num = data
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(f64::from_le_bytes);
    let ms = data
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes);
    for limit in LIMITS {
        if let Ok(d) = duration::parse("--fuzz", &text, limit) {
            assert!(limit.contains(d), "{text:?} gave {d:?} outside the limit");
            let shown = duration::show(d);
            let ms = std::time::Duration::from_millis(d.as_millis() as u64);
            assert_eq!(
                duration::parse("--fuzz", &shown, Limit::ANY).ok(),
                Some(ms),
                "{d:?} shown as {shown:?}"
            );
        }
        if let Some(v) = num
            && let Ok(d) = duration::seconds("--fuzz", v, limit)
        {
            assert!(limit.contains(d), "{v} s gave {d:?} outside the limit");
        }
        if let Some(v) = ms
            && let Ok(d) = duration::millis("fuzz_ms", v, limit)
        {
            assert!(limit.contains(d), "{v} ms gave {d:?} outside the limit");
        }
    }
});
