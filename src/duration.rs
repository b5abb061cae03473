//! Every duration a user gives `mam` goes through here: seconds flags
//! (`--timeout 2.5`), text durations (`--in 15m`, `--every 1h`) and the
//! config keys (`reconcile.interval = "10s"`). One parser, one set of bounds:
//! a value outside its [`Limit`] is a usage error (exit 2) that names the flag
//! or key, the value and the limit — never a silent default, a busy loop, an
//! overflowed timestamp or a panic.

use std::time::Duration;

use crate::error::{UserError, usage};

/// The longest duration anything accepts: a year, as humantime counts one
/// (365.25 days, so `1y` itself is allowed).
pub const YEAR: Duration = Duration::from_secs(31_557_600);

/// The range a duration must fall in (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub min: Duration,
    pub max: Duration,
}

impl Limit {
    /// Zero means something here (do not wait, kill at once).
    pub const ANY: Limit = Limit {
        min: Duration::ZERO,
        max: YEAR,
    };
    /// Must be longer than zero (millisecond resolution).
    pub const POSITIVE: Limit = Limit {
        min: Duration::from_millis(1),
        max: YEAR,
    };
    /// The period of a loop (daemon passes, status redraws): shorter would
    /// spin a core doing nothing useful.
    pub const PERIOD: Limit = Limit {
        min: Duration::from_millis(100),
        max: YEAR,
    };
    /// A repeating reminder: deliveries per target are rate-limited anyway
    /// (`reminders.per_hour`), so a faster repeat would only pile up.
    pub const REPEAT: Limit = Limit {
        min: Duration::from_secs(60),
        max: YEAR,
    };

    /// A file lease's time to live: long enough to do something, and
    /// renewable.
    pub const LEASE: Limit = Limit {
        min: Duration::from_secs(1),
        max: YEAR,
    };

    /// A pause inside one command (a profile's `submit_delay_ms`,
    /// `settle_ms`): longer would look like a hang.
    pub const DELAY: Limit = Limit {
        min: Duration::ZERO,
        max: Duration::from_secs(60),
    };

    pub fn contains(&self, d: Duration) -> bool {
        self.min <= d && d <= self.max
    }
}

