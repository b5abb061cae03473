//! Golden files: an output, normalised (see `expect`), compared with the
//! committed file `tests/golden/<name>`, which is the spec of that output.
//!
//! With `MAM_BLESS=1` a golden file that is missing or differs is
//! (re)written instead, and the test still fails, naming each file it
//! wrote: a bless never passes, so it cannot pass silently in CI. Review
//! what it wrote (`git diff tests/golden/`), then run the tests again
//! without `MAM_BLESS`. Through `Env::expect` the failure comes when the
//! Env is dropped, so that one run blesses every golden file of a test.

use std::path::PathBuf;

use super::Env;
use super::expect::diff;

/// Set to `1` to (re)write golden files that differ.
pub const BLESS_ENV: &str = "MAM_BLESS";

/// `tests/golden/<name>` in the source tree.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn blessing() -> bool {
    std::env::var(BLESS_ENV).is_ok_and(|v| v == "1")
}

/// Compare `actual` with golden file `name`. When blessing, write it and
/// report it: to `env` (whose drop then fails the test) or, without one,
/// as the error.
pub fn check(name: &str, actual: &str, env: Option<&Env>) -> Result<(), String> {
    let p = path(name);
    let committed = std::fs::read_to_string(&p).ok();
    if committed.as_deref() == Some(actual) {
        return Ok(());
    }
    if blessing() {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, actual).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        let what = format!("tests/golden/{name}");
        return match env {
            Some(env) => {
                env.blessed.lock().unwrap().push(what);
                Ok(())
            }
            None => Err(format!(
                "BLESSED {what}: review it (git diff tests/golden/), then rerun without {BLESS_ENV}"
            )),
        };
    }
    Err(match committed {
        None => format!(
            "golden file tests/golden/{name} does not exist; write it with {BLESS_ENV}=1 and review it"
        ),
        Some(want) => format!(
            "differs from tests/golden/{name} (- golden, + actual); if the change is meant, rerun with {BLESS_ENV}=1 and review the diff:\n{}",
            diff(&want, actual)
        ),
    })
}

/// Panic unless `actual` is golden file `name` (blessing: panic after writing it).
#[track_caller]
pub fn assert_golden(name: &str, actual: &str) {
    if let Err(e) = check(name, actual, None) {
        panic!("{e}");
    }
}

/// The failure of a test that blessed files (called when its Env drops).
pub fn fail_if_blessed(env: &Env) {
    let blessed = std::mem::take(&mut *env.blessed.lock().unwrap());
    if !blessed.is_empty() && !std::thread::panicking() {
        panic!(
            "BLESSED (so this test fails): {}\nreview them (git diff tests/golden/), then rerun without {BLESS_ENV}",
            blessed.join(", ")
        );
    }
}
