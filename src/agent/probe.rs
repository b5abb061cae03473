//! Readiness probes and verified typing (SPEC §3, §4).
//!
//! The probe reads the screen every `POLL` and decides from the profile's
//! rules: answer a dialog it may answer, wait on one it must not, give up on an
//! error, and call the agent ready only when the ready rules match *and* the
//! screen has been still for `settle_ms`. No fixed sleeps.
//!
//! Typing sanitises the text, sends it (`send-keys -l` or bracketed paste),
//! waits `submit_delay_ms`, sends the submit key as its own call, then watches
//! the screen for proof that the agent took it (busy, queued, or back at an
//! empty prompt on a changed screen). One rescue submit if it did not, never
//! while a dialog shows. Nothing is typed into an agent that is not ready.

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::agent::profiles::{PasteMode, Profile, Screen, normalise_screen};
use crate::agent::tmux::Tmux;

/// How often the screen is read.
pub const POLL: Duration = Duration::from_millis(40);

/// Remove what must never reach a pane: ESC, C0 controls other than newline
/// and tab, DEL and C1 controls. CR and CRLF become LF; trailing line breaks
/// are dropped (a trailing newline would be typed as an extra line). Trailing
/// spaces and tabs are the sender's text and stay (SPEC §3).
pub fn sanitize(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let clean: String = unified
        .chars()
        .filter(|&c| {
            let u = c as u32;
            c == '\n' || c == '\t' || !(u < 0x20 || u == 0x7f || (0x80..=0x9f).contains(&u))
        })
        .collect();
    clean.trim_end_matches('\n').to_string()
}

/// A pane's screen and whether its process has ended, read in one tmux call.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub screen: String,
    pub dead: bool,
    pub dead_status: Option<i32>,
    /// tmux `window_activity`: the second anything was last drawn.
    pub activity: i64,
}

/// Read the pane: dead flag, exit status and visible screen in one call.
/// `None` if the pane no longer exists.
pub fn snapshot(tmux: &Tmux, pane: &str) -> Result<Option<Snapshot>> {
    Ok(tmux.pane_screen(pane)?.map(|p| Snapshot {
        screen: normalise_screen(&p.screen),
        dead: p.dead,
        dead_status: p.dead_status,
        activity: p.activity,
    }))
}

/// How a readiness probe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    /// A dialog needs a human (its name); only reported at the deadline.
    NeedsHuman(String),
    /// The screen shows a start-up error.
    Error(String),
    /// The agent's process ended (exit status if known).
    Exited(Option<i32>),
    /// The pane is gone.
    Gone,
    /// Deadline passed without a verdict.
    Timeout,
}

/// The result of a probe: its outcome, the last screen, and what it did.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    pub outcome: Outcome,
    pub screen: String,
    pub answered: Vec<String>,
    pub conversation_id: Option<String>,
    pub elapsed: Duration,
}

