//! Tables stay aligned when cells hold wide glyphs (CJK, emoji): columns are
//! measured in terminal columns, not characters.

use crate::support::*;

#[test]
fn status_aligns_a_profile_named_in_cjk() {
    let env = Env::new();
    env.write_config(&env.fake_profile("\"エージェント\"", "", None));
    env.ok(&["create", "w", "--agent", "エージェント"]);
    env.ok(&["create", "a", "--agent", "fake-plain"]);
    let out = env.ok(&["status"]);
    // Ages depend on the clock: one digit each in this test.
    let out = regex::Regex::new(r"\b\ds\b")
        .unwrap()
        .replace_all(&out, "Ns");
    assert_eq!(
        out,
        "\
NAME  KIND          ROLE    STATE  PROGRESS  INBOX  REMINDERS  THREADS  AGE  ACTIVITY
w     エージェント  worker  ready  -         0      0          0        Ns   Ns ago
a     fake-plain    worker  ready  -         0      0          0        Ns   Ns ago
"
    );
}
