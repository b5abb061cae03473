//! What the dashboard shows, as plain data: the jobs as last read, the
//! selection, sort and filter, the events seen, the selected job's detail,
//! what is being typed, and the status line. `source` fills it from the
//! registry and tmux, keys change it (through `dash::run`), `view` draws it.

use std::collections::VecDeque;

use crate::model::{JobState, ReminderState, Role};

/// How many events the feed keeps (newest first when drawn).
pub const FEED_MAX: usize = 200;

/// One job as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub name: String,
    pub kind: String,
    pub role: Role,
    /// As tmux shows it now (`exited`/`lost` when the pane says so).
    pub state: JobState,
    /// `stuck`, `no tmux session`, `status 1`…
    pub note: Option<String>,
    /// `40%`, or the verdict once done.
    pub progress: Option<String>,
    /// Unread messages to it (queued or delivered, not yet read).
    pub inbox: i64,
    /// Open questions it asked or owes an answer to.
    pub threads: i64,
    /// Reminders to it: (pending, failed).
    pub reminders: (i64, i64),
    /// Its worktree's branch, when it has one.
    pub branch: Option<String>,
    pub created_at: i64,
    /// Last activity (unix ms): tmux's window activity or the registry's.
    pub activity_ms: Option<i64>,
    /// Its live pane (what the screen tail captures).
    pub pane: Option<String>,
    /// Its tmux session (what Enter attaches to).
    pub session: Option<String>,
}

/// The order of the table (`o` cycles it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Name,
    State,
    Activity,
    Age,
}

impl Sort {
    pub fn next(self) -> Sort {
        match self {
            Sort::Name => Sort::State,
            Sort::State => Sort::Activity,
            Sort::Activity => Sort::Age,
            Sort::Age => Sort::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::State => "state",
            Sort::Activity => "activity",
            Sort::Age => "age",
        }
    }
}

/// One event of the workspace's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLine {
    pub seq: i64,
    pub ts_ms: i64,
    pub kind: String,
    pub job: String,
    pub summary: String,
}

/// A reminder to the selected job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderLine {
    pub id: String,
    pub state: ReminderState,
    pub due_at: i64,
    pub text: String,
    pub last_error: Option<String>,
}

/// An open thread of the selected job: `q3`, `asker` or `target` (or
/// `inbox` for a queued message), with whom, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadLine {
    pub id: String,
    pub role: String,
    pub with: String,
    pub summary: String,
}

/// The detail pane: everything about the selected job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    /// Whose detail this is (empty: none selected).
    pub job: String,
    /// The visible screen of its pane, captured only for this job.
    pub screen: Option<String>,
    /// Unread messages to it: `m4 from operator: …`.
    pub inbox: Vec<String>,
    pub threads: Vec<ThreadLine>,
    pub reminders: Vec<ReminderLine>,
    /// Its last events, newest first.
    pub events: Vec<FeedLine>,
}

/// The fleet panel (`f`), in place of the detail: every other host's jobs
/// as its daemon last told this one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetPanel {
    /// This host's fleet name.
    pub me: String,
    pub hosts: Vec<crate::mail::fleet_state::HostView>,
}

/// What the input line is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A message to a job.
    Send { to: String },
    /// The answer to question `qid`, asked by `asker`.
    Answer { qid: String, asker: String },
    /// The id of a thread or reminder to cancel.
    Cancel,
    /// The table's filter.
    Filter,
}

/// What `y` confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Stop(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    Typing { what: Input, text: String },
    Confirm(Confirm),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub ws: String,
    /// Every job, in the registry's order.
    pub jobs: Vec<JobRow>,
    /// The shown jobs (filtered), sorted: indexes into `jobs`.
    pub order: Vec<usize>,
    /// The selected job, by name (kept across sorting and filtering).
    pub selected: Option<String>,
    pub sort: Sort,
    pub filter: String,
    /// The workspace's events, newest last, at most `FEED_MAX`.
    pub feed: VecDeque<FeedLine>,
    /// The last event sequence read from the registry.
    pub last_seq: i64,
    pub detail: Detail,
    pub mode: Mode,
    pub status: Option<(Level, String)>,
    /// Unread messages to the operator.
    pub operator_unread: i64,
    /// The last hook runs that failed or timed out, newest first:
    /// `notify on job.waiting (a): timed out after 10s`.
    pub hook_failures: Vec<String>,
    /// The clock ages are drawn against (unix ms).
    pub now_ms: i64,
    pub color: bool,
    /// Shown in place of the detail when Some (`f` toggles it).
    pub fleet: Option<FleetPanel>,
}

