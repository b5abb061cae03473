//! Exact expectations on one run of `mam`:
//!
//! ```ignore
//! env.expect(&["send", "alice", "hi"])
//!     .by_agent("bob")               // MAM_AGENT=bob
//!     .env("K", "V")                 // any other variable
//!     .stdin("text")                 // else stdin is closed
//!     .code(0)                       // the default
//!     .stdout_is("m1 to alice: delivered\n")
//!     .stderr_is("")
//!     .run();                        // runs, checks, returns the Outcome
//! ```
//!
//! Every expectation is checked, and a mismatch panics with all of them at
//! once: the exit code, and for each stream a line diff of expected against
//! actual. `stdout_has` / `stderr_has` are substring checks for the few
//! outputs that hold something no normalisation makes stable;
//! `stdout_golden` / `stderr_golden` compare with a file under tests/golden/
//! (see `golden`).
//!
//! Before any comparison both streams are normalised: the Env's paths
//! become `<ROOT>` (the workspace), `<HOME>`, `<LOGS>`, `<TMP>` (the rest
//! of its temporary directory), `<FAKE>` (the fake agent), the tmux socket
//! name `<SOCKET>`, and ids made at random: `<WS>` (workspace), `<SRC>`
//! (event source) and `<UUID>` (conversation ids). `ages()` also turns
//! ages (`3s`, `12m`, `1h`, `2d`) into `<AGE>`, `times()` timestamps
//! (RFC 3339, with or without seconds, zone or `T`) into `<TIME>`, and
//! `replace(from, to)` / `replace_re(pattern, to)` anything else. Where a
//! whole output must be stable (golden files), moving mam's clock
//! (`MAM_TEST_CLOCK_MS`, see tests/cli/golden.rs) makes ages exact instead.
//! Since `3s` and `12s` pad a table column differently, `ages()` also
//! turns the spaces after an age into one (none at the end of a line): the
//! alignment right after an age is the one thing it does not compare.
//!
//! `Expect` is `#[must_use]`: an expectation without `.run()` is a warning,
//! and with `clippy -D warnings` an error.

use std::io::Write;
use std::process::Stdio;
use std::sync::OnceLock;

use regex::Regex;

use super::Env;
use super::golden;

#[must_use = "an expectation checks nothing until .run()"]
pub struct Expect<'a> {
    env: &'a Env,
    args: Vec<String>,
    vars: Vec<(String, Option<String>)>,
    stdin: Option<Vec<u8>>,
    code: i32,
    stdout: Vec<Check>,
    stderr: Vec<Check>,
    ages: bool,
    times: bool,
    replace: Vec<(String, String)>,
    replace_re: Vec<(Regex, String)>,
}

enum Check {
    Is(String),
    Has(String),
    Golden(String),
}

/// What one run of `mam` did: the exit code (None: killed by a signal) and
/// both streams, normalised as the expectations saw them.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    /// Expectations on one run of `mam ARGS` in this workspace; nothing
    /// runs until `.run()`. By default the exit code must be 0 and the
    /// streams may hold anything.
    pub fn expect(&self, args: &[&str]) -> Expect<'_> {
        Expect {
            env: self,
            args: args.iter().map(|a| a.to_string()).collect(),
            vars: Vec::new(),
            stdin: None,
            code: 0,
            stdout: Vec::new(),
            stderr: Vec::new(),
            ages: false,
            times: false,
            replace: Vec::new(),
            replace_re: Vec::new(),
        }
    }
}

