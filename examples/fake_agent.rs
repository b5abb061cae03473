//! A scripted stand-in for an interactive coding-agent CLI.
//!
//! mam's integration tests launch this program inside a real tmux pane and
//! drive it the same way mam drives a real agent: typing, bracketed pastes,
//! Enter, Esc, Ctrl-C. Everything the fake agent observes is appended to a
//! JSON Lines log (`--log FILE`) so tests can assert on exactly what arrived,
//! while the screen imitates the parts of a real agent TUI that mam looks at
//! (trust dialogs, the composer between two rules, the footer states).
//!
//! The program is a single-threaded event loop: stdin is put into raw mode,
//! poll(2) waits for input or the next timer (spinner frames, busy periods,
//! start-up phases), and the whole screen is redrawn whenever it changes.
//!
//! Run with `--help` for the list of flags.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Frames of the busy indicator, advanced every `SPINNER_STEP`.
const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_STEP: Duration = Duration::from_millis(100);
/// How long a trailing ESC byte waits for the rest of an escape sequence.
const ESC_WAIT: Duration = Duration::from_millis(30);
/// Window in which a second Ctrl-C on an empty composer exits.
const CTRL_C_WINDOW: Duration = Duration::from_secs(2);
/// How long the `--error` screen stays up before exiting.
const ERROR_LINGER: Duration = Duration::from_millis(300);
/// Upper bound on poll(2) sleeps, so terminal resizes are noticed promptly.
const MAX_SLEEP: Duration = Duration::from_millis(200);
/// Composer lines shown at most (the newest ones).
const MAX_COMPOSER_LINES: usize = 8;
/// Pastes with more lines than this are shown collapsed in the composer.
const PASTE_COLLAPSE_LINES: usize = 3;
/// Transcript lines kept in memory; only the ones that fit are drawn.
const MAX_TRANSCRIPT: usize = 2000;

const USAGE: &str = "\
usage: fake_agent [flags]

  --log FILE               append JSON Lines event records to FILE
  --trust                  show the folder trust dialog first
  --trust-exit-default     show a dialog whose highlighted option exits
  --trust-config           show the folder trust dialog unless Claude Code's
                           config ($CLAUDE_CONFIG_DIR or $HOME)/.claude.json
                           says projects[<cwd>].hasTrustDialogAccepted
  --startup-delay MS       blank screen for MS ms (input is discarded)
  --slow-start MS          ready-looking screen without the shortcuts hint
                           for MS ms (input is discarded)
  --busy SECS              busy period after each submission (default 0)
  --swallow-ms MS          Enter within MS ms of typing inserts a newline
                           (default 120, 0 disables)
  --session-id ID          conversation id (default: random)
  --resume ID              resume conversation ID
  --continue               continue the last conversation
  --sessions-dir DIR       write DIR/<id>.jsonl on submissions
  --exit-after N           exit 0 once the Nth submission has finished
  --error TEXT             show TEXT and exit 1 after 300 ms
  --exit-status N          status used by /exit (default 0)
  --record DIR             keep a Claude-style record: each turn taken is a
                           user line in DIR/projects/<cwd>/<id>.jsonl
  --record-delay MS        write each turn into the record MS ms after
                           taking it (a CLI that flushes its record late)
  --idle-gap MS            after Enter, look idle for MS ms before busy
  --lose-enter N           ignore the first N Enters on a non-empty composer
  --no-queue               Enter while busy is lost: the text stays in the
                           composer (as in Gemini CLI)
  --esc-clear MS           Esc on a composer holding text shows `esc again to
                           clear` for MS ms; a second Esc within that clears,
                           a later one only arms again (as in Claude Code)
";

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

struct Options {
    log: Option<PathBuf>,
    trust: bool,
    trust_exit_default: bool,
    trust_config: bool,
    startup_delay: Duration,
    slow_start: Duration,
    busy: Duration,
    swallow: Duration,
    session_id: Option<String>,
    resume: Option<String>,
    continue_last: bool,
    sessions_dir: Option<PathBuf>,
    exit_after: Option<u64>,
    error: Option<String>,
    exit_status: i32,
    record: Option<PathBuf>,
    idle_gap: Duration,
    record_delay: Duration,
    lose_enter: u64,
    no_queue: bool,
    esc_clear: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            log: None,
            trust: false,
            trust_exit_default: false,
            trust_config: false,
            startup_delay: Duration::ZERO,
            slow_start: Duration::ZERO,
            busy: Duration::ZERO,
            swallow: Duration::from_millis(120),
            session_id: None,
            resume: None,
            continue_last: false,
            sessions_dir: None,
            exit_after: None,
            error: None,
            exit_status: 0,
            record: None,
            idle_gap: Duration::ZERO,
            record_delay: Duration::ZERO,
            lose_enter: 0,
            no_queue: false,
            esc_clear: None,
        }
    }
}

/// Prints a usage error and exits with status 2 (before the terminal is
/// touched, so plain stderr output is fine).
fn usage_error(msg: &str) -> ! {
    eprintln!("fake_agent: {msg}");
    process::exit(2)
}

fn parse_millis(flag: &str, value: &str) -> Duration {
    match value.trim().parse::<u64>() {
        Ok(ms) => Duration::from_millis(ms),
        Err(_) => usage_error(&format!(
            "invalid value for {flag}: {value:?} (expected milliseconds)"
        )),
    }
}

