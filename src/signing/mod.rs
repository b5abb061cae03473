//! Signing: the canonical signed envelope every event travels in, the
//! workspace keys that sign and verify it, and the topic an event is bound
//! to. Pure: no registry, no network. The registry signs events with it when
//! it writes them to the outbox; `events` verifies them when they arrive.

pub mod envelope;
pub mod host;
pub mod keys;

/// The MQTT topic of an event.
pub fn topic(prefix: &str, ws: &str, kind: &str, job: &str) -> String {
    if kind == "review.verdict" {
        format!("{prefix}/{ws}/reviews/{job}/verdicts")
    } else {
        format!("{prefix}/{ws}/jobs/{job}/events")
    }
}

/// The topic a fleet host's commands and receipts arrive on.
pub fn fleet_inbox(prefix: &str, host: &str) -> String {
    format!("{prefix}/fleet/{host}/inbox")
}

/// RFC 3339 UTC with milliseconds, from unix ms.
pub fn rfc3339_ms(ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_have_milliseconds_and_z() {
        assert_eq!(
            super::rfc3339_ms(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(super::rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
