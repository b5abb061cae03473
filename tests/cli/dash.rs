//! `mam dash`: the layout as snapshots (ratatui's test backend, golden files
//! tests/golden/dash-*.txt), and the real dashboard run in a pane of a
//! second private tmux server (so attaching nests a client, as from a plain
//! terminal), driven with send-keys and read with capture-pane, over fake
//! agents on the workspace's own private server.

use std::time::{Duration, Instant};

use mam::dash::model::{
    Detail, FeedLine, Input, JobRow, Mode, Model, ReminderLine, Sort, ThreadLine,
};
use mam::dash::view;
use mam::model::{JobState, ReminderState, Role};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::support::golden::assert_golden;
use crate::support::*;

// ---- layout snapshots -------------------------------------------------

const NOW: i64 = 1_800_000_000_000;

fn job(name: &str, state: JobState, role: Role) -> JobRow {
    JobRow {
        name: name.into(),
        kind: "claude".into(),
        role,
        state,
        note: None,
        progress: None,
        inbox: 0,
        threads: 0,
        reminders: (0, 0),
        branch: None,
        created_at: NOW - 3_600_000,
        activity_ms: Some(NOW - 5_000),
        pane: Some("%1".into()),
        session: Some(format!("mam-{name}")),
    }
}

fn event(seq: i64, ago_s: i64, kind: &str, job: &str, summary: &str) -> FeedLine {
    FeedLine {
        seq,
        ts_ms: NOW - ago_s * 1000,
        kind: kind.into(),
        job: job.into(),
        summary: summary.into(),
    }
}

/// A workspace of four jobs: one waiting with a question to the operator
/// and a failed reminder, one busy in a worktree, one ready, one stopped.
fn sample(color: bool) -> Model {
    let mut m = Model::new("demo", color);
    m.now_ms = NOW;
    let mut api = job("api", JobState::Waiting, Role::Worker);
    api.threads = 1;
    api.inbox = 1;
    api.reminders = (1, 1);
    api.progress = Some("40%".into());
    let mut web = job("web", JobState::Busy, Role::Worker);
    web.branch = Some("mam/web".into());
    web.progress = Some("75%".into());
    web.activity_ms = Some(NOW - 1_000);
    let pm = job("pm", JobState::Ready, Role::Pm);
    let mut old = job("old", JobState::Stopped, Role::Reviewer);
    old.pane = None;
    old.session = None;
    old.activity_ms = Some(NOW - 7_200_000);
    m.set_jobs(vec![web, api, pm, old]);
    m.selected = Some("api".into());
    m.push_events([
        event(1, 300, "job.created", "api", "kind=claude"),
        event(2, 240, "job.state", "api", "starting → ready"),
        event(3, 120, "reminder.failed", "api", "id=r1 error=api is busy"),
        event(4, 60, "question.asked", "api", "id=q1 target=operator"),
        event(5, 30, "job.state", "api", "busy → waiting (dialog: trust)"),
        event(6, 10, "job.progress", "web", "pct=75"),
    ]);
    m.operator_unread = 1;
    m.hook_failures = vec!["h1 on job.waiting (api): timeout, killed after 5s".into()];
    m.detail = Detail {
        job: "api".into(),
        screen: Some(
            "Working on the login endpoint\n\nDo you trust the files in this folder?\n❯ 1. Yes\n  2. No, exit\n"
                .into(),
        ),
        inbox: vec!["m2 from pm: rebase on main first".into()],
        threads: vec![ThreadLine {
            id: "q1".into(),
            role: "asker".into(),
            with: "operator".into(),
            summary: "Which database should the tests use?".into(),
        }],
        reminders: vec![
            ReminderLine {
                id: "r1".into(),
                state: ReminderState::Failed,
                due_at: NOW - 120_000,
                text: "check CI".into(),
                last_error: Some("api is busy".into()),
            },
            ReminderLine {
                id: "r2".into(),
                state: ReminderState::Pending,
                due_at: NOW + 600_000,
                text: "stand-up notes".into(),
                last_error: None,
            },
        ],
        events: m.feed.iter().rev().filter(|e| e.job == "api").cloned().collect(),
    };
    m
}