/// Wait until the agent in `pane` is ready, answering dialogs it may answer.
/// `tick` runs once per poll (spinners).
pub fn wait_ready(
    tmux: &Tmux,
    pane: &str,
    profile: &Profile,
    timeout: Duration,
    mut tick: impl FnMut(&str),
) -> Result<ProbeReport> {
    let start = Instant::now();
    let deadline = start + timeout;
    let settle = Duration::from_millis(profile.spec.settle_ms);
    let mut last_screen = String::new();
    let mut still_since = Instant::now();
    let mut answered: Vec<String> = Vec::new();
    let mut last_answer: Option<(usize, Instant)> = None;
    let mut conversation_id = None;
    let mut state_note;
    loop {
        let now = Instant::now();
        let Some(snap) = snapshot(tmux, pane)? else {
            return Ok(report(
                Outcome::Gone,
                last_screen,
                answered,
                conversation_id,
                start,
            ));
        };
        if snap.screen != last_screen {
            last_screen = snap.screen.clone();
            still_since = now;
        }
        if conversation_id.is_none() {
            conversation_id = profile.conversation_id_on(&snap.screen);
        }
        if snap.dead {
            return Ok(report(
                Outcome::Exited(snap.dead_status),
                snap.screen,
                answered,
                conversation_id,
                start,
            ));
        }
        let class = profile.classify(&snap.screen);
        match &class {
            Screen::Error(m) => {
                return Ok(report(
                    Outcome::Error(m.clone()),
                    snap.screen,
                    answered,
                    conversation_id,
                    start,
                ));
            }
            Screen::Dialog(i) => {
                state_note = "answering a dialog";
                // Answer once, then give the screen a moment to move on before
                // answering the same dialog again.
                let again = match last_answer {
                    Some((j, at)) => {
                        j != *i || now.duration_since(at) > Duration::from_millis(1500)
                    }
                    None => true,
                };
                if again {
                    let d = &profile.dialogs[*i];
                    tmux.send_keys(pane, &d.keys)?;
                    answered.push(d.name.clone());
                    last_answer = Some((*i, now));
                    still_since = now;
                }
            }
            Screen::NeedsHuman(_) => state_note = "waiting on a dialog",
            Screen::Ready if now.duration_since(still_since) >= settle => {
                return Ok(report(
                    Outcome::Ready,
                    snap.screen,
                    answered,
                    conversation_id,
                    start,
                ));
            }
            Screen::Ready => state_note = "settling",
            Screen::Busy => state_note = "busy",
            Screen::Other => state_note = "starting",
        }
        tick(state_note);
        if now >= deadline {
            let outcome = match class {
                Screen::NeedsHuman(i) => Outcome::NeedsHuman(profile.dialogs[i].name.clone()),
                _ => Outcome::Timeout,
            };
            return Ok(report(
                outcome,
                snap.screen,
                answered,
                conversation_id,
                start,
            ));
        }
        // Poll on a fixed schedule (the capture itself takes time), and when
        // the screen is ready but still settling, wake exactly when it will
        // have been still for `settle`.
        let mut next = now + POLL;
        if class == Screen::Ready {
            next = next.min(still_since + settle);
        }
        let pause = next
            .min(deadline)
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        std::thread::sleep(pause);
    }
}

fn report(
    outcome: Outcome,
    screen: String,
    answered: Vec<String>,
    conversation_id: Option<String>,
    start: Instant,
) -> ProbeReport {
    ProbeReport {
        outcome,
        screen,
        answered,
        conversation_id,
        elapsed: start.elapsed(),
    }
}

/// The result of typing one text into a pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// The agent took it; `how` is the proof (SPEC §9): `record` (its
    /// conversation store shows the turn), `screen` (for profiles without a
    /// record: the text left the composer and the agent went busy or drew
    /// it), `queued` (the CLI shows it queued), `exited` (it ended on it).
    Delivered { how: &'static str, rescued: bool },
    /// Not typed at all: the agent was not in a state to take input.
    NotReady(String),
    /// Typed but not proven; the reason. The caller must not count it
    /// delivered, and must look for it in the record before typing it again.
    Unverified(String),
}

/// Knobs for `type_text`.
#[derive(Debug, Clone)]
pub struct TypeOptions {
    /// Longest wait for proof after the submit key.
    pub verify_timeout: Duration,
    /// How long without proof before the one rescue submit.
    pub rescue_after: Duration,
    /// Type even when the agent is busy, if its profile shows queued input.
    pub allow_queued: bool,
    /// Longest wait for a ready screen to stay still for `settle_ms`.
    pub settle_timeout: Duration,
    /// The screen is known to have been still and ready since it was last
    /// classified (its `window_activity` has not moved): no settle wait.
    pub known_settled_at: Option<i64>,
    /// How long the ready screen must stay still (default: the profile's
    /// `settle_ms`; after a turn mam itself started, `turn_settle_ms`).
    pub still: Option<Duration>,
}

impl Default for TypeOptions {
    fn default() -> Self {
        TypeOptions {
            verify_timeout: Duration::from_secs(8),
            rescue_after: Duration::from_millis(800),
            allow_queued: true,
            settle_timeout: Duration::from_secs(3),
            known_settled_at: None,
            still: None,
        }
    }
}

/// What the caller learns and records while `type_text` runs.
pub struct Hooks<'a> {
    /// Called with the text in the composer, right before the submit key:
    /// the caller records that the attempt is being submitted.
    pub submitting: &'a mut dyn FnMut() -> Result<()>,
    /// Whether the agent's own record shows the turn; `None` for profiles
    /// without a record (then the screen is the proof).
    pub recorded: Option<&'a mut dyn FnMut() -> bool>,
}

/// Longest text sent with `send-keys -l` in literal mode; longer goes as a paste.
const LITERAL_MAX: usize = 256;