fn parse_seconds(flag: &str, value: &str) -> Duration {
    match value.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=1.0e7).contains(&s) => Duration::from_secs_f64(s),
        _ => usage_error(&format!(
            "invalid value for {flag}: {value:?} (expected seconds)"
        )),
    }
}

fn parse_options(args: &[String]) -> Options {
    let mut opts = Options::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if arg == "--" {
            // Everything after `--` is positional and ignored (still logged).
            break;
        }
        if arg == "-h" || arg == "--help" {
            print!("{USAGE}");
            process::exit(0);
        }
        if !arg.starts_with('-') || arg == "-" {
            // Positional arguments (e.g. an initial prompt) are accepted and
            // only show up in the start record.
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg, None),
        };
        let takes_value = matches!(
            name,
            "--log"
                | "--startup-delay"
                | "--slow-start"
                | "--busy"
                | "--swallow-ms"
                | "--session-id"
                | "--resume"
                | "--sessions-dir"
                | "--exit-after"
                | "--error"
                | "--exit-status"
                | "--record"
                | "--idle-gap"
                | "--record-delay"
                | "--lose-enter"
                | "--esc-clear"
        );
        let is_switch = matches!(
            name,
            "--trust" | "--trust-exit-default" | "--trust-config" | "--continue" | "--no-queue"
        );
        if !takes_value && !is_switch {
            usage_error(&format!("unknown flag {arg}"));
        }
        if is_switch {
            if inline.is_some() {
                usage_error(&format!("flag {name} takes no value"));
            }
            match name {
                "--trust" => opts.trust = true,
                "--trust-exit-default" => opts.trust_exit_default = true,
                "--trust-config" => opts.trust_config = true,
                "--no-queue" => opts.no_queue = true,
                _ => opts.continue_last = true,
            }
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                if i >= args.len() {
                    usage_error(&format!("flag {name} needs a value"));
                }
                i += 1;
                args[i - 1].clone()
            }
        };
        match name {
            // `{agent}` in the path becomes $MAM_AGENT, so one profile can give
            // every agent of a test its own log.
            "--log" => {
                let agent = std::env::var("MAM_AGENT").unwrap_or_else(|_| "agent".into());
                opts.log = Some(PathBuf::from(value.replace("{agent}", &agent)))
            }
            "--startup-delay" => opts.startup_delay = parse_millis(name, &value),
            "--slow-start" => opts.slow_start = parse_millis(name, &value),
            "--busy" => opts.busy = parse_seconds(name, &value),
            "--swallow-ms" => opts.swallow = parse_millis(name, &value),
            "--session-id" => opts.session_id = Some(value),
            "--resume" => opts.resume = Some(value),
            "--sessions-dir" => opts.sessions_dir = Some(PathBuf::from(value)),
            "--record" => opts.record = Some(PathBuf::from(value)),
            "--idle-gap" => opts.idle_gap = parse_millis(name, &value),
            "--record-delay" => opts.record_delay = parse_millis(name, &value),
            "--esc-clear" => opts.esc_clear = Some(parse_millis(name, &value)),
            "--lose-enter" => match value.trim().parse::<u64>() {
                Ok(n) => opts.lose_enter = n,
                Err(_) => usage_error(&format!("invalid value for --lose-enter: {value:?}")),
            },
            "--exit-after" => match value.trim().parse::<u64>() {
                Ok(n) => opts.exit_after = Some(n),
                Err(_) => usage_error(&format!("invalid value for {name}: {value:?}")),
            },
            "--error" => opts.error = Some(value),
            "--exit-status" => match value.trim().parse::<i32>() {
                Ok(n) if (0..=255).contains(&n) => opts.exit_status = n,
                _ => usage_error(&format!("invalid value for {name}: {value:?}")),
            },
            _ => usage_error(&format!("unknown flag {arg}")),
        }
    }
    opts
}

// ---------------------------------------------------------------------------
// JSON output (just enough to write flat records)
// ---------------------------------------------------------------------------

/// Returns `s` as a quoted JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Append-only JSON Lines event log; each record goes out in one write.
struct EventLog {
    file: Option<File>,
}

impl EventLog {
    fn open(path: Option<&PathBuf>) -> EventLog {
        let file = path.map(
            |p| match OpenOptions::new().create(true).append(true).open(p) {
                Ok(f) => f,
                Err(e) => usage_error(&format!("cannot open log {}: {e}", p.display())),
            },
        );
        EventLog { file }
    }

    fn record(&mut self, json: &str) {
        if let Some(f) = self.file.as_mut() {
            let mut line = String::with_capacity(json.len() + 1);
            line.push_str(json);
            line.push('\n');
            // A failing log must not take the fake agent down.
            let _ = f.write_all(line.as_bytes());
        }
    }

    fn text_event(&mut self, event: &str, text: &str) {
        self.record(&format!(
            "{{\"event\":{},\"text\":{}}}",
            json_str(event),
            json_str(text)
        ));
    }
}

// ---------------------------------------------------------------------------
// Terminal
// ---------------------------------------------------------------------------

static SAVED_TERMIOS: OnceLock<libc::termios> = OnceLock::new();

fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Switches stdin to raw mode, remembering the previous settings. Does
/// nothing when stdin is not a terminal.
fn enter_raw_mode() {
    // SAFETY: termios is a plain C struct; tcgetattr fills it in and we only
    // use it when the call succeeded.
    unsafe {
        let mut saved: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut saved) != 0 {
            return;
        }
        let _ = SAVED_TERMIOS.set(saved);
        let mut raw = saved;
        libc::cfmakeraw(&mut raw);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // TCSANOW: keys typed before we got here must stay readable so they
        // can be reported as discarded.
        libc::tcsetattr(0, libc::TCSANOW, &raw);
    }
}

fn restore_terminal() {
    write_stdout(b"\x1b[?2004l\x1b[?25h");
    if let Some(saved) = SAVED_TERMIOS.get() {
        // SAFETY: restoring settings previously returned by tcgetattr.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, saved);
        }
    }
}

/// Terminal size as (columns, rows), falling back to 80x24.
fn term_size() -> (usize, usize) {
    for fd in [1, 0] {
        // SAFETY: TIOCGWINSZ writes a winsize struct we own.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
        if ok && ws.ws_col > 0 && ws.ws_row > 0 {
            return (ws.ws_col as usize, ws.ws_row as usize);
        }
    }
    (80, 24)
}

enum Readiness {
    Ready,
    Timeout,
    Closed,
}

fn wait_for_input(timeout: Duration) -> Readiness {
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    let mut pfd = libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, ms) };
    if r < 0 {
        let err = std::io::Error::last_os_error();
        return if err.kind() == std::io::ErrorKind::Interrupted {
            Readiness::Timeout
        } else {
            Readiness::Closed
        };
    }
    if r == 0 {
        return Readiness::Timeout;
    }
    if pfd.revents & libc::POLLNVAL != 0 {
        return Readiness::Closed;
    }
    // POLLHUP/POLLERR: let read() report the end of input.
    Readiness::Ready
}

enum ReadResult {
    Data(usize),
    Retry,
    Eof,
}

fn read_stdin(buf: &mut [u8]) -> ReadResult {
    // SAFETY: reading into a buffer we own, bounded by its length.
    let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
    if n > 0 {
        return ReadResult::Data(n as usize);
    }
    if n == 0 {
        return ReadResult::Eof;
    }
    match std::io::Error::last_os_error().kind() {
        std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock => ReadResult::Retry,
        _ => ReadResult::Eof,
    }
}

// ---------------------------------------------------------------------------
// Input decoding
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Key {
    /// A typed character (printable, or tab).
    Char(char),
    /// CR.
    Enter,
    /// LF typed directly (e.g. Ctrl-J).
    Newline,
    Backspace,
    /// Ctrl-U.
    ClearLine,
    CtrlC,
    CtrlD,
    Esc,
    Up,
    Down,
    /// Contents of a bracketed paste, CR already turned into LF.
    Paste(String),
}

enum DecodeState {
    Ground,
    /// Saw ESC, waiting for the next byte.
    Escape,
    /// Inside `ESC [`, collecting parameter/intermediate bytes.
    Csi(Vec<u8>),
    /// Inside `ESC O` (application cursor keys).
    Ss3,
    /// Inside a bracketed paste, collecting raw bytes.
    Paste(Vec<u8>),
}

const PASTE_END: &[u8] = b"\x1b[201~";

/// Byte-stream to key decoder; keeps its state across reads so sequences,
/// paste markers and UTF-8 characters may be split anywhere.
struct Decoder {
    state: DecodeState,
    utf8: Vec<u8>,
    utf8_len: usize,
}

impl Decoder {
    fn new() -> Decoder {
        Decoder {
            state: DecodeState::Ground,
            utf8: Vec::new(),
            utf8_len: 0,
        }
    }

    fn feed(&mut self, bytes: &[u8], out: &mut Vec<Key>) {
        for &b in bytes {
            self.byte(b, out);
        }
    }

    /// True when the last byte seen was an ESC that may still start a
    /// sequence.
    fn esc_pending(&self) -> bool {
        matches!(self.state, DecodeState::Escape)
    }

