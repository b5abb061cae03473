//! `mam dash`: the live dashboard. The loop waits for a key, a resize, or
//! the next look at the event log (every `EVENTS_EVERY`) or at tmux (every
//! second at most), and draws only when one of them changed what is shown.
//! Every action calls the same domain code as its command (`mail`, `tools`,
//! `mail::remind`), and its error is shown in the status line with the
//! command's message.

pub mod keys;
pub mod model;
pub mod source;
pub mod view;

use std::io::{IsTerminal, Stdout, Write};
use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::{self, Event};
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::app::Ctx;
use crate::error::{not_found, usage};
use crate::registry::Registry;
use keys::Action;
use model::{Confirm, Input, Mode, Model};
use source::Source;

/// How often the event log is looked at (one indexed query).
pub const EVENTS_EVERY: Duration = Duration::from_millis(200);

/// How long a resume may wait for its agent to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a stop waits for the agent to exit before killing it.
const STOP_WAIT: Duration = Duration::from_secs(10);

pub fn run(ctx: &Ctx) -> Result<()> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(usage("mam dash needs a terminal: stdin and stdout are not a TTY")
            .hint("run it in a terminal or a tmux pane; scripts can use `mam status --json` or `mam status --watch 2`")
            .into());
    }
    let Some(mut reg) = ctx.registry_if_exists()? else {
        return Err(
            not_found(format!("no workspace at {} yet", ctx.paths.root.display()))
                .hint("`mam create NAME` makes one and starts a job")
                .into(),
        );
    };
    let color = std::env::var_os("NO_COLOR").is_none();
    let mut m = Model::new(reg.ws(), color);
    m.now_ms = crate::registry::now_ms();
    let mut src = Source::new();
    src.load(&reg, &mut m)?;
    if let Err(e) = src.poll_tmux(&ctx.tmux, &mut m) {
        m.error(one_line(&e));
    }
    let mut screen = Screen::enter()?;
    let r = run_loop(ctx, &mut reg, &mut m, &mut src, &mut screen);
    screen.leave();
    r
}

fn run_loop(
    ctx: &Ctx,
    reg: &mut Registry,
    m: &mut Model,
    src: &mut Source,
    screen: &mut Screen,
) -> Result<()> {
    let mut dirty = true;
    let mut next_events = Instant::now() + EVENTS_EVERY;
    loop {
        if dirty {
            screen.term.draw(|f| view::render(f, m))?;
            dirty = false;
        }
        let now = Instant::now();
        let mut wake = next_events;
        if let Some(t) = src.tmux_next() {
            wake = wake.min(t);
        }
        if event::poll(wake.saturating_duration_since(now))? {
            match event::read()? {
                Event::Key(k) => {
                    if let Some(a) = keys::action(&m.mode, k) {
                        if a == Action::Quit {
                            return Ok(());
                        }
                        act(ctx, reg, m, src, screen, a);
                        dirty = true;
                    }
                }
                Event::Resize(_, _) => {
                    screen.term.autoresize()?;
                    dirty = true;
                }
                _ => {}
            }
            continue;
        }
        let now = Instant::now();
        if now >= next_events {
            next_events = now + EVENTS_EVERY;
            match src.poll_events(reg, m) {
                Ok(changed) => dirty |= changed,
                Err(e) => {
                    m.error(one_line(&e));
                    dirty = true;
                }
            }
        }
        if src.tmux_due(now) {
            m.now_ms = crate::registry::now_ms();
            let changed = src.poll_tmux(&ctx.tmux, m).unwrap_or_else(|e| {
                m.error(one_line(&e));
                true
            });
            let fleet = src.poll_fleet(reg, m).unwrap_or_else(|e| {
                m.error(one_line(&e));
                true
            });
            // The ages move with the clock: redraw when a shown one changed.
            dirty |= changed || fleet || ages_moved(m);
        }
    }
}

/// Whether any age the table shows reads differently now than it did at
/// the last draw (ages have a second's resolution at most).
fn ages_moved(m: &Model) -> bool {
    // Ages under a minute tick every second; older ones far less often.
    // Only rows near the selection can be on screen.
    let at = m.selected_index().unwrap_or(0);
    let shown = &m.order[at.saturating_sub(100)..(at + 100).min(m.order.len())];
    shown.iter().any(|&i| {
        let j = &m.jobs[i];
        let young = |t: i64| m.now_ms - t < 60_000;
        young(j.created_at) || j.activity_ms.is_some_and(young)
    }) || m.feed.back().is_some_and(|e| m.now_ms - e.ts_ms < 60_000)
}

/// An error as the CLI prints it, on one line.
fn one_line(e: &anyhow::Error) -> String {
    crate::error::render(e)
        .trim_end()
        .lines()
        .collect::<Vec<_>>()
        .join("  ")
}

