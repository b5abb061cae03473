//! Terminal output helpers: TTY and colour detection (never with NO_COLOR),
//! a spinner on stderr, tables aligned by terminal columns (wide glyphs count
//! two), and JSON printing.

use crate::model::JobState;
use std::io::{IsTerminal, Write};
use std::time::Instant;
use unicode_width::UnicodeWidthStr;

pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Colour only on a TTY and never when NO_COLOR is set (to anything).
pub fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && stdout_is_tty()
}

/// Colour a job state for a table cell.
pub fn paint_state(state: JobState, color: bool) -> String {
    if !color {
        return state.to_string();
    }
    let code = match state {
        JobState::Ready => "32",
        JobState::Busy | JobState::Starting => "33",
        JobState::Waiting => "35",
        JobState::Failed | JobState::Lost => "31",
        JobState::Done => "36",
        JobState::Stopped | JobState::Exited => "2",
    };
    format!("\x1b[{code}m{state}\x1b[0m")
}

/// Terminal columns `s` takes: wide glyphs (CJK, most emoji) count two,
/// combining marks and zero-width characters none, ANSI colour sequences
/// nothing.
fn visible_width(s: &str) -> usize {
    let mut w = 0;
    let mut rest = s;
    while let Some(i) = rest.find('\x1b') {
        w += UnicodeWidthStr::width(&rest[..i]);
        // Skip the sequence, through its final 'm'.
        rest = rest[i..].find('m').map_or("", |m| &rest[i + m + 1..]);
    }
    w + UnicodeWidthStr::width(rest)
}

/// Render rows as left-aligned columns separated by two spaces.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| visible_width(h)).collect();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            if i >= widths.len() {
                widths.push(0);
            }
            widths[i] = widths[i].max(visible_width(cell));
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(c);
                l.push_str(&" ".repeat(widths[i] - visible_width(c) + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.iter().map(|s| s.to_string()).collect());
    for r in rows {
        line(r.clone());
    }
    out
}

/// Print a JSON document on stdout.
pub fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// One JSON value on one line (JSON Lines).
pub fn print_json_line(v: &serde_json::Value) {
    println!("{}", serde_json::to_string(v).unwrap_or_default());
}

/// A one-line spinner on stderr, shown only on a TTY.
pub struct Spinner {
    on: bool,
    start: Instant,
    frame: usize,
    label: String,
}

impl Spinner {
    pub fn new(label: impl Into<String>, quiet: bool) -> Spinner {
        Spinner {
            on: !quiet && stderr_is_tty(),
            start: Instant::now(),
            frame: 0,
            label: label.into(),
        }
    }

    pub fn tick(&mut self, note: &str) {
        if !self.on {
            return;
        }
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        self.frame = (self.frame + 1) % FRAMES.len();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} {} ({note}, {:.1}s)",
            FRAMES[self.frame],
            self.label,
            self.start.elapsed().as_secs_f64()
        );
        let _ = err.flush();
    }

    pub fn clear(&mut self) {
        if self.on {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.clear();
    }
}

/// "3s", "5m", "2h", "4d" for a duration in ms.
/// A job's PROGRESS cell: its verdict once it has one, else `40%`; None
/// when it reported neither.
pub fn progress(percent: Option<i64>, verdict: Option<&str>) -> Option<String> {
    match (percent, verdict) {
        (_, Some(v)) => Some(v.to_string()),
        (Some(p), _) => Some(format!("{p}%")),
        _ => None,
    }
}

pub fn age(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_ignore_colour_codes() {
        let t = table(
            &["NAME", "STATE"],
            &[
                vec!["a".into(), "\x1b[32mready\x1b[0m".into()],
                vec!["long-name".into(), "busy".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "NAME       STATE");
        assert_eq!(lines[2], "long-name  busy");
    }

    #[test]
    fn tables_align_wide_glyphs_by_terminal_columns() {
        let t = table(
            &["ID", "FROM", "SUMMARY"],
            &[
                vec!["m1".into(), "operator".into(), "plain text".into()],
                vec![
                    "m2".into(),
                    "データ解析".into(),
                    "レビューお願いします".into(),
                ],
                vec!["m10".into(), "🚀ship".into(), "done ✅".into()],
                vec!["m11".into(), "e\u{301}te\u{301}".into(), "accents".into()],
            ],
        );
        assert_eq!(
            t,
            "\
ID   FROM        SUMMARY
m1   operator    plain text
m2   データ解析  レビューお願いします
m10  🚀ship      done ✅
m11  e\u{301}te\u{301}         accents
"
        );
        // Every SUMMARY starts in the same terminal column.
        for line in t.lines() {
            let summary_at = line.rfind("  ").unwrap() + 2;
            assert_eq!(visible_width(&line[..summary_at]), 17, "{line}");
        }
    }

    #[test]
    fn ascii_tables_keep_their_layout() {
        let t = table(
            &["NAME", "STATE", "NOTE"],
            &[
                vec!["a".into(), "\x1b[32mready\x1b[0m".into(), "".into()],
                vec!["long-name".into(), "busy".into(), "x y".into()],
            ],
        );
        assert_eq!(
            t,
            "NAME       STATE  NOTE\na          \x1b[32mready\x1b[0m\nlong-name  busy   x y\n"
        );
    }

    #[test]
    fn ages_read_well() {
        assert_eq!(age(5_000), "5s");
        assert_eq!(age(120_000), "2m");
        assert_eq!(age(7_200_000), "2h");
        assert_eq!(age(200_000_000), "2d");
    }
}