/// Wait until the screen is ready and has not changed for the profile's
/// `settle_ms`; `Err(reason)` if it is not ready (or does not settle) in
/// time. `busy_ok`: a busy screen that queues input counts too.
pub fn settled(
    tmux: &Tmux,
    pane: &str,
    profile: &Profile,
    opts: &TypeOptions,
    busy_ok: bool,
) -> Result<std::result::Result<Snapshot, String>> {
    let settle = opts
        .still
        .unwrap_or(Duration::from_millis(profile.spec.settle_ms));
    let deadline = Instant::now() + opts.settle_timeout + settle;
    let mut last: Option<(String, Instant)> = None;
    loop {
        let Some(snap) = snapshot(tmux, pane)? else {
            return Ok(Err("the pane is gone".into()));
        };
        if snap.dead {
            return Ok(Err("the agent has exited".into()));
        }
        match profile.classify(&snap.screen) {
            Screen::Ready => {}
            // A busy agent that queues input animates: no stillness to wait for.
            Screen::Busy if busy_ok => return Ok(Ok(snap)),
            // Busy, or text in the composer: not now (the caller queues).
            Screen::Busy => return Ok(Err("the agent is busy".into())),
            Screen::Other => return Ok(Err("the agent is not at an empty prompt".into())),
            Screen::Dialog(i) | Screen::NeedsHuman(i) => {
                // Never wait out a dialog: it needs an answer, not time.
                return Ok(Err(format!(
                    "a dialog is showing ({})",
                    profile.dialogs[i].name
                )));
            }
            Screen::Error(m) => return Ok(Err(format!("the agent shows an error: {m}"))),
        }
        if opts.known_settled_at == Some(snap.activity) {
            return Ok(Ok(snap));
        }
        // Ready: wait until the same screen has been up for `settle`.
        let now = Instant::now();
        let since = match &last {
            Some((screen, since)) if *screen == snap.screen => *since,
            _ => {
                last = Some((snap.screen.clone(), now));
                now
            }
        };
        if now.duration_since(since) >= settle {
            return Ok(Ok(snap));
        }
        if now >= deadline {
            return Ok(Err(format!(
                "the screen did not stay still for {} ms",
                settle.as_millis()
            )));
        }
        let pause = POLL.min((since + settle).saturating_duration_since(now));
        std::thread::sleep(pause.max(Duration::from_millis(1)));
    }
}