/// Carry out one action on the model; what fails lands in the status line.
fn act(
    ctx: &Ctx,
    reg: &mut Registry,
    m: &mut Model,
    src: &mut Source,
    screen: &mut Screen,
    a: Action,
) {
    let before = m.selected.clone();
    if let Err(e) = act_inner(ctx, reg, m, src, screen, a) {
        m.error(one_line(&e));
    }
    if m.selected != before
        && let Err(e) = src.detail(reg, m)
    {
        m.error(one_line(&e));
    }
}

fn selected(m: &Model) -> Result<model::JobRow> {
    m.selected_row().cloned().ok_or_else(|| {
        not_found("no job selected")
            .hint("`mam create NAME` starts one")
            .into()
    })
}

fn act_inner(
    ctx: &Ctx,
    reg: &mut Registry,
    m: &mut Model,
    src: &mut Source,
    screen: &mut Screen,
    a: Action,
) -> Result<()> {
    match a {
        Action::Quit => {}
        Action::Move(d) => m.move_by(d),
        Action::Top => m.move_by(i64::MIN / 2),
        Action::Bottom => m.move_by(i64::MAX / 2),
        Action::Help => m.mode = Mode::Help,
        Action::Fleet => {
            if m.fleet.take().is_some() {
                m.info("the selected job's detail");
            } else {
                m.fleet = Some(model::FleetPanel {
                    me: ctx.config.fleet.host()?,
                    hosts: Vec::new(),
                });
                m.now_ms = crate::registry::now_ms();
                src.poll_fleet(reg, m)?;
                m.info("the fleet: other hosts' jobs as their daemons last told them (f: back)");
            }
        }
        Action::Sort => {
            m.sort = m.sort.next();
            m.arrange();
            m.info(format!("sorted by {}", m.sort.label()));
        }
        Action::Filter => {
            m.mode = Mode::Typing {
                what: Input::Filter,
                text: m.filter.clone(),
            }
        }
        Action::Back => {
            if m.mode == Mode::Normal {
                m.status = None;
            }
            if matches!(
                m.mode,
                Mode::Typing {
                    what: Input::Filter,
                    ..
                }
            ) {
                m.filter.clear();
                m.arrange();
            }
            m.mode = Mode::Normal;
        }
        Action::Type(c) => {
            if let Mode::Typing { what, text } = &mut m.mode {
                text.push(c);
                if *what == Input::Filter {
                    m.filter = text.clone();
                    m.arrange();
                }
            }
        }
        Action::Erase => {
            if let Mode::Typing { what, text } = &mut m.mode {
                text.pop();
                if *what == Input::Filter {
                    m.filter = text.clone();
                    m.arrange();
                }
            }
        }
        Action::Submit => {
            let Mode::Typing { what, text } = std::mem::replace(&mut m.mode, Mode::Normal) else {
                return Ok(());
            };
            submit(ctx, reg, m, src, what, &text)?;
        }
        Action::Yes => {
            if let Mode::Confirm(Confirm::Stop(name)) = std::mem::replace(&mut m.mode, Mode::Normal)
            {
                m.info(format!("stopping {name}…"));
                screen.term.draw(|f| view::render(f, m))?;
                let r = crate::tools::stop(ctx, reg, &name, false, STOP_WAIT)?;
                ctx.publish(reg);
                m.info(r.line());
                src.poll_events(reg, m)?;
            }
        }
        Action::No => {
            m.mode = Mode::Normal;
            m.info("nothing stopped");
        }
        Action::Attach => {
            let row = selected(m)?;
            let Some(session) = row.session.clone().filter(|_| row.pane.is_some()) else {
                return Err(not_found(format!(
                    "{} has no live session (state {})",
                    row.name, row.state
                ))
                .hint(format!("R resumes it (`mam resume {}`)", row.name))
                .into());
            };
            if ctx.tmux.inside_same_server() {
                ctx.tmux.attach_here(&session)?;
                m.info(format!("switched to {session}"));
            } else {
                screen.suspend()?;
                let r = ctx.tmux.attach_here(&session);
                screen.resume()?;
                r?;
                m.info(format!("back from {session}"));
            }
        }
        Action::Send => {
            let row = selected(m)?;
            m.mode = Mode::Typing {
                what: Input::Send { to: row.name },
                text: String::new(),
            };
        }
        Action::Answer => {
            let row = selected(m)?;
            let q = reg
                .open_questions(Some("operator"))?
                .into_iter()
                .find(|q| q.asker == row.name && q.target == "operator")
                .ok_or_else(|| {
                    not_found(format!("{} has no open question to the operator", row.name))
                        .hint("`mam threads operator` lists the questions to you")
                })?;
            m.info(format!(
                "{} asks: {}",
                q.id,
                crate::mail::summarize(&q.text, 200)
            ));
            m.mode = Mode::Typing {
                what: Input::Answer {
                    qid: q.id,
                    asker: q.asker,
                },
                text: String::new(),
            };
        }
        Action::Stop => {
            let row = selected(m)?;
            m.mode = Mode::Confirm(Confirm::Stop(row.name));
        }
        Action::Resume => {
            let row = selected(m)?;
            let job = reg.require_job(&row.name)?;
            if row.pane.is_some() && row.state != crate::model::JobState::Exited {
                return Err(crate::tools::running_already(&job));
            }
            m.info(format!("resuming {}…", row.name));
            screen.term.draw(|f| view::render(f, m))?;
            let r = crate::tools::resume(ctx, reg, &row.name, READY_TIMEOUT, &mut |_| {});
            let r = r.and_then(|()| crate::tools::resumed_notice(ctx, reg, &job));
            ctx.publish(reg);
            src.poll_events(reg, m)?;
            r?;
            let state = reg.require_job(&row.name)?.state;
            m.info(format!("{}: resumed, {state}", row.name));
        }
        Action::Retry => {
            let row = selected(m)?;
            let rid = reg
                .reminders(Some(&row.name), false)?
                .into_iter()
                .find(|r| r.target == row.name && r.state == crate::model::ReminderState::Failed)
                .map(|r| r.id)
                .ok_or_else(|| {
                    not_found(format!("{} has no failed reminder", row.name))
                        .hint("`mam reminders` lists them")
                })?;
            crate::mail::remind::retry(ctx, reg, "operator", &rid)?;
            ctx.publish(reg);
            m.info(format!("{rid}: re-armed"));
            src.poll_events(reg, m)?;
        }
        Action::Cancel => {
            // Offer the selected job's first cancellable thread.
            let first = m
                .detail
                .threads
                .first()
                .map(|t| t.id.clone())
                .or_else(|| m.detail.reminders.first().map(|r| r.id.clone()))
                .unwrap_or_default();
            m.mode = Mode::Typing {
                what: Input::Cancel,
                text: first,
            };
        }
    }
    Ok(())
}

