//! Keys to actions: what a key press means in the dashboard's current mode.
//! Pure, so the whole key map is tested without a terminal.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::model::Mode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Move the selection by this many rows.
    Move(i64),
    Top,
    Bottom,
    Attach,
    Send,
    Answer,
    Stop,
    Resume,
    Retry,
    Cancel,
    Filter,
    Sort,
    /// Show the other hosts' jobs in place of the detail, or the detail again.
    Fleet,
    Help,
    /// Close the help, the input line or the question; clear the status.
    Back,
    /// In the input line.
    Type(char),
    Erase,
    Submit,
    /// In a question (`y`/`n`).
    Yes,
    No,
}

/// The keys, as the help overlay lists them.
pub const HELP: &[(&str, &str)] = &[
    (
        "↑ ↓ j k",
        "select a job (PgUp PgDn g G: by page, first, last)",
    ),
    ("Enter", "attach to its session (detach to come back)"),
    ("s", "send it a message"),
    ("a", "answer its open question to the operator"),
    ("x", "stop it (asks first)"),
    ("R", "resume it"),
    ("r", "retry its failed reminder"),
    ("c", "cancel a queued message, question or reminder"),
    ("/", "filter by name, kind, role, state or branch"),
    ("o", "sort: name, state, activity, age"),
    ("f", "the fleet: other hosts' jobs in place of the detail"),
    ("Esc", "close, clear the status line"),
    ("?", "this help"),
    ("q", "quit"),
];

/// What `key` does in `mode`; None: nothing.
pub fn action(mode: &Mode, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c')) {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Typing { .. } => match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Backspace => Some(Action::Erase),
            KeyCode::Char(c) if !ctrl => Some(Action::Type(c)),
            _ => None,
        },
        Mode::Confirm(_) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Yes),
            _ => Some(Action::No),
        },
        Mode::Help => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            _ => Some(Action::Back),
        },
        Mode::Normal => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Move(-1)),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Move(1)),
            KeyCode::PageUp => Some(Action::Move(-10)),
            KeyCode::PageDown => Some(Action::Move(10)),
            KeyCode::Home | KeyCode::Char('g') => Some(Action::Top),
            KeyCode::End | KeyCode::Char('G') => Some(Action::Bottom),
            KeyCode::Enter => Some(Action::Attach),
            KeyCode::Char('s') => Some(Action::Send),
            KeyCode::Char('a') => Some(Action::Answer),
            KeyCode::Char('x') => Some(Action::Stop),
            KeyCode::Char('R') => Some(Action::Resume),
            KeyCode::Char('r') => Some(Action::Retry),
            KeyCode::Char('c') => Some(Action::Cancel),
            KeyCode::Char('/') => Some(Action::Filter),
            KeyCode::Char('o') => Some(Action::Sort),
            KeyCode::Char('f') => Some(Action::Fleet),
            KeyCode::Char('?') => Some(Action::Help),
            KeyCode::Esc => Some(Action::Back),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dash::model::Input;

    fn press(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn keys_mean_what_the_help_says() {
        let n = Mode::Normal;
        assert_eq!(action(&n, press(KeyCode::Char('q'))), Some(Action::Quit));
        assert_eq!(action(&n, press(KeyCode::Char('R'))), Some(Action::Resume));
        assert_eq!(action(&n, press(KeyCode::Char('r'))), Some(Action::Retry));
        assert_eq!(action(&n, press(KeyCode::Enter)), Some(Action::Attach));
        assert_eq!(action(&n, press(KeyCode::Down)), Some(Action::Move(1)));
        assert_eq!(action(&n, press(KeyCode::Char('z'))), None);
        // Typing: letters are text, q included; Enter submits.
        let t = Mode::Typing {
            what: Input::Filter,
            text: String::new(),
        };
        assert_eq!(
            action(&t, press(KeyCode::Char('q'))),
            Some(Action::Type('q'))
        );
        assert_eq!(action(&t, press(KeyCode::Enter)), Some(Action::Submit));
        assert_eq!(
            action(&t, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        // A question: only y confirms.
        let c = Mode::Confirm(crate::dash::model::Confirm::Stop("a".into()));
        assert_eq!(action(&c, press(KeyCode::Char('y'))), Some(Action::Yes));
        assert_eq!(action(&c, press(KeyCode::Char('x'))), Some(Action::No));
    }
}