/// Type `text` (already sanitised, non-empty) into `pane` and prove that
/// the agent took it. Types only into a settled, empty composer (or a busy
/// one that queues input); the submit key is its own call after the
/// profile's delay; one rescue submit if the text is still in the composer,
/// never into a dialog.
pub fn type_text(
    tmux: &Tmux,
    pane: &str,
    profile: &Profile,
    text: &str,
    opts: &TypeOptions,
    hooks: Hooks,
) -> Result<Typed> {
    if text.is_empty() {
        return Ok(Typed::NotReady("nothing to type after sanitising".into()));
    }
    let queues = opts.allow_queued && profile.accepts_queued_input();
    let before = match settled(tmux, pane, profile, opts, queues)? {
        Ok(s) => s,
        Err(why) => return Ok(Typed::NotReady(why)),
    };
    let busy_before = profile.is_busy(&before.screen);
    if busy_before && profile.shows_queued(&before.screen) {
        // One queued input at a time, so that each becomes a turn of its own.
        return Ok(Typed::NotReady(
            "the agent is busy and already holds queued input".into(),
        ));
    }
    let Hooks {
        submitting,
        mut recorded,
    } = hooks;

    let typed_at = Instant::now();
    let literal = profile.spec.paste == PasteMode::Literal
        && !text.contains('\n')
        && text.len() <= LITERAL_MAX;
    if literal {
        tmux.send_literal(pane, text)?;
    } else {
        tmux.paste(pane, text)?;
    }
    // The submit key is its own call, after the profile's delay.
    let delay = Duration::from_millis(profile.spec.submit_delay_ms);
    let elapsed = typed_at.elapsed();
    if elapsed < delay {
        std::thread::sleep(delay - elapsed);
    }
    let Some(typed) = snapshot(tmux, pane)? else {
        return Ok(Typed::Unverified(
            "the pane disappeared while typing".into(),
        ));
    };
    let mut typed_screen = typed.screen;
    if typed_screen == before.screen {
        // Nothing echoed: the agent may still be drawing; give it a moment.
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            std::thread::sleep(POLL);
            match snapshot(tmux, pane)? {
                Some(s) if s.screen != before.screen => {
                    typed_screen = s.screen;
                    break;
                }
                Some(_) => {}
                None => {
                    return Ok(Typed::Unverified(
                        "the pane disappeared while typing".into(),
                    ));
                }
            }
        }
    }
    submitting()?;
    let submit = vec![profile.spec.submit_key.clone()];
    tmux.send_keys(pane, &submit)?;
    let sent_at = Instant::now();
    let mut rescued = false;
    let mut rescued_at: Option<Instant> = None;
    let first_line = text.lines().next().unwrap_or("").trim();
    let shown: String = first_line.chars().take(40).collect();
    // Look soon after the submit key (most agents react within a few ms),
    // then back off to the normal poll interval.
    let mut pause = Duration::from_millis(8);
    loop {
        std::thread::sleep(pause);
        pause = (pause * 2).min(POLL);
        if let Some(rec) = recorded.as_mut()
            && rec()
        {
            return Ok(Typed::Delivered {
                how: "record",
                rescued,
            });
        }
        let Some(s) = snapshot(tmux, pane)? else {
            return Ok(Typed::Unverified(
                "the pane disappeared after submit".into(),
            ));
        };
        if s.dead {
            // An agent that exits on this input (e.g. `/exit`) took it.
            return Ok(Typed::Delivered {
                how: "exited",
                rescued,
            });
        }
        if profile.shows_queued(&s.screen) && (busy_before || profile.is_busy(&s.screen)) {
            return Ok(Typed::Delivered {
                how: "queued",
                rescued,
            });
        }
        let class = profile.classify(&s.screen);
        match &class {
            Screen::Dialog(i) | Screen::NeedsHuman(i) => {
                // Never press anything into a dialog.
                return Ok(Typed::Unverified(format!(
                    "a dialog appeared after submit ({})",
                    profile.dialogs[*i].name
                )));
            }
            // Screen proof, only where the agent keeps no record: busy that
            // was not there before, or the text now drawn above an empty
            // composer on a screen that changed. An empty prompt alone is no
            // proof (the text may never have arrived).
            Screen::Busy if recorded.is_none() && !busy_before => {
                return Ok(Typed::Delivered {
                    how: "screen",
                    rescued,
                });
            }
            Screen::Ready
                if recorded.is_none()
                    && s.screen != typed_screen
                    && s.screen != before.screen
                    && (shown.is_empty() || s.screen.contains(shown.as_str())) =>
            {
                return Ok(Typed::Delivered {
                    how: "screen",
                    rescued,
                });
            }
            _ => {}
        }
        let waited = sent_at.elapsed();
        // The text still sits in the composer (neither an empty prompt nor
        // working): press submit once more; still there a while after that,
        // give up (the next delivery clears it and types it afresh).
        if class == Screen::Other && waited >= opts.rescue_after {
            match rescued_at {
                None => {
                    tmux.send_keys(pane, &submit)?;
                    rescued = true;
                    rescued_at = Some(Instant::now());
                }
                Some(at) if at.elapsed() >= opts.rescue_after => {
                    return Ok(Typed::Unverified(
                        "the text is still in the agent's composer after a second submit".into(),
                    ));
                }
                Some(_) => {}
            }
        }
        if waited >= opts.verify_timeout {
            let why = if recorded.is_some() {
                format!(
                    "the agent's record shows no such turn within {:.1}s",
                    opts.verify_timeout.as_secs_f64()
                )
            } else {
                format!(
                    "no sign the agent took the text within {:.1}s (still in its input box?)",
                    opts.verify_timeout.as_secs_f64()
                )
            };
            return Ok(Typed::Unverified(why));
        }
    }
}

/// How long `clear_composer` keeps at a composer whose clear is armed by
/// a hint (several rounds, if presses go astray).
const CLEAR_TIMEOUT: Duration = Duration::from_secs(6);

/// After a clear key that drew no hint: how long before the sequence starts
/// over. Longer than the CLIs' double-press windows (Claude Code 0.8 s,
/// Gemini CLI 0.5 s), so that two presses that drew nothing are never taken
/// as a pair (on an empty composer that pair opens a rewind).
const CLEAR_REARM: Duration = Duration::from_millis(1000);

