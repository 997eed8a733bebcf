#!/bin/sh
# Rebuilds examples/demo-archive/: last week's run of the demo organization, filed the way the
# compliance archive files every run (SHA256SUMS last), so that the demo run has a previous run
# to compare with: what is new, what was fixed, and who gained or lost admin.
#
#     examples/make_demo_archive.sh
#
# Last week's organization is `python3 examples/make_demo_org.py --previous` (see its
# docstring for what differs). Run this after changing the generator or a check, and commit
# the result; tests/demo_org.rs fails when the committed run is not what this build makes.
set -eu
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 examples/make_demo_org.py --previous --out "$scratch/snapshot" >/dev/null
rm -rf examples/demo-archive
# No --out: the run is filed in the config's archive, examples/demo-archive/<run id>/.
cargo run --quiet -- run --snapshot "$scratch/snapshot" --config examples/demo-org.toml --no-mail >/dev/null 2>&1 || {
    code=$?
    # 3 (an account not audited) is the demo's normal outcome; anything else is a failure.
    [ "$code" -eq 3 ] || [ "$code" -eq 0 ] || { echo "make_demo_archive.sh: the run failed ($code)" >&2; exit "$code"; }
}
ls examples/demo-archive
