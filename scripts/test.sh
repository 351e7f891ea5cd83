#!/usr/bin/env bash
# The one test command: installs what the tests need on a fresh Debian machine, then runs
# every test of the workspace, the schema validation and the fuzz corpus replay.
#
#   scripts/test.sh            everything
#   SKIP_INSTALL=1 scripts/test.sh   when the tools are already there
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

step() { printf '\n==> %s\n' "$*"; }

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
    install
fi

step "formatting"
cargo fmt --all -- --check

step "cargo test (workspace: unit, integration, bench smoke runs)"
cargo test --workspace --all-targets 2>&1 | tee -a "$log"

step "cargo test --doc"
cargo test --workspace --doc 2>&1 | tee -a "$log"

step "schemas and spec examples under a strict XSD 1.0 validator"
python3 tests/xsd/validate.py 2>&1 | tee -a "$log"

step "fuzz targets replay their seed corpus"
if [ -x fuzz/replay.sh ]; then
    fuzz/replay.sh 2>&1 | tee -a "$log"
fi

passed=$(grep -oE '([0-9]+) passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '([0-9]+) failed' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