/// Clear what mam itself left in an agent's composer with the profile's
/// `clear` keys, until the composer is empty (ready). Never used on text
/// mam did not type. `Ok(true)` when it is empty.
///
/// With a `clear_armed` pattern (a double press: Esc shows `esc again to
/// clear` for a moment, a second Esc clears) a later key goes out only
/// while the screen shows the first one armed it, and the sequence starts
/// over when it does not: a second key sent at a fixed interval misses the
/// window when mam or tmux is slow (the CLI then only arms again), and one
/// that lands while a turn ends is taken as an interrupt. No key goes into
/// a screen that is busy, a dialog or an error.
pub fn clear_composer(tmux: &Tmux, pane: &str, profile: &Profile) -> Result<bool> {
    let keys = &profile.spec.clear;
    let armed = match &profile.clear_armed {
        Some(re) if keys.len() >= 2 => re,
        _ => return clear_at_intervals(tmux, pane, profile),
    };
    let deadline = Instant::now() + CLEAR_TIMEOUT;
    // The key after the last one pressed, and when that went out on what screen.
    let mut next = 0;
    let mut pressed: Option<(Instant, String)> = None;
    loop {
        let Some(s) = snapshot(tmux, pane)? else {
            return Ok(false);
        };
        if s.dead {
            return Ok(false);
        }
        match profile.classify(&s.screen) {
            Screen::Ready => return Ok(true),
            Screen::Other => {}
            // Working (Esc would interrupt the turn), a dialog, an error.
            _ => return Ok(false),
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        let shows_armed = armed.is_match(&s.screen);
        let press = match &pressed {
            None => true,
            // The hint came up after the last key: finish while it shows.
            Some((_, before)) if shows_armed && s.screen != *before => true,
            // Nothing came of the last key in time: start over.
            Some((at, _)) => now.duration_since(*at) >= CLEAR_REARM,
        };
        if press {
            // Armed: a later key; not armed: the first.
            let i = if shows_armed {
                next.clamp(1, keys.len() - 1)
            } else {
                0
            };
            tmux.send_keys(pane, std::slice::from_ref(&keys[i]))?;
            pressed = Some((Instant::now(), s.screen));
            next = i + 1;
        }
        std::thread::sleep(POLL);
    }
}

/// The `clear` keys one at a time, polling for the empty composer: 300 ms
/// after each but the last, a full second after the last.
fn clear_at_intervals(tmux: &Tmux, pane: &str, profile: &Profile) -> Result<bool> {
    let is_empty = |s: &Snapshot| profile.classify(&s.screen) == Screen::Ready;
    let Some(s) = snapshot(tmux, pane)? else {
        return Ok(false);
    };
    if is_empty(&s) {
        return Ok(true);
    }
    for (i, key) in profile.spec.clear.iter().enumerate() {
        tmux.send_keys(pane, std::slice::from_ref(key))?;
        let last = i + 1 == profile.spec.clear.len();
        let wait = Duration::from_millis(if last { 1000 } else { 300 });
        let until = Instant::now() + wait;
        while Instant::now() < until {
            std::thread::sleep(POLL);
            match snapshot(tmux, pane)? {
                Some(s) if is_empty(&s) => return Ok(true),
                Some(s) if s.dead => return Ok(false),
                Some(_) => {}
                None => return Ok(false),
            }
        }
    }
    Ok(false)
}

/// The last `n` non-empty lines of a screen, for error reports.
pub fn tail_lines(screen: &str, n: usize) -> String {
    let lines: Vec<&str> = screen.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_removes_controls_but_keeps_text() {
        assert_eq!(sanitize("a\x1b[31mred\x1b[0m"), "a[31mred[0m");
        assert_eq!(sanitize("x\x03y\x7fz\u{9b}w"), "xyzw");
        assert_eq!(sanitize("l1\r\nl2\rl3\tt\n\n"), "l1\nl2\nl3\tt");
        assert_eq!(sanitize("-n;"), "-n;");
        assert_eq!(sanitize("héllo ✓"), "héllo ✓");
        assert_eq!(sanitize("\x1b\x1b"), "");
        assert_eq!(sanitize("keep  \t\r\n\n"), "keep  \t");
        assert_eq!(sanitize("a \r\nb\t\n"), "a \nb\t");
    }

    #[test]
    fn tail_lines_skips_blanks() {
        assert_eq!(tail_lines("a\n\nb\nc\n\n", 2), "b\nc");
    }
}