fn draw(m: &Model, w: u16, h: u16, styles: bool) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let frame = t.draw(|f| view::render(f, m)).unwrap();
    view::buffer_text(frame.buffer, styles)
}

#[test]
fn the_layout_at_80x24_and_140x36() {
    assert_golden("dash-80x24.txt", &draw(&sample(false), 80, 24, false));
    assert_golden("dash-140x36.txt", &draw(&sample(false), 140, 36, false));
}

#[test]
fn colours_mark_states_and_failures_and_no_color_has_none() {
    assert_golden("dash-80x24-color.txt", &draw(&sample(true), 80, 24, true));
    let plain = draw(&sample(false), 80, 24, true);
    assert_golden("dash-80x24-nocolor.txt", &plain);
    assert!(!plain.contains("fg="), "a colour without colour:\n{plain}");
}

#[test]
fn the_help_overlay_the_input_line_and_an_empty_workspace() {
    let mut m = sample(false);
    m.mode = Mode::Help;
    assert_golden("dash-help-80x24.txt", &draw(&m, 80, 24, false));
    let mut m = sample(false);
    m.sort = Sort::State;
    m.arrange();
    m.mode = Mode::Typing {
        what: Input::Send { to: "api".into() },
        text: "use sqlite".into(),
    };
    assert_golden("dash-send-80x24.txt", &draw(&m, 80, 24, false));
    let mut m = Model::new("demo", false);
    m.now_ms = NOW;
    assert_golden("dash-empty-80x24.txt", &draw(&m, 80, 24, false));
}

#[test]
fn the_fleet_panel_shows_each_host_heard_or_stale_and_its_jobs() {
    use mam::dash::model::FleetPanel;
    use mam::mail::fleet_state::{HostView, RemoteJob};
    let remote = |name: &str, state: &str, progress: Option<i64>, inbox: i64| RemoteJob {
        name: name.into(),
        kind: "codex".into(),
        role: "worker".into(),
        state: state.into(),
        reason: None,
        progress,
        verdict: None,
        inbox,
        stuck: false,
        created_at: NOW - 7_200_000,
        state_since: NOW - 60_000,
    };
    let host = |name: &str, seen_s: Option<i64>, stale: bool, jobs: Vec<RemoteJob>| HostView {
        host: name.into(),
        this: false,
        last_seen: seen_s.map(|s| NOW - s * 1000),
        as_of: seen_s.map(|s| NOW - s * 1000),
        received_at: seen_s.map(|s| NOW - s * 1000),
        stale,
        jobs,
    };
    let mut m = sample(false);
    m.fleet = Some(FleetPanel {
        me: "alpha".into(),
        hosts: vec![
            host(
                "beta",
                Some(4),
                false,
                vec![
                    remote("w1", "busy", Some(40), 1),
                    remote("reviewer-2", "ready", None, 0),
                ],
            ),
            host(
                "gamma",
                Some(150),
                true,
                vec![remote("g1", "waiting", None, 0)],
            ),
            host("delta", None, true, vec![]),
        ],
    });
    assert_golden("dash-fleet-80x24.txt", &draw(&m, 80, 24, false));
    let mut colored = m.clone();
    colored.color = true;
    assert_golden("dash-fleet-80x24-color.txt", &draw(&colored, 80, 24, true));
    m.fleet = Some(FleetPanel {
        me: "alpha".into(),
        hosts: vec![],
    });
    assert_golden("dash-fleet-alone-80x24.txt", &draw(&m, 80, 24, false));
}

// ---- the real dashboard in tmux ---------------------------------------

/// `mam dash` in a pane of its own tmux server (100x30), as a user runs
/// it from a terminal; what the pane shows after it exits says how it left
/// the terminal.
struct Dash {
    outer: Tmux,
}