    /// Called when no follow-up arrived in time: the ESC was the Esc key.
    fn flush_esc(&mut self, out: &mut Vec<Key>) {
        if self.esc_pending() {
            self.state = DecodeState::Ground;
            out.push(Key::Esc);
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Key>) {
        let state = std::mem::replace(&mut self.state, DecodeState::Ground);
        match state {
            DecodeState::Ground => self.ground(b, out),
            DecodeState::Paste(mut buf) => {
                buf.push(b);
                if buf.ends_with(PASTE_END) {
                    buf.truncate(buf.len() - PASTE_END.len());
                    let text = String::from_utf8_lossy(&buf).replace('\r', "\n");
                    out.push(Key::Paste(text));
                } else {
                    self.state = DecodeState::Paste(buf);
                }
            }
            DecodeState::Escape => match b {
                b'[' => self.state = DecodeState::Csi(Vec::new()),
                b'O' => self.state = DecodeState::Ss3,
                _ => {
                    out.push(Key::Esc);
                    self.ground(b, out);
                }
            },
            DecodeState::Ss3 => match b {
                b'A' => out.push(Key::Up),
                b'B' => out.push(Key::Down),
                _ => {}
            },
            DecodeState::Csi(mut params) => match b {
                0x20..=0x3f => {
                    if params.len() < 32 {
                        params.push(b);
                        self.state = DecodeState::Csi(params);
                    }
                    // Absurdly long sequences are dropped.
                }
                0x40..=0x7e => {
                    if b == b'~' && params == b"200" {
                        self.state = DecodeState::Paste(Vec::new());
                    } else if params.is_empty() && b == b'A' {
                        out.push(Key::Up);
                    } else if params.is_empty() && b == b'B' {
                        out.push(Key::Down);
                    }
                    // Any other sequence (arrows, function keys, focus
                    // reports, ...) is ignored.
                }
                _ => self.ground(b, out),
            },
        }
    }

    fn ground(&mut self, b: u8, out: &mut Vec<Key>) {
        if self.utf8_len > 0 {
            if b & 0xc0 == 0x80 {
                self.utf8.push(b);
                if self.utf8.len() == self.utf8_len {
                    if let Ok(s) = std::str::from_utf8(&self.utf8) {
                        for c in s.chars().filter(|c| !c.is_control()) {
                            out.push(Key::Char(c));
                        }
                    }
                    self.utf8.clear();
                    self.utf8_len = 0;
                }
                return;
            }
            // Truncated character: drop it and treat `b` afresh.
            self.utf8.clear();
            self.utf8_len = 0;
        }
        match b {
            0x1b => self.state = DecodeState::Escape,
            0x0d => out.push(Key::Enter),
            0x0a => out.push(Key::Newline),
            0x09 => out.push(Key::Char('\t')),
            0x7f | 0x08 => out.push(Key::Backspace),
            0x15 => out.push(Key::ClearLine),
            0x03 => out.push(Key::CtrlC),
            0x04 => out.push(Key::CtrlD),
            0x20..=0x7e => out.push(Key::Char(b as char)),
            0xc2..=0xdf => self.start_utf8(b, 2),
            0xe0..=0xef => self.start_utf8(b, 3),
            0xf0..=0xf4 => self.start_utf8(b, 4),
            // Other control bytes and invalid UTF-8 lead bytes.
            _ => {}
        }
    }

    fn start_utf8(&mut self, b: u8, len: usize) {
        self.utf8.clear();
        self.utf8.push(b);
        self.utf8_len = len;
    }
}

// ---------------------------------------------------------------------------
// Text layout helpers
// ---------------------------------------------------------------------------

/// Approximate terminal column width of a character.
fn char_width(c: char) -> usize {
    let cp = c as u32;
    let zero = matches!(cp, 0x0300..=0x036f | 0x200b..=0x200f | 0xfe00..=0xfe0f);
    if zero {
        return 0;
    }
    let wide = matches!(
        cp,
        0x1100..=0x115f
            | 0x2e80..=0x303e
            | 0x3041..=0xa4cf
            | 0xac00..=0xd7a3
            | 0xf900..=0xfaff
            | 0xfe30..=0xfe4f
            | 0xff00..=0xff60
            | 0xffe0..=0xffe6
            | 0x1f300..=0x1f64f
            | 0x1f900..=0x1f9ff
            | 0x20000..=0x3fffd
    );
    if wide { 2 } else { 1 }
}

/// Makes one line of user text safe to print: tabs become spaces and other
/// control characters become `?`.
fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("    "),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Cuts `s` to at most `width` columns.
fn fit(s: &str, width: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        let w = char_width(c);
        if used + w > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}

/// Splits `s` into pieces of at most `width` columns (at least one piece).
fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut cur = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w > width && !cur.is_empty() {
            rows.push(std::mem::take(&mut cur));
            used = 0;
        }
        cur.push(c);
        used += w;
    }
    rows.push(cur);
    rows
}

fn line_count(s: &str) -> usize {
    s.lines().count().max(1)
}

fn first_line(s: &str) -> &str {
    s.split('\n').next().unwrap_or("")
}

// ---------------------------------------------------------------------------
// Composer
// ---------------------------------------------------------------------------

enum Piece {
    Char(char),
    /// A long paste, shown as a placeholder but submitted in full.
    Paste {
        number: usize,
        lines: usize,
        text: String,
    },
}

#[derive(Default)]
struct Composer {
    pieces: Vec<Piece>,
}

impl Composer {
    fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    fn clear(&mut self) {
        self.pieces.clear();
    }

    fn push(&mut self, c: char) {
        self.pieces.push(Piece::Char(c));
    }

    fn backspace(&mut self) {
        self.pieces.pop();
    }

    /// The text that a submission sends.
    fn text(&self) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Char(c) => s.push(*c),
                Piece::Paste { text, .. } => s.push_str(text),
            }
        }
        s
    }

    /// The text as drawn on screen.
    fn display(&self) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Char(c) => s.push(*c),
                Piece::Paste { number, lines, .. } => {
                    s.push_str(&format!("[Pasted text #{number} +{lines} lines]"));
                }
            }
        }
        s
    }
}

/// Whether Claude Code's global config records the folder `cwd` as trusted
/// (what `--trust-config` asks, as Claude Code does at start-up).
fn claude_trusts(cwd: &str) -> bool {
    let dir = std::env::var_os("CLAUDE_CONFIG_DIR")
        .or_else(|| std::env::var_os("HOME"))
        .map(PathBuf::from);
    let Some(text) = dir.and_then(|d| std::fs::read_to_string(d.join(".claude.json")).ok()) else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["projects"][cwd]["hasTrustDialogAccepted"].as_bool())
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Application state
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum DialogKind {
    /// "Do you trust the files in this folder?" — option 1 accepts.
    Trust,
    /// Bypass-permissions warning — option 1 exits.
    Bypass,
}

