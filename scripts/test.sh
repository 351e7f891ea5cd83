#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian machine, then runs
# every test of the workspace, the schema validation and the fuzz corpus replay.
#
#   scripts/test.sh            everything
#   SKIP_INSTALL=1 scripts/test.sh   when the tools are already there
#
# Every step runs even when an earlier one failed; the last line is always
# `N passed, M failed`: N and M add up the tests the steps report, and a step that fails
# without reporting a failed test (formatting, clippy, docs, a build error) counts as one
# failure. The exit status is non-zero when anything failed, and the steps that failed are
# listed above the summary.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed_steps=()
extra_failures=0

step() { printf '\n==> %s\n' "$*"; }

# run NAME CMD...: runs one step, its output shown and kept in the log for the counts.
run() {
    local name=$1
    shift
    step "$name"
    local out
    out=$(mktemp)
    "$@" 2>&1 | tee "$out"
    local status=${PIPESTATUS[0]}
    cat "$out" >>"$log"
    if [ "$status" != 0 ]; then
        failed_steps+=("$name (exit $status)")
        # A step that failed without reporting any failed test still counts once.
        if ! grep -qE '[1-9][0-9]* failed' "$out"; then
            extra_failures=$((extra_failures + 1))
        fi
    fi
    rm -f "$out"
}

install() {
    # Real peers the tests start on loopback: Prosody (component mode), slixmpp (a second
    # XMPP client implementation), sipp (SIP and RTP), espeak-ng (TTS).
    local apt_pkgs=()
    command -v prosody >/dev/null || apt_pkgs+=(prosody)
    python3 -c 'import slixmpp' 2>/dev/null || /usr/bin/python3 -c 'import slixmpp' 2>/dev/null \
        || apt_pkgs+=(python3-slixmpp)
    command -v sipp >/dev/null || apt_pkgs+=(sip-tester)
    # Text-to-speech of output components.
    command -v espeak-ng >/dev/null || apt_pkgs+=(espeak-ng)
    command -v rustfmt >/dev/null || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
    if [ ${#apt_pkgs[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_pkgs[@]}"
        # The package may start a system-wide Prosody; the tests start their own.
        $sudo service prosody stop >/dev/null 2>&1 || true
    fi
    python3 -c 'import xmlschema' 2>/dev/null || python3 -m pip install --quiet xmlschema
    command -v cargo-fuzz >/dev/null || cargo install --quiet --locked cargo-fuzz
}

if [ -z "${SKIP_INSTALL:-}" ]; then
    step "installing test dependencies"
    install || { echo "installing the test dependencies failed" >&2; exit 1; }
fi

run "formatting" cargo fmt --all -- --check

run "declared rust-version against the dependencies" python3 scripts/check_rust_version.py

run "clippy (warnings denied)" cargo clippy --workspace --all-targets --locked -- -D warnings

run "API docs (warnings denied)" env RUSTDOCFLAGS="-D warnings" \
    cargo doc --workspace --no-deps --locked

run "cargo test (workspace: unit, integration, bench smoke runs)" \
    cargo test --workspace --all-targets --locked --no-fail-fast

run "cargo test --doc" cargo test --workspace --doc --locked --no-fail-fast

run "schemas and spec examples under a strict XSD 1.0 validator" python3 tests/xsd/validate.py

if [ -x fuzz/replay.sh ]; then
    run "fuzz targets replay their seed corpus" fuzz/replay.sh
fi

passed=$(grep -oE '([0-9]+) passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '([0-9]+) failed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$((failed + extra_failures))
echo
if [ ${#failed_steps[@]} -gt 0 ]; then
    echo "steps that failed:"
    printf '  %s\n' "${failed_steps[@]}"
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" = 0 ] && [ ${#failed_steps[@]} = 0 ]