fn submit(
    ctx: &Ctx,
    reg: &mut Registry,
    m: &mut Model,
    src: &mut Source,
    what: Input,
    text: &str,
) -> Result<()> {
    match what {
        Input::Filter => {
            m.filter = text.to_string();
            m.arrange();
        }
        Input::Send { to } => {
            let body = crate::mail::check_body(text)?;
            let sent = crate::mail::send(ctx, reg, "operator", &to, &body, None)?;
            ctx.publish(reg);
            let what: Vec<String> = sent
                .ids
                .iter()
                .map(|(id, to)| {
                    let how = if sent.delivered(id) {
                        "delivered"
                    } else {
                        "queued"
                    };
                    format!("{id} to {to}: {how}")
                })
                .collect();
            m.info(what.join(", "));
            src.poll_events(reg, m)?;
        }
        Input::Answer { qid, .. } => {
            let body = crate::mail::check_body(text)?;
            let sent = crate::mail::answer(ctx, reg, "operator", &qid, &body)?;
            ctx.publish(reg);
            let how = match sent.ids.first() {
                Some((id, _)) if sent.delivered(id) => "delivered",
                _ => "queued",
            };
            m.info(format!("{qid} answered: {how}"));
            src.poll_events(reg, m)?;
        }
        Input::Cancel => {
            let id = text.trim();
            if id.is_empty() {
                return Err(
                    usage("give the id of a message, question or reminder to cancel").into(),
                );
            }
            crate::tools::cancel(ctx, reg, "operator", id)?;
            ctx.publish(reg);
            m.info(format!("{id}: cancelled"));
            src.poll_events(reg, m)?;
        }
    }
    Ok(())
}

/// The terminal while the dashboard owns it: raw mode, the alternate
/// screen, no cursor. Left on every way out (also a panic, by Drop).
struct Screen {
    term: Terminal<CrosstermBackend<Stdout>>,
    active: bool,
}

impl Screen {
    fn enter() -> Result<Screen> {
        terminal::enable_raw_mode()?;
        let mut out = std::io::stdout();
        if let Err(e) = execute!(out, terminal::EnterAlternateScreen, cursor::Hide) {
            let _ = terminal::disable_raw_mode();
            return Err(e.into());
        }
        let term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
        Ok(Screen { term, active: true })
    }

    fn leave(&mut self) {
        if !self.active {
            return;
        }
        self.active = false;
        let mut out = std::io::stdout();
        let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
        let _ = terminal::disable_raw_mode();
        let _ = out.flush();
    }

    /// Give the terminal back for a while (an attached session).
    fn suspend(&mut self) -> Result<()> {
        self.leave();
        Ok(())
    }

    /// Take it again, and draw everything anew.
    fn resume(&mut self) -> Result<()> {
        terminal::enable_raw_mode()?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )?;
        self.active = true;
        self.term.clear()?;
        Ok(())
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        self.leave();
    }
}
