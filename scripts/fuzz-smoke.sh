#!/usr/bin/env bash
# Smoke-run every fuzz target in fuzz/ for a while each (default 60 s), one
# after the other, at low priority. Not part of CI or `cargo test`.
#
#   scripts/fuzz-smoke.sh              # every target, 60 s each
#   scripts/fuzz-smoke.sh 600 sanitize # one target, 10 minutes
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and
# cargo-fuzz (`cargo install cargo-fuzz`). Each run starts from the committed
# seed corpus fuzz/corpus/TARGET; what the fuzzer adds goes to
# target/fuzz-corpus/TARGET (not committed). A crash stops the script with
# libFuzzer's report and the input under fuzz/artifacts/TARGET/: turn it into
# a regression test in the normal test suite before fixing it.
set -euo pipefail

secs=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz-smoke: a nightly toolchain is needed: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: cargo-fuzz is needed: cargo install cargo-fuzz" >&2
    exit 1
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

nice -n 15 cargo +nightly fuzz build -O
mkdir -p "$root/target/fuzz-logs"
for t in "${targets[@]}"; do
    work="$root/target/fuzz-corpus/$t"
    log="$root/target/fuzz-logs/$t.log"
    mkdir -p "$work"
    echo "fuzz-smoke: $t for ${secs}s (log: $log)"
    # -timeout: an input (a screen) taking over 2 s is reported as a hang;
    # -max_len: 64 KiB is more than any real screen; -rss_limit_mb catches
    # blow-ups in memory.
    if ! nice -n 15 cargo +nightly fuzz run -O "$t" "$work" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=2 -max_len=65536 -rss_limit_mb=1024 \
        -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz-smoke: $t FAILED (the input is under fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/fuzz-smoke:   /" || true
done
echo "fuzz-smoke: all ${#targets[@]} targets ran ${secs}s without a crash"
