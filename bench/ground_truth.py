#!/usr/bin/env python3
"""Compares an iam-auditor run on a generated snapshot with the generator's ground truth.

  ground_truth.py SNAPSHOT EXPECTED FINDINGS [--min 0.99] [--json FILE]

SNAPSHOT is DIR/snapshot and EXPECTED is DIR/expected as written by
shared/bench/gen_org_snapshot.py --out DIR; FINDINGS is the run's findings.json or its --out
folder. The run must judge ages against the generator's NOW (`--as-of`, default
2024-06-01T00:00:00Z) with the default thresholds. Python 3.11 stdlib only.

For each mapped check it prints expected, found, matched, recall and precision over every
account that has an EXPECTED/<account>.json, then the must-not-find hits. Exit status: 0 when
every recall and precision is at least --min and nothing must-not-find was found; 1 otherwise.

The mapping (generator category -> finding; `E[c]` is expected.json entities[c], `keyed` means
the finding is compared by resource_arn unless stated):

  admin-access, severity high    (admin_principals | S) minus principals carrying a
                                 PermissionsBoundary. S = the principals_privesc that can grant
                                 themselves admin: holders of IAMFullAccess, or of a privesc
                                 policy (details.privesc_methods[policy arn]) whose method is
                                 CreateNewPolicyVersion (any principal), AttachUserPolicy (users)
                                 or PutRolePolicy (roles). DESIGN.md counts "the power to grant
                                 itself *" as admin.
  admin-access, severity info    (admin_principals | S) & principals with a PermissionsBoundary
                                 ("capped by boundary": admin_principals_with_boundary + capped S)
  full-admin-policy              (policies_customer_admin_star | policies_customer_admin_notaction)
                                 with AttachmentCount > 0, plus inline_admin_policies; a finding is
                                 keyed resource_arn + "#" + evidence.policy_name when it has one
  wide-trust                     roles_trust_any_principal_unconditioned
  external-trust                 roles_trust_external_account
  external-trust, no ExternalId  roles_trust_external_account_no_externalid, against the
                                 external-trust findings with evidence.external_id_missing true
  oidc-trust-unscoped            roles_github_oidc_without_sub
  unused-user                    users_unused_90d
  unused-role                    roles_unused_90d | (roles_never_used created more than 90 days
                                 before NOW); service-linked roles (/aws-service-role/) excluded
  stale-access-key               access_keys_active_older_90d, keyed
                                 resource_arn + "#access_key_" + evidence.access_key
  console-without-mfa            console_users_without_mfa
  root-mfa-disabled              root_mfa_disabled
  root-access-keys               root_access_keys_active

Must-not-find (decoys; counted as false positives above and listed on their own):
  wide-trust & roles_trust_any_principal_conditioned, oidc-trust-unscoped &
  roles_github_oidc_with_sub, full-admin-policy & details.decoy_policies, external-trust &
  roles_trust_org_account, admin-access & users_poweruser_via_group (unless expected admin).
"""
import argparse
import json
import os
import sys
from collections import defaultdict
from datetime import datetime, timedelta

UNUSED_DAYS = 90  # the default [thresholds] unused_days, the generator's 90-day categories
SELF_ESCALATION = {  # privesc method -> the principal kinds it lets grant themselves "*"
    "CreateNewPolicyVersion": {"user", "role"},
    "AttachUserPolicy": {"user"},
    "PutRolePolicy": {"role"},
}
IAM_FULL_ACCESS = "arn:aws:iam::aws:policy/IAMFullAccess"


def self_escalating(graph, entities, privesc_methods):
    """S: principals_privesc whose attached policy lets them grant themselves admin."""
    found = set()
    for kind, principals in (("user", graph.get("UserDetailList", [])), ("role", graph.get("RoleDetailList", []))):
        for principal in principals:
            if principal["Arn"] not in entities["principals_privesc"]:
                continue
            for attached in principal.get("AttachedManagedPolicies", []):
                arn = attached["PolicyArn"]
                if arn == IAM_FULL_ACCESS or kind in SELF_ESCALATION.get(privesc_methods.get(arn), ()):
                    found.add(principal["Arn"])
    return found


def expected_sets(expected, graph):
    """check row -> set of keys the run should report, and must-not-find name -> (check row, keys)."""
    E = defaultdict(set, {name: set(arns) for name, arns in expected["entities"].items()})
    details = expected["details"]
    now = datetime.fromisoformat(expected["now"])
    cut = now - timedelta(days=UNUSED_DAYS)
    principals = graph.get("UserDetailList", []) + graph.get("RoleDetailList", [])
    bounded = {p["Arn"] for p in principals if p.get("PermissionsBoundary")}
    admin = E["admin_principals"] | self_escalating(graph, E, details["privesc_methods"])
    attached = {p["Arn"] for p in graph.get("Policies", []) if p.get("AttachmentCount", 0) > 0}
    roles = {r["Arn"]: r for r in graph.get("RoleDetailList", [])}
    never_used_old = {a for a in E["roles_never_used"] if datetime.fromisoformat(roles[a]["CreateDate"]) < cut}
    service_linked = {a for a, r in roles.items() if r.get("Path", "/").startswith("/aws-service-role/")}
    rows = {
        "admin-access (high)": admin - bounded,
        "admin-access (info, capped)": admin & bounded,
        "full-admin-policy": ((E["policies_customer_admin_star"] | E["policies_customer_admin_notaction"]) & attached)
        | E["inline_admin_policies"],
        "wide-trust": E["roles_trust_any_principal_unconditioned"],
        "external-trust": E["roles_trust_external_account"],
        "external-trust (no ExternalId)": E["roles_trust_external_account_no_externalid"],
        "oidc-trust-unscoped": E["roles_github_oidc_without_sub"],
        "unused-user": E["users_unused_90d"],
        "unused-role": (E["roles_unused_90d"] | never_used_old) - service_linked,
        "stale-access-key": E["access_keys_active_older_90d"],
        "console-without-mfa": E["console_users_without_mfa"],
        "root-mfa-disabled": E["root_mfa_disabled"],
        "root-access-keys": E["root_access_keys_active"],
    }
    must_not = {
        "wide-trust & roles_trust_any_principal_conditioned": ("wide-trust", E["roles_trust_any_principal_conditioned"]),
        "oidc-trust-unscoped & roles_github_oidc_with_sub": ("oidc-trust-unscoped", E["roles_github_oidc_with_sub"]),
        "full-admin-policy & decoy_policies": ("full-admin-policy", set(details["decoy_policies"])),
        "external-trust & roles_trust_org_account": ("external-trust", E["roles_trust_org_account"]),
        "admin-access & users_poweruser_via_group": ("admin-access (any)", E["users_poweruser_via_group"] - admin),
    }
    return rows, must_not


