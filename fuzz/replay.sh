#!/usr/bin/env bash
# Builds every fuzz target and replays its committed corpus (fuzz/corpus/TARGET) once, without
# fuzzing (-runs=0): a regression test of every input ever committed there. Exits non-zero
# when a target fails to build or any input crashes. Its last line is `fuzz replay: N passed,
# M failed`, N and M counting targets.
#
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz`) and a C++ compiler; on a stable
# toolchain RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the sanitizer flags it needs.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null; then
    echo "fuzz/replay.sh: cargo-fuzz is not installed (cargo install --locked cargo-fuzz)" >&2
    exit 2
fi

cargo fuzz build

passed=0
failed=0
for target in $(cargo fuzz list); do
    corpus="corpus/$target"
    if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
        echo "fuzz target $target: no committed corpus in fuzz/$corpus" >&2
        failed=$((failed + 1))
        continue
    fi
    if cargo fuzz run "$target" "$corpus" -- -runs=0; then
        echo "fuzz target $target: $(ls "$corpus" | wc -l) inputs replayed, no crash"
        passed=$((passed + 1))
    else
        echo "fuzz target $target: FAILED on its corpus (see above; the input is in fuzz/artifacts/$target/)" >&2
        failed=$((failed + 1))
    fi
done

echo "fuzz replay: ${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
