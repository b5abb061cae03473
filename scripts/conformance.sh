#!/usr/bin/env bash
# The real-CLI conformance suite (tests/conformance): installs the agent CLIs
# at the versions mam's built-in profiles were checked against (or, with
# --latest, the newest releases, so drift shows before users hit it) under
# target/conformance/<set>/, cached between runs, then runs the suite.
#
#   scripts/conformance.sh            pinned versions
#   scripts/conformance.sh --latest   newest releases
#   scripts/conformance.sh -- claude  extra arguments go to the test runner
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: the versions in README's "Agent CLIs checked" table.
CLAUDE=2.1.332
CODEX=0.171.0
GEMINI=0.61.0
AIDER=0.86.2

set_name=pinned
if [ "${1:-}" = "--latest" ]; then
  shift
  set_name=latest
  CLAUDE=latest CODEX=latest GEMINI=latest AIDER=
fi
[ "${1:-}" = "--" ] && shift

dir="$PWD/target/conformance/$set_name"
stamp="$dir/.installed-$CLAUDE-$CODEX-$GEMINI-$AIDER"
if [ "$set_name" = latest ] || [ ! -e "$stamp" ]; then
  for tool in node npm python3; do
    command -v "$tool" >/dev/null || { echo "conformance: $tool is required (apt-get install nodejs npm python3-venv)" >&2; exit 1; }
  done
  echo "conformance: installing agent CLIs ($set_name) into $dir"
  mkdir -p "$dir"
  npm install --prefix "$dir/npm" --no-audit --no-fund --loglevel=error \
    "@anthropic-ai/claude-code@$CLAUDE" "@openai/codex@$CODEX" "@google/gemini-cli@$GEMINI" >/dev/null
  [ -x "$dir/aider/bin/python" ] || python3 -m venv "$dir/aider"
  "$dir/aider/bin/pip" install -q --disable-pip-version-check "aider-chat${AIDER:+==$AIDER}"
  touch "$stamp"
fi
for c in claude codex gemini; do
  printf 'conformance: %s %s\n' "$c" "$("$dir/npm/node_modules/.bin/$c" --version 2>/dev/null | head -n1)"
done
printf 'conformance: aider %s\n' "$("$dir/aider/bin/aider" --version 2>/dev/null | head -n1)"

export MAM_CONFORMANCE_CLIS="$dir"
# Test workspaces under a private directory whose every ancestor is writable
# by its owner only: Gemini CLI skips a settings file (mam's MCP wiring) below
# a group- or world-writable directory, /tmp included (so a checkout under
# /tmp cannot hold them).
private_chain() {
  local d=$1
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    [ -n "$(find "$d" -maxdepth 0 -perm /022 2>/dev/null)" ] && return 1
  done
  return 0
}
tmp="$PWD/target/conformance-tmp"
if ! private_chain "$tmp"; then
  tmp="${XDG_CACHE_HOME:-$HOME/.cache}/mam-conformance-tmp"
  private_chain "$tmp" || {
    echo "conformance: neither $PWD/target nor $tmp has only owner-writable parents (Gemini CLI requires it); set XDG_CACHE_HOME to such a directory" >&2
    exit 1
  }
fi
mkdir -p "$tmp" && chmod 700 "$tmp"
export TMPDIR="$tmp"
echo "conformance: test workspaces under $TMPDIR"
# --nocapture: each CLI prints its delivery timing (`perf:` lines).
exec cargo test --locked --test conformance -- --test-threads=2 --nocapture "$@"
