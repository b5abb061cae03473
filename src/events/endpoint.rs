//! The broker endpoint: `[broker]` config turned into a checked
//! [`Endpoint`] — URL, host and port, TLS files, credentials — refusing
//! public brokers and plain MQTT off loopback unless allowed.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Result;

use crate::config::BrokerConfig;
use crate::error::{UserError, environment};

/// Brokers anyone can read: events would leak workspace activity to the world
/// (they are signed, not encrypted). Refused whatever `allow_insecure` says.
const PUBLIC_BROKERS: &[&str] = &[
    "test.mosquitto.org",
    "broker.hivemq.com",
    "broker.emqx.io",
    "mqtt.eclipseprojects.io",
    "broker.mqttdashboard.com",
    "public.mqtthq.com",
    "mqtt.flespi.io",
    "mqtt.fluux.io",
    "broker.mqtt.cool",
    "test.mosca.io",
    "iot.eclipse.org",
    "mqtt.eclipse.org",
    "public.cloud.shiftr.io",
    "broker.shiftr.io",
];

/// A validated broker address with its credentials and TLS files.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    /// `mqtts://`: TLS with the CA in `ca_file`.
    pub tls: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// The URL as configured, for messages.
    pub url: String,
}

/// Never print the password.
impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .finish()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Build the endpoint from `[broker]`; `Ok(None)` when no broker is set.
pub fn endpoint(cfg: &BrokerConfig) -> Result<Option<Endpoint>> {
    let url = cfg.url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let (tls, rest, default_port) = if let Some(r) = url.strip_prefix("mqtts://") {
        (true, r, 8883)
    } else if let Some(r) = url.strip_prefix("mqtt://") {
        (false, r, 1883)
    } else {
        let scheme = url.split("://").next().unwrap_or(url);
        return Err(bad_url(url, &format!("unsupported scheme in `{scheme}`")).into());
    };
    let (host, port) = split_host_port(url, rest.strip_suffix('/').unwrap_or(rest))?;
    let port = port.unwrap_or(default_port);

    let lower = host.to_ascii_lowercase();
    let lower = lower.trim_end_matches('.');
    if let Some(public) = PUBLIC_BROKERS
        .iter()
        .find(|p| lower == **p || lower.ends_with(&format!(".{p}")))
    {
        return Err(environment(format!(
            "broker {url}: {public} is a public broker; anyone could read this workspace's events"
        ))
        .hint(
            "run your own Mosquitto (see examples/README-mosquitto.md) and point broker.url at it",
        )
        .into());
    }
    if !tls && !is_loopback(lower) && !cfg.allow_insecure {
        return Err(environment(format!(
            "broker {url}: plain mqtt:// is only allowed to a loopback address"
        ))
        .hint(format!(
            "use mqtts://{host}:8883 with broker.ca_file, or set broker.allow_insecure = true \
             if the network is trusted"
        ))
        .into());
    }

    let path = |s: &str| (!s.trim().is_empty()).then(|| PathBuf::from(s.trim()));
    let ca_file = path(&cfg.ca_file);
    let cert_file = path(&cfg.cert_file);
    let key_file = path(&cfg.key_file);
    if tls && ca_file.is_none() {
        return Err(environment(format!(
            "broker {url}: mqtts:// needs broker.ca_file (the CA that signed the broker's certificate)"
        ))
        .hint("set broker.ca_file to a PEM file; examples/README-mosquitto.md shows how to make one")
        .into());
    }
    if cert_file.is_some() != key_file.is_some() {
        return Err(environment(format!(
            "broker {url}: a client certificate needs both broker.cert_file and broker.key_file"
        ))
        .hint("set both, or neither")
        .into());
    }
    if !tls && cert_file.is_some() {
        return Err(environment(format!(
            "broker {url}: broker.cert_file is set but the URL is plain mqtt://"
        ))
        .hint("use mqtts:// to present a client certificate")
        .into());
    }

    let username = Some(cfg.username.clone()).filter(|u| !u.is_empty());
    let password = Some(cfg.password_env.trim())
        .filter(|name| !name.is_empty())
        .and_then(|name| std::env::var(name).ok())
        .filter(|p| !p.is_empty());
    if password.is_some() && username.is_none() {
        return Err(environment(format!(
            "broker {url}: a password is set (${}) but broker.username is empty",
            cfg.password_env.trim()
        ))
        .hint("MQTT sends a password only with a username: set broker.username")
        .into());
    }

    Ok(Some(Endpoint {
        host,
        port,
        tls,
        username,
        password,
        ca_file,
        cert_file,
        key_file,
        url: url.to_string(),
    }))
}

fn bad_url(url: &str, why: &str) -> UserError {
    environment(format!("broker.url `{url}`: {why}"))
        .hint("use mqtt://127.0.0.1:1883 (loopback only) or mqtts://host:8883")
}