impl Dash {
    fn start(env: &Env) -> Dash {
        let outer = Tmux::new("mam-dash", &env.home);
        let script = format!(
            "'{}' dash; echo \"dash exited $?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; exec sleep 600",
            mam_bin().display()
        );
        let vars = [
            format!("MAM_TMUX_SOCKET={}", env.socket),
            format!("HOME={}", env.home.display()),
            format!("XDG_CONFIG_HOME={}", env.home.join(".config").display()),
            "NO_COLOR=1".to_string(),
            "TERM=xterm-256color".to_string(),
        ];
        let root = env.root.display().to_string();
        let mut args: Vec<&str> = vec![
            "new-session",
            "-d",
            "-s",
            "dash",
            "-x",
            "100",
            "-y",
            "30",
            "-c",
            &root,
        ];
        for v in &vars {
            args.extend(["-e", v.as_str()]);
        }
        args.extend(["--", "sh", "-c", &script]);
        outer.ok(&args);
        let d = Dash { outer };
        d.wait("the dashboard", Duration::from_secs(10), |s| {
            s.contains(" mam dash · ")
        });
        d
    }

    fn screen(&self) -> String {
        self.outer.ok(&["capture-pane", "-p", "-t", "dash"])
    }

    fn pane(&self, format: &str) -> String {
        self.outer
            .ok(&["display-message", "-p", "-t", "dash", format])
            .trim()
            .to_string()
    }