enum Stage {
    Startup(Duration),
    Dialog(DialogKind),
    Error,
    SlowStart(Duration),
}

enum Phase {
    Startup { until: Instant },
    Dialog { kind: DialogKind, selected: usize },
    Error { until: Instant },
    SlowStart { until: Instant },
    Ready,
}

struct Busy {
    started: Instant,
    until: Instant,
}

struct App {
    opts: Options,
    log: EventLog,
    cwd: String,
    conversation: String,
    stages: VecDeque<Stage>,
    phase: Phase,
    composer: Composer,
    pastes: usize,
    transcript: Vec<String>,
    queue: VecDeque<String>,
    busy: Option<Busy>,
    last_typed: Option<Instant>,
    ctrl_c_until: Option<Instant>,
    /// `--esc-clear`: until when a second Esc clears the composer.
    esc_armed_until: Option<Instant>,
    finished: u64,
    session_file_started: bool,
    dirty: bool,
    drawn_size: (usize, usize),
    drawn_frame: Option<usize>,
}

impl App {
    fn new(opts: Options, log: EventLog, cwd: String, conversation: String) -> App {
        let mut stages = VecDeque::new();
        if !opts.startup_delay.is_zero() {
            stages.push_back(Stage::Startup(opts.startup_delay));
        }
        if opts.trust || (opts.trust_config && !claude_trusts(&cwd)) {
            stages.push_back(Stage::Dialog(DialogKind::Trust));
        }
        if opts.trust_exit_default {
            stages.push_back(Stage::Dialog(DialogKind::Bypass));
        }
        if opts.error.is_some() {
            stages.push_back(Stage::Error);
        }
        if !opts.slow_start.is_zero() {
            stages.push_back(Stage::SlowStart(opts.slow_start));
        }
        let mut transcript = Vec::new();
        if let Some(id) = &opts.resume {
            transcript.push(format!("resumed conversation {id}"));
        }
        if opts.continue_last {
            transcript.push("continued last conversation".to_string());
        }
        App {
            opts,
            log,
            cwd,
            conversation,
            stages,
            phase: Phase::Ready,
            composer: Composer::default(),
            pastes: 0,
            transcript,
            queue: VecDeque::new(),
            busy: None,
            last_typed: None,
            ctrl_c_until: None,
            esc_armed_until: None,
            finished: 0,
            session_file_started: false,
            dirty: true,
            drawn_size: (0, 0),
            drawn_frame: None,
        }
    }

    fn log_start(&mut self, args: &[String]) {
        let args_json: Vec<String> = args.iter().map(|a| json_str(a)).collect();
        let mut env = Vec::new();
        for name in ["MAM_AGENT", "MAM_WORKSPACE", "MAM_TMUX_SOCKET"] {
            if let Some(v) = std::env::var_os(name) {
                env.push(format!(
                    "{}:{}",
                    json_str(name),
                    json_str(&v.to_string_lossy())
                ));
            }
        }
        let record = format!(
            "{{\"event\":\"start\",\"args\":[{}],\"cwd\":{},\"conversation\":{},\"env\":{{{}}}}}",
            args_json.join(","),
            json_str(&self.cwd),
            json_str(&self.conversation),
            env.join(",")
        );
        self.log.record(&record);
    }

    /// Logs the exit, restores the terminal and ends the process.
    fn exit(&mut self, status: i32) -> ! {
        self.log
            .record(&format!("{{\"event\":\"exit\",\"status\":{status}}}"));
        restore_terminal();
        process::exit(status)
    }

    /// Moves on to the next start-up stage (or the ready screen).
    fn advance(&mut self, now: Instant) {
        self.dirty = true;
        self.phase = match self.stages.pop_front() {
            None => Phase::Ready,
            Some(Stage::Startup(d)) => Phase::Startup { until: now + d },
            Some(Stage::Dialog(kind)) => Phase::Dialog { kind, selected: 0 },
            Some(Stage::Error) => Phase::Error {
                until: now + ERROR_LINGER,
            },
            Some(Stage::SlowStart(d)) => Phase::SlowStart { until: now + d },
        };
    }

    /// Handles everything that happens because time passed.
    fn tick(&mut self, now: Instant) {
        loop {
            match self.phase {
                Phase::Startup { until } | Phase::SlowStart { until } if now >= until => {
                    self.advance(now);
                }
                Phase::Error { until } if now >= until => self.exit(1),
                _ => break,
            }
        }
        if !matches!(self.phase, Phase::Ready) {
            return;
        }
        if let Some(until) = self.ctrl_c_until
            && now >= until
        {
            self.ctrl_c_until = None;
            self.dirty = true;
        }
        if let Some(until) = self.esc_armed_until
            && now >= until
        {
            self.esc_armed_until = None;
            self.dirty = true;
        }
        if let Some(busy) = &self.busy
            && now >= busy.until
        {
            self.busy = None;
            self.dirty = true;
            self.finish_submission(now);
        }
        let frame = self.shown_busy(now).map(|b| spinner_frame(b, now));
        if frame != self.drawn_frame {
            self.dirty = true;
        }
    }