def found_sets(findings):
    """check row -> set of keys, for one account's findings."""
    rows = defaultdict(set)
    for f in findings:
        check, arn, evidence = f["check"], f["resource_arn"], f.get("evidence") or {}
        if check == "admin-access":
            rows["admin-access (any)"].add(arn)
            if f["severity"] == "high":
                rows["admin-access (high)"].add(arn)
            elif f["severity"] == "info":
                rows["admin-access (info, capped)"].add(arn)
        elif check == "full-admin-policy":
            rows[check].add(arn + ("#" + evidence["policy_name"] if evidence.get("policy_name") else ""))
        elif check == "stale-access-key":
            rows[check].add(f"{arn}#access_key_{evidence.get('access_key')}")
        else:
            rows[check].add(arn)
            if check == "external-trust" and evidence.get("external_id_missing"):
                rows["external-trust (no ExternalId)"].add(arn)
    return rows


def load_findings(path):
    if os.path.isdir(path):
        path = os.path.join(path, "findings.json")
    with open(path) as f:
        report = json.load(f)
    by_account = defaultdict(list)
    for finding in report["findings"]:
        by_account[finding["account_id"]].append(finding)
    return by_account


def compare(snapshot, expected_dir, findings_path):
    """Totals per check row: [matched, found, expected], and must-not-find hits."""
    findings = load_findings(findings_path)
    totals, hits = {}, defaultdict(list)
    names = sorted(n for n in os.listdir(expected_dir) if n.endswith(".json"))
    if not names:
        sys.exit(f"ground_truth.py: no <account>.json in {expected_dir}: pass the generator's DIR/expected")
    for name in names:
        with open(os.path.join(expected_dir, name)) as f:
            expected = json.load(f)
        account = expected["account_id"]
        with open(os.path.join(snapshot, "accounts", account, "account-authorization-details.json")) as f:
            graph = json.load(f)
        rows, must_not = expected_sets(expected, graph)
        got = found_sets(findings.get(account, []))
        for row, want in rows.items():
            t = totals.setdefault(row, [0, 0, 0])
            t[0] += len(want & got[row])
            t[1] += len(got[row])
            t[2] += len(want)
        for label, (row, decoys) in must_not.items():
            hits[label] += sorted(decoys & got[row])
    return totals, hits


def ratio(part, whole):
    return part / whole if whole else 1.0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog="The mapping is in this script's docstring and in bench/README.md.")
    p.add_argument("snapshot", help="the generator's DIR/snapshot")
    p.add_argument("expected", help="the generator's DIR/expected")
    p.add_argument("findings", help="the run's findings.json, or its --out folder")
    p.add_argument("--min", type=float, default=0.99, help="lowest acceptable recall and precision (default 0.99)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    args = p.parse_args()

    totals, hits = compare(args.snapshot, args.expected, args.findings)
    print(f"{'check':32} {'expected':>9} {'found':>9} {'matched':>9} {'recall':>8} {'precision':>9}")
    failed, results = [], {}
    for row, (matched, found, expected) in totals.items():
        recall, precision = ratio(matched, expected), ratio(matched, found)
        results[row] = {"expected": expected, "found": found, "matched": matched,
                        "recall": recall, "precision": precision}
        low = recall < args.min or precision < args.min
        failed += [row] if low else []
        print(f"{row:32} {expected:9d} {found:9d} {matched:9d} {recall:8.4f} {precision:9.4f}{'  < --min' if low else ''}")
    print("\nmust-not-find (decoys the run must not report)")
    for label, arns in hits.items():
        print(f"  {label:58} {len(arns):5d}" + ("".join(f"\n      {a}" for a in arns[:10])))
        failed += [label] if arns else []
    worst_recall = min(r["recall"] for r in results.values())
    worst_precision = min(r["precision"] for r in results.values())
    print(f"\noverall: {len(results)} checks, min recall {worst_recall:.4f}, min precision {worst_precision:.4f}, "
          f"must-not-find hits {sum(len(a) for a in hits.values())}: {'FAIL ' + ', '.join(failed) if failed else 'PASS'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"checks": results, "must_not_find": hits, "min_recall": worst_recall,
                       "min_precision": worst_precision, "pass": not failed}, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
