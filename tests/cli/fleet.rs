//! Several hosts, one fleet: each host's name and Ed25519 key, and the hosts
//! it trusts (`mam fleet show|trust|untrust|hosts`).

use std::os::unix::fs::PermissionsExt;

use crate::support::*;

/// A workspace that calls itself `host` in the fleet.
fn host(name: &str) -> Env {
    let env = Env::new();
    env.write_config(&format!("[fleet]\nhost = \"{name}\"\n"));
    env
}

#[test]
fn two_hosts_exchange_keys_and_trust_each_other() {
    let (a, b) = (host("alpha"), host("beta"));
    let sa = a.json(&["fleet", "show", "--json"]);
    assert_eq!(sa["host"], "alpha");
    let ka = sa["public_key"].as_str().unwrap().to_string();
    assert_eq!(ka.len(), 64);
    assert!(ka.bytes().all(|c| c.is_ascii_hexdigit()));
    let kid = sa["kid"].as_str().unwrap().to_string();
    assert!(kid.starts_with('h') && kid.len() == 9, "{kid}");
    // Made once, 0600, and the same on every later show.
    let key_file = a.root.join(".mam/host.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(a.ok(&["fleet", "show", "-q"]), format!("{ka}\n"));
    let human = a.ok(&["fleet", "show"]);
    assert_eq!(
        human,
        format!(
            "host        alpha\nkey id      {kid}\npublic key  {ka}\non each other host: mam fleet trust alpha {ka}\n"
        )
    );

    assert_eq!(
        b.ok(&["fleet", "hosts"]),
        "no other hosts known (trust one with `mam fleet trust HOST KEY`)\n"
    );
    assert_eq!(
        b.ok(&["fleet", "trust", "alpha", &ka]),
        format!("trusted alpha (key {kid})\n")
    );
    assert_eq!(
        b.ok(&[
            "fleet",
            "trust",
            "alpha",
            &format!("ed25519:{}", ka.to_uppercase())
        ]),
        format!("alpha was already trusted with key {kid}\n")
    );
    assert_eq!(
        b.ok(&["fleet", "hosts"]),
        format!("HOST   KEY ID     TRUSTED  LAST SEEN\nalpha  {kid}  yes      never\n")
    );
    let hosts = b.json(&["fleet", "hosts", "--json"]);
    assert_eq!(hosts["host"], "beta");
    assert_eq!(hosts["hosts"].as_array().unwrap().len(), 1);
    let h = &hosts["hosts"][0];
    assert_eq!(
        (
            h["host"].as_str(),
            h["public_key"].as_str(),
            h["key_id"].as_str(),
            h["trusted"].as_bool()
        ),
        (
            Some("alpha"),
            Some(ka.as_str()),
            Some(kid.as_str()),
            Some(true)
        )
    );
    assert_eq!(h["trusted_by"], "operator");
    assert!(h["last_seen"].is_null());

    // Each change is an event, signed like every other.
    let kinds: Vec<String> = b
        .ok(&["events", "--json", "--kind", "fleet.trusted"])
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["envelope"]["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kinds, ["fleet.trusted"]);
    let all = b.ok(&["events", "--json"]);
    assert!(
        all.lines().all(|l| l.contains(r#""verified":true"#)),
        "{all}"
    );

    assert_eq!(
        b.ok(&["fleet", "untrust", "alpha"]),
        "untrusted alpha: its traffic is no longer acted on\n"
    );
    assert_eq!(
        b.ok(&["fleet", "untrust", "alpha"]),
        "alpha was not trusted\n"
    );
    assert_eq!(
        b.ok(&["fleet", "hosts"]),
        format!("HOST   KEY ID     TRUSTED  LAST SEEN\nalpha  {kid}  no       never\n")
    );
}

#[test]
fn bad_fleet_input_is_refused_with_nothing_changed() {
    let (a, b) = (host("alpha"), host("beta"));
    let ka = a.ok(&["fleet", "show", "-q"]).trim().to_string();
    let kb = b.ok(&["fleet", "show", "-q"]).trim().to_string();
    for (args, code, says) in [
        (
            vec!["fleet", "trust", "Alpha", ka.as_str()],
            2,
            "invalid host name \"Alpha\"",
        ),
        (
            vec!["fleet", "trust", "a@b", ka.as_str()],
            2,
            "invalid host name",
        ),
        (
            vec!["fleet", "trust", "beta", ka.as_str()],
            2,
            "beta is this host's own name",
        ),
        (
            vec!["fleet", "trust", "alpha", "abc"],
            2,
            "invalid host key \"abc\"",
        ),
        (
            vec!["fleet", "trust", "alpha", &ka[..63]],
            2,
            "expected 32 bytes as 64 hex digits",
        ),
        (
            vec!["fleet", "untrust", "gamma"],
            3,
            "unknown host \"gamma\"",
        ),
    ] {
        let err = b.fails(&args, code);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("hint:"), "{args:?}: {err}");
    }
    b.ok(&["fleet", "trust", "alpha", &ka]);
    // A trusted host's key is never replaced by accident, and one key is one host's.
    let err = b.fails(&["fleet", "trust", "alpha", &kb], 4);
    assert!(err.contains("already trusted with another key"), "{err}");
    let err = b.fails(&["fleet", "trust", "gamma", &ka], 4);
    assert!(err.contains("already trusted as host alpha"), "{err}");
    // Only the operator changes whom this host trusts.
    let out = b
        .cmd()
        .args(["fleet", "untrust", "alpha"])
        .env("MAM_AGENT", "bob")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only the operator may untrust a host"));
    let hosts = b.json(&["fleet", "hosts", "--json"]);
    let names: Vec<&str> = hosts["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["host"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha"]);
    assert_eq!(hosts["hosts"][0]["public_key"], ka.as_str());
    assert_eq!(hosts["hosts"][0]["trusted"], true);

    // A bad [fleet] host is named with its file.
    b.write_config("[fleet]\nhost = \"Be ta\"\n");
    let err = b.fails(&["fleet", "hosts"], 2);
    assert!(err.contains("invalid fleet.host \"Be ta\""), "{err}");
    assert!(err.contains("config.toml"), "{err}");

    // An unsafe host key file is refused.
    std::fs::set_permissions(
        a.root.join(".mam/host.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let err = a.fails(&["fleet", "show"], 6);
    assert!(err.contains("readable by others"), "{err}");
}
