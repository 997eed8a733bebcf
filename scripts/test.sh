#!/usr/bin/env bash
# The one test command: formatting, lints, every test (unit, integration, the demo run), and
# a check that examples/demo-org is what examples/make_demo_org.py generates.
# Idempotent and non-interactive; needs the Rust toolchain (cargo with rustfmt and clippy),
# python3 (with venv) and openssl, installs the Python test tools into .venv/ from PyPI, and
# (as root) Debian's chromium and chromium-driver for the browser tests.
# Run it from anywhere: scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${CI:-}" == "true" ]]; then
    export CARGO_TERM_COLOR=never
fi

run() {
    echo "+ $*" >&2
    "$@"
}

# openssl makes the mail tests' certificates (it is on Debian images; install it where not).
if ! command -v openssl >/dev/null && [[ $(id -u) == 0 ]]; then
    run apt-get install -y --no-install-recommends openssl
fi

# Chromium and its WebDriver, from Debian's packages: tests/browser.rs checks report.html in a
# real headless browser (filters, sorting, the page without its script, 420 px, print to PDF).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        run apt-get install -y --no-install-recommends chromium chromium-driver \
            || { run apt-get update && run apt-get install -y --no-install-recommends chromium chromium-driver; }
    else
        echo "scripts/test.sh: Chromium is missing: install Debian's chromium and chromium-driver" \
            "(sudo apt-get install -y chromium chromium-driver), then run this again" >&2
        exit 1
    fi
fi

# The Python tools the integration tests drive, in .venv (made once, filled only when
# something is missing): moto_server, a real AWS API emulator (S3 archive tests), and
# aiosmtpd, a real SMTP server (mail tests).
# moto_server also backs the live-collection tests (tests/live.rs).
if [[ ! -x .venv/bin/python ]]; then
    run python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import moto.server, boto3, aiosmtpd' 2>/dev/null; then
    run .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.*' aiosmtpd==1.4.6
fi
# Selenium drives Chromium through chromium-driver; pypdf reads the printed PDF's pages.
if ! .venv/bin/python -c 'import selenium, pypdf' 2>/dev/null; then
    run .venv/bin/pip install --quiet --disable-pip-version-check selenium==4.51.0 pypdf==7.1.1
fi
# The official OCSF schema (the OCSF schema server's export of each version, shipped by
# ocsf-json-schema, which turns it into JSON Schema) and jsonschema: tests/ocsf.rs validates
# findings.ocsf.json with them (tests/ocsf_validate.py).
if ! .venv/bin/python -c 'import ocsf_json_schema, jsonschema' 2>/dev/null \
    || [[ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("ocsf-json-schema"), m.version("jsonschema"))')" != "1.2.0 4.26.0" ]]; then
    run .venv/bin/pip install --quiet --disable-pip-version-check ocsf-json-schema==1.2.0 jsonschema==4.26.0
fi
# cargo-lambda's Lambda Runtime API emulator, for the Lambda mode test (tests/lambda.rs).
# --no-deps: its one dependency, ziglang, is for cross-compiling, which the tests never do.
if [[ ! -x .venv/bin/cargo-lambda ]]; then
    run .venv/bin/pip install --quiet --disable-pip-version-check --no-deps cargo-lambda==1.9.2
fi
export IAM_AUDITOR_TEST_PYTHON="$PWD/.venv/bin/python"

# The test tools themselves (fault proxy, organization seeder) against a real moto_server.
run .venv/bin/python tests/pytools_selftest.py

run cargo fmt --check
run cargo clippy --all-targets -- -D warnings
run cargo test --all-targets

# The deployment artifacts (deploy/): cfn-lint, systemd-analyze, shellcheck, hadolint, and the
# audit role's policy in the templates against what `iam-auditor audit-policy` prints (the
# committed copy must be current, like the demo below).
policy_json="$(mktemp)"
run cargo run --quiet -- audit-policy --format json >"$policy_json"
run diff -u deploy/testdata/audit-policy.json "$policy_json"
run scripts/lint-deploy.sh "$policy_json"
rm -f "$policy_json"

demo_copy="$(mktemp -d)"
trap 'rm -rf "$demo_copy"' EXIT
run python3 examples/make_demo_org.py --out "$demo_copy/demo-org"
run diff -r examples/demo-org "$demo_copy/demo-org"
echo "scripts/test.sh: all passed" >&2