    /// The next instant at which `tick` has something to do.
    fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| {
            next = Some(match next {
                Some(n) if n <= t => n,
                _ => t,
            });
        };
        match self.phase {
            Phase::Startup { until } | Phase::SlowStart { until } | Phase::Error { until } => {
                consider(until)
            }
            Phase::Dialog { .. } => {}
            Phase::Ready => {
                if let Some(b) = &self.busy {
                    consider(b.until);
                    if now < b.started + self.opts.idle_gap {
                        consider(b.started + self.opts.idle_gap);
                    }
                    let frame = (now.saturating_duration_since(b.started).as_millis()
                        / SPINNER_STEP.as_millis()) as u32;
                    consider(b.started + SPINNER_STEP * (frame + 1));
                }
                if let Some(t) = self.ctrl_c_until {
                    consider(t);
                }
                if let Some(t) = self.esc_armed_until {
                    consider(t);
                }
            }
        }
        next
    }

    fn handle_keys(&mut self, keys: Vec<Key>, now: Instant) {
        self.tick(now);
        let mut discarded = String::new();
        for key in keys {
            match self.phase {
                Phase::Startup { .. } | Phase::SlowStart { .. } => {
                    describe_discarded(&key, &mut discarded);
                    continue;
                }
                _ => {}
            }
            if !discarded.is_empty() {
                self.log.text_event("discarded", &discarded);
                discarded.clear();
            }
            match self.phase {
                Phase::Dialog { kind, selected } => self.dialog_key(kind, selected, key, now),
                Phase::Ready => self.ready_key(key, now),
                _ => {}
            }
        }
        if !discarded.is_empty() {
            self.log.text_event("discarded", &discarded);
        }
    }

    fn dialog_key(&mut self, kind: DialogKind, selected: usize, key: Key, now: Instant) {
        let choice = match key {
            Key::Char('1') => 0,
            Key::Char('2') => 1,
            Key::Enter => selected,
            Key::Up | Key::Down => {
                let selected = if key == Key::Up { 0 } else { 1 };
                self.phase = Phase::Dialog { kind, selected };
                self.dirty = true;
                return;
            }
            Key::Esc => {
                self.log
                    .record("{\"event\":\"dialog\",\"answer\":\"exit\"}");
                self.exit(1);
            }
            _ => return,
        };
        let accept = match kind {
            DialogKind::Trust => choice == 0,
            DialogKind::Bypass => choice == 1,
        };
        if accept {
            self.log
                .record("{\"event\":\"dialog\",\"answer\":\"accept\"}");
            self.advance(now);
        } else {
            self.log
                .record("{\"event\":\"dialog\",\"answer\":\"exit\"}");
            self.exit(1);
        }
    }

    fn ready_key(&mut self, key: Key, now: Instant) {
        self.dirty = true;
        match key {
            Key::Char(c) => {
                self.composer.push(c);
                self.last_typed = Some(now);
                self.ctrl_c_until = None;
            }
            Key::Newline => self.composer.push('\n'),
            Key::Paste(text) => {
                self.insert_paste(text);
                self.last_typed = None;
                self.ctrl_c_until = None;
            }
            Key::Enter if self.opts.no_queue && self.busy.is_some() => {
                self.log.record("{\"event\":\"lost-enter\"}");
            }
            Key::Enter if self.opts.lose_enter > 0 && !self.composer.is_empty() => {
                self.opts.lose_enter -= 1;
                self.log.record("{\"event\":\"lost-enter\"}");
            }
            Key::Enter => {
                let swallowed = !self.opts.swallow.is_zero()
                    && self
                        .last_typed
                        .is_some_and(|t| now.saturating_duration_since(t) < self.opts.swallow);
                if swallowed {
                    self.composer.push('\n');
                } else {
                    self.submit(now);
                }
            }
            Key::Backspace => self.composer.backspace(),
            Key::ClearLine => self.composer.clear(),
            Key::CtrlC => {
                if !self.composer.is_empty() {
                    self.composer.clear();
                } else if self.ctrl_c_until.is_some_and(|t| now < t) {
                    self.exit(130);
                } else {
                    self.ctrl_c_until = Some(now + CTRL_C_WINDOW);
                }
            }
            Key::CtrlD => {
                if self.composer.is_empty() {
                    self.exit(0);
                }
            }
            Key::Esc => {
                if self.busy.take().is_some() {
                    self.finish_submission(now);
                } else if let Some(window) = self.opts.esc_clear
                    && !self.composer.is_empty()
                {
                    if self.esc_armed_until.take().is_some_and(|t| now < t) {
                        self.log.record("{\"event\":\"esc-cleared\"}");
                        self.composer.clear();
                    } else {
                        self.log.record("{\"event\":\"esc-armed\"}");
                        self.esc_armed_until = Some(now + window);
                    }
                }
            }
            Key::Up | Key::Down => {}
        }
    }

    fn insert_paste(&mut self, text: String) {
        let lines = line_count(&text);
        if lines > PASTE_COLLAPSE_LINES {
            self.pastes += 1;
            self.composer.pieces.push(Piece::Paste {
                number: self.pastes,
                lines,
                text,
            });
        } else {
            for c in text.chars() {
                self.composer.push(c);
            }
        }
    }

    /// Enter on the composer: submit now, or queue while busy.
    fn submit(&mut self, now: Instant) {
        // Like the real CLIs, trailing line breaks are not part of a submission
        // (a swallowed Enter leaves one behind; the next Enter submits the rest).
        let text = self.composer.text().trim_end_matches('\n').to_string();
        if text.is_empty() {
            return;
        }
        self.composer.clear();
        self.last_typed = None;
        if self.busy.is_some() {
            self.log.text_event("queued", &text);
            self.queue.push_back(text);
        } else {
            self.process_submission(text, now);
        }
    }

    fn process_submission(&mut self, text: String, now: Instant) {
        self.dirty = true;
        self.log.text_event("submit", &text);
        self.write_session_line(&text);
        self.write_record(&text);
        if text.trim() == "/exit" {
            let status = self.opts.exit_status;
            self.exit(status);
        }
        self.transcript.push(format!("› {}", first_line(&text)));
        self.transcript.push(format!(
            "● received {} bytes in {} lines",
            text.len(),
            line_count(&text)
        ));
        if self.transcript.len() > MAX_TRANSCRIPT {
            let extra = self.transcript.len() - MAX_TRANSCRIPT;
            self.transcript.drain(..extra);
        }
        if self.opts.busy.is_zero() {
            self.finish_submission(now);
        } else {
            self.busy = Some(Busy {
                started: now,
                until: now + self.opts.busy,
            });
        }
    }

    /// A submission's (possibly empty) busy period is over.
    fn finish_submission(&mut self, now: Instant) {
        self.dirty = true;
        self.finished += 1;
        if self.opts.exit_after == Some(self.finished) {
            self.exit(0);
        }
        if let Some(next) = self.queue.pop_front() {
            self.process_submission(next, now);
        }
    }

    /// A user turn in Claude Code's session format, where mam looks for
    /// proof of delivery.
    fn write_record(&mut self, text: &str) {
        let Some(dir) = &self.opts.record else {
            return;
        };
        let mangled: String = self
            .cwd
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = dir.join("projects").join(mangled);
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{}.jsonl", self.conversation));
        let line = format!(
            "{{\"type\":\"user\",\"message\":{{\"role\":\"user\",\"content\":{}}},\"sessionId\":{},\"cwd\":{}}}\n",
            json_str(text),
            json_str(&self.conversation),
            json_str(&self.cwd)
        );
        let write = move || {
            if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(&path) {
                let _ = f.write_all(line.as_bytes());
            }
        };
        let delay = self.opts.record_delay;
        if delay.is_zero() {
            write();
        } else {
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                write();
            });
        }
    }

    fn write_session_line(&mut self, text: &str) {
        let Some(dir) = &self.opts.sessions_dir else {
            return;
        };
        let _ = std::fs::create_dir_all(dir);
        let path = dir.join(format!("{}.jsonl", self.conversation));
        let line = if self.session_file_started {
            format!(
                "{{\"sessionId\":{},\"cwd\":{},\"text\":{}}}\n",
                json_str(&self.conversation),
                json_str(&self.cwd),
                json_str(text)
            )
        } else {
            format!(
                "{{\"sessionId\":{},\"cwd\":{}}}\n",
                json_str(&self.conversation),
                json_str(&self.cwd)
            )
        };
        self.session_file_started = true;
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(&path) {
            let _ = f.write_all(line.as_bytes());
        }
    }

    // -- drawing ------------------------------------------------------------

    fn draw(&mut self, now: Instant) {
        let (cols, rows) = term_size();
        let lines = match self.phase {
            Phase::Startup { .. } => Vec::new(),
            Phase::Dialog { kind, selected } => self.dialog_lines(kind, selected),
            Phase::Error { .. } => {
                let mut lines = self.header_lines();
                if let Some(text) = &self.opts.error {
                    lines.extend(text.split('\n').map(sanitize));
                }
                lines
            }
            Phase::SlowStart { .. } => self.main_lines(cols, rows, "loading…".to_string()),
            Phase::Ready => {
                let footer = if self.ctrl_c_until.is_some() {
                    "Press Ctrl-C again to exit".to_string()
                } else if let Some(b) = self.shown_busy(now) {
                    format!(
                        "{} Working (esc to interrupt)",
                        SPINNER[spinner_frame(b, now)]
                    )
                } else if self.esc_armed_until.is_some() {
                    "? for shortcuts  esc again to clear".to_string()
                } else {
                    "? for shortcuts".to_string()
                };
                self.main_lines(cols, rows, footer)
            }
        };
        let skip = lines.len().saturating_sub(rows);
        let body: Vec<String> = lines[skip..].iter().map(|l| fit(l, cols)).collect();
        let mut frame = String::from("\x1b[H\x1b[2J");
        frame.push_str(&body.join("\r\n"));
        write_stdout(frame.as_bytes());
        self.dirty = false;
        self.drawn_size = (cols, rows);
        self.drawn_frame = match (&self.phase, self.shown_busy(now)) {
            (Phase::Ready, Some(b)) => Some(spinner_frame(b, now)),
            _ => None,
        };
    }

    /// The busy period as drawn: not during the idle-looking gap after Enter.
    fn shown_busy(&self, now: Instant) -> Option<&Busy> {
        self.busy
            .as_ref()
            .filter(|b| now >= b.started + self.opts.idle_gap)
    }

    fn header_lines(&self) -> Vec<String> {
        vec![
            format!("╭─ fake-agent v1 ─ conversation {}", self.conversation),
            format!("│ cwd: {}", sanitize(&self.cwd)),
            "╰─".to_string(),
        ]
    }

    fn dialog_lines(&self, kind: DialogKind, selected: usize) -> Vec<String> {
        let mark = |i: usize| if i == selected { "❯ " } else { "  " };
        match kind {
            DialogKind::Trust => vec![
                "Do you trust the files in this folder?".to_string(),
                sanitize(&self.cwd),
                String::new(),
                format!("{}1. Yes, I trust this folder", mark(0)),
                format!("{}2. No, exit", mark(1)),
            ],
            DialogKind::Bypass => vec![
                "WARNING: fake-agent is running in Bypass Permissions mode".to_string(),
                format!("{}1. No, exit", mark(0)),
                format!("{}2. Yes, I accept", mark(1)),
            ],
        }
    }

    fn main_lines(&self, cols: usize, rows: usize, footer: String) -> Vec<String> {
        let header = self.header_lines();

        let mut queued = Vec::new();
        if !self.queue.is_empty() {
            for q in &self.queue {
                queued.push(format!("queued: {}", sanitize(first_line(q))));
            }
            queued.push("Press up to edit queued messages".to_string());
        }

        let mut composer_rows = Vec::new();
        for logical in self.composer.display().split('\n') {
            composer_rows.extend(wrap(&sanitize(logical), cols.saturating_sub(2)));
        }
        let skip = composer_rows.len().saturating_sub(MAX_COMPOSER_LINES);
        let composer: Vec<String> = composer_rows[skip..]
            .iter()
            .enumerate()
            .map(|(i, row)| format!("{}{row}", if i == 0 { "> " } else { "  " }))
            .collect();

        let rule = "─".repeat(cols);
        let fixed = header.len() + queued.len() + composer.len() + 3;
        let room = rows.saturating_sub(fixed);
        let start = self.transcript.len().saturating_sub(room);

        let mut lines = header;
        lines.extend(self.transcript[start..].iter().map(|l| sanitize(l)));
        lines.extend(queued);
        lines.push(rule.clone());
        lines.extend(composer);
        lines.push(rule);
        lines.push(footer);
        lines
    }
}

