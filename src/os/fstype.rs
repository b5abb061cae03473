//! Is a directory on a network filesystem? File locks and SQLite's WAL are
//! unreliable there, so mam refuses to keep its registry on one. Linux (and
//! Android) tell the type by `statfs` magic number; macOS and the BSDs by
//! name (`f_fstypename`). Elsewhere the check is skipped.

use std::path::Path;

/// The network filesystem holding `dir` ("NFS", "SMB", …), if it is one and
/// its type can be read.
pub fn network_fs(dir: &Path) -> Option<&'static str> {
    imp::network_fs(dir)
}

/// Network filesystems by Linux `statfs` magic number (`f_type`).
pub fn by_magic(magic: u32) -> Option<&'static str> {
    match magic {
        0x6969 => Some("NFS"),
        0x517B => Some("SMB"),
        0xFF53_4D42 => Some("CIFS"),
        0xFE53_4D42 => Some("SMB2"),
        0x5346_414F => Some("AFS"),
        0x7375_7245 => Some("Coda"),
        0x564C => Some("NCP"),
        0x0102_1997 => Some("9p"),
        0x0BD0_0BD0 => Some("Lustre"),
        0x4750_4653 => Some("GPFS"),
        0x0BAD_1DEA => Some("WSL-9p"),
        _ => None,
    }
}

/// Network filesystems by the name macOS and the BSDs give (`f_fstypename`).
pub fn by_name(name: &str) -> Option<&'static str> {
    match name {
        "nfs" => Some("NFS"),
        "smbfs" => Some("SMB"),
        "cifs" => Some("CIFS"),
        "afpfs" => Some("AFP"),
        "webdav" => Some("WebDAV"),
        "afs" => Some("AFS"),
        _ => None,
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    pub fn network_fs(dir: &std::path::Path) -> Option<&'static str> {
        let st = rustix::fs::statfs(dir).ok()?;
        // Every magic fits in 32 bits; the field is signed on some targets.
        #[allow(clippy::unnecessary_cast)]
        super::by_magic(st.f_type as u32)
    }
}

#[cfg(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "dragonfly"
))]
mod imp {
    pub fn network_fs(dir: &std::path::Path) -> Option<&'static str> {
        let st = rustix::fs::statfs(dir).ok()?;
        let name: Vec<u8> = st
            .f_fstypename
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        super::by_name(std::str::from_utf8(&name).ok()?)
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)))]
mod imp {
    pub fn network_fs(_dir: &std::path::Path) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_filesystems_are_named() {
        assert_eq!(by_magic(0x6969), Some("NFS"));
        assert_eq!(by_magic(0xFF53_4D42), Some("CIFS"));
        assert_eq!(by_magic(0xEF53), None); // ext4
        assert_eq!(by_magic(0x0102_1994), None); // tmpfs
        assert_eq!(by_name("smbfs"), Some("SMB"));
        assert_eq!(by_name("webdav"), Some("WebDAV"));
        assert_eq!(by_name("apfs"), None);
        assert_eq!(network_fs(Path::new("/tmp")), None);
        assert_eq!(network_fs(Path::new("/no/such/dir")), None);
    }
}