impl<'a> Expect<'a> {
    /// Run with `key=value` in the environment.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.vars.push((key.into(), Some(value.into())));
        self
    }

    /// Run without `key` in the environment.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.vars.push((key.into(), None));
        self
    }

    /// Run as the agent `name` (`MAM_AGENT`), as a command typed in its pane.
    pub fn by_agent(self, name: &str) -> Self {
        self.env("MAM_AGENT", name)
    }

    /// Feed `text` on stdin (else stdin is closed).
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.as_bytes().to_vec());
        self
    }

    /// The exit code mam must end with (0 unless set).
    pub fn code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }

    /// Stdout, normalised, must be exactly `text`.
    pub fn stdout_is(mut self, text: &str) -> Self {
        self.stdout.push(Check::Is(text.into()));
        self
    }

    /// Stderr, normalised, must be exactly `text`.
    pub fn stderr_is(mut self, text: &str) -> Self {
        self.stderr.push(Check::Is(text.into()));
        self
    }

    /// Stdout, normalised, must hold `part`.
    pub fn stdout_has(mut self, part: &str) -> Self {
        self.stdout.push(Check::Has(part.into()));
        self
    }

    /// Stderr, normalised, must hold `part`.
    pub fn stderr_has(mut self, part: &str) -> Self {
        self.stderr.push(Check::Has(part.into()));
        self
    }

    /// Stdout, normalised, must be the golden file `tests/golden/<name>`.
    pub fn stdout_golden(mut self, name: &str) -> Self {
        self.stdout.push(Check::Golden(name.into()));
        self
    }

    /// Stderr, normalised, must be the golden file `tests/golden/<name>`.
    pub fn stderr_golden(mut self, name: &str) -> Self {
        self.stderr.push(Check::Golden(name.into()));
        self
    }

    /// Also normalise ages (`3s`, `12m`, `1h`, `2d`) to `<AGE>`.
    pub fn ages(mut self) -> Self {
        self.ages = true;
        self
    }

    /// Also normalise timestamps to `<TIME>`.
    pub fn times(mut self) -> Self {
        self.times = true;
        self
    }

    /// Also replace `from` with `to` (after the paths, before the rest).
    pub fn replace(mut self, from: &str, to: &str) -> Self {
        self.replace.push((from.into(), to.into()));
        self
    }

    /// Also replace what the regex `pattern` matches with `to` (`$1` etc.
    /// name its groups), after the literal replacements.
    pub fn replace_re(mut self, pattern: &str, to: &str) -> Self {
        let re = Regex::new(pattern).unwrap_or_else(|e| panic!("bad regex {pattern:?}: {e}"));
        self.replace_re.push((re, to.into()));
        self
    }

    /// `mam a b c`, for messages.
    fn title(&self) -> String {
        let mut t = String::from("mam");
        for a in &self.args {
            t.push(' ');
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"\\$;|&".contains(c)) {
                t.push_str(&format!("{a:?}"));
            } else {
                t.push_str(a);
            }
        }
        t
    }

    /// Run mam, check every expectation, panic with all mismatches.
    #[track_caller]
    pub fn run(self) -> Outcome {
        let mut cmd = self.env.cmd();
        cmd.args(&self.args);
        for (k, v) in &self.vars {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let out = match &self.stdin {
            None => cmd.output().expect("run mam"),
            Some(input) => {
                cmd.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = cmd.spawn().expect("run mam");
                let mut pipe = child.stdin.take().unwrap();
                let input = input.clone();
                let writer = std::thread::spawn(move || {
                    let _ = pipe.write_all(&input);
                });
                let out = child.wait_with_output().expect("wait for mam");
                let _ = writer.join();
                out
            }
        };
        let outcome = Outcome {
            code: out.status.code(),
            stdout: self.normalise(&String::from_utf8_lossy(&out.stdout)),
            stderr: self.normalise(&String::from_utf8_lossy(&out.stderr)),
        };
        let mut problems = Vec::new();
        if outcome.code != Some(self.code) {
            problems.push(format!(
                "exit code: expected {}, got {}",
                self.code,
                outcome
                    .code
                    .map_or_else(|| format!("none ({})", out.status), |c| c.to_string())
            ));
        }
        for (stream, checks, actual) in [
            ("stdout", &self.stdout, &outcome.stdout),
            ("stderr", &self.stderr, &outcome.stderr),
        ] {
            for check in checks {
                match check {
                    Check::Is(want) if want != actual => problems.push(format!(
                        "{stream} is not as expected (- expected, + actual):\n{}",
                        diff(want, actual)
                    )),
                    Check::Has(part) if !actual.contains(part.as_str()) => {
                        problems.push(format!("{stream} lacks {part:?}"))
                    }
                    Check::Golden(name) => {
                        if let Err(e) = golden::check(name, actual, Some(self.env)) {
                            problems.push(format!("{stream}: {e}"));
                        }
                    }
                    _ => {}
                }
            }
        }
        if !problems.is_empty() {
            panic!(
                "{}:\n{}\n--- stdout (normalised) ---\n{}--- stderr (normalised) ---\n{}---",
                self.title(),
                problems.join("\n"),
                outcome.stdout,
                outcome.stderr
            );
        }
        outcome
    }

    fn normalise(&self, text: &str) -> String {
        let mut s = normalise_env(self.env, text);
        for (from, to) in &self.replace {
            s = s.replace(from.as_str(), to);
        }
        for (re, to) in &self.replace_re {
            s = re.replace_all(&s, to.as_str()).into_owned();
        }
        if self.times {
            s = times_re().replace_all(&s, "<TIME>").into_owned();
        }
        if self.ages {
            s = normalise_ages(&s);
        }
        s
    }
}

