//! Golden tests: the built-in `hermes` profile against real screens of Hermes
//! Agent v0.19.0 (tests/screens/hermes, see its README.md).

use super::*;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/screens/hermes");

/// A captured screen, normalised the way mam normalises a capture.
fn screen(name: &str) -> String {
    let path = format!("{DIR}/{name}.txt");
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    normalise_screen(&raw)
}

fn hermes() -> Profile {
    Profile::resolve("hermes", &Default::default()).unwrap()
}

fn dialog_index(p: &Profile, name: &str) -> usize {
    p.dialogs
        .iter()
        .position(|d| d.name == name)
        .unwrap_or_else(|| panic!("no dialog named {name:?}"))
}

#[derive(Debug, Clone, Copy)]
enum Want {
    Ready,
    Busy,
    Other,
    Error,
    /// A dialog (by name) that needs a human.
    Human(&'static str),
}

#[test]
fn hermes_golden_screens() {
    use Want::*;
    let p = hermes();
    let cases: &[(&str, Want)] = &[
        // First run with no provider configured: a human must set it up.
        ("01-first-run-setup-prompt-git", Human("first-run setup")),
        ("02-first-run-setup-prompt-plain", Human("first-run setup")),
        ("03-setup-wizard-menu", Human("setup wizard")),
        ("04-setup-wizard-text-menu-after-esc", Human("setup wizard")),
        // `n` at the setup prompt: Hermes exits 1.
        ("05-setup-declined-exit", Error),
        // Start-up: blank, then the logo alone, then everything.
        ("06-start-blank", Other),
        ("07-start-logo-only", Other),
        ("08-ready-git", Ready),
        // Text in the composer is not ready.
        ("09-typed-one-line", Other),
        ("10-typed-multiline", Other),
        // A turn running.
        ("11-busy-initializing", Busy),
        ("12-busy-reply-box", Busy),
        ("13-ready-after-reply-plain", Ready),
        ("14-bracketed-paste-in-composer", Other),
        ("15-paste-submitted-busy-spinner", Busy),
        ("16-busy-with-typed-text", Busy),
        ("17-interrupted-new-turn-busy", Busy),
        ("18-exit-typed-with-completion", Other),
        // After exit.
        ("19-exit-summary", Other),
        ("20-ctrl-d-goodbye", Other),
        ("21-ctrl-c-once-exits", Other),
        // Resumed sessions (also an unknown id: Hermes starts afresh).
        ("22-resumed", Ready),
        ("23-resume-unknown-id", Ready),
        ("29-continue-restored-other-cwd", Ready),
        // No network: retries are busy; the failed turn ends idle.
        ("24-no-network-retrying", Busy),
        ("25-no-network-failed-then-ready", Ready),
        // A tool call needing approval: never answered for the human.
        (
            "26-dangerous-command-approval",
            Human("dangerous command approval"),
        ),
        ("27-approval-denied-busy", Busy),
        ("28-long-paste-collapsed", Other),
        ("30-ctrl-c-cleared-draft", Ready),
    ];
    let mut failures = Vec::new();
    for &(name, want) in cases {
        let got = p.classify(&screen(name));
        let ok = match (want, &got) {
            (Ready, Screen::Ready)
            | (Busy, Screen::Busy)
            | (Other, Screen::Other)
            | (Error, Screen::Error(_)) => true,
            (Human(d), Screen::NeedsHuman(i)) => *i == dialog_index(&p, d),
            _ => false,
        };
        if !ok {
            failures.push(format!("hermes/{name}: want {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn hermes_dialogs_never_answer_for_the_human() {
    let p = hermes();
    assert!(!p.dialogs.is_empty());
    for d in &p.dialogs {
        assert!(d.keys.is_empty(), "{}: keys {:?}", d.name, d.keys);
    }
}

#[test]
fn hermes_ready_needs_an_empty_composer_and_the_idle_footer() {
    let p = hermes();
    let ready = screen("08-ready-git");
    assert_eq!(p.classify(&ready), Screen::Ready);
    // Text typed into the composer.
    let typed = ready.replace("\n❯\n", "\n❯ hello\n");
    assert_ne!(typed, ready);
    assert_eq!(p.classify(&typed), Screen::Other);
    // No footer yet (status bar not drawn).
    let no_footer: String = ready
        .lines()
        .filter(|l| !l.starts_with(" ⚕ "))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(p.classify(&no_footer), Screen::Other);
    // A non-default Hermes profile prefixes its name to the prompt.
    let named = ready.replace("\n❯\n", "\ncoder ❯\n");
    assert_eq!(p.classify(&named), Screen::Ready);
}

#[test]
fn hermes_session_ids() {
    let p = hermes();
    let id = Some("20261121_061054_1c1510".to_string());
    assert_eq!(p.conversation_id_on(&screen("08-ready-git")), id);
    let id = Some("20261121_061114_b76243".to_string());
    assert_eq!(p.conversation_id_on(&screen("19-exit-summary")), id);
    assert_eq!(p.conversation_id_on(&screen("22-resumed")), id);
    assert_eq!(p.conversation_id_on(&screen("20-ctrl-d-goodbye")), None);
    assert_eq!(p.conversation_id_on(&screen("06-start-blank")), None);
}

#[test]
fn hermes_commands_and_settings() {
    let p = hermes();
    let s = &p.spec;
    assert_eq!(s.cmd.0, ["hermes", "--cli"]);
    assert_eq!(
        s.resume_cmd.as_ref().unwrap().0,
        [
            "hermes",
            "--cli",
            "--resume",
            "{conversation_id}",
            "--no-restore-cwd"
        ]
    );
    // `--continue` picks the latest session of any directory: not used.
    assert!(s.continue_cmd.is_none());
    // No flag pre-assigns a session id.
    assert!(s.new_session_args.is_empty());
    assert!(s.trust_args.is_empty());
    assert!(p.queued.is_empty(), "Enter while busy interrupts the turn");
    assert_eq!(s.conversation_store.as_deref(), Some("hermes"));
    assert_eq!(s.paste, PasteMode::Bracketed);
    assert_eq!(s.submit_key, "Enter");
    assert!(s.submit_delay_ms >= 300);
    assert!(s.settle_ms >= 300);
    assert_eq!(s.exit.text.as_deref(), Some("/exit"));
    assert!(s.exit.keys.iter().all(|k| k != "C-c"));
}
