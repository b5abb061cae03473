#!/usr/bin/env bash
# Regenerate completions/ and man/ from the CLI definition.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --bin mam
bin=target/debug/mam
mkdir -p completions
"$bin" completions bash > completions/mam.bash
"$bin" completions zsh > completions/_mam
"$bin" completions fish > completions/mam.fish
rm -rf man && "$bin" man --out-dir man
echo "regenerated completions/ and man/"
