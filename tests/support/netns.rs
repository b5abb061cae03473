//! A network namespace of a test's own, joined to this one by a veth pair
//! with private addresses, so a test can run a host "elsewhere" and cut the
//! link between them. Made with `ip` (iproute2), which needs root: without
//! it the test fails saying so, never skips. Removed on drop, also when a
//! test panics.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static SEQ: AtomicU32 = AtomicU32::new(0);

pub struct Netns {
    /// `ip netns` name, unique to this process and test.
    pub name: String,
    /// The veth end in the root namespace, and its address.
    pub root_if: String,
    pub root_addr: Ipv4Addr,
    /// The veth end inside the namespace, and its address.
    pub ns_if: String,
    pub ns_addr: Ipv4Addr,
}

/// `ip ARGS`, returning stderr when it fails.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new(super::find_program("ip").unwrap_or_else(|| "ip".into()))
        .args(args)
        .output()
        .map_err(|e| format!("running `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[track_caller]
fn ip_ok(args: &[&str]) {
    if let Err(e) = ip(args) {
        panic!("{e}");
    }
}

const NEEDS: &str = "this test makes a network namespace and a veth pair (`ip netns add`, \
                     `ip link add … type veth`): it needs iproute2 and root (CAP_SYS_ADMIN \
                     and CAP_NET_ADMIN); run it as root, as CI does";

impl Netns {
    /// A new namespace with its loopback up and a veth pair to this one,
    /// both ends up, on a /30 of 10.231.0.0/16 that no interface here uses.
    pub fn new() -> Netns {
        if super::find_program("ip").is_none() {
            panic!("`ip` not found: {NEEDS} (`apt-get install iproute2`)");
        }
        if unsafe { libc::geteuid() } != 0 {
            panic!("not root: {NEEDS}");
        }
        let pid = std::process::id();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let name = format!("mam-test-{pid}-{n}");
        let root_if = format!("mr{pid:x}x{n}");
        let ns_if = format!("mn{pid:x}x{n}");
        // A /30 derived from the pid (unique among running tests), moved on
        // past any already on an interface here.
        let used = Command::new("ip")
            .args(["-4", "-o", "addr", "show"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let mut slot = (pid.wrapping_mul(4).wrapping_add(n)) % (1 << 14);
        let (root_addr, ns_addr) = loop {
            let base = u32::from(Ipv4Addr::new(10, 231, 0, 0)) + slot * 4;
            let (r, s) = (Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2));
            if !used.contains(&format!(" {r}/")) && !used.contains(&format!(" {s}/")) {
                break (r, s);
            }
            slot = (slot + 1) % (1 << 14);
        };
        if let Err(e) = ip(&["netns", "add", &name]) {
            panic!("{e}\n{NEEDS}");
        }
        let ns = Netns {
            name,
            root_if,
            root_addr,
            ns_if,
            ns_addr,
        };
        ip_ok(&[
            "link",
            "add",
            &ns.root_if,
            "type",
            "veth",
            "peer",
            "name",
            &ns.ns_if,
            "netns",
            &ns.name,
        ]);
        ip_ok(&[
            "addr",
            "add",
            &format!("{root_addr}/30"),
            "dev",
            &ns.root_if,
        ]);
        ip_ok(&[
            "-n",
            &ns.name,
            "addr",
            "add",
            &format!("{ns_addr}/30"),
            "dev",
            &ns.ns_if,
        ]);
        ip_ok(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns.restore();
        ns
    }

    /// `ip netns exec NAME`: what runs under it runs in the namespace.
    pub fn exec_prefix(&self) -> Vec<&str> {
        vec!["ip", "netns", "exec", &self.name]
    }

    /// Cut the link: both veth ends down. Their routes go with them, so
    /// nothing crosses either way; connections already open see no reset,
    /// their packets are just lost, as when a cable is pulled.
    pub fn cut(&self) {
        ip_ok(&["link", "set", &self.root_if, "down"]);
        ip_ok(&["-n", &self.name, "link", "set", &self.ns_if, "down"]);
    }

    /// Restore the link: both ends up (their routes come back with them).
    pub fn restore(&self) {
        ip_ok(&["link", "set", &self.root_if, "up"]);
        ip_ok(&["-n", &self.name, "link", "set", &self.ns_if, "up"]);
    }
}

impl Drop for Netns {
    /// The namespace goes, and with it the veth end inside it and so its
    /// peer; the root end is deleted too in case a process still holds the
    /// namespace open.
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
        let _ = ip(&["link", "del", &self.root_if]);
    }
}