    /// tmux key names (`Enter`, `Down`, `s`…).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "dash"];
        args.extend(keys);
        self.outer.ok(&args);
    }

    fn type_text(&self, text: &str) {
        self.outer.ok(&["send-keys", "-t", "dash", "-l", text]);
    }

    /// Poll the pane until `f` holds, up to `timeout`; the screen it held on.
    #[track_caller]
    fn wait(&self, what: &str, timeout: Duration, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if f(&s) {
                return s;
            }
            if Instant::now() >= deadline {
                panic!("waited {timeout:?} for {what}; the pane shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The table row of job `name` (the first line starting with it).
    fn row(screen: &str, name: &str) -> Option<String> {
        screen
            .lines()
            .find(|l| {
                let l = l.trim_start_matches("> ").trim_start();
                l.split_whitespace().next() == Some(name)
            })
            .map(str::to_string)
    }

    /// The names in the table, top to bottom, and the highlighted one.
    fn table(screen: &str) -> (Vec<String>, Option<String>) {
        let mut names = Vec::new();
        let mut selected = None;
        for l in screen.lines().skip(2) {
            if l.trim().is_empty() {
                break;
            }
            let name = l.trim_start_matches("> ").split_whitespace().next();
            let Some(name) = name else { break };
            if l.starts_with("> ") {
                selected = Some(name.to_string());
            }
            names.push(name.to_string());
        }
        (names, selected)
    }

    /// Select job `name`, one row at a time (each move seen drawn).
    fn select(&self, name: &str) {
        for _ in 0..20 {
            let (names, at) = Dash::table(&self.screen());
            let at = at.expect("a highlighted row");
            if at == name {
                return;
            }
            let from = names.iter().position(|n| *n == at).unwrap();
            let to = names.iter().position(|n| n == name).expect("the job's row");
            self.keys(&[if to > from { "j" } else { "k" }]);
            self.wait("the selection to move", Duration::from_secs(3), |s| {
                Dash::table(s).1.as_deref() != Some(at.as_str())
            });
        }
        panic!("could not select {name}:\n{}", self.screen());
    }

    fn quit(&self) -> String {
        self.keys(&["q"]);
        // Its exit status, then the terminal's line discipline after it.
        self.wait("the dashboard to exit", Duration::from_secs(5), |s| {
            s.contains("dash exited") && s.lines().any(|l| l == "icanon" || l == "-icanon")
        })
    }
}

fn state_in(screen: &str, name: &str) -> Option<String> {
    let row = Dash::row(screen, name)?;
    let row = row.trim_start_matches("> ");
    row.split_whitespace().nth(1).map(str::to_string)
}

#[test]
fn shows_three_agents_and_follows_a_state_change_within_a_second() {
    let env = Env::new();
    for n in ["a", "b", "c"] {
        env.ok(&["create", n, "--agent", "fake"]);
    }
    let dash = Dash::start(&env);
    let s = dash.wait("three ready agents", Duration::from_secs(10), |s| {
        ["a", "b", "c"]
            .iter()
            .all(|n| state_in(s, n).as_deref() == Some("ready"))
    });
    assert!(
        s.contains(" mam dash · ") && s.contains(" · 3 jobs · sort name"),
        "{s}"
    );
    // The selected job's screen is in the detail pane.
    dash.wait("a's screen in the detail", Duration::from_secs(3), |s| {
        s.contains("? for shortcuts")
    });
    env.ok(&["fail", "--job", "b", "tests", "are", "red"]);
    // One event poll (200 ms) and a draw: well within a second.
    let s = dash.wait("b failed", Duration::from_secs(1), |s| {
        state_in(s, "b").as_deref() == Some("failed")
    });
    assert!(s.contains(" b job.failed from=ready reason=te"), "{s}");
    assert_eq!(state_in(&s, "a").as_deref(), Some("ready"), "{s}");
    dash.quit();
}

#[test]
fn s_sends_a_message_that_arrives_exactly_once() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake"]);
    env.wait_state("a", "ready");
    let dash = Dash::start(&env);
    dash.keys(&["s"]);
    dash.wait("the input line", Duration::from_secs(3), |s| {
        s.contains("send to a:")
    });
    dash.type_text("hello from the dashboard");
    dash.keys(&["Enter"]);
    let s = dash.wait("the send's result", Duration::from_secs(15), |s| {
        s.contains(" to a: delivered")
    });
    let hellos = |env: &Env| {
        env.submits("a")
            .into_iter()
            .filter(|t| t.contains("hello from the dashboard"))
            .count()
    };
    assert_eq!(hellos(&env), 1, "{:?}", env.submits("a"));
    assert!(s.contains("m1 to a: delivered"), "{s}");
    // Nothing types it again: not the dashboard's next passes, not a reconcile.
    std::thread::sleep(Duration::from_millis(1500));
    env.ok(&["reconcile", "--once"]);
    assert_eq!(hellos(&env), 1, "{:?}", env.submits("a"));
    let m = env.json(&["inbox", "a", "--all", "--json"]);
    assert_eq!(m["messages"].as_array().map(Vec::len), Some(1), "{m}");
    dash.quit();
}

#[test]
fn r_retries_a_failed_reminder_and_x_stops_a_job() {
    let env = Env::new();
    env.ok(&["create", "s", "--agent", "fake-plain"]);
    env.ok(&["create", "t", "--agent", "fake"]);
    env.ok(&["stop", "s"]);
    env.ok(&["remind", "s", "--in", "1s", "wake up"]);
    env.advance(Duration::from_secs(1));
    for _ in 0..3 {
        env.ok(&["reconcile", "--once"]);
    }
    let r = env.json(&["reminders", "--all", "--json"]);
    assert_eq!(r["reminders"][0]["state"], "failed", "{r}");
    let dash = Dash::start(&env);
    dash.select("s");
    let s = dash.wait("the banner", Duration::from_secs(3), |s| {
        s.contains("! r1 failed: s is not running (stopped)")
    });
    assert!(Dash::row(&s, "s").unwrap().contains("0/1!"), "{s}");
    // r on a job without a failed reminder: the error, nothing done.
    dash.select("t");
    dash.keys(&["r"]);
    dash.wait("the refusal", Duration::from_secs(3), |s| {
        s.contains("mam: error: t has no failed reminder")
    });
    dash.select("s");
    dash.keys(&["r"]);
    dash.wait("the retry", Duration::from_secs(3), |s| {
        s.contains("r1: re-armed")
    });
    let r = env.json(&["reminders", "--all", "--json"]);
    assert_eq!(r["reminders"][0]["state"], "pending", "{r}");
    assert_eq!(r["reminders"][0]["attempts"], 0, "{r}");
    // x asks first; n keeps it, y stops it.
    dash.select("t");
    dash.keys(&["x"]);
    dash.wait("the question", Duration::from_secs(3), |s| {
        s.contains("stop t? y to stop")
    });
    dash.keys(&["n"]);
    dash.wait("nothing stopped", Duration::from_secs(3), |s| {
        s.contains("nothing stopped")
    });
    assert!(env.has_session(env.job("t")["session"]["tmux_session"].as_str().unwrap()));
    dash.keys(&["x"]);
    dash.keys(&["y"]);
    let s = dash.wait("t stopped", Duration::from_secs(15), |s| {
        state_in(s, "t").as_deref() == Some("stopped")
    });
    assert!(s.contains("t: stopped"), "{s}");
    assert_eq!(env.job("t")["state"], "stopped");
    dash.quit();
}

#[test]
fn q_quits_leaving_the_terminal_as_it_was() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake"]);
    let dash = Dash::start(&env);
    assert_eq!(dash.pane("#{alternate_on}"), "1");
    let s = dash.quit();
    // The shell's screen is back: no trace of the dashboard, the cursor
    // shown, the alternate screen left, the line discipline cooked again.
    assert!(!s.contains("mam dash"), "{s}");
    assert_eq!(s.trim_end(), "dash exited 0\nicanon", "{s}");
    assert_eq!(dash.pane("#{alternate_on}"), "0");
    assert_eq!(dash.pane("#{cursor_flag}"), "1");
}

