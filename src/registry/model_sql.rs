//! The typed model in SQL: each value is stored as its one spelling, and a
//! spelling this build does not know is an error naming the column's value
//! (a registry written by a newer mam, or edited by hand).

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::model::{JobState, MessageState, OnDone, QuestionState, ReminderState, Role, Verdict};

macro_rules! sql_spelled {
    ($($t:ty),+) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $t {
            fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = v.as_str()?;
                <$t>::parse(s).ok_or_else(|| {
                    FromSqlError::Other(
                        format!("unknown {} {s:?} in the registry", stringify!($t)).into(),
                    )
                })
            }
        }
    )+};
}

sql_spelled!(
    JobState,
    Role,
    OnDone,
    Verdict,
    MessageState,
    QuestionState,
    ReminderState
);
