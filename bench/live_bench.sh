#!/usr/bin/env bash
# The live-collection benchmark: `iam-auditor run` (no --snapshot) against moto_server, through
# the real aws-sdk-rust clients. Prints figures; it is not a test and fails only when a step
# fails (build, moto, seeding, a run exiting non-zero). See bench/README.md, "Live collection".
#
#   bench/live_bench.sh [one|org|all]      (default: all)
#
#   one  the management account alone: 1,000 users, 600 roles (+ moto_org.py's default groups,
#        policies and planted problems). Target (the issue): >= 30x faster than Prowler 5.46 on
#        the same server (83-94 s, 826 MB), i.e. a few seconds; <= 10 calls for the account,
#        AssumeRole and Access Analyzer aside.
#   org  a 20-account organization (19 members) of 50 users and 30 roles each: concurrency
#        1, 2, 4, 8, 16 on all 20, then 5, 10 and 20 accounts (include_accounts) at concurrency 8.
#   latency  the same organization behind tests/aws_fault_proxy.py --latency-ms LATENCY_MS
#        (default 60): every call waits as on a real AWS endpoint, so concurrency shows; moto's
#        own CPU, which serialises everything in `org`, is then a small part of each call.
#
# Each figure is the median of RUNS runs (default 3). Wall time and peak RSS come from
# /usr/bin/time -v; "moto CPU" is moto_server's user+sys time during the run (/proc/PID/stat),
# the share of the wall time the single-process Python server spends working. Environment:
# RUNS; IAM_AUDITOR_TEST_PYTHON (the venv python holding moto[server] and boto3; default
# <repo>/.venv/bin/python, else the main worktree's .venv); CARGO_TARGET_DIR as cargo.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
WHICH=${1:-all}
ONE_USERS=1000 ONE_ROLES=600
ORG_MEMBERS=19 ORG_USERS=50 ORG_ROLES=30
CONCURRENCIES=(1 2 4 8 16)
GROWTH=(5 10 20)
LATENCY_MS=${LATENCY_MS:-60}
LATENCY_CONCURRENCIES=(1 2 4 8 16)
PROWLER_WALL_LO=83 PROWLER_WALL_HI=94 PROWLER_RSS_MB=826

die() { echo "live_bench.sh: $*" >&2; exit 1; }
case $WHICH in one | org | latency | all) ;; *) die "usage: bench/live_bench.sh [one|org|latency|all]" ;; esac
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time, package 'time') is needed for wall time and peak RSS"
[[ -r /proc/self/stat ]] || die "/proc is needed to read moto_server's CPU time"

# The Python venv with moto[server] and boto3 (scripts/test.sh makes <repo>/.venv).
find_python() {
    if [[ -n ${IAM_AUDITOR_TEST_PYTHON:-} ]]; then
        echo "$IAM_AUDITOR_TEST_PYTHON"
        return
    fi
    local main
    main=$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    for candidate in "$REPO/.venv/bin/python" ${main:+"$(dirname "$main")/.venv/bin/python"}; do
        [[ -x $candidate ]] && { echo "$candidate"; return; }
    done
    echo "$REPO/.venv/bin/python"
}
PYTHON=$(find_python)
MOTO_SERVER=$(dirname "$PYTHON")/moto_server
[[ -x $PYTHON && -x $MOTO_SERVER ]] ||
    die "no moto_server beside $PYTHON: run scripts/test.sh (it installs moto[server] into .venv) or set IAM_AUDITOR_TEST_PYTHON"
"$PYTHON" -c 'import boto3, moto' 2>/dev/null || die "$PYTHON cannot import boto3 and moto: run scripts/test.sh"
SEEDER=$REPO/tests/moto_org.py
[[ -f $SEEDER ]] || die "no seeding script at $SEEDER"

echo "== building release ($TARGET/release/iam-auditor)"
cargo build --release --quiet --manifest-path "$REPO/Cargo.toml"
BIN=$TARGET/release/iam-auditor
WORK=$(mktemp -d "${TMPDIR:-/tmp}/iam-auditor-live-bench.XXXXXX")
MOTO_PID="" MOTO_LOG="" ENDPOINT=""