/// `host[:port]` or `[v6]:port`; no user info, path or query.
fn split_host_port(url: &str, authority: &str) -> Result<(String, Option<u16>)> {
    if authority.contains(['@', '/', '?', '#']) || authority.chars().any(char::is_whitespace) {
        return Err(bad_url(
            url,
            "expected only host[:port] (credentials go in broker.username and broker.password_env)",
        )
        .into());
    }
    let (host, port) = if let Some(r) = authority.strip_prefix('[') {
        let Some((h, after)) = r.split_once(']') else {
            return Err(bad_url(url, "unclosed `[` in IPv6 address").into());
        };
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad_url(url, &format!("`{h}` is not an IPv6 address")).into());
        }
        match after {
            "" => (h, None),
            p if p.starts_with(':') => (h, Some(&p[1..])),
            _ => return Err(bad_url(url, "junk after `]`").into()),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad_url(url, "no host").into());
    }
    if !host.contains(':')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        return Err(bad_url(url, &format!("`{host}` is not a host name")).into());
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(bad_url(url, &format!("`{p}` is not a port (1-65535)")).into()),
        },
    };
    Ok((host.to_string(), port))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Code, code_of};
    use std::path::Path;

    fn cfg(url: &str) -> BrokerConfig {
        BrokerConfig {
            url: url.into(),
            password_env: String::new(),
            ..BrokerConfig::default()
        }
    }

    fn refused(c: &BrokerConfig) -> String {
        let e = endpoint(c).unwrap_err();
        assert_eq!(code_of(&e), Code::Environment, "{e:#}");
        assert!(crate::error::hint_of(&e).is_some(), "no hint: {e:#}");
        format!("{e:#}")
    }

    #[test]
    fn empty_url_means_no_broker() {
        assert!(endpoint(&cfg("")).unwrap().is_none());
        assert!(endpoint(&cfg("  ")).unwrap().is_none());
    }

    #[test]
    fn parses_hosts_and_default_ports() {
        let e = endpoint(&cfg("mqtt://127.0.0.1")).unwrap().unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("127.0.0.1", 1883, false));
        let e = endpoint(&cfg("mqtt://localhost:1999/")).unwrap().unwrap();
        assert_eq!((e.host.as_str(), e.port), ("localhost", 1999));
        let e = endpoint(&cfg("mqtt://[::1]:2000")).unwrap().unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 2000));
        assert_eq!(e.to_string(), "mqtt://[::1]:2000");
        let mut c = cfg("mqtts://broker.example.net");
        c.ca_file = "/etc/ca.pem".into();
        let e = endpoint(&c).unwrap().unwrap();
        assert_eq!((e.port, e.tls), (8883, true));
        assert_eq!(e.ca_file.as_deref(), Some(Path::new("/etc/ca.pem")));
    }

    #[test]
    fn refuses_bad_urls() {
        for url in [
            "http://127.0.0.1",
            "127.0.0.1:1883",
            "mqtt://",
            "mqtt://127.0.0.1:0",
            "mqtt://127.0.0.1:99999",
            "mqtt://127.0.0.1:x",
            "mqtt://user:pw@127.0.0.1",
            "mqtt://127.0.0.1/path",
            "mqtt://[::1",
            "mqtt://ho st",
        ] {
            refused(&cfg(url));
        }
    }

    #[test]
    fn plain_mqtt_only_on_loopback_unless_allowed() {
        let t = refused(&cfg("mqtt://192.0.2.1"));
        assert!(t.contains("loopback"), "{t}");
        refused(&cfg("mqtt://127.0.0.1.example.com"));
        let mut c = cfg("mqtt://192.0.2.1");
        c.allow_insecure = true;
        assert!(endpoint(&c).unwrap().is_some());
        assert!(endpoint(&cfg("mqtt://127.9.8.7")).unwrap().is_some());
    }

    #[test]
    fn public_brokers_are_refused_even_when_insecure_is_allowed() {
        for url in [
            "mqtt://test.mosquitto.org",
            "mqtt://Broker.HiveMQ.com:1883",
            "mqtts://eu.broker.emqx.io",
            "mqtt://mqtt.eclipseprojects.io.",
        ] {
            let mut c = cfg(url);
            c.allow_insecure = true;
            c.ca_file = "/ca.pem".into();
            let t = refused(&c);
            assert!(t.contains("public broker"), "{t}");
        }
    }

    #[test]
    fn tls_needs_a_ca_and_whole_client_identity() {
        refused(&cfg("mqtts://127.0.0.1"));
        let mut c = cfg("mqtts://127.0.0.1");
        c.ca_file = "/ca.pem".into();
        c.cert_file = "/c.pem".into();
        refused(&c);
    }

    #[test]
    fn password_comes_from_the_named_variable_and_is_not_printed() {
        // Cargo sets CARGO_PKG_NAME for the test process: reading a variable
        // that exists avoids `set_var`, which races with parallel tests.
        let mut c = cfg("mqtt://127.0.0.1");
        c.password_env = "CARGO_PKG_NAME".into();
        c.username = "u".into();
        let e = endpoint(&c).unwrap().unwrap();
        assert_eq!(e.password.as_deref(), Some("mam"));
        assert!(!format!("{e:?}").contains("\"mam\""), "{e:?}");
        c.password_env = "MAM_TEST_NO_SUCH_VARIABLE_7F3A".into();
        assert_eq!(endpoint(&c).unwrap().unwrap().password, None);
        c.password_env = "CARGO_PKG_NAME".into();
        c.username.clear();
        refused(&c);
    }
}
