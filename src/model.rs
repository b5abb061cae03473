//! The typed model: the closed sets of values a job, message, question or
//! reminder can take. Each has exactly one spelling (`as_str`), used in the
//! registry, in events, in `--json` and in human output; clap parses the ones
//! a user can give on the command line. Only the registry maps them to SQL.

use std::fmt;

/// Job names (and fleet host names): `[a-z0-9][a-z0-9_-]{0,31}`.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

/// A closed set of values with one lowercase spelling each.
macro_rules! spelled {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// The value spelled `s`, if any.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

/// The same, and parsed by clap from the command line (`--role pm`).
macro_rules! spelled_arg {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        spelled!($(#[$m])* $name { $($(#[$vm])* $v = $s),+ });

        impl clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.as_str()))
            }
        }
    };
}

spelled! {
    /// SPEC §1's job states.
    JobState {
        /// Session created, probing for the first prompt.
        Starting = "starting",
        /// Idle at its prompt.
        Ready = "ready",
        /// Working.
        Busy = "busy",
        /// Blocked on a dialog or question that needs a human.
        Waiting = "waiting",
        Done = "done",
        Failed = "failed",
        /// Stopped by `mam stop`.
        Stopped = "stopped",
        /// The agent process ended by itself; pane dead.
        Exited = "exited",
        /// The registry says live; tmux has no such session.
        Lost = "lost",
    }
}

impl JobState {
    /// States in which the job should have a running session.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            JobState::Starting | JobState::Ready | JobState::Busy | JobState::Waiting
        )
    }

    /// `done` or `failed`: the job reported its end.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed)
    }
}

spelled_arg! {
    /// What a job is for.
    Role {
        Worker = "worker",
        Pm = "pm",
        Reviewer = "reviewer",
    }
}

spelled_arg! {
    /// What happens to a job's session when it reports done.
    OnDone {
        Stop = "stop",
        Keep = "keep",
    }
}

spelled_arg! {
    /// A review verdict.
    Verdict {
        Pass = "pass",
        NotPass = "not-pass",
    }
}

spelled! {
    /// SPEC §1: queued → delivered → read, or failed.
    MessageState {
        Queued = "queued",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

spelled! {
    /// SPEC §1's question states.
    QuestionState {
        Open = "open",
        Answered = "answered",
        Cancelled = "cancelled",
    }
}

spelled! {
    /// SPEC §1's reminder states.
    ReminderState {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses_back() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(*s));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Verdict::parse("not-pass"), Some(Verdict::NotPass));
        assert_eq!(JobState::parse("Ready"), None);
        assert_eq!(format!("{:<7}|", JobState::Busy), "busy   |");
        assert_eq!(
            serde_json::to_string(&MessageState::Queued).unwrap(),
            "\"queued\""
        );
    }
}
