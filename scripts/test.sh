#!/usr/bin/env bash
# The one test command: formatting, lints, every test (unit, integration, the demo run), and
# a check that examples/demo-org is what examples/make_demo_org.py generates.
# Idempotent and non-interactive; needs only the Rust toolchain (cargo with rustfmt and
# clippy) and python3. Run it from anywhere: scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${CI:-}" == "true" ]]; then
    export CARGO_TERM_COLOR=never
fi

run() {
    echo "+ $*" >&2
    "$@"
}

# (Test suites that need Python packages will create and fill a venv under .venv/ here.)

run cargo fmt --check
run cargo clippy --all-targets -- -D warnings
run cargo test --all-targets

demo_copy="$(mktemp -d)"
trap 'rm -rf "$demo_copy"' EXIT
run python3 examples/make_demo_org.py --out "$demo_copy/demo-org"
run diff -r examples/demo-org "$demo_copy/demo-org"
echo "scripts/test.sh: all passed" >&2