#[test]
fn enter_attaches_to_the_job_and_detaching_comes_back() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake"]);
    env.wait_state("a", "ready");
    let dash = Dash::start(&env);
    dash.keys(&["Enter"]);
    // The pane is the agent's session now, through a nested client.
    dash.wait("a's session", Duration::from_secs(5), |s| {
        !s.contains(" mam dash · ") && s.contains("? for shortcuts")
    });
    assert_eq!(dash.pane("#{alternate_on}"), "1");
    // Detach that client (its prefix, C-b d): the dashboard draws again.
    dash.keys(&["C-b", "d"]);
    dash.wait("the dashboard again", Duration::from_secs(5), |s| {
        s.contains(" mam dash · ") && s.contains("back from ")
    });
    let s = dash.quit();
    assert!(s.contains("dash exited 0"), "{s}");
}

#[test]
fn without_a_terminal_it_refuses_with_exit_2() {
    let env = Env::new();
    env.ok(&["create", "a", "--agent", "fake"]);
    let err = env.fails(&["dash"], 2);
    assert_eq!(
        err,
        "mam: error: mam dash needs a terminal: stdin and stdout are not a TTY\n\
         hint: run it in a terminal or a tmux pane; scripts can use `mam status --json` or `mam status --watch 2`\n"
    );
}

#[test]
fn f_shows_the_other_hosts_jobs_and_follows_them() {
    use crate::fleet::{WAIT, daemon, fleet_with, wait_fleet_jobs};
    let broker = broker::Broker::plain();
    let hosts = fleet_with(&broker, &["alpha", "beta"], "heartbeat = \"1s\"\n");
    let (a, b) = (&hosts[0], &hosts[1]);
    b.ok(&["create", "w1", "--agent", "fake-plain"]);
    let da = daemon(a);
    let db = daemon(b);
    let dash = Dash::start(a);
    dash.keys(&["f"]);
    let line = |s: &str, start: &str| {
        s.lines()
            .find_map(|l| {
                l.trim_start_matches('│')
                    .strip_prefix(start)
                    .map(|rest| format!("{start}{}", rest.split('│').next().unwrap_or("")))
            })
            .map(|l| l.trim_end().to_string())
    };
    let s = dash.wait("beta's job in the fleet panel", WAIT, |s| {
        line(s, "  w1").is_some_and(|l| l.contains("ready"))
    });
    assert!(s.contains("fleet · alpha · 1 other hosts"), "{s}");
    let w1 = line(&s, "  w1").unwrap();
    assert!(
        regex::Regex::new(r"^  w1  ready     worker  \d+s$")
            .unwrap()
            .is_match(&w1),
        "{w1:?}\n{s}"
    );
    assert!(line(&s, "beta · 1 job · heard ").is_some(), "{s}");
    b.ok(&["stop", "w1"]);
    // First the cache (the daemons' part), then the screen (the dashboard's).
    wait_fleet_jobs(
        a,
        &["beta/w1 stopped"],
        Instant::now() + WAIT,
        &[("alpha", &da), ("beta", &db)],
    );
    dash.wait("w1 stopped, followed", Duration::from_secs(5), |s| {
        line(s, "  w1").is_some_and(|l| l.contains("stopped"))
    });
    // f again: the detail is back.
    dash.keys(&["f"]);
    dash.wait("the detail again", Duration::from_secs(3), |s| {
        s.contains("no job selected") && !s.contains("fleet · alpha")
    });
    dash.quit();
}
