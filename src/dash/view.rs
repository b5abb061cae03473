//! Drawing the model into a frame, and nothing else: no I/O, no clock (ages
//! are against `Model::now_ms`), so a layout is a snapshot test. Without
//! colour (`NO_COLOR`) only bold and reverse video mark things.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState};

use super::keys::HELP;
use super::model::{Confirm, FeedLine, FleetPanel, Input, Level, Mode, Model};
use crate::model::{JobState, ReminderState};
use crate::ui::age;

/// The hint the status line shows when it has nothing to say.
const HINT: &str = "Enter attach  s send  a answer  x stop  R resume  r retry  c cancel  / filter  o sort  f fleet  ? help  q quit";

struct Paint {
    color: bool,
}

impl Paint {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    fn state(&self, s: JobState) -> Style {
        let c = match s {
            JobState::Ready => Color::Green,
            JobState::Busy | JobState::Starting => Color::Yellow,
            JobState::Waiting => Color::Magenta,
            JobState::Failed | JobState::Lost => Color::Red,
            JobState::Done => Color::Cyan,
            JobState::Stopped | JobState::Exited => Color::DarkGray,
        };
        let st = self.fg(c);
        if s == JobState::Waiting {
            st.add_modifier(Modifier::BOLD)
        } else {
            st
        }
    }

    fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
}

