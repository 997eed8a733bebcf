#!/usr/bin/env bash
# What IAM Identity Center adds to a run (the join, the sso-* checks, the people in the roster):
# the same 1,000-account organization audited with and without organization/identity-center/,
# the findings checked against the generator's Identity Center ground truth, and what live
# collection of that Identity Center would cost (calls, and minutes at its ~20 requests/second).
# Prints figures; it is not a test. See bench/README.md.
#
#   bench/identity_center.sh
#
#   1,000 accounts x (200 users, 200 roles); Identity Center: 20 permission sets, 5,000 users,
#   500 groups, 20,000 assignments                       target: adds <= 2 s and <= 100 MB
#
# Environment as bench/bench.sh: IAM_AUDITOR_BENCH_DIR (default /tmp/iam-auditor-bench) caches
# the generated organization; RUNS (default 3) runs each way, median reported; CARGO_TARGET_DIR.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IAM_AUDITOR_BENCH_DIR:-/tmp/iam-auditor-bench}
RUNS=${RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}
AS_OF=2024-06-01T00:00:00Z
NAME=gen_org-a1000-u200-r200-g20-p50-s7-ic

die() { echo "identity_center.sh: $*" >&2; exit 1; }
command -v python3 >/dev/null || die "python3 (3.11+) is needed for the generator"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is needed for peak memory: apt-get install time"

