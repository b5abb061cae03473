//! The wall clock mam stamps and compares its times with (Unix ms): job and
//! message times, reminder due times, event timestamps.
//!
//! It is the system clock unless `MAM_TEST_CLOCK_MS` is set. That variable
//! exists for mam's own tests, so that they can let hours pass without
//! sleeping; nothing in mam sets it, and a user has no reason to:
//!
//! - `MAM_TEST_CLOCK_MS=1800000000000`: the clock stands still at that
//!   instant;
//! - `MAM_TEST_CLOCK_MS=+90000` (or `-90000`): the system clock moved by
//!   that many ms, so time still passes.
//!
//! Anything else (empty, a unit, spaces, out of range) is ignored and the
//! system clock is used. Either way `mam doctor` warns while the variable is
//! set. Durations measured within one process (timeouts, polling, settling)
//! use `Instant` and never see this clock, and times compared with what
//! tmux reports (a pane's `window_activity`) use [`system_ms`], the clock
//! tmux is on.

use std::sync::OnceLock;

/// The variable that moves mam's clock (tests only).
pub const TEST_CLOCK_ENV: &str = "MAM_TEST_CLOCK_MS";

/// A test clock read from [`TEST_CLOCK_ENV`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestClock {
    /// The clock stands still at this instant (Unix ms).
    Fixed(i64),
    /// The system clock plus this many ms.
    Offset(i64),
}

impl TestClock {
    /// `1800000000000` is fixed, `+N` / `-N` an offset; None for anything else.
    pub fn parse(s: &str) -> Option<TestClock> {
        let digits = |d: &str| {
            (!d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .then(|| d.parse::<i64>().ok())
                .flatten()
                // Within ±10,000 years: no arithmetic below can overflow.
                .filter(|&n| n <= 315_576_000_000_000)
        };
        if let Some(d) = s.strip_prefix('+') {
            digits(d).map(TestClock::Offset)
        } else if let Some(d) = s.strip_prefix('-') {
            digits(d).map(|n| TestClock::Offset(-n))
        } else {
            digits(s).map(TestClock::Fixed)
        }
    }

    fn at(self, system_ms: i64) -> i64 {
        match self {
            TestClock::Fixed(t) => t,
            TestClock::Offset(d) => system_ms + d,
        }
    }
}

/// The test clock in effect in this process, read once.
pub fn test_clock() -> Option<TestClock> {
    static CLOCK: OnceLock<Option<TestClock>> = OnceLock::new();
    *CLOCK.get_or_init(|| {
        std::env::var(TEST_CLOCK_ENV)
            .ok()
            .and_then(|v| TestClock::parse(&v))
    })
}

/// The system clock, Unix ms (0 before 1970).
pub fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// mam's clock, Unix ms: the system clock, or the test clock when one is set.
pub fn now_ms() -> i64 {
    let system = system_ms();
    test_clock().map_or(system, |c| c.at(system))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_offset_values_parse_and_nothing_else_does() {
        assert_eq!(
            TestClock::parse("1800000000000"),
            Some(TestClock::Fixed(1_800_000_000_000))
        );
        assert_eq!(TestClock::parse("+90000"), Some(TestClock::Offset(90_000)));
        assert_eq!(TestClock::parse("-5"), Some(TestClock::Offset(-5)));
        assert_eq!(TestClock::parse("+0"), Some(TestClock::Offset(0)));
        for bad in [
            "",
            "+",
            "-",
            "1s",
            " 5",
            "5 ",
            "+-5",
            "--5",
            "1.5",
            "0x10",
            "+1e3",
            "99999999999999999999",
            "315576000000001",
        ] {
            assert_eq!(TestClock::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_fixed_clock_stands_still_and_an_offset_moves_the_system_clock() {
        assert_eq!(TestClock::Fixed(42).at(1_000), 42);
        assert_eq!(TestClock::Offset(500).at(1_000), 1_500);
        assert_eq!(TestClock::Offset(-500).at(1_000), 500);
    }
}
