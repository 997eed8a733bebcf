#!/usr/bin/env python3
"""Compares an iam-auditor run on a generated organization with the generator's ground truth.

  ground_truth.py EXPECTED FINDINGS [--min 0.99] [--json FILE]

EXPECTED is DIR/expected as written by bench/gen_org.py --out DIR (one <account>.json each);
FINDINGS is the run's findings.json or its --out folder. The run must judge ages against the
generator's NOW (`--as-of`, by default 2024-06-01T00:00:00Z) with the default thresholds.
Python 3.11 standard library only.

Each expected file lists, by row, the keys a correct audit reports ("expected") and the
look-alikes it must not report in that row ("decoys"); bench/gen_org.py's docstring says what
each row means. A finding becomes a key as follows:

  admin-access          its resource ARN, in "admin-access (high)" or "admin-access (info,
                        capped)" by severity, and in "admin-access (any)" whatever the severity;
                        a potential path (evidence.potential, medium) is left out: it says
                        "may reach admin if the resource exists", not "is admin"
  full-admin-policy     the resource ARN, + "#" + evidence.policy_name for an inline policy
  stale-access-key      the resource ARN + "#access_key_" + evidence.access_key
  external-trust        the resource ARN, also in "external-trust (no ExternalId)" when
                        evidence.external_id_missing is true
  any other check       its resource ARN, in the row named by the check id

For every row it prints expected, found, matched, recall and precision over all accounts,
then the decoys that were reported. Exit status 0 when every recall and precision is at least
--min and no decoy was reported; 1 otherwise.
"""
import argparse
import json
import os
import sys
from collections import defaultdict


def found_rows(findings):
    """row -> keys, for one account's findings."""
    rows = defaultdict(set)
    for finding in findings:
        check, arn, evidence = finding["check"], finding["resource_arn"], finding.get("evidence") or {}
        if check == "admin-access" and evidence.get("potential") is True:
            continue  # "may reach admin if the resource exists": no claim of admin power
        if check == "admin-access":
            rows["admin-access (any)"].add(arn)
            severity = {"high": "admin-access (high)", "info": "admin-access (info, capped)"}.get(finding["severity"])
            if severity:
                rows[severity].add(arn)
        elif check == "full-admin-policy":
            rows[check].add(arn + ("#" + evidence["policy_name"] if evidence.get("policy_name") else ""))
        elif check == "stale-access-key":
            rows[check].add(f"{arn}#access_key_{evidence.get('access_key')}")
        else:
            rows[check].add(arn)
            if check == "external-trust" and evidence.get("external_id_missing"):
                rows["external-trust (no ExternalId)"].add(arn)
    return rows


def findings_by_account(path):
    if os.path.isdir(path):
        path = os.path.join(path, "findings.json")
    with open(path) as f:
        report = json.load(f)
    by_account = defaultdict(list)
    for finding in report["findings"]:
        by_account[finding["account_id"]].append(finding)
    return by_account


def compare(expected_dir, findings_path):
    """Totals per row ({expected, found, matched, missed}) and the decoys reported."""
    findings = findings_by_account(findings_path)
    names = sorted(n for n in os.listdir(expected_dir) if n.endswith(".json"))
    if not names:
        sys.exit(f"ground_truth.py: no <account>.json in {expected_dir}: pass bench/gen_org.py's DIR/expected")
    totals = defaultdict(lambda: {"expected": 0, "found": 0, "matched": 0, "missed": []})
    decoys_reported = []
    for name in names:
        with open(os.path.join(expected_dir, name)) as f:
            truth = json.load(f)
        if truth.get("schema") != "iam-auditor/ground-truth/v1":
            sys.exit(f"ground_truth.py: {name} is not a bench/gen_org.py ground truth file")
        got = found_rows(findings.get(truth["account_id"], []))
        for row, planted in truth["expected"].items():
            total = totals[row]
            total["expected"] += len(planted)
            total["found"] += len(got[row])
            total["matched"] += len(planted.keys() & got[row])
            total["missed"] += [f"{key} ({why})" for key, why in planted.items() if key not in got[row]]
        for row, decoys in truth["decoys"].items():
            decoys_reported += [f"{row}: {key} ({why})" for key, why in decoys.items() if key in got[row]]
    return dict(totals), decoys_reported


def ratio(part, whole):
    return part / whole if whole else 1.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="The rows are described in bench/gen_org.py and bench/README.md.")
    parser.add_argument("expected", help="bench/gen_org.py's DIR/expected")
    parser.add_argument("findings", help="the run's findings.json, or its --out folder")
    parser.add_argument("--min", type=float, default=0.99, help="lowest acceptable recall and precision (default 0.99)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args()

    totals, decoys_reported = compare(args.expected, args.findings)
    print(f"{'row':32} {'expected':>9} {'found':>9} {'matched':>9} {'recall':>8} {'precision':>9}")
    failed, results = [], {}
    for row, total in sorted(totals.items()):
        recall, precision = ratio(total["matched"], total["expected"]), ratio(total["matched"], total["found"])
        results[row] = {k: total[k] for k in ("expected", "found", "matched")} | {"recall": recall,
                                                                                   "precision": precision}
        low = recall < args.min or precision < args.min
        failed += [row] if low else []
        print(f"{row:32} {total['expected']:9d} {total['found']:9d} {total['matched']:9d} {recall:8.4f} "
              f"{precision:9.4f}{'  < --min' if low else ''}")
        for missed in total["missed"][:5] if low else []:
            print(f"      missed {missed}")
    print(f"\ndecoys reported (must be none): {len(decoys_reported)}")
    for decoy in decoys_reported[:20]:
        print(f"  {decoy}")
    failed += ["decoys"] if decoys_reported else []
    worst_recall = min(r["recall"] for r in results.values())
    worst_precision = min(r["precision"] for r in results.values())
    print(f"\noverall: {len(results)} rows, min recall {worst_recall:.4f}, min precision {worst_precision:.4f}, "
          f"decoys reported {len(decoys_reported)}: {'FAIL ' + ', '.join(failed) if failed else 'PASS'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": results, "decoys_reported": decoys_reported, "min_recall": worst_recall,
                       "min_precision": worst_precision, "pass": not failed}, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
