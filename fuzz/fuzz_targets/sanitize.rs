//! The sanitiser: its output holds no ESC, no C0 control but newline and
//! tab, no DEL, no C1 control and no trailing newline; sanitising twice
//! changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mam::agent::probe::sanitize;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let once = sanitize(&text);
    for c in once.chars() {
        let u = c as u32;
        assert!(
            c == '\n' || c == '\t' || !(u < 0x20 || u == 0x7f || (0x80..=0x9f).contains(&u)),
            "control {u:#x} survived in {once:?}"
        );
    }
    assert!(!once.ends_with('\n'), "trailing newline in {once:?}");
    assert_eq!(sanitize(&once), once, "not idempotent");
});
