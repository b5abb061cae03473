//! Generated files stay in step with the CLI: completions/ and man/.

use std::path::Path;

use crate::support::*;

fn compare_dir(dir: &Path, generated: &[(String, Vec<u8>)], regen: &str) {
    for (name, bytes) in generated {
        let path = dir.join(name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == *bytes,
            "{} is out of date with the CLI; regenerate with: {regen}",
            path.display()
        );
    }
}

#[test]
fn completions_are_committed_and_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut generated = Vec::new();
    for (shell, file) in [("bash", "mam.bash"), ("zsh", "_mam"), ("fish", "mam.fish")] {
        let out = std::process::Command::new(mam_bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        generated.push((file.to_string(), out.stdout));
    }
    compare_dir(
        &root.join("completions"),
        &generated,
        "scripts/regen-docs.sh",
    );
}

#[test]
fn man_pages_are_committed_and_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(mam_bin())
        .args(["man", "--out-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut generated = Vec::new();
    for e in std::fs::read_dir(tmp.path()).unwrap().flatten() {
        generated.push((
            e.file_name().to_string_lossy().into_owned(),
            std::fs::read(e.path()).unwrap(),
        ));
    }
    assert!(generated.len() > 5);
    compare_dir(&root.join("man"), &generated, "scripts/regen-docs.sh");
    // And nothing stale is left in man/.
    let committed = std::fs::read_dir(root.join("man")).unwrap().count();
    assert_eq!(
        committed,
        generated.len(),
        "man/ holds pages for commands that no longer exist"
    );
}