pub fn render(f: &mut Frame, m: &Model) {
    let p = Paint { color: m.color };
    let area = f.area();
    // The table takes what its rows need, up to 40% of the height.
    let most = (area.height.saturating_sub(2) * 2 / 5).max(3);
    let want = (m.order.len() as u16).saturating_add(2).clamp(3, most);
    let [title, table, bottom, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(want),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(area);
    render_title(f, m, title);
    render_table(f, m, &p, table);
    let [detail, feed] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
    match &m.fleet {
        Some(panel) => render_fleet(f, m, panel, &p, detail),
        None => render_detail(f, m, &p, detail),
    }
    render_feed(f, m, &p, feed);
    render_status(f, m, &p, status);
    if m.mode == Mode::Help {
        render_help(f, area);
    }
}

fn render_title(f: &mut Frame, m: &Model, area: Rect) {
    let mut t = format!(" mam dash · {} · {} jobs", m.ws, m.jobs.len());
    if m.order.len() != m.jobs.len() {
        t.push_str(&format!(" ({} shown)", m.order.len()));
    }
    t.push_str(&format!(" · sort {}", m.sort.label()));
    if !m.filter.is_empty() {
        t.push_str(&format!(" · filter /{}", m.filter));
    }
    if !m.hook_failures.is_empty() {
        t.push_str(&format!(" · {} hook runs failed", m.hook_failures.len()));
    }
    if m.operator_unread > 0 {
        t.push_str(&format!(" · {} unread for you", m.operator_unread));
    }
    let style = Style::new().add_modifier(Modifier::REVERSED);
    f.render_widget(Paragraph::new(t).style(style), area);
}

fn render_table(f: &mut Frame, m: &Model, p: &Paint, area: Rect) {
    let header = Row::new(
        [
            "NAME", "STATE", "ROLE", "PROG", "INBOX", "THR", "REM", "BRANCH", "AGE", "ACTIVE",
        ]
        .map(Cell::from),
    )
    .style(Style::new().add_modifier(Modifier::BOLD));
    let dash = |n: i64| {
        if n == 0 {
            "-".to_string()
        } else {
            n.to_string()
        }
    };
    let rows: Vec<Row> = m
        .order
        .iter()
        .map(|&i| {
            let j = &m.jobs[i];
            let rem = match j.reminders {
                (0, 0) => Cell::from("-"),
                (p_, 0) => Cell::from(p_.to_string()),
                (p_, f_) => Cell::from(format!("{p_}/{f_}!")).style(p.error()),
            };
            let activity = j
                .activity_ms
                .map_or("-".to_string(), |a| age((m.now_ms - a).max(0)));
            Row::new(vec![
                Cell::from(j.name.clone()),
                Cell::from(j.state.to_string()).style(p.state(j.state)),
                Cell::from(j.role.to_string()),
                Cell::from(j.progress.clone().unwrap_or_else(|| "-".into())),
                Cell::from(dash(j.inbox)),
                Cell::from(dash(j.threads)),
                rem,
                Cell::from(j.branch.clone().unwrap_or_else(|| "-".into())),
                Cell::from(age((m.now_ms - j.created_at).max(0))),
                Cell::from(activity),
            ])
        })
        .collect();
    let widths = [
        Constraint::Min(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Length(3),
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(6),
    ];
    let empty = m.jobs.is_empty();
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .highlight_symbol("> ")
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default().with_selected(m.selected_index());
    f.render_stateful_widget(table, area, &mut state);
    if empty && area.height > 2 {
        let msg = Paragraph::new("no jobs yet: `mam create NAME` starts one").style(p.dim());
        f.render_widget(
            msg,
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
        );
    }
}

/// The other hosts, each with when it was last heard from, and their jobs
/// under it.
fn render_fleet(f: &mut Frame, m: &Model, panel: &FleetPanel, p: &Paint, area: Rect) {
    let stale = panel.hosts.iter().filter(|h| h.stale).count();
    let mut title = format!(" fleet · {} · {} other hosts", panel.me, panel.hosts.len());
    if stale > 0 {
        title.push_str(&format!(" ({stale} stale)"));
    }
    title.push(' ');
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    if panel.hosts.is_empty() {
        lines.push(Line::styled(
            "no other host is trusted (`mam fleet trust HOST KEY`)",
            p.dim(),
        ));
    }
    let width = panel
        .hosts
        .iter()
        .flat_map(|h| h.jobs.iter().map(|j| j.name.chars().count()))
        .max()
        .unwrap_or(0);
    for h in &panel.hosts {
        let heard = match h.last_seen {
            None => "never heard from".to_string(),
            Some(t) => format!("heard {} ago", age((m.now_ms - t).max(0))),
        };
        let mut spans = vec![
            Span::styled(h.host.clone(), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(format!(
                " · {} job{} · {heard}",
                h.jobs.len(),
                if h.jobs.len() == 1 { "" } else { "s" }
            )),
        ];
        if h.stale && h.last_seen.is_some() {
            spans.push(Span::styled(", stale", p.error()));
        }
        lines.push(Line::from(spans));
        for j in &h.jobs {
            let state = JobState::parse(&j.state);
            let style = match state {
                Some(s) if !h.stale => p.state(s),
                _ => p.dim(),
            };
            let mut rest = format!("  {:<7}", j.role);
            if let Some(pr) = crate::ui::progress(j.progress, j.verdict.as_deref()) {
                rest.push_str(&format!(" {pr}"));
            }
            if j.inbox > 0 {
                rest.push_str(&format!(" inbox {}", j.inbox));
            }
            if j.stuck {
                rest.push_str(" stuck");
            }
            rest.push_str(&format!(" {}", age(h.age_of(j.created_at, m.now_ms))));
            lines.push(Line::from(vec![
                Span::raw(format!("  {:<width$}  ", j.name)),
                Span::styled(format!("{:<8}", j.state), style),
                Span::raw(rest),
            ]));
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn render_detail(f: &mut Frame, m: &Model, p: &Paint, area: Rect) {
    let Some(row) = m.selected_row() else {
        f.render_widget(Block::bordered().title(" no job selected "), area);
        return;
    };
    let d = &m.detail;
    let mut title = format!(" {} · {} · {}", row.name, row.kind, row.state);
    if let Some(n) = &row.note {
        title.push_str(&format!(" ({n})"));
    }
    title.push(' ');
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    // Failed reminders first, as a banner.
    for r in d
        .reminders
        .iter()
        .filter(|r| r.state == ReminderState::Failed)
    {
        lines.push(Line::styled(
            format!(
                "! {} failed: {} (r retries)",
                r.id,
                r.last_error.as_deref().unwrap_or("no error recorded")
            ),
            p.error(),
        ));
    }
    for t in &d.threads {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", t.id),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("{} {}: {}", t.role, t.with, t.summary)),
        ]));
    }
    for i in &d.inbox {
        lines.push(Line::raw(format!("inbox {i}")));
    }
    for r in d
        .reminders
        .iter()
        .filter(|r| r.state != ReminderState::Failed)
    {
        let due = if r.due_at > m.now_ms {
            format!("in {}", age(r.due_at - m.now_ms))
        } else {
            "due".to_string()
        };
        lines.push(Line::raw(format!("{} {}: {}", r.id, due, r.text)));
    }
    for e in d.events.iter().take(3) {
        lines.push(Line::styled(feed_text(m, e, false), p.dim()));
    }
    // The screen's tail fills what is left.
    let room = (inner.height as usize).saturating_sub(lines.len());
    if let Some(screen) = &d.screen {
        let shown: Vec<&str> = screen.trim_end().lines().collect();
        let tail = &shown[shown.len().saturating_sub(room.saturating_sub(1))..];
        if room > 1 {
            lines.push(Line::styled("─".repeat(inner.width as usize), p.dim()));
            lines.extend(tail.iter().map(|l| Line::raw(l.to_string())));
        }
    } else if row.pane.is_none() && room > 0 {
        lines.push(Line::styled("(no live pane)", p.dim()));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn feed_text(m: &Model, e: &FeedLine, with_job: bool) -> String {
    let ago = age((m.now_ms - e.ts_ms).max(0));
    if with_job {
        format!("{ago:>4} {} {} {}", e.job, e.kind, e.summary)
    } else {
        format!("{ago:>4} {} {}", e.kind, e.summary)
    }
}

fn render_feed(f: &mut Frame, m: &Model, p: &Paint, area: Rect) {
    let block = Block::bordered().title(" events ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    // Failed hook runs first (what `mam doctor` shows too), then the events.
    let hooks = m
        .hook_failures
        .iter()
        .map(|h| Line::styled(format!("! hook {h}"), p.error()));
    let lines: Vec<Line> = hooks
        .chain(m.feed.iter().rev().map(|e| {
            let style = if e.kind.ends_with(".failed") || e.kind == "job.waiting" {
                p.error()
            } else {
                Style::new()
            };
            Line::styled(feed_text(m, e, true), style)
        }))
        .take(inner.height as usize)
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn render_status(f: &mut Frame, m: &Model, p: &Paint, area: Rect) {
    let line = match &m.mode {
        Mode::Typing { what, text } => {
            let prompt = match what {
                Input::Send { to } => format!("send to {to}: "),
                Input::Answer { qid, asker } => format!("answer {qid} ({asker}): "),
                Input::Cancel => "cancel (id): ".to_string(),
                Input::Filter => "/".to_string(),
            };
            Line::from(vec![
                Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(text.clone()),
                Span::styled(" ", Style::new().add_modifier(Modifier::REVERSED)),
            ])
        }
        Mode::Confirm(Confirm::Stop(name)) => Line::styled(
            format!("stop {name}? y to stop, any other key to keep it"),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        _ => match &m.status {
            Some((Level::Error, msg)) => Line::styled(msg.clone(), p.error()),
            Some((Level::Info, msg)) => Line::raw(msg.clone()),
            None => Line::styled(HINT, p.dim()),
        },
    };
    f.render_widget(Paragraph::new(line), area);
}

fn render_help(f: &mut Frame, area: Rect) {
    let w = area.width.min(72);
    let h = (HELP.len() as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(
                    format!("{k:>8}  "),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(*what),
            ])
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" keys (any key closes) ")),
        r,
    );
}

/// A drawn buffer as text, one line per row (trailing blanks kept, so the
/// size shows); with `styles`, each change of style is marked inline as
/// `«fg=Red,BOLD»` (`«»` back to plain).
pub fn buffer_text(buf: &ratatui::buffer::Buffer, styles: bool) -> String {
    let mut out = String::new();
    let area = buf.area;
    for y in 0..area.height {
        let mut last = String::new();
        for x in 0..area.width {
            let cell = &buf[(area.x + x, area.y + y)];
            if styles {
                let s = style_mark(cell);
                if s != last {
                    out.push_str(&format!("«{s}»"));
                    last = s;
                }
            }
            out.push_str(cell.symbol());
        }
        if styles && !last.is_empty() {
            out.push_str("«»");
        }
        out.push('\n');
    }
    out
}

fn style_mark(cell: &ratatui::buffer::Cell) -> String {
    let mut parts = Vec::new();
    if cell.fg != Color::Reset {
        parts.push(format!("fg={:?}", cell.fg));
    }
    if cell.bg != Color::Reset {
        parts.push(format!("bg={:?}", cell.bg));
    }
    if !cell.modifier.is_empty() {
        parts.push(format!("{:?}", cell.modifier));
    }
    parts.join(",")
}