stop_moto() {
    if [[ -n $MOTO_PID ]]; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
        MOTO_PID=""
    fi
}
PROXY_PID=""
cleanup() {
    local code=$?
    [[ -z $PROXY_PID ]] || kill "$PROXY_PID" 2>/dev/null || true
    stop_moto
    rm -rf "$WORK"
    exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_moto NAME: a fresh moto_server on a free 127.0.0.1 port (MOTO_PID, ENDPOINT).
start_moto() {
    local port
    port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    MOTO_LOG=$WORK/moto-$1.log
    "$MOTO_SERVER" -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
    MOTO_PID=$!
    ENDPOINT=http://127.0.0.1:$port
    local deadline=$((SECONDS + 30))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        kill -0 "$MOTO_PID" 2>/dev/null || { tail -n 20 "$MOTO_LOG" >&2; die "moto_server exited before listening on $port"; }
        ((SECONDS < deadline)) || die "moto_server did not listen on 127.0.0.1:$port within 30 s"
        sleep 0.1
    done
    echo "== moto_server (pid $MOTO_PID) at $ENDPOINT"
}

# moto_ticks: moto_server's user+sys CPU time so far, in clock ticks.
moto_ticks() {
    kill -0 "$MOTO_PID" 2>/dev/null || { tail -n 20 "$MOTO_LOG" >&2; die "moto_server (pid $MOTO_PID) is gone"; }
    # Fields 14 and 15 (utime, stime) of /proc/PID/stat, counted after the ")" ending the name.
    awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$MOTO_PID/stat"
}
TICKS=$(getconf CLK_TCK)

# fresh_seeded NAME ARGS...: a fresh moto_server seeded by tests/moto_org.py ARGS; sets SEED_S
# (seconds). moto_server now and then answers a seeding call with an HTTP 500 (a race inside
# moto under moto_org.py's 16 parallel workers; seen once in about ten seedings): the attempt is
# then shown (moto's traceback) and redone on a new server, up to 3 attempts.
fresh_seeded() {
    local name=$1 attempt start
    shift
    for attempt in 1 2 3; do
        start_moto "$name"
        start=$(date +%s.%N)
        if "$PYTHON" "$SEEDER" --endpoint "$ENDPOINT" --out "$WORK/$name-seed.json" "$@" 2>"$WORK/$name-seed.err"; then
            SEED_S=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
            sed 's/^/   /' "$WORK/$name-seed.err"
            echo "   seeded in $SEED_S s"
            return
        fi
        echo "   seeding attempt $attempt failed: $(grep -v '^ ' "$WORK/$name-seed.err" | tail -n 1 | cut -c1-300)" >&2
        if grep -q Traceback "$MOTO_LOG"; then
            echo "   moto_server's last traceback:" >&2
            awk '/^Traceback/ { buf = "" } { buf = buf "      " $0 "\n" } END { printf "%s", buf }' "$MOTO_LOG" | tail -n 12 >&2
        fi
        stop_moto
    done
    die "seeding $name failed 3 times: see the errors above"
}

# config NAME CONCURRENCY [ACCOUNT_ID...]: writes a config for moto, prints its path.
config() {
    local file=$WORK/$1.toml concurrency=$2
    shift 2
    {
        echo '[organization]'
        echo 'role_name = "OrganizationAccountAccessRole"'
        echo 'regions = []          # moto has no Access Analyzer'
        echo "concurrency = $concurrency"
        if (($#)); then
            printf 'include_accounts = ['
            printf '"%s", ' "$@" | sed 's/, $//'
            echo ']'
        fi
    } >"$file"
    echo "$file"
}

# account_ids NAME N: the first N account ids of NAME's seed.json (the management account first).
account_ids() {
    "$PYTHON" -c 'import json, sys; print(" ".join(a["id"] for a in json.load(open(sys.argv[1]))["accounts"][:int(sys.argv[2])]))' \
        "$WORK/$1-seed.json" "$2"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The figures of one run, from findings.json and the text log, as "key=value" words:
# calls retries collect_s audited failed gaad (GetAccountAuthorizationDetails pages in all)
# max_acct (most calls of one account, AssumeRole and Access Analyzer aside) principals
# aws_pages (GAAD pages AWS would answer) by_op (operation=calls,...).
run_figures() {
    "$PYTHON" - "$1/findings.json" "$2" <<'EOF'
import json, re, sys
report = json.load(open(sys.argv[1]))
stats = report["run"]["stats"]
calls = stats.get("api_calls", {})
log = open(sys.argv[2], encoding="utf-8", errors="replace").read()
m = re.findall(r"collected (\d+) accounts? with (\d+) AWS calls \((\d+) retries\) in ([\d.]+) s", log)
if not m:
    sys.exit("no 'collected N accounts with C AWS calls' line in the log")
retries = int(m[-1][2])
def own(ops):  # an account's calls, AssumeRole and Access Analyzer aside
    return sum(n for op, n in ops.items() if op != "sts:AssumeRole" and not op.startswith("access-analyzer:"))
audited = [c for c in report["coverage"] if c["status"] == "audited"]
inv = [c.get("inventory") or {} for c in audited]
principals = sum(i.get("users", 0) + i.get("roles", 0) for i in inv)
# GetAccountAuthorizationDetails pages AWS would answer at MaxItems 1,000 (moto answers one).
aws_pages = sum(-(-sum(i.get(k, 0) for k in ("users", "groups", "roles", "managed_policies")) // 1000) for i in inv)
print(f"calls={sum(calls.values())} retries={retries} collect_s={m[-1][3]} audited={stats['accounts_audited']}"
      f" failed={stats['accounts_failed']} gaad={calls.get('iam:GetAccountAuthorizationDetails', 0)}"
      f" max_acct={max((own(c.get('api_calls') or {}) for c in audited), default=0)} principals={principals}"
      f" aws_pages={aws_pages}"
      f" by_op={','.join(f'{op}={n}' for op, n in sorted(calls.items()))}")
EOF
}

# bench NAME CONFIG [N]: N (default RUNS) runs of `iam-auditor run --config CONFIG`; sets R_* to the medians
# (R_WALL s, R_RSS MiB, R_CPU = iam-auditor user+sys s, R_MOTO = moto CPU s, R_COLLECT s) and
# the last run's figures (R_CALLS, R_GAAD, R_AWS_PAGES, R_MAX_ACCT, R_AUDITED, R_PRINCIPALS, R_BY_OP,
# R_RETRIES); R_FIRST_WALL is the first run's wall time.
bench() {
    local name=$1 cfg=$2 runs=${3:-$RUNS} i walls=() rsses=() cpus=() motos=() collects=()
    for i in $(seq 1 "$runs"); do
        local out=$WORK/$name-$i log=$WORK/$name-$i.time code=0 before after
        before=$(moto_ticks)
        env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u IAM_AUDITOR_SNAPSHOT -u IAM_AUDITOR_OUT \
            -u IAM_AUDITOR_CONFIG -u IAM_AUDITOR_LOG_FORMAT \
            AWS_ENDPOINT_URL="$ENDPOINT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
            AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
            AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
            /usr/bin/time -v -o "$log" "$BIN" run --config "$cfg" --out "$out" --no-mail \
            >"$log.out" 2>"$log.err" || code=$?
        after=$(moto_ticks)
        if [[ $code != 0 ]]; then
            tail -n 20 "$log.err" >&2
            die "$name: run $i exited $code (expected 0: every account audited, no fail_on)"
        fi
        local wall rss cpu figures moto
        read -r wall rss cpu < <(awk '
            /Elapsed \(wall clock\) time/ { n = split($NF, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
            /Maximum resident set size/ { rss = $NF }
            /User time \(seconds\)|System time \(seconds\)/ { cpu += $NF }
            END { printf "%.3f %.1f %.2f\n", w, rss / 1024, cpu }' "$log")
        figures=$(run_figures "$out" "$log.err") || die "$name: run $i: cannot read its findings.json or log"
        local calls="" retries="" collect_s="" audited="" failed="" gaad="" max_acct="" principals="" aws_pages="" by_op=""
        local word
        for word in $figures; do printf -v "${word%%=*}" '%s' "${word#*=}"; done
        moto=$(awk -v t=$((after - before)) -v hz="$TICKS" 'BEGIN { printf "%.2f", t / hz }')
        printf '   run %d: %s s wall, %s MiB, iam-auditor CPU %s s, moto CPU %s s; collected %s account(s) in %s s, %s calls (%s retries)\n' \
            "$i" "$wall" "$rss" "$cpu" "$moto" "$audited" "$collect_s" "$calls" "$retries"
        [[ $failed == 0 ]] || die "$name: run $i: $failed account(s) failed"
        walls+=("$wall") rsses+=("$rss") cpus+=("$cpu") motos+=("$moto") collects+=("$collect_s")
        rm -rf "$out"
    done
    R_WALL=$(printf '%s\n' "${walls[@]}" | median)
    R_RSS=$(printf '%s\n' "${rsses[@]}" | median)
    R_CPU=$(printf '%s\n' "${cpus[@]}" | median)
    R_MOTO=$(printf '%s\n' "${motos[@]}" | median)
    R_COLLECT=$(printf '%s\n' "${collects[@]}" | median)
    R_CALLS=$calls R_GAAD=$gaad R_MAX_ACCT=$max_acct R_AUDITED=$audited R_PRINCIPALS=$principals
    R_BY_OP=$by_op R_RETRIES=$retries R_AWS_PAGES=$aws_pages R_FIRST_WALL=${walls[0]}
}

# replay NAME ACCOUNTS: the same per-account IAM calls, one at a time, by boto3 (bench/live_calls.py);
# prints "<seconds in the calls> <calls> <GAAD seconds> <moto CPU s> <seconds with client setup>".
replay() {
    local before after json
    before=$(moto_ticks)
    json=$("$PYTHON" "$REPO/bench/live_calls.py" --endpoint "$ENDPOINT" --seed "$WORK/$1-seed.json" --accounts "$2") ||
        die "the boto3 replay ($1) failed"
    after=$(moto_ticks)
    "$PYTHON" -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["call_seconds"], r["calls"], r["by_operation"]["iam:GetAccountAuthorizationDetails"]["seconds"],
      "%.2f" % (int(sys.argv[2]) / int(sys.argv[3])), r["seconds"])' "$json" $((after - before)) "$TICKS"
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0) ? 100 * a / b : 0 }'; }
SUMMARY=()
say() { SUMMARY+=("$*"); }

if [[ $WHICH == one || $WHICH == all ]]; then
    echo "== one: the management account alone, $ONE_USERS users, $ONE_ROLES roles"
    fresh_seeded one --members 0 --users "$ONE_USERS" --roles "$ONE_ROLES"
    seed_s=$SEED_S
    bench one "$(config one 8)"
    rp=$(replay one 1)
    read -r rp_s rp_calls rp_gaad rp_moto rp_all <<<"$rp"
    stop_moto
    speed_lo=$(awk -v w="$R_WALL" -v p="$PROWLER_WALL_LO" 'BEGIN { printf "%.0f", p / w }')
    speed_hi=$(awk -v w="$R_WALL" -v p="$PROWLER_WALL_HI" 'BEGIN { printf "%.0f", p / w }')
    verdict=met
    ((speed_lo >= 30)) || verdict=MISSED
    ((R_MAX_ACCT <= 10)) || verdict=MISSED
    say "== one: management account, $R_PRINCIPALS principals (moto_org.py --members 0 --users $ONE_USERS --roles $ONE_ROLES; seeded in $seed_s s)"
    say "$(printf '%-10s %-9s %8s %8s %10s %10s %10s %6s %11s %6s' '' principals 'wall s' 'RSS MiB' 'auditor s' 'moto CPU s' 'collect s' calls 'acct calls' 'GAAD')"
    say "$(printf '%-10s %-9s %8s %8s %10s %10s %10s %6s %11s %6s' one "$R_PRINCIPALS" "$R_WALL" "$R_RSS" "$R_CPU" "$R_MOTO" "$R_COLLECT" "$R_CALLS" "$R_MAX_ACCT" "$R_GAAD")"
    say "   calls by operation: ${R_BY_OP//,/, }"
    say "   GetAccountAuthorizationDetails pages: $R_GAAD (moto answers in one page whatever MaxItems; AWS, at MaxItems 1,000 entities, would answer $R_AWS_PAGES)"
    say "   first run: $R_FIRST_WALL s (includes GenerateCredentialReport's first wait, 0.5 s: the report did not exist yet; later runs find it COMPLETE, as AWS does for 4 hours)"
    say "   target: >= 30x faster than Prowler 5.46 (${PROWLER_WALL_LO}-${PROWLER_WALL_HI} s, ${PROWLER_RSS_MB} MB) and <= 10 calls for the account: ${speed_lo}-${speed_hi}x, $R_MAX_ACCT calls, $(awk -v r="$R_RSS" -v p="$PROWLER_RSS_MB" 'BEGIN { printf "%.0f", p * 1000000 / 1048576 / r }')x less memory: $verdict"
    say "   moto's share: moto_server CPU $R_MOTO s of $R_WALL s wall ($(pct "$R_MOTO" "$R_WALL") %), iam-auditor CPU $R_CPU s ($(pct "$R_CPU" "$R_WALL") %)"
    say "   boto3 making the same $rp_calls account calls one at a time: $rp_s s in the calls (GetAccountAuthorizationDetails $rp_gaad s; $rp_all s with boto3's client setup), moto CPU $rp_moto s"
fi

if [[ $WHICH == org || $WHICH == all ]]; then
    accounts=$((ORG_MEMBERS + 1))
    echo "== org: $accounts accounts, $ORG_USERS users and $ORG_ROLES roles each"
    fresh_seeded org --members "$ORG_MEMBERS" --users "$ORG_USERS" --roles "$ORG_ROLES"
    seed_s=$SEED_S
    all_ids=$(account_ids org "$accounts")
    # shellcheck disable=SC2086 # ids are words
    (($(wc -w <<<"$all_ids") == accounts)) || die "seed.json lists $(wc -w <<<"$all_ids") accounts, expected $accounts"
    CONC_ROWS=() GROWTH_ROWS=()
    echo "== org: warm-up run (not counted): every account's credential report is generated once"
    bench org-warmup "$(config org-warmup 8)" 1
    warm_wall=$R_WALL
    for c in "${CONCURRENCIES[@]}"; do
        echo "== org: $accounts accounts at concurrency $c; $RUNS runs"
        bench "org-c$c" "$(config "org-c$c" "$c")"
        ((R_AUDITED == accounts)) || die "org at concurrency $c: $R_AUDITED accounts audited, expected $accounts"
        CONC_ROWS+=("$(printf '%11s %8s %8s %6s %10s %10s (%3s %%) %10s %8s' "$c" "$R_WALL" "$R_RSS" "$R_CALLS" "$R_CPU" "$R_MOTO" "$(pct "$R_MOTO" "$R_WALL")" "$R_COLLECT" "$R_RETRIES")")
        org_by_op=$R_BY_OP org_gaad=$R_GAAD org_aws_pages=$R_AWS_PAGES org_max=$R_MAX_ACCT org_principals=$R_PRINCIPALS
    done
    for n in "${GROWTH[@]}"; do
        echo "== org: $n of $accounts accounts (include_accounts) at concurrency 8; $RUNS runs"
        # shellcheck disable=SC2046 # ids are words
        bench "org-n$n" "$(config "org-n$n" 8 $(account_ids org "$n"))"
        ((R_AUDITED == n)) || die "org with $n accounts included: $R_AUDITED audited"
        GROWTH_ROWS+=("$(printf '%8s %8s %10s %8s %6s %10s %10s %12s' "$n" "$R_WALL" \
            "$(awk -v w="$R_WALL" -v n="$n" 'BEGIN { printf "%.3f", w / n }')" "$R_RSS" "$R_CALLS" "$R_MOTO" "$R_COLLECT" \
            "$(awk -v w="$R_COLLECT" -v n="$n" 'BEGIN { printf "%.3f", w / n }')")")
    done
    rp=$(replay org "$accounts")
    read -r rp_s rp_calls rp_gaad rp_moto rp_all <<<"$rp"
    stop_moto
    say "== org: $accounts accounts x $ORG_USERS users, $ORG_ROLES roles ($org_principals principals in all; moto_org.py --members $ORG_MEMBERS; seeded in $seed_s s)"
    say "$(printf '%11s %8s %8s %6s %10s %18s %10s %8s' concurrency 'wall s' 'RSS MiB' calls 'auditor s' 'moto CPU s (wall)' 'collect s' retries)"
    for row in "${CONC_ROWS[@]}"; do say "$row"; done
    say "   calls by operation (concurrency 16): ${org_by_op//,/, }"
    say "   GetAccountAuthorizationDetails pages: $org_gaad for $accounts accounts (AWS would answer $org_aws_pages); most calls of one account (AssumeRole, Access Analyzer aside): $org_max"
    say "   warm-up run before these (concurrency 8; every credential report generated: a 0.5 s wait per account, 8 at a time): $warm_wall s"
    say "   growth at concurrency 8 (include_accounts = the first N accounts of the organization):"
    say "$(printf '%8s %8s %10s %8s %6s %10s %10s %12s' accounts 'wall s' 's/account' 'RSS MiB' calls 'moto CPU s' 'collect s' 'collect s/acct')"
    for row in "${GROWTH_ROWS[@]}"; do say "$row"; done
    say "   boto3 making the same $rp_calls calls (AssumeRole + account calls) one at a time for $accounts accounts: $rp_s s in the calls (GetAccountAuthorizationDetails $rp_gaad s; $rp_all s with boto3's client setup), moto CPU $rp_moto s"
fi

if [[ $WHICH == latency || $WHICH == all ]]; then
    accounts=$((ORG_MEMBERS + 1))
    echo "== latency: $accounts accounts behind the proxy, $LATENCY_MS ms a call"
    fresh_seeded latency --members "$ORG_MEMBERS" --users "$ORG_USERS" --roles "$ORG_ROLES"
    proxy_port_file=$WORK/proxy.port
    "$PYTHON" "$REPO/tests/aws_fault_proxy.py" --upstream "$ENDPOINT" --port-file "$proxy_port_file" \
        --latency-ms "$LATENCY_MS" 2>"$WORK/proxy.err" &
    PROXY_PID=$!
    deadline=$((SECONDS + 30))
    until [[ -s $proxy_port_file ]]; do
        kill -0 "$PROXY_PID" 2>/dev/null || { cat "$WORK/proxy.err" >&2; die "the proxy exited"; }
        ((SECONDS < deadline)) || die "the proxy wrote no port within 30 s"
        sleep 0.1
    done
    MOTO_ENDPOINT=$ENDPOINT
    ENDPOINT=http://127.0.0.1:$(cat "$proxy_port_file")
    bench latency-warmup "$(config latency-warmup 8)" 1
    LAT_ROWS=()
    for c in "${LATENCY_CONCURRENCIES[@]}"; do
        echo "== latency: $accounts accounts at concurrency $c; $RUNS runs"
        bench "latency-c$c" "$(config "latency-c$c" "$c")"
        ((R_AUDITED == accounts)) || die "latency at concurrency $c: $R_AUDITED accounts audited"
        [[ $c == 1 ]] && lat_base=$R_COLLECT
        LAT_ROWS+=("$(printf '%11s %8s %10s %8s %6s %10s %8s' "$c" "$R_WALL" "$R_COLLECT" \
            "$(awk -v b="$lat_base" -v t="$R_COLLECT" 'BEGIN { printf "%.1fx", b / t }')" "$R_CALLS" "$R_MOTO" "$R_RSS")")
    done
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
    ENDPOINT=$MOTO_ENDPOINT
    stop_moto
    say "== latency: $accounts accounts, every call held $LATENCY_MS ms by tests/aws_fault_proxy.py (a stand-in for AWS's round trip)"
    say "$(printf '%11s %8s %10s %8s %6s %10s %8s' concurrency 'wall s' 'collect s' speed-up calls 'moto CPU s' 'RSS MiB')"
    for row in "${LAT_ROWS[@]}"; do say "$row"; done
fi

echo
echo "== summary ($(nproc) cores; median of $RUNS runs; wall and peak RSS by /usr/bin/time -v; 'auditor s' = iam-auditor user+sys CPU;"
echo "   'moto CPU s' = moto_server user+sys CPU during the run; 'collect s' = collection alone, from the log; 'acct calls' = calls"
echo "   of the account, AssumeRole and Access Analyzer aside (regions = [] : moto has none))"
printf '%s\n' "${SUMMARY[@]}"