fn spinner_frame(busy: &Busy, now: Instant) -> usize {
    let elapsed = now.saturating_duration_since(busy.started).as_millis();
    ((elapsed / SPINNER_STEP.as_millis()) % SPINNER.len() as u128) as usize
}

/// Renders a key that is being thrown away as the text it would have typed.
fn describe_discarded(key: &Key, out: &mut String) {
    match key {
        Key::Char(c) => out.push(*c),
        Key::Paste(text) => out.push_str(text),
        Key::Enter => out.push('\r'),
        Key::Newline => out.push('\n'),
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Start-up helpers
// ---------------------------------------------------------------------------

/// A random id in the UUID v4 layout.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let from_urandom = File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_urandom {
        // Weak fallback: mix the clock and pid.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut x = nanos ^ ((process::id() as u128) << 64);
        for b in bytes.iter_mut() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (x >> 64) as u8;
        }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn current_dir_string() -> String {
    match std::env::current_dir() {
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(_) => std::env::var("PWD").unwrap_or_else(|_| ".".to_string()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = parse_options(&args);
    let log = EventLog::open(opts.log.as_ref());
    let cwd = current_dir_string();
    let conversation = opts
        .session_id
        .clone()
        .or_else(|| opts.resume.clone())
        .unwrap_or_else(random_id);

    let mut app = App::new(opts, log, cwd, conversation);
    app.log_start(&args);

    enter_raw_mode();
    // Bracketed paste on, cursor hidden, screen blank.
    write_stdout(b"\x1b[?2004h\x1b[?25l\x1b[H\x1b[2J");

    let mut decoder = Decoder::new();
    let mut esc_deadline: Option<Instant> = None;
    let mut buf = [0u8; 4096];
    app.advance(Instant::now());

    loop {
        let now = Instant::now();
        if esc_deadline.is_some_and(|d| now >= d) {
            esc_deadline = None;
            let mut keys = Vec::new();
            decoder.flush_esc(&mut keys);
            app.handle_keys(keys, now);
        }
        app.tick(now);
        if app.dirty || term_size() != app.drawn_size {
            app.draw(now);
        }

        let mut sleep = MAX_SLEEP;
        let deadlines = [app.next_deadline(now), esc_deadline];
        for d in deadlines.into_iter().flatten() {
            // Round up by a millisecond so we never wake just before it.
            let until = d.saturating_duration_since(now) + Duration::from_millis(1);
            sleep = sleep.min(until);
        }

        match wait_for_input(sleep) {
            Readiness::Timeout => continue,
            Readiness::Closed => app.exit(0),
            Readiness::Ready => {}
        }
        let n = match read_stdin(&mut buf) {
            ReadResult::Data(n) => n,
            ReadResult::Retry => continue,
            ReadResult::Eof => app.exit(0),
        };
        let now = Instant::now();
        let mut keys = Vec::new();
        decoder.feed(&buf[..n], &mut keys);
        app.handle_keys(keys, now);
        esc_deadline = decoder.esc_pending().then_some(now + ESC_WAIT);
    }
}
