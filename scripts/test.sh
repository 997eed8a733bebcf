#!/usr/bin/env bash
# The one test command: formatting, lints, every test (unit, integration, the demo run), and
# a check that examples/demo-org is what examples/make_demo_org.py generates.
# Idempotent and non-interactive; needs the Rust toolchain (cargo with rustfmt and clippy),
# python3 (with venv) and openssl. Run it from anywhere: scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${CI:-}" == "true" ]]; then
    export CARGO_TERM_COLOR=never
fi

run() {
    echo "+ $*" >&2
    "$@"
}

# tests/mail.rs runs a real SMTP server (aiosmtpd) from this venv; made once, filled once.
if [[ ! -x .venv/bin/python ]]; then
    run python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import aiosmtpd' 2>/dev/null; then
    run .venv/bin/pip install --quiet aiosmtpd==1.4.6
fi
export IAM_AUDITOR_TEST_PYTHON="$PWD/.venv/bin/python"

run cargo fmt --check
run cargo clippy --all-targets -- -D warnings
run cargo test --all-targets

demo_copy="$(mktemp -d)"
trap 'rm -rf "$demo_copy"' EXIT
run python3 examples/make_demo_org.py --out "$demo_copy/demo-org"
run diff -r examples/demo-org "$demo_copy/demo-org"
echo "scripts/test.sh: all passed" >&2