/// A seconds flag's value: finite and within `limit`.
pub fn seconds(flag: &str, v: f64, limit: Limit) -> Result<Duration, UserError> {
    let (lo, hi) = (limit.min.as_secs_f64(), limit.max.as_secs_f64());
    if !(lo..=hi).contains(&v) {
        return Err(usage(format!(
            "{flag} {v}: expected a number of seconds from {lo} to {hi} (a year)"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

/// A milliseconds setting (profiles' `*_ms` keys) within `limit`.
pub fn millis(what: &str, v: u64, limit: Limit) -> Result<Duration, UserError> {
    let d = Duration::from_millis(v);
    if !limit.contains(d) {
        return Err(usage(format!(
            "{what} = {v}: expected milliseconds from {} to {}",
            limit.min.as_millis(),
            limit.max.as_millis()
        )));
    }
    Ok(d)
}

/// A text duration (`90s`, `15m`, `2h`, `1d`, `1h30m`) within `limit`.
/// `what` names the flag or config key in the message.
pub fn parse(what: &str, text: &str, limit: Limit) -> Result<Duration, UserError> {
    if text.trim().starts_with('-') {
        return Err(out_of_range(what, text, limit));
    }
    let d = match humantime::parse_duration(text.trim()) {
        Ok(d) => d,
        // Too many digits, or below a nanosecond: out of range as well.
        Err(humantime::DurationError::NumberOverflow) => {
            return Err(out_of_range(what, text, limit));
        }
        Err(_) => {
            return Err(usage(format!("{what} {text:?}: not a duration"))
                .hint("durations look like 90s, 15m, 2h, 1d or 1h30m"));
        }
    };
    if !limit.contains(d) {
        return Err(out_of_range(what, text, limit));
    }
    Ok(d)
}

fn out_of_range(what: &str, text: &str, limit: Limit) -> UserError {
    usage(format!(
        "{what} {text:?}: expected a duration from {} to {}",
        show(limit.min),
        show(limit.max)
    ))
}

/// A limit as a user would type it: `0s`, `100ms`, `1m`, `1y`.
pub fn show(d: Duration) -> String {
    if d == YEAR {
        return "1y".into();
    }
    let ms = d.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    if ms == 0 {
        "0s".into()
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_named() {
        let e = parse("--in", "99999999999h", Limit::POSITIVE).unwrap_err();
        assert_eq!(
            e.message,
            "--in \"99999999999h\": expected a duration from 1ms to 1y"
        );
        let e = parse("--in", "99999999999999999999999h", Limit::POSITIVE).unwrap_err();
        assert_eq!(
            e.message,
            "--in \"99999999999999999999999h\": expected a duration from 1ms to 1y"
        );
        let e = parse("reconcile.interval", "0s", Limit::PERIOD).unwrap_err();
        assert_eq!(
            e.message,
            "reconcile.interval \"0s\": expected a duration from 100ms to 1y"
        );
        let e = seconds("--interval", 0.0000001, Limit::PERIOD).unwrap_err();
        assert_eq!(
            e.message,
            "--interval 0.0000001: expected a number of seconds from 0.1 to 31557600 (a year)"
        );
        for v in [f64::NAN, f64::INFINITY, -1.0, 1e308] {
            assert!(seconds("--x", v, Limit::ANY).is_err(), "{v}");
        }
        assert!(parse("--x", "soon", Limit::ANY).unwrap_err().hint.is_some());
    }

    #[test]
    fn in_range_values_parse() {
        assert_eq!(
            parse("--in", " 15m ", Limit::POSITIVE).unwrap(),
            Duration::from_secs(900)
        );
        assert_eq!(parse("--every", "1y", Limit::REPEAT).unwrap(), YEAR);
        assert_eq!(parse("k", "0s", Limit::ANY).unwrap(), Duration::ZERO);
        assert_eq!(
            seconds("--interval", 0.1, Limit::PERIOD).unwrap(),
            Duration::from_millis(100)
        );
        assert_eq!(seconds("--t", 0.0, Limit::ANY).unwrap(), Duration::ZERO);
    }

    #[test]
    fn limits_show_as_typed() {
        assert_eq!(show(Duration::ZERO), "0s");
        assert_eq!(show(Duration::from_millis(100)), "100ms");
        assert_eq!(show(Duration::from_secs(60)), "1m");
        assert_eq!(show(Duration::from_secs(86_400 * 2)), "2d");
        assert_eq!(show(YEAR), "1y");
    }

    /// A deterministic stream of hostile and ordinary inputs: no panic, and
    /// every accepted value is within its limit.
    #[test]
    fn random_inputs_never_panic() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let text = g.duration_text();
            for limit in [Limit::ANY, Limit::POSITIVE, Limit::PERIOD, Limit::REPEAT] {
                if let Ok(d) = parse("--x", &text, limit) {
                    assert!(limit.contains(d), "{text:?} gave {d:?}");
                }
                if let Ok(v) = text.trim().parse::<f64>()
                    && let Ok(d) = seconds("--x", v, limit)
                {
                    assert!(d <= limit.max + Duration::from_millis(1), "{text:?}");
                }
            }
        }
    }

    /// xorshift64*: small, deterministic, good enough to vary inputs.
    pub struct Gen(pub u64);

    impl Gen {
        pub fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }

        pub fn duration_text(&mut self) -> String {
            let numbers = [
                "0",
                "1",
                "-1",
                "-5",
                "0.0000001",
                "1e308",
                "1e-308",
                "NaN",
                "inf",
                "-inf",
                "99999999999",
                "18446744073709551616",
                "3.5",
                ".5",
                "5.",
                "007",
                "",
            ];
            let units = [
                "", "ns", "us", "ms", "s", "m", "h", "d", "w", "M", "y", "years", "sec", "x", "é",
            ];
            let mut s = String::new();
            for _ in 0..=(self.next() % 3) {
                match self.next() % 4 {
                    0 => s.push_str(&(self.next() % 100_000).to_string()),
                    1 => s.push_str(&self.next().to_string()),
                    _ => s.push_str(self.pick(&numbers)),
                }
                s.push_str(self.pick(&units));
                if self.next().is_multiple_of(5) {
                    s.push(' ');
                }
            }
            s
        }
    }
}
