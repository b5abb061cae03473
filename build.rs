//! Link-time settings for mam's own binaries.
//!
//! On Linux with glibc, the position-independent `mam` carries some 25,000
//! relative relocations (vtables, string tables): as RELA entries that is a
//! 600 KB table the dynamic loader reads and applies on every start, about
//! 0.8 ms of a 2.8 ms `mam send`. `-z pack-relative-relocs` stores them as
//! DT_RELR (a few KB), keeping the binary position-independent (ASLR
//! stays). The linker records a need for glibc's GLIBC_ABI_DT_RELR (2.36
//! and later), so on an older C library the binary refuses to start with a
//! clear loader error rather than misbehave; build on the machine it runs
//! on, as `cargo install` does.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
