#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (libFuzzer).
#   scripts/fuzz.sh <target|all> [seconds]   one target (or each in turn) for that long, new inputs
#                                            kept in fuzz/corpus-raw/<target> (minimise with
#                                            `cargo fuzz cmin` before committing to fuzz/corpus)
#   scripts/fuzz.sh --smoke [seconds]        CI smoke: every target briefly on the committed corpus,
#                                            nothing written back (default 20 s each)
# FUZZ_SANITIZER=none|address (default address; the smoke uses none unless set: see README).
# A crash stops the run with libFuzzer's report; the input is saved under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
if [[ "${1:-}" == "--smoke" ]]; then smoke=true; shift; set -- all "${1:-20}"; fi
which="${1:?usage: scripts/fuzz.sh <target|all> [seconds] | --smoke [seconds]}"
seconds="${2:-60}"
sanitizer="${FUZZ_SANITIZER:-$($smoke && echo none || echo address)}"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# libFuzzer needs nightly flags: use a nightly toolchain when there is one, else let stable accept them.
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then toolchain=(+nightly); else export RUSTC_BOOTSTRAP=1; fi

cd fuzz
if [[ "$which" == all ]]; then mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list); else targets=("$which"); fi
cargo "${toolchain[@]}" fuzz build -O --sanitizer "$sanitizer"

for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  if $smoke; then
    scratch="$(mktemp -d)"
    dirs=("$scratch" "corpus/$target")
  else
    mkdir -p "corpus-raw/$target"
    dirs=("corpus-raw/$target" "corpus/$target")
  fi
  echo "== $target: ${seconds}s ($sanitizer sanitizer)"
  log="target/$target.log"
  status=0
  cargo "${toolchain[@]}" fuzz run -O --sanitizer "$sanitizer" "$target" "${dirs[@]}" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" || true
  if $smoke; then rm -rf "$scratch"; fi
  if [[ $status -ne 0 ]]; then tail -n 60 "$log" >&2; echo "fuzz target $target failed (exit $status); see fuzz/artifacts/$target/" >&2; exit "$status"; fi
done