/// The Env's paths and socket, and random ids, in `text` made stable.
pub fn normalise_env(env: &Env, text: &str) -> String {
    let fake = super::example_path("fake_agent");
    let tmp = env.dir.path().canonicalize().unwrap();
    // Longest first: the workspace, HOME and the logs are inside <TMP>.
    let mut paths = vec![
        (fake.display().to_string(), "<FAKE>"),
        (env.root.display().to_string(), "<ROOT>"),
        (env.home.display().to_string(), "<HOME>"),
        (env.logs.display().to_string(), "<LOGS>"),
        (tmp.display().to_string(), "<TMP>"),
        (env.dir.path().display().to_string(), "<TMP>"),
    ];
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let mut s = text.to_string();
    for (p, name) in paths {
        s = s.replace(&p, name);
    }
    s = s.replace(&env.socket, "<SOCKET>");
    // tmux's socket directory is named after the user's uid.
    s = s.replace(&format!("/tmux-{}/", uid()), "/tmux-<UID>/");
    let s = ids_re().replace_all(
        &s,
        |c: &regex::Captures| {
            if &c[1] == "w" { "<WS>" } else { "<SRC>" }
        },
    );
    uuid_re().replace_all(&s, "<UUID>").into_owned()
}

/// The real uid of the test process (tmux names its socket directory so).
fn uid() -> String {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn uuid_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b").unwrap()
    })
}

fn ids_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b([ws])[0-9a-f]{12}\b").unwrap())
}

fn ages_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b\d+[smhd]\b( *)").unwrap())
}

/// Each age becomes `<AGE>`, and the padding after it one space (none at
/// the end of a line): `3s` and `12s` pad a table column differently.
fn normalise_ages(s: &str) -> String {
    ages_re()
        .replace_all(s, |c: &regex::Captures| {
            let end = c.get(0).unwrap().end();
            let line_goes_on = !matches!(s[end..].chars().next(), None | Some('\n'));
            if c[1].is_empty() || !line_goes_on {
                "<AGE>"
            } else {
                "<AGE> "
            }
        })
        .into_owned()
}

fn times_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?(\[[^\]\s]+\])?",
        )
        .unwrap()
    })
}

/// A line diff of `want` against `got`: lines only in `want` start with
/// `-`, only in `got` with `+`, common ones with a space. A line's trailing
/// whitespace shows as `·`, and a missing final newline says so.
pub fn diff(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.split_inclusive('\n').collect();
    let b: Vec<&str> = got.split_inclusive('\n').collect();
    // Longest common subsequence, by the classic table (outputs are small).
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, mark: char, l: &str| {
        let (body, nl) = match l.strip_suffix('\n') {
            Some(b) => (b, true),
            None => (l, false),
        };
        let trimmed = body.trim_end();
        out.push(mark);
        out.push(' ');
        out.push_str(trimmed);
        for _ in trimmed.chars().count()..body.chars().count() {
            out.push('·');
        }
        if !nl {
            out.push_str("  (no newline at end)");
        }
        out.push('\n');
    };
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            line(&mut out, ' ', a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            line(&mut out, '-', a[i]);
            i += 1;
        } else {
            line(&mut out, '+', b[j]);
            j += 1;
        }
    }
    if want.is_empty() {
        out.push_str("- (nothing)\n");
    }
    if got.is_empty() {
        out.push_str("+ (nothing)\n");
    }
    out
}

#[test]
fn the_diff_marks_lines_only_in_one_side_and_shows_invisible_differences() {
    assert_eq!(
        diff("a\nb\nc\n", "a\nB\nc\nd"),
        "  a\n- b\n+ B\n  c\n+ d  (no newline at end)\n"
    );
    assert_eq!(diff("x \n", "x\n"), "- x·\n+ x\n");
    assert_eq!(diff("", "y\n"), "+ y\n- (nothing)\n");
}

#[test]
fn ages_and_timestamps_normalise_and_nothing_else_does() {
    assert_eq!(
        normalise_ages("3s, 12m ago, in 1h, 2d; not 3sx, v1, s3 or 10ms"),
        "<AGE>, <AGE> ago, in <AGE>, <AGE>; not 3sx, v1, s3 or 10ms"
    );
    // Column padding after an age does not count; the rest of the line does.
    assert_eq!(
        normalise_ages("a  3s   4s ago  x\nb  12s  15s ago  y  \nc 1d   \n"),
        "a  <AGE> <AGE> ago  x\nb  <AGE> <AGE> ago  y  \nc <AGE>\n"
    );
    let times = |s: &str| times_re().replace_all(s, "<TIME>").into_owned();
    assert_eq!(
        times("at 2027-01-15T08:00:00.000Z, 2027-01-15 08:00, 2027-01-15T08:00:00+01:00."),
        "at <TIME>, <TIME>, <TIME>."
    );
    assert_eq!(times("2027-01-15 and 08:00"), "2027-01-15 and 08:00");
}
