//! The one table from error to exit code (SPEC §2), and the typed error for
//! what a user must act on. Everything else is `anyhow::Error`, which maps to 1.

use std::fmt;

/// Exit codes of `mam`. Only `main` turns these into a process exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 0: success.
    Ok = 0,
    /// 1: an unexpected error (a bug, or an I/O failure with no better class).
    Unexpected = 1,
    /// 2: bad command-line usage or invalid input (names, values).
    Usage = 2,
    /// 3: the thing named does not exist (job, message, workdir, file).
    NotFound = 3,
    /// 4: conflict: exists already, wrong state, not yours, rate-limited, lock held.
    Conflict = 4,
    /// 5: timed out (readiness probe, waiting for a lock).
    Timeout = 5,
    /// 6: the environment is unfit (tmux missing, unsafe key file, network
    /// filesystem, broker required but unreachable).
    Environment = 6,
    /// 7: authentication failed (bad signature, replay).
    Auth = 7,
}

impl Code {
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// An error the user can act on: it carries its exit code and an optional hint.
#[derive(Debug)]
pub struct UserError {
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        UserError {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// Shorthands: `Err(usage("…"))?`.
pub fn usage(msg: impl Into<String>) -> UserError {
    UserError::new(Code::Usage, msg)
}
pub fn not_found(msg: impl Into<String>) -> UserError {
    UserError::new(Code::NotFound, msg)
}
pub fn conflict(msg: impl Into<String>) -> UserError {
    UserError::new(Code::Conflict, msg)
}
pub fn timeout(msg: impl Into<String>) -> UserError {
    UserError::new(Code::Timeout, msg)
}
pub fn environment(msg: impl Into<String>) -> UserError {
    UserError::new(Code::Environment, msg)
}
pub fn auth(msg: impl Into<String>) -> UserError {
    UserError::new(Code::Auth, msg)
}

/// The exit code for any error: the first `UserError` in the cause chain
/// decides; anything else is unexpected.
pub fn code_of(err: &anyhow::Error) -> Code {
    match user_errors(err).next() {
        Some(u) => u.code,
        None if is_corrupt_db(err) => Code::Environment,
        None => Code::Unexpected,
    }
}

/// The hint for a registry found damaged part-way through a command (the
/// open-time checks name the file themselves).
const CORRUPT_HINT: &str = "the registry is damaged: move it aside (mv .mam/mam.db .mam/mam.db.bad) and run `mam init`; `mam doctor` checks integrity";

/// SQLite found the database file damaged (wherever that was noticed).
fn is_corrupt_db(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<rusqlite::Error>().is_some_and(|e| {
            matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            )
        })
    })
}

/// Every `UserError` in the chain, outermost first. anyhow keeps a value
/// attached with `.context(…)` where only its own `downcast_ref` sees it.
fn user_errors(err: &anyhow::Error) -> impl Iterator<Item = &UserError> {
    err.downcast_ref::<UserError>()
        .into_iter()
        .chain(err.chain().filter_map(|e| e.downcast_ref::<UserError>()))
}

/// The hint of the first `UserError` in the chain that has one.
pub fn hint_of(err: &anyhow::Error) -> Option<&str> {
    user_errors(err)
        .find_map(|u| u.hint.as_deref())
        .or_else(|| is_corrupt_db(err).then_some(CORRUPT_HINT))
}

/// Render an error as `mam: error: …` lines: the cause chain, then the hint.
pub fn render(err: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut first = true;
    for cause in err.chain() {
        if first {
            out.push_str(&format!("mam: error: {cause}\n"));
            first = false;
        } else {
            out.push_str(&format!("  caused by: {cause}\n"));
        }
    }
    if let Some(h) = hint_of(err) {
        out.push_str(&format!("hint: {h}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn code_comes_from_the_user_error_in_the_chain() {
        let e: anyhow::Result<()> = Err(not_found("no job named x").hint("see mam status").into());
        let e = e.context("while stopping").unwrap_err();
        assert_eq!(code_of(&e), Code::NotFound);
        let text = render(&e);
        assert!(text.starts_with("mam: error: while stopping\n"), "{text}");
        assert!(text.contains("caused by: no job named x"), "{text}");
        assert!(text.ends_with("hint: see mam status\n"), "{text}");
    }

    #[test]
    fn a_user_error_attached_as_context_keeps_its_code() {
        let e = anyhow::anyhow!("tmux said no").context(conflict("exists").hint("rename"));
        assert_eq!(code_of(&e), Code::Conflict);
        assert_eq!(hint_of(&e), Some("rename"));
    }

    #[test]
    fn a_corrupt_database_anywhere_is_an_environment_error() {
        let raw = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            None,
        );
        let e = anyhow::Error::from(raw).context("cannot list jobs");
        assert_eq!(code_of(&e), Code::Environment);
        assert_eq!(hint_of(&e), Some(CORRUPT_HINT));
    }

    #[test]
    fn plain_errors_are_unexpected() {
        let e = anyhow::anyhow!("boom");
        assert_eq!(code_of(&e), Code::Unexpected);
    }
}