echo "== building release ($TARGET/release/iam-auditor)"
cargo build --release --quiet --manifest-path "$REPO/Cargo.toml"
BIN=$TARGET/release/iam-auditor
WORK=$(mktemp -d "${TMPDIR:-/tmp}/iam-auditor-ic-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

DIR=$CACHE/$NAME
if [[ ! -f $DIR/.complete ]]; then
    echo "== generating $NAME (cached in $DIR; about 2 minutes)"
    rm -rf "$DIR" "$DIR.partial"
    mkdir -p "$CACHE"
    python3 "$REPO/bench/gen_org.py" --accounts 1000 --users 200 --roles 200 --groups 20 --policies 50 \
        --seed 7 --compact --identity-center --out "$DIR.partial" >/dev/null
    touch "$DIR.partial/.complete"
    mv "$DIR.partial" "$DIR"
else
    echo "== using cached $DIR"
fi
WITH=$DIR/snapshot
# The same snapshot without Identity Center: links to everything but organization/identity-center/.
WITHOUT=$WORK/without-ic
mkdir -p "$WITHOUT/organization"
ln -s "$WITH/accounts" "$WITH/manifest.json" "$WITHOUT/"
for f in "$WITH"/organization/*.json; do ln -s "$f" "$WITHOUT/organization/"; done

# run LABEL SNAPSHOT: RUNS runs; prints "median-wall median-rss-kib" and keeps the last output.
run() {
    local label=$1 snapshot=$2 walls=() rsses=()
    for i in $(seq 1 "$RUNS"); do
        local out=$WORK/$label code=0
        rm -rf "$out"
        /usr/bin/time -f "%e %M" -o "$WORK/$label.time" "$BIN" run --snapshot "$snapshot" --as-of "$AS_OF" \
            --out "$out" --no-mail >"$WORK/$label.out" 2>"$WORK/$label.err" || code=$?
        [[ $code == 0 || $code == 3 ]] || { cat "$WORK/$label.err" >&2; die "$label: run $i exited $code"; }
        read -r wall rss <"$WORK/$label.time"
        echo "   $label run $i: $wall s, $((rss / 1024)) MiB" >&2
        walls+=("$wall")
        rsses+=("$rss")
    done
    local median='sort -g | awk "{ v[NR] = \$1 } END { print v[int((NR + 1) / 2)] }"'
    echo "$(printf '%s\n' "${walls[@]}" | eval "$median") $(printf '%s\n' "${rsses[@]}" | eval "$median")"
}

echo "== $RUNS runs without Identity Center, then $RUNS with it"
read -r wall_without rss_without < <(run without "$WITHOUT")
read -r wall_with rss_with < <(run with "$WITH")

python3 - "$DIR/identity-center-truth.json" "$WORK/with" "$WITH" "$wall_without" "$rss_without" "$wall_with" "$rss_with" <<'EOF'
import csv, json, math, sys
truth_path, out, snapshot = sys.argv[1:4]
wall_without, rss_without, wall_with, rss_with = map(float, sys.argv[4:8])
truth = json.load(open(truth_path))
report = json.load(open(f"{out}/findings.json"))
found = {}
for f in report["findings"]:
    check, account, ev = f["check"], f["account_id"], f["evidence"]
    if check == "sso-admin-assignment":
        key = ("sso-admin-assignment", f"{account}/{ev['user_id']}")
    elif check == "sso-admin-long-session":
        key = ("long-session", f["resource_arn"])
    elif check == "sso-role-without-assignment":
        key = ("drift (role without assignment)", f["resource_arn"])
    elif check == "sso-assignment-without-role":
        key = ("drift (assignment without role)", f"{account}/{f['resource_name']}")
    elif check == "sso-assignment-to-nobody":
        kind = {"deleted-user": ("deleted user", "USER"), "deleted-group": ("deleted group", "GROUP"),
                "empty-group": ("empty group", "GROUP")}[ev["reason"]]
        key = (f"drift ({kind[0]})", f"{account}/{f['resource_name']}/{kind[1]}/{ev['principal_id']}")
    else:
        continue
    found.setdefault(key[0], set()).add(key[1])

def expected(row):
    keys = set(truth["expected"].get(row, {}))
    if row == "drift (assignment without role)":  # one finding per (account, set), naming who
        keys = {"/".join(k.split("/")[:2]) for k in keys}
    return keys

print()
print(f"{'row':34} {'expected':>8} {'found':>8} {'recall':>7} {'precision':>9}")
ok = True
for row in sorted(set(truth["expected"]) | set(found)):
    want, got = expected(row), found.get(row, set())
    recall = len(want & got) / len(want) if want else 1.0
    precision = len(want & got) / len(got) if got else 1.0
    ok &= recall == 1.0 and precision == 1.0
    print(f"{row:34} {len(want):8} {len(got):8} {recall:7.4f} {precision:9.4f}")
decoys = set(truth.get("decoys", {}).get("sso-admin-assignment", {}))
fired = decoys & found.get("sso-admin-assignment", set())
print(f"decoys reported: {len(fired)} of {len(decoys)}")

rows = people = 0
with open(f"{out}/access-roster.csv", newline="") as f:
    for r in csv.DictReader(f):
        rows += 1
        people += r["principal_kind"] == "person"

# Live collection of this Identity Center: the README's formula, pages of 100.
ic = f"{snapshot}/organization/identity-center"
sets = json.load(open(f"{ic}/permission-sets.json"))["PermissionSets"]
users = json.load(open(f"{ic}/users.json"))["Users"]
groups = json.load(open(f"{ic}/groups.json"))["Groups"]
members = json.load(open(f"{ic}/group-memberships.json"))["GroupMemberships"]
accounts = [a for a in json.load(open(f"{snapshot}/organization/accounts.json"))["Accounts"] if a["Status"] == "ACTIVE"]
assignments = json.load(open(f"{ic}/account-assignments.json"))["AccountAssignments"]
pages = lambda n: max(1, math.ceil(n / 100))
pairs = {(a, s["PermissionSetArn"]) for s in sets for a in s.get("AccountIds", [])}
per_pair = {}
for a in assignments:
    per_pair[(a["AccountId"], a["PermissionSetArn"])] = per_pair.get((a["AccountId"], a["PermissionSetArn"]), 0) + 1
by_group = {}
for m in members:
    by_group[m["GroupId"]] = by_group.get(m["GroupId"], 0) + 1
calls = (1 + pages(len(sets)) + 6 * len(sets) + len(accounts)
         + sum(pages(per_pair.get(p, 0)) for p in pairs)
         + pages(len(users)) + pages(len(groups)) + sum(pages(by_group.get(g["GroupId"], 0)) for g in groups))
print()
print(f"Identity Center: {len(sets)} permission sets, {len(users)} users, {len(groups)} groups, "
      f"{len(members)} memberships, {len(assignments)} assignments, {len(pairs)} provisioned pairs, {len(accounts)} accounts")
print(f"roster: {rows} rows, {people} of them people")
print(f"live collection: {calls} calls = {calls / 20:.0f} s ({calls / 20 / 60:.1f} min) at 20 requests/second")
print()
added_wall, added_mb = wall_with - wall_without, (rss_with - rss_without) / 1024
verdict = "met" if added_wall <= 2 and added_mb <= 100 else "MISSED"
print(f"{'':24} {'wall s':>8} {'peak RSS MiB':>13}")
print(f"{'without Identity Center':24} {wall_without:8.2f} {rss_without / 1024:13.0f}")
print(f"{'with Identity Center':24} {wall_with:8.2f} {rss_with / 1024:13.0f}")
print(f"{'added':24} {added_wall:8.2f} {added_mb:13.0f}   target <= 2 s, <= 100 MB: {verdict}")
print(f"ground truth: {'agrees' if ok and not fired else 'DISAGREES'}")
EOF
