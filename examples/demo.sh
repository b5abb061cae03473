#!/usr/bin/env bash
# mam demo: three agents side by side in a private tmux server, each given a
# task, then `mam status`. Uses the real agent CLIs' profiles only for
# reading their screens; the agents here are the project's scripted fake
# agent, so no account, network or broker is needed.
#
#   bash examples/demo.sh          run, show status, stop everything
#   bash examples/demo.sh --keep   leave the agents running (mam attach NAME)
#
# MAM_BIN and FAKE_AGENT override where the binaries are found.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
keep=false
[[ "${1:-}" == "--keep" ]] && keep=true

if ! command -v tmux >/dev/null; then
  echo "demo: tmux is required: sudo apt-get install tmux" >&2
  exit 6
fi
mam=${MAM_BIN:-$(command -v mam || true)}
if [[ -z "$mam" ]]; then
  cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin mam
  mam="$here/target/release/mam"
fi
fake=${FAKE_AGENT:-}
if [[ -z "$fake" ]]; then
  cargo build --release --quiet --manifest-path "$here/Cargo.toml" --example fake_agent
  fake="$here/target/release/examples/fake_agent"
fi

ws=$(mktemp -d "${TMPDIR:-/tmp}/mam-demo.XXXXXX")
export MAM_TMUX_SOCKET="mam-demo-$$"
export MAM_WORKSPACE="$ws"
unset MAM_AGENT TMUX
cleanup() {
  if ! $keep; then
    "$mam" stop --all -q >/dev/null 2>&1 || true
    tmux -L "$MAM_TMUX_SOCKET" kill-server >/dev/null 2>&1 || true
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$MAM_TMUX_SOCKET"  # tmux may leave it behind
    rm -rf "$ws"
  fi
}
trap cleanup EXIT

"$mam" init
cat >> "$ws/.mam/config.toml" <<TOML

# The demo agent: the scripted fake agent with a trust dialog to answer and
# a few seconds of "work" after each task.
[agents.demo]
cmd = ["$fake", "--trust", "--busy", "3"]
resume_cmd = ["$fake", "--resume", "{conversation_id}"]
TOML
cat "$here/examples/fake_agent_rules.toml" >> "$ws/.mam/config.toml"

echo
echo "== starting three agents (each answers a trust dialog, then gets its task)"
"$mam" create pm --agent demo --role pm --prompt "You manage this project. Split the work between alice and bob."
"$mam" create alice --agent demo --prompt "Write the parser for the config format."
"$mam" create bob --agent demo --prompt $'Review alice\'s parser.\nCheck the error messages.'
echo
echo "== mam status"
"$mam" status
echo
echo "== what alice's screen shows (mam logs alice)"
"$mam" logs alice --lines 12
if $keep; then
  echo
  echo "Agents left running. Try:"
  echo "  export MAM_TMUX_SOCKET=$MAM_TMUX_SOCKET MAM_WORKSPACE=$ws"
  echo "  mam status; mam attach alice; mam stop --all"
else
  echo
  echo "== mam stop --all"
  "$mam" stop --all
fi
