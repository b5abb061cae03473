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

#[test]
fn ci_runs_exactly_the_readme_test_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let test_cmd = "cargo test --locked";
    assert!(
        readme.contains(&format!("```sh\n{test_cmd}\n```")),
        "README's test command changed"
    );
    let commands: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        commands[commands.len() - 2..],
        [test_cmd, "scripts/conformance.sh"],
        ".ci/run must end with the README's test command, then the conformance suite"
    );
    assert!(
        readme.contains("```sh\nscripts/conformance.sh\n```"),
        "README must show how to run the conformance suite"
    );
}

#[test]
fn the_readme_demo_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    require_tmux();
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .arg(root.join("examples/demo.sh"))
        .env("MAM_BIN", mam_bin())
        .env("FAKE_AGENT", fake_agent())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env_remove("MAM_TMUX_SOCKET")
        .env_remove("TMUX")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "pm is busy",
        "alice is busy",
        "bob is busy",
        "NAME",
        "alice: stopped",
    ] {
        assert!(
            stdout.contains(expected),
            "demo output lacks {expected:?}:\n{stdout}"
        );
    }
}