impl Model {
    pub fn new(ws: &str, color: bool) -> Model {
        Model {
            ws: ws.to_string(),
            jobs: Vec::new(),
            order: Vec::new(),
            selected: None,
            sort: Sort::Name,
            filter: String::new(),
            feed: VecDeque::new(),
            last_seq: 0,
            detail: Detail::default(),
            mode: Mode::Normal,
            status: None,
            operator_unread: 0,
            hook_failures: Vec::new(),
            now_ms: 0,
            color,
            fleet: None,
        }
    }

    /// Replace the jobs, keeping the selection (or the first row).
    pub fn set_jobs(&mut self, jobs: Vec<JobRow>) {
        self.jobs = jobs;
        self.arrange();
    }

    /// Filter and sort `jobs` into `order`; keep the selection when it is
    /// still shown, else select the first row.
    pub fn arrange(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut order: Vec<usize> = (0..self.jobs.len())
            .filter(|&i| needle.is_empty() || matches(&self.jobs[i], &needle))
            .collect();
        let jobs = &self.jobs;
        match self.sort {
            Sort::Name => order.sort_by(|&a, &b| jobs[a].name.cmp(&jobs[b].name)),
            Sort::State => order.sort_by(|&a, &b| {
                (state_rank(jobs[a].state), &jobs[a].name)
                    .cmp(&(state_rank(jobs[b].state), &jobs[b].name))
            }),
            Sort::Activity => order.sort_by(|&a, &b| {
                jobs[b]
                    .activity_ms
                    .cmp(&jobs[a].activity_ms)
                    .then_with(|| jobs[a].name.cmp(&jobs[b].name))
            }),
            Sort::Age => order.sort_by(|&a, &b| {
                jobs[a]
                    .created_at
                    .cmp(&jobs[b].created_at)
                    .then_with(|| jobs[a].name.cmp(&jobs[b].name))
            }),
        }
        self.order = order;
        let shown = |n: &str| self.order.iter().any(|&i| self.jobs[i].name == n);
        if !self.selected.as_deref().is_some_and(shown) {
            self.selected = self.order.first().map(|&i| self.jobs[i].name.clone());
        }
    }

    /// The selected row's position among the shown rows.
    pub fn selected_index(&self) -> Option<usize> {
        let name = self.selected.as_deref()?;
        self.order.iter().position(|&i| self.jobs[i].name == name)
    }

    pub fn selected_row(&self) -> Option<&JobRow> {
        self.selected_index().map(|p| &self.jobs[self.order[p]])
    }

    /// Move the selection by `delta` rows (clamped).
    pub fn move_by(&mut self, delta: i64) {
        if self.order.is_empty() {
            return;
        }
        let at = self.selected_index().unwrap_or(0) as i64;
        let to = (at + delta).clamp(0, self.order.len() as i64 - 1) as usize;
        self.selected = Some(self.jobs[self.order[to]].name.clone());
    }

    /// Add events read from the log (oldest first).
    pub fn push_events(&mut self, lines: impl IntoIterator<Item = FeedLine>) {
        for l in lines {
            self.last_seq = self.last_seq.max(l.seq);
            self.feed.push_back(l);
        }
        while self.feed.len() > FEED_MAX {
            self.feed.pop_front();
        }
    }

    pub fn info(&mut self, msg: impl Into<String>) {
        self.status = Some((Level::Info, msg.into()));
    }

    pub fn error(&mut self, msg: impl Into<String>) {
        self.status = Some((Level::Error, msg.into()));
    }
}

fn matches(j: &JobRow, needle: &str) -> bool {
    [
        j.name.as_str(),
        j.kind.as_str(),
        j.role.as_str(),
        j.state.as_str(),
        j.branch.as_deref().unwrap_or(""),
    ]
    .iter()
    .any(|f| f.to_lowercase().contains(needle))
}

/// Jobs that need the operator first, then working ones, then the rest.
fn state_rank(s: JobState) -> u8 {
    match s {
        JobState::Waiting => 0,
        JobState::Failed | JobState::Lost | JobState::Exited => 1,
        JobState::Busy => 2,
        JobState::Starting => 3,
        JobState::Ready => 4,
        JobState::Done => 5,
        JobState::Stopped => 6,
    }
}
