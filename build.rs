//! Link-time settings for mam's own binaries.
//!
//! On Linux with glibc, the position-independent `mam` carries some 25,000
//! relative relocations (vtables, string tables): as RELA entries that is a
//! 600 KB table the dynamic loader reads and applies on every start, about
//! 0.8 ms of a 2.8 ms `mam send`. `-z pack-relative-relocs` stores them as
//! DT_RELR (a few KB) and keeps the binary position-independent (ASLR
//! stays). Only glibc 2.36 and later can load such a binary, and the linker
//! does not check that, so the option is passed only when building natively
//! on a glibc that new (`getconf GNU_LIBC_VERSION`); anything else links as
//! before.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    if native
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && glibc_at_least(2, 36)
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the build machine's glibc is at least `major.minor`.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    // "glibc 2.36"
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(v) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}
