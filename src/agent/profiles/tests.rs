//! Golden tests: the built-in profiles against real screens of the CLIs
//! (copied from the shared captures into tests/screens/<cli>/).

use super::*;

const SCREENS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/screens");

/// A captured screen, normalised the way mam normalises a capture.
fn screen(cli: &str, name: &str) -> String {
    let path = format!("{SCREENS}/{cli}/{name}.txt");
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    normalise_screen(&raw)
}

fn builtin(name: &str) -> Profile {
    Profile::resolve(name, &Default::default()).unwrap()
}

/// What a golden screen must classify as.
#[derive(Debug, Clone, Copy)]
enum Want {
    Ready,
    Busy,
    /// Still starting or mid-redraw (not ready, not busy, no dialog).
    Other,
    /// A start-up failure.
    Error,
    /// A dialog mam answers with exactly these keys.
    Answer(&'static [&'static str]),
    /// A dialog that needs a human.
    Human,
}

#[track_caller]
fn check(p: &Profile, cli: &str, cases: &[(&str, Want)]) {
    let mut failures = Vec::new();
    for &(name, want) in cases {
        let got = p.classify(&screen(cli, name));
        let ok = match (want, &got) {
            (Want::Ready, Screen::Ready)
            | (Want::Busy, Screen::Busy)
            | (Want::Other, Screen::Other)
            | (Want::Error, Screen::Error(_))
            | (Want::Human, Screen::NeedsHuman(_)) => true,
            (Want::Answer(keys), Screen::Dialog(i)) => p.dialogs[*i].keys == keys,
            _ => false,
        };
        if !ok {
            let detail = match &got {
                Screen::Dialog(i) | Screen::NeedsHuman(i) => {
                    format!(" ({}: keys {:?})", p.dialogs[*i].name, p.dialogs[*i].keys)
                }
                _ => String::new(),
            };
            failures.push(format!("{cli}/{name}: want {want:?}, got {got:?}{detail}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The dialog a screen shows, by name, with the keys mam would send.
fn dialog_on<'a>(p: &'a Profile, cli: &str, name: &str) -> (&'a Dialog, bool) {
    match p.classify(&screen(cli, name)) {
        Screen::Dialog(i) => (&p.dialogs[i], true),
        Screen::NeedsHuman(i) => (&p.dialogs[i], false),
        other => panic!("{cli}/{name}: want a dialog, got {other:?}"),
    }
}

#[test]
fn every_builtin_resolves_and_compiles() {
    for (name, _) in BUILTIN {
        let p = builtin(name);
        assert_eq!(&p.name, name);
        assert!(!p.spec.cmd.0.is_empty(), "{name}: empty cmd");
    }
    for name in ["claude", "codex", "gemini", "aider"] {
        let p = builtin(name);
        assert!(!p.ready.is_empty(), "{name}: no ready patterns");
        assert_eq!(p.spec.paste, PasteMode::Bracketed, "{name}");
        assert_eq!(p.spec.submit_key, "Enter", "{name}");
        assert!(
            p.spec.submit_delay_ms >= 300,
            "{name}: submit delay too short"
        );
        assert!(
            p.spec.exit.text.is_some() || !p.spec.exit.keys.is_empty(),
            "{name}: no exit"
        );
        for d in &p.dialogs {
            assert!(!d.name.starts_with("dialog "), "{name}: unnamed dialog");
        }
    }
}

#[test]
fn user_table_overrides_one_field_and_keeps_the_rest() {
    let base = builtin("claude");
    let mut user = BTreeMap::new();
    user.insert("claude".to_string(), toml::toml! { submit_delay_ms = 900 });
    let p = Profile::resolve("claude", &user).unwrap();
    assert_eq!(p.spec.submit_delay_ms, 900);
    assert_eq!(p.spec.cmd, base.spec.cmd);
    assert_eq!(p.spec.ready, base.spec.ready);
    assert_eq!(p.spec.busy, base.spec.busy);
    assert_eq!(p.dialogs.len(), base.dialogs.len());
    assert_eq!(p.spec.trust_setup, Some(TrustSetup::ClaudeJson));
    assert_eq!(p.spec.new_session_args, base.spec.new_session_args);
    assert_eq!(
        p.classify(&screen("claude", "05-apikey-after-1")),
        Screen::Ready
    );
}

#[test]
fn shell_ready_only_at_a_prompt_on_the_last_line() {
    let p = builtin("shell");
    assert_eq!(p.classify("$"), Screen::Ready);
    assert_eq!(p.classify("$ ls\nfile\n$"), Screen::Ready);
    assert_eq!(p.classify("#"), Screen::Ready);
    assert_eq!(p.classify("$\n$ sleep 10"), Screen::Other);
    assert_eq!(p.classify("$ make\ncompiling"), Screen::Other);
}

// ---------------------------------------------------------------- claude

#[test]
fn claude_golden_screens() {
    use Want::*;
    let p = builtin("claude");
    check(
        &p,
        "claude",
        &[
            // No network: banner, then `Unable to connect to Anthropic services`.
            ("01-nokey-git-t0.5s", Error),
            ("02-fakekey-git-t0.5s", Other),
            ("02-fakekey-git-t15s", Error),
            // Blank start-up screens with no network, then the real prompt.
            ("39-startup-nonet-1", Other),
            ("39-startup-nonet-10", Other),
            ("39-startup-nonet-11", Ready),
            ("39-startup-nonet-14", Ready),
            ("38-api-error-noretry", Other),
            // Trust dialog: "1" picks `1. Yes, I trust this folder`.
            ("03-onboarded-fakekey-git-t2s", Answer(&["1"])),
            ("26-positional-untrusted-1.5s", Answer(&["1"])),
            ("28-trust-esc", Answer(&["1"])),
            ("32-after-security-enter", Answer(&["1"])),
            // API key from the environment: default is `2. No`; send "1".
            ("04-after-trust-enter-0.5s", Answer(&["Up", "Enter"])),
            // First run: theme picker, then security notes.
            ("30-fresh-approvedkey-t1s", Answer(&["Enter"])),
            ("31-after-theme-enter", Answer(&["Enter"])),
            // Idle at an empty composer.
            ("05-apikey-after-1", Ready),
            ("09-after-esc-esc", Ready),
            ("17-trust-key1-0.3s", Ready),
            // Footer carries `Auto-updating…` on a second line.
            ("17-trust-key1-1s", Ready),
            ("18-fake-busy-t11s", Ready),
            ("19-queued-after", Ready),
            ("22-relaunch-continue-t2s", Ready),
            ("25-resume-with-positional-4s", Ready),
            ("38b-api-error-noretry-after-2nd-enter", Ready),
            // Bypass mode replaces `? for shortcuts` with the mode line.
            ("36-bypass-accept-2", Ready),
            // Text in the composer: never ready.
            ("06-typed-multiline-before-enter", Other),
            ("08-after-esc-interrupt", Other),
            ("11-long-onecall-enter-2s", Other),
            ("14-typed-slash-exit", Other),
            // `Press Ctrl-C again to exit` replaces the footer.
            ("20-ctrlc-once", Other),
            ("21-ctrlc-twice", Other),
            ("22-relaunch-continue-t0.5s", Other),
            // Working: spinner and/or `esc to interrupt`.
            ("07-after-enter-t0.3s", Busy),
            ("07-after-enter-t15s", Busy),
            ("10-onecall-multiline-enter-0.4s", Busy),
            // Footer shows `paste again to expand`; the spinner line tells.
            ("12-long-then-separate-enter", Busy),
            ("18-fake-busy-t0.3s", Busy),
            ("18-fake-busy-t1s", Busy),
            ("18-fake-busy-t2s", Busy),
            ("18-fake-busy-t8s", Busy),
            ("19-queued-while-busy", Busy),
            ("25-resume-with-positional-1s", Busy),
            ("37-bypass-busy", Busy),
            // --dangerously-skip-permissions as root.
            ("33-skip-perms-root", Error),
        ],
    );
}

#[test]
fn claude_bypass_warning_never_gets_enter() {
    let p = builtin("claude");
    let s = screen("claude", "35-skip-perms-after-trust");
    assert!(
        s.contains("❯ 1. No, exit"),
        "fixture shows the exit option highlighted"
    );
    let (d, answered) = dialog_on(&p, "claude", "35-skip-perms-after-trust");
    assert!(
        !d.keys.iter().any(|k| k == "Enter"),
        "Enter would exit: {:?}",
        d.keys
    );
    if answered {
        assert_eq!(d.keys, ["2"]);
    }
    // Were option 2 the exit, the guard refuses.
    let swapped = s
        .replace("2. Yes, I accept", "2. No, exit")
        .replace("❯ 1. No, exit", "❯ 1. Yes, I accept");
    assert!(matches!(p.classify(&swapped), Screen::NeedsHuman(_)));
}

#[test]
fn claude_trust_dialog_refused_when_exit_is_highlighted_or_option_1_exits() {
    let p = builtin("claude");
    let s = screen("claude", "03-onboarded-fakekey-git-t2s");
    let highlighted_exit = s
        .replace(
            " ❯ 1. Yes, I trust this folder",
            "   1. Yes, I trust this folder",
        )
        .replace("   2. No, exit", " ❯ 2. No, exit");
    assert!(matches!(
        p.classify(&highlighted_exit),
        Screen::NeedsHuman(_)
    ));
    let reordered = s
        .replace("1. Yes, I trust this folder", "1. No, exit")
        .replace("   2. No, exit", "   2. Yes, I trust this folder");
    assert!(matches!(p.classify(&reordered), Screen::NeedsHuman(_)));
}

#[test]
fn claude_ready_input_line_is_arrow_and_nbsp() {
    let s = screen("claude", "05-apikey-after-1");
    assert!(s.contains("\n❯\u{a0}\n"));
}

#[test]
fn claude_queued_and_ids() {
    let p = builtin("claude");
    let q = screen("claude", "19-queued-while-busy");
    assert_eq!(p.classify(&q), Screen::Busy);
    assert!(p.shows_queued(&q));
    assert!(p.accepts_queued_input());
    assert!(!p.shows_queued(&screen("claude", "19-queued-after")));
    assert!(!p.shows_queued(&screen("claude", "18-fake-busy-t2s")));
    assert_eq!(
        p.conversation_id_on(&screen("claude", "15-after-slash-exit"))
            .as_deref(),
        Some("8a83c9e4-9a4b-4934-b236-53bb11d86ebb")
    );
    assert_eq!(
        p.conversation_id_on(&screen("claude", "05-apikey-after-1")),
        None
    );
}

#[test]
fn claude_start_and_resume_commands() {
    let p = builtin("claude");
    assert_eq!(p.spec.cmd.0, ["claude"]);
    assert_eq!(
        p.spec.new_session_args,
        ["--session-id", "{conversation_id}"]
    );
    assert_eq!(
        p.spec.resume_cmd.as_ref().unwrap().0,
        ["claude", "--resume", "{conversation_id}"]
    );
    assert_eq!(
        p.spec.continue_cmd.as_ref().unwrap().0,
        ["claude", "--continue"]
    );
    assert_eq!(p.spec.trust_setup, Some(TrustSetup::ClaudeJson));
    assert_eq!(p.spec.conversation_store.as_deref(), Some("claude"));
    assert_eq!(p.spec.exit.text.as_deref(), Some("/exit"));
}

// ----------------------------------------------------------------- codex

#[test]
fn codex_golden_screens() {
    use Want::*;
    let p = builtin("codex");
    check(
        &p,
        "codex",
        &[
            ("01-nokey-git-t0.5s", Other),
            ("01-nokey-git-t1s", Other),
            ("40-fresh-home-envkey-t0.5s", Other),
            // Login screens need a human.
            ("01-nokey-git-t15s", Human),
            ("02-login-key3", Human),
            ("03-login-apikey-entry", Human),
            ("40-fresh-home-envkey-t15s", Human),
            // Trust dialog: Enter on `› 1. Trust and continue`.
            ("04-after-apikey-1s", Answer(&["Enter"])),
            ("28-new-git-dir-t1s", Answer(&["Enter"])),
            ("29-trust-key1", Answer(&["Enter"])),
            // A prompt before `← for agents` is drawn (the trust dialog can
            // still replace it): not ready.
            ("05-after-trust-enter-1s", Other),
            ("13-relaunch-fakeserver-t0.5s", Other),
            ("27-plain-dir-t0.5s", Other),
            ("28-new-git-dir-t0.5s", Other),
            // Idle with the full footer.
            ("06-idle", Ready),
            ("09-after-esc", Ready),
            ("13-relaunch-fakeserver-t4s", Ready),
            ("18-after-slash-exit", Ready),
            ("22-ctrlc-with-text", Ready),
            ("25-busy-t8s", Ready),
            ("27-plain-dir-t15s", Ready),
            ("31-resume-last", Ready),
            // Text in the composer (the shortcut hint is gone): not ready.
            ("07-typed-multiline", Other),
            ("14-fake-busy-t1s", Other),
            ("19-typed-slash-exit-idle", Other),
            ("24-long-2s-enter", Other),
            ("10-f2-warnings", Other),
            // Working: status line, or the turn's last block is still the
            // user's message or a reply being streamed.
            ("08-after-enter-t0.3s", Busy),
            ("08-after-enter-t4s", Busy),
            // Reconnecting... waiting for network: a human must look.
            ("08-after-enter-t15s", Human),
            ("25-busy-t0.3s", Busy),
            ("25-busy-t1s", Busy),
            ("25-busy-t2s", Busy),
            ("25-busy-t6s", Busy),
            // Menus mam must not answer.
            ("16-ctrlc-while-busy", Human),
            ("30-trust-esc", Human),
            // After exit.
            ("11-ctrlc-once", Other),
            ("26-ctrld-idle", Other),
        ],
    );
}

#[test]
fn codex_trust_dialog_refused_unless_trust_is_highlighted() {
    let p = builtin("codex");
    let s = screen("codex", "28-new-git-dir-t1s");
    let moved = s
        .replace("› 1. Trust and continue", "  1. Trust and continue")
        .replace(
            "  2. Back to Agent Command Center",
            "› 2. Back to Agent Command Center",
        );
    assert!(matches!(p.classify(&moved), Screen::NeedsHuman(_)));
}

#[test]
fn codex_ids_and_commands() {
    let p = builtin("codex");
    assert_eq!(
        p.conversation_id_on(&screen("codex", "26-ctrld-idle"))
            .as_deref(),
        Some("01a1fca1-e000-7690-b1eb-7bcee9d268f4")
    );
    assert_eq!(
        p.conversation_id_on(&screen("codex", "11-ctrlc-once"))
            .as_deref(),
        Some("01a1fc9e-ad43-7ea1-a718-0d113637ee38")
    );
    assert!(!p.accepts_queued_input());
    assert_eq!(p.spec.cmd.0, ["codex", "--no-daemon"]);
    assert_eq!(
        p.spec.resume_cmd.as_ref().unwrap().0,
        ["codex", "resume", "--no-daemon", "{conversation_id}"]
    );
    assert_eq!(
        p.spec.continue_cmd.as_ref().unwrap().0,
        ["codex", "resume", "--no-daemon", "--last"]
    );
    assert!(p.spec.new_session_args.is_empty());
    assert_eq!(p.spec.trust_args[0], "-c");
    // The -c value must be valid TOML for `projects = …` with the dir filled in.
    let value = p.spec.trust_args[1].replace("{workdir}", "/home/u/my.project");
    let parsed: toml::Table = value.parse().unwrap();
    assert_eq!(
        parsed["projects"]["/home/u/my.project"]["trust_level"].as_str(),
        Some("trusted")
    );
    assert_eq!(p.spec.conversation_store.as_deref(), Some("codex"));
    assert_eq!(p.spec.exit.text.as_deref(), Some("/exit"));
}

// ---------------------------------------------------------------- gemini

#[test]
fn gemini_golden_screens() {
    use Want::*;
    let p = builtin("gemini");
    check(
        &p,
        "gemini",
        &[
            ("01-nokey-git-t0.5s", Other),
            ("13-relaunch-fakeserver-t1s", Other),
            // Trust dialog: "1" picks `1. Trust folder (<name>)`.
            ("01-nokey-git-t4s", Answer(&["1"])),
            ("18-plain-dir-t2s", Answer(&["1"])),
            // Restarting after trust: the old dialog is still on screen and
            // must not be answered again.
            ("02-after-trust-enter-1s", Other),
            // Auth picker with no key: a human chooses.
            ("02-after-trust-enter-3s", Human),
            ("03-ctrlc-on-auth", Other),
            // Auth picker with GEMINI_API_KEY: Enter, then Enter on the key.
            ("04-fakekey-trusted-t4s", Answer(&["Enter"])),
            ("05-after-auth-enter", Answer(&["Enter"])),
            // Idle at the placeholder with `? for shortcuts`.
            ("06-after-key-enter", Ready),
            ("10-after-esc-cancel", Ready),
            ("11-ctrld-once", Ready),
            ("13-relaunch-fakeserver-t2s", Ready),
            ("14-fake-busy-t8s", Ready),
            ("14-fake-busy-t10s", Ready),
            // The restart leaves the old trust dialog above a ready prompt.
            ("19-trust-key1", Ready),
            ("20-ctrlc-once-idle", Ready),
            // Text in the composer.
            ("07-typed-multiline", Other),
            ("15-onecall-long", Other),
            ("16-typed-quit", Other),
            // Thinking (`esc to cancel`), also while the reply streams; 09
            // is a request that never returned.
            ("08-after-enter-t0.3s", Busy),
            ("08-after-enter-t15s", Busy),
            ("09-after-error", Busy),
            ("14-fake-busy-t1s", Busy),
            // After /quit.
            ("12-ctrld-twice", Other),
            ("17-after-quit", Other),
        ],
    );
}

#[test]
fn gemini_guards() {
    let p = builtin("gemini");
    // Trust dialog whose option 1 would not trust: refused.
    let s = screen("gemini", "01-nokey-git-t4s");
    let swapped = s.replace("1. Trust folder (gemini-git)", "1. Don't trust           ");
    assert!(matches!(p.classify(&swapped), Screen::NeedsHuman(_)));
    // Auth picker with the key detected but Google sign-in highlighted.
    let s = screen("gemini", "04-fakekey-trusted-t4s");
    let moved = s
        .replace("    1. Sign in with Google", "  ● 1. Sign in with Google")
        .replace("  ● 2. Use Gemini API Key", "    2. Use Gemini API Key");
    assert!(matches!(p.classify(&moved), Screen::NeedsHuman(_)));
    // Key entry with an empty box.
    let s = screen("gemini", "05-after-auth-enter");
    let empty = s.replace("│ │ fake", "│ │     ");
    assert!(matches!(
        p.classify(&normalise_screen(&empty)),
        Screen::NeedsHuman(_)
    ));
}

#[test]
fn gemini_ids_and_commands() {
    let p = builtin("gemini");
    assert_eq!(
        p.conversation_id_on(&screen("gemini", "17-after-quit"))
            .as_deref(),
        Some("9a7ae91a-3adf-4832-b36c-ad03440757ca")
    );
    assert!(!p.accepts_queued_input());
    assert_eq!(p.spec.trust_args, ["--skip-trust"]);
    assert_eq!(
        p.spec.new_session_args,
        ["--session-id", "{conversation_id}"]
    );
    assert_eq!(
        p.spec.resume_cmd.as_ref().unwrap().0,
        ["gemini", "--resume", "{conversation_id}"]
    );
    assert_eq!(
        p.spec.continue_cmd.as_ref().unwrap().0,
        ["gemini", "--resume", "latest"]
    );
    assert_eq!(p.spec.conversation_store.as_deref(), Some("gemini"));
    assert_eq!(p.spec.exit.text.as_deref(), Some("/quit"));
}

// ----------------------------------------------------------------- aider

#[test]
fn aider_golden_screens() {
    use Want::*;
    let p = builtin("aider");
    check(
        &p,
        "aider",
        &[
            ("01-nokey-git-t0.5s", Other),
            ("15-relaunch-t1s", Other),
            // Pending y/n questions on the bottom line.
            ("01-nokey-git-t2s", Answer(&["y", "Enter"])),
            ("05-plain-fakekey-t2s", Answer(&["n", "Enter"])),
            // Answered: moving on.
            ("02-after-gitignore-enter", Other),
            // No model and no key: start-up failed.
            ("03-after-7s", Error),
            ("04-openrouter-no", Error),
            // Idle at an empty `>` under a rule (old answered questions above).
            ("06-after-git-yes", Ready),
            ("07-idle", Ready),
            ("12-busy-t8s", Ready),
            ("13-ctrlc-once", Ready),
            ("15-relaunch-t15s", Ready),
            // Text at the prompt.
            ("08-typed-multiline", Other),
            ("09-after-multiline-3s", Other),
            ("10-bracketed-paste-multi", Other),
            // Submitted, reply not started yet: looks like typed text.
            ("12-busy-t0.3s", Other),
            // Reply streaming.
            ("11-bracketed-paste-enter-0.3s", Busy),
            ("12-busy-t1s", Busy),
            ("12-busy-t5s", Busy),
        ],
    );
}

#[test]
fn aider_unknown_question_needs_a_human() {
    let p = builtin("aider");
    let s = format!(
        "{}\nRun shell command? (Y)es/(N)o/(D)on't ask again [Yes]:",
        screen("aider", "07-idle")
    );
    assert!(matches!(p.classify(&s), Screen::NeedsHuman(_)));
}

#[test]
fn aider_commands() {
    let p = builtin("aider");
    let quiet = [
        "--no-show-release-notes",
        "--analytics-disable",
        "--no-check-update",
    ];
    assert_eq!(p.spec.cmd.0, [&["aider"][..], &quiet].concat());
    assert!(p.spec.resume_cmd.is_none());
    assert_eq!(
        p.spec.continue_cmd.as_ref().unwrap().0,
        [&["aider"][..], &quiet, &["--restore-chat-history"]].concat()
    );
    assert!(p.spec.new_session_args.is_empty());
    assert!(p.conversation_id.is_none());
    assert!(!p.accepts_queued_input());
    assert_eq!(p.spec.exit.keys, ["C-d"]);
    assert!(p.spec.exit.text.is_none());
}

// ------------------------------------------------- live captures (current)

/// Screens of the current releases (Claude Code 2.1.332, Codex CLI 0.171.0,
/// Gemini CLI 0.61.0, aider 0.86.2), captured with NO_COLOR=1 against the
/// loopback fake model server: tests/screens/<cli>/live/.
#[test]
fn live_screens_of_the_current_releases() {
    use Want::*;
    check(
        &builtin("claude"),
        "claude",
        &[
            ("live/idle", Ready),
            ("live/idle-after-turns", Ready),
            ("live/done1", Ready),
            ("live/typed", Other),
            ("live/msg-typed", Other),
            ("live/long-typed", Other),
            ("live/typed-esc1", Other),
            ("live/empty-ctrlc1", Other),
            ("live/busy1-t0.2s", Busy),
            ("live/busy1-t0.5s", Busy),
            ("live/busy1-t1s", Busy),
            ("live/busylong-t0.05s", Busy),
            ("live/busylong-t0.5s", Busy),
            ("live/busylong-t1s", Busy),
            ("live/queued-while-busy", Busy),
            ("live/typed-esc1-expired", Other),
            ("live/typed-esc-late-again", Other),
            // Esc Esc on an empty composer: the rewind menu, no composer.
            ("live/empty-esc-esc-rewind", Other),
            // Text pasted while busy; one Esc interrupts the turn, the
            // text stays; the next Esc only arms the clear.
            ("live/busy-typed", Busy),
            ("live/busy-typed-esc1-interrupted", Other),
            ("live/interrupted-typed-esc2-armed", Other),
            // Unnumbered options since 2.1.33x: Up then Enter picks Yes.
            ("live/apikey-dialog", Answer(&["Up", "Enter"])),
        ],
    );
    check(
        &builtin("codex"),
        "codex",
        &[
            ("live/idle", Ready),
            ("live/done1", Ready),
            ("live/typed", Other),
            ("live/msg-typed", Other),
            ("live/long-typed", Other),
            ("live/typed-esc1", Other),
            ("live/busy1-t0.5s", Busy),
            ("live/busy1-t1s", Busy),
            ("live/customprov-t0.5s", Busy),
            ("live/unreachable-t2s", Busy),
            ("live/unreachable-t10s", Human),
        ],
    );
    check(
        &builtin("gemini"),
        "gemini",
        &[
            ("live/idle", Ready),
            ("live/done1", Ready),
            ("live/typed", Other),
            ("live/msg-typed", Other),
            ("live/long-typed", Other),
            ("live/typed-esc1", Other),
            ("live/busy1-t0.5s", Busy),
            ("live/busy1-t1s", Busy),
            ("live/busy-typed", Busy),
            ("live/typed-esc1-hint", Other),
            ("live/typed-esc1-expired", Other),
            // GEMINI_API_KEY is set: "Existing API key detected", Enter.
            ("live/auth-dialog-without-settings", Answer(&["Enter"])),
        ],
    );
    check(
        &builtin("aider"),
        "aider",
        &[
            ("live/idle", Ready),
            ("live/done1", Ready),
            ("live/typed", Other),
            ("live/msg-typed", Other),
            ("live/long-typed", Other),
            // Ctrl-C cleared the line: an empty prompt again.
            ("live/typed-ctrlc1", Ready),
            ("live/busy1-t1s", Busy),
            ("live/busy1-t2s", Busy),
            ("live/a-q1-gitignore", Answer(&["y", "Enter"])),
        ],
    );
}

/// Claude Code's clear is a double Esc within 0.8 s; the second goes out
/// only while the footer shows that the first armed it.
#[test]
fn claude_clear_is_armed_only_by_the_footer_hint() {
    let p = builtin("claude");
    assert_eq!(p.spec.clear, ["Escape", "Escape"]);
    let armed = p.clear_armed.as_ref().expect("claude declares clear_armed");
    for name in [
        "live/typed-esc1",
        "live/typed-esc-late-again",
        "live/interrupted-typed-esc2-armed",
    ] {
        assert!(armed.is_match(&screen("claude", name)), "{name}");
    }
    for name in [
        "live/typed",
        "live/msg-typed",
        "live/long-typed",
        "live/typed-esc1-expired",
        "live/busy-typed-esc1-interrupted",
        "live/empty-esc-esc-rewind",
        "live/idle",
        "live/busy1-t0.5s",
    ] {
        assert!(!armed.is_match(&screen("claude", name)), "{name}");
    }
    // The hint quoted in the transcript, or typed into the composer, is not
    // the footer.
    let quoted = "● Press Esc twice: you will see esc again to clear\n\
                  ────────────────────\n❯\u{a0}the words esc again to clear\n\
                  ────────────────────\n  ⏵⏵ auto mode on (shift+tab to cycle)";
    assert!(!armed.is_match(quoted));
    // Single-key clears need no hint.
    for name in ["codex", "aider", "hermes", "shell"] {
        assert!(builtin(name).clear_armed.is_none(), "{name}");
    }
}

/// Gemini CLI's clear is a double Esc within 0.5 s; its hint on an empty
/// composer with history (`Press Esc again to rewind.`) never arms it.
#[test]
fn gemini_clear_is_armed_only_by_its_clear_hint() {
    let p = builtin("gemini");
    assert_eq!(p.spec.clear, ["Escape", "Escape"]);
    let armed = p.clear_armed.as_ref().expect("gemini declares clear_armed");
    assert!(armed.is_match(&screen("gemini", "live/typed-esc1-hint")));
    for name in [
        "live/typed",
        "live/typed-esc1",
        "live/typed-esc1-expired",
        "live/empty-esc1-with-history",
        "live/idle",
    ] {
        assert!(!armed.is_match(&screen("gemini", name)), "{name}");
    }
}

#[test]
fn gemini_is_told_it_runs_interactively_even_under_ci() {
    // Gemini CLI 0.61 goes headless and exits 42 in a pane when CI=true.
    let p = builtin("gemini");
    assert_eq!(p.spec.env["CI"], "false");
    assert_eq!(p.spec.env["GITHUB_ACTIONS"], "false");
}

/// Regression (fuzz/profile_rules, its first input): every built-in profile
/// compiles and classifies the empty screen. The fuzzer reported this input
/// as a 2 s hang: the time was compiling the built-ins' rules on a loaded
/// machine, before any screen was read; the target now compiles them first.
#[test]
fn every_builtin_classifies_an_empty_screen() {
    for (name, _) in BUILTIN {
        let p = Profile::resolve(name, &BTreeMap::new()).unwrap();
        assert_eq!(p.classify(""), Screen::Other, "{name}");
        assert_eq!(
            p.rule_report("").len(),
            p.error.len() + p.dialogs.len() + p.busy.len() + p.queued.len() + p.ready.len()
        );
    }
}
