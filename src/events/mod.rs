//! Events on the wire: publishing the outbox to MQTT after commit, the
//! broker endpoint, subscribing, and the one acceptance rule for events that
//! arrive. The envelope and keys live in `signing`; the outbox rows and the
//! replay store are registry APIs.

pub mod accept;
pub mod endpoint;
pub mod mqtt;
pub mod outbox;

pub use crate::signing::{envelope, fleet_inbox, keys, rfc3339_ms, topic};
