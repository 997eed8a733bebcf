#!/usr/bin/env python3
"""Writes a synthetic AWS Organization snapshot with planted problems and their ground truth.

  gen_org.py --out DIR [--accounts 3] [--users 200] [--roles 200] [--groups 20] [--policies 100]
             [--seed 1] [--now 2024-06-01T00:00:00+00:00] [--compact]
             [--identity-center [--ic-permission-sets 20] [--ic-users 5000] [--ic-groups 500]
                                [--ic-assignments 20000]]

Python 3.11 standard library only. The same arguments always give the same bytes. Each account
is generated, written and forgotten before the next one starts, so memory stays flat however
many accounts are asked for; an account's entities are streamed into its files one by one.

DIR/snapshot/ is a snapshot in the layout of docs/DESIGN.md (audit it with
`iam-auditor run --snapshot DIR/snapshot --as-of NOW`):

  manifest.json, organization/accounts.json, organization/scps.json (with AccountPaths),
  accounts/<id>/account-authorization-details.json   users, groups, roles, policies
  accounts/<id>/credential-report.csv                root row first
  accounts/<id>/password-policy.json                 none, weak or strong, by account
  accounts/<id>/account-summary.json

DIR/expected/<id>.json is the ground truth of one account (schema iam-auditor/ground-truth/v1):

  {"schema", "generator", "account_id", "account_name", "now",
   "expected": {ROW: {KEY: WHY}},    what a correct audit reports, every row present
   "decoys":   {ROW: {KEY: WHY}}}    look-alikes a correct audit must not report in ROW

A ROW is a check id, or a check id with a qualifier in parentheses. KEY is the finding's
resource ARN, with "#<policy name>" for an inline policy and "#access_key_<n>" for a key. WHY
says what was planted, for the reader of a mismatch. The rows, and the findings they stand for:

  admin-access (high)              users and roles that hold every action on every resource, or
                                   can grant it to themselves, with no boundary capping them
  admin-access (info, capped)      the same, capped by a permissions boundary without IAM
  admin-access (any)               (decoys only) any admin-access finding, whatever its severity
  full-admin-policy                attached customer policies and inline policies (of users,
                                   groups, roles) that grant every action, or all but a few
                                   non-IAM ones, on every resource
  wide-trust                       roles any AWS principal can assume
  external-trust                   roles trusting an account outside the organization
  external-trust (no ExternalId)   of those, the ones with no sts:ExternalId condition
  oidc-trust-unscoped              web-identity roles not pinned to one repository or
                                   service account
  unused-user, unused-role         no use in 90 days (never used and older than 90 days
                                   counts); service-linked roles are never reported
  stale-access-key                 active keys rotated more than 90 days ago
  multiple-active-keys             users with both keys active
  console-without-mfa              console password, no MFA device
  root-mfa-disabled, root-access-keys, root-recent-use (30 days), password-policy-weak
                                   (none, or shorter than 14 / reuse prevention under 24)

Thresholds are the tool's defaults. Every date is drawn at least 30 days away from a
threshold, so a finding never depends on how a boundary day is rounded. The SCPs are realistic
but never cap an administrator (the thresholds of capping are the boundary's, planted per
principal). Escalation that needs a second principal (iam:PassRole, sts:AssumeRole chains,
creating keys for someone else) is not planted, neither as truth nor as decoy.

--identity-center adds IAM Identity Center for the whole organization (the issue's bench:
--accounts 1000 with the defaults above), in DIR/snapshot/organization/identity-center/ (the
seven files of docs/DESIGN.md, AWS CLI shapes, as src/snapshot/identity_center.rs reads them):

  permission sets   3 admin-equivalent: AdministratorAccess (managed AdministratorAccess, PT8H),
                    PlatformAdmin (inline */*, PT12H), BreakGlassAdmin (managed
                    AdministratorAccess, PT1H); then ReadOnlyAccess (PT1H), PowerUserAccess
                    (PT4H), DeveloperAccess (PowerUserAccess, boundary: the customer managed
                    DeveloperBoundary every account has; PT8H), and team sets (ReadOnlyAccess plus
                    an inline policy on the team's resources, 1 to 12 h)
  people            --ic-users users; --ic-groups groups, each with 3 to 8 members but the 3
                    planted empty ones
  assignments       --ic-assignments in all, about 60 % to groups, spread over every account;
                    admin-equivalent sets get about 5 % of them. PowerUserAccess (no boundary)
                    is never assigned in the management account (there its sts:AssumeRole would
                    reach the members' OrganizationAccountAccessRole)
  roles             every (set, account) pair with an assignment is provisioned (AccountIds) and
                    its role AWSReservedSSO_<set>_<16 hex> is in that account's authorization
                    details (path /aws-reserved/sso.amazonaws.com/, the set's managed policies
                    attached, its inline policy as AwsSSOInlinePolicy, its boundary); these
                    replace the two fixed Identity Center roles of every account, and the
                    account's truth (expected/<id>.json) follows them: admin-access (high) for
                    the admin-equivalent sets' roles (and full-admin-policy for PlatformAdmin's
                    role#AwsSSOInlinePolicy), admin-access (any) decoys for the others
  drift (IC_DRIFT)  5 provisioned roles nobody is assigned on; 5 pairs whose role was deleted
                    from the account, one assignment each; 5 USER assignments to deleted users;
                    3 GROUP assignments to deleted groups; 3 to the empty groups. Drift never
                    touches an admin-equivalent set's assignments (but a role nobody is assigned
                    on may be one), so it changes no person's admin.

DIR/identity-center-truth.json (schema iam-auditor/ground-truth-identity-center/v1; beside
expected/, which bench/ground_truth.py reads and this file would confuse):

  {"schema", "generator", "now", "instance", "identity_store", "admin_permission_sets": [names],
   "counts":   {NAME: number},     sizes (users, groups, group_memberships, account_assignments,
                                   user_assignments, group_assignments, provisioned_pairs,
                                   sso_roles, admin_people, ...) and len() of every row below
   "expected": {ROW: {KEY: WHY}},  what a correct audit reports
   "decoys":   {ROW: {KEY: WHY}}}  look-alikes it must not report

  sso-admin-assignment               KEY "<account id>/<user id>": the person holds an
                                     admin-equivalent set on that account (directly or through
                                     a group) and its role exists; one per person per account
  long-session                       KEY the permission set ARN: admin-equivalent, session over
                                     4 h (decoys: sets over 4 h that are not admin-equivalent)
  drift (role without assignment)    KEY the role ARN
  drift (assignment without role), drift (deleted user), drift (deleted group),
  drift (empty group)                KEY "<account id>/<set name>/<USER|GROUP>/<principal id>"
  decoys: sso-admin-assignment       people admin on some account, on each account where they
                                     hold only sets that are not admin-equivalent
"""
import argparse
import base64
import csv
import hashlib
import json
import os
import random
import string
from datetime import datetime, timedelta

POLICY_VERSION = "2012-10-17"
DAY = timedelta(days=1)
THRESHOLD_DAYS = 90  # unused_days and key_max_age_days
ROOT_USE_DAYS = 30
MARGIN = 30  # no date falls within this many days of a threshold
EPOCH = datetime.fromisoformat("2015-06-01T00:00:00+00:00")

GITHUB = "token.actions.githubusercontent.com"
GITHUB_ORG = "acme-corp"
TEAMS = ("payments", "search", "ledger", "checkout", "identity", "mobile", "web", "billing", "growth", "infra", "ml")
SERVICES = ("ec2", "lambda", "ecs-tasks")
VENDOR_NAMES = ("observability", "scanner", "backup", "siem", "finops", "cspm")
PEOPLE = ("amara", "bruno", "chen", "dara", "emil", "fatima", "goran", "hana", "ivo", "jules", "kofi", "lena",
          "mateo", "nadia", "oskar", "pia", "quinn", "rosa", "sven", "tara", "uma", "viktor", "wen", "yara")

CREDENTIAL_COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active",
    *(f"access_key_{n}_{field}" for n in (1, 2)
      for field in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")),
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)

EXPECTED_ROWS = (
    "admin-access (high)", "admin-access (info, capped)", "full-admin-policy", "wide-trust", "external-trust",
    "external-trust (no ExternalId)", "oidc-trust-unscoped", "unused-user", "unused-role", "stale-access-key",
    "multiple-active-keys", "console-without-mfa", "root-mfa-disabled", "root-access-keys", "root-recent-use",
    "password-policy-weak",
)
DECOY_ROWS = ("admin-access (any)", "full-admin-policy", "wide-trust", "external-trust", "oidc-trust-unscoped",
              "unused-role", "stale-access-key", "console-without-mfa")

# Who each user is, as (kind, share of the users). At least one of each when there is room.
USER_KINDS = (
    ("admin-direct", 0.020), ("admin-group", 0.015), ("admin-group-inline", 0.006), ("admin-inline", 0.006),
    ("admin-customer", 0.010), ("self-put-policy", 0.005), ("iam-full-access", 0.005),
    ("edits-own-policy", 0.005), ("joins-admin-group", 0.004),
    ("poweruser", 0.050), ("fake-admin-name", 0.006), ("quarantined", 0.004), ("iam-reader", 0.010),
    ("self-put-wrong-path", 0.004),
)
ADMIN_USER_KINDS = {"admin-direct", "admin-group", "admin-group-inline", "admin-inline", "admin-customer",
                    "self-put-policy", "iam-full-access", "edits-own-policy", "joins-admin-group"}
ROLE_POWERS = (("admin-managed", 0.015), ("admin-inline", 0.006), ("admin-customer", 0.008),
               ("self-put-policy", 0.004), ("self-attach-policy", 0.004))
ROLE_TRUSTS = (
    ("anyone", 0.002), ("anyone-star", 0.001), ("anyone-external-id", 0.002),
    ("anyone-in-org", 0.003), ("anyone-in-account", 0.002),
    ("vendor-external-id", 0.006), ("vendor-bare", 0.004), ("vendor-role", 0.002),
    ("org-account", 0.030), ("own-account", 0.050),
    ("github-aud-only", 0.003), ("github-org-wildcard", 0.002), ("github-any-owner", 0.001),
    ("github-branch", 0.005), ("github-any-ref", 0.002), ("github-literal-star", 0.001),
    ("eks-no-sub", 0.002), ("eks-wildcard-sa", 0.001), ("eks-one-sa", 0.004),
)
# Trusts that let principals of the organization assume the role.
ADMITS_ORGANIZATION = {"anyone", "anyone-star", "anyone-external-id", "anyone-in-org", "anyone-in-account",
                       "org-account", "own-account"}
# Customer managed policies with a role in the ground truth, as (kind, share of the policies).
POLICY_KINDS = (("admin-star", 0.010), ("admin-notaction", 0.005), ("policy-editor", 0.010),
                ("fake-admin-name", 0.001), ("admin-old-version", 0.005), ("star-on-bucket", 0.005),
                ("admin-unattached", 0.005), ("poweruser-copy", 0.005))
SPECIAL_GROUPS = ("Administrators", "PlatformAdmins", "Developers", "ReadOnly")


def timestamp(moment):
    """As the AWS CLI prints it: 2024-06-01T00:00:00+00:00 (every moment here is whole seconds, UTC)."""
    return moment.isoformat()


def document(*statements):
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


EVERYTHING = document(allow("*"))
READ_ONLY_ACTIONS = [f"{service}:{verb}*" for service in ("cloudwatch", "dynamodb", "ec2", "iam", "lambda", "logs",
                                                         "rds", "s3", "sns", "sqs") for verb in ("Describe", "Get", "List")]
# AWS managed policies, with documents cut down to what decides their class.
AWS_MANAGED = {
    "AdministratorAccess": ("ANPAIWMBCKSKIEE64ZLYK", "v1", "/", EVERYTHING),
    "PowerUserAccess": ("ANPAJYRXTHIB4FOVS3ZXS", "v5", "/", document(
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
        allow(["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
               "organizations:DescribeOrganization", "account:ListRegions"]))),
    "ReadOnlyAccess": ("ANPAILL3HVNFSB6DCOWYQ", "v112", "/", document(allow(READ_ONLY_ACTIONS))),
    "IAMFullAccess": ("ANPAI7XKCFMBPM3QQRRVQ", "v2", "/", document(
        allow(["iam:*", "organizations:DescribeAccount", "organizations:DescribeOrganization",
               "organizations:ListRoots"]))),
    "AWSSupportServiceRolePolicy": ("ANPAJ7W6266ELXF5MISDS", "v30", "/aws-service-role/", document(
        allow(["support:*", "iam:GetAccountSummary", "ec2:DescribeRegions"]))),
}


def aws_policy_arn(name):
    return f"arn:aws:iam::aws:policy{AWS_MANAGED[name][2]}{name}"


class CredentialReport:
    """credential-report.csv, written a row at a time."""

    def __init__(self, file):
        self.writer = csv.writer(file, lineterminator="\n")
        self.writer.writerow(CREDENTIAL_COLUMNS)

    def writerow(self, row):
        self.writer.writerow([row[column] for column in CREDENTIAL_COLUMNS])


class Organization:
    """The accounts, the organization's ids and SCPs, and the outside accounts vendors use."""

    def __init__(self, args):
        rng = random.Random(f"{args.seed}/organization")
        ids = []
        while len(ids) < args.accounts + len(VENDOR_NAMES):
            candidate = f"{rng.randrange(10**11, 10**12)}"
            if candidate not in ids:
                ids.append(candidate)
        self.ids, self.vendors = ids[: args.accounts], ids[args.accounts:]
        self.management = self.ids[0]
        letters = string.ascii_lowercase + string.digits
        self.org_id = "o-" + "".join(rng.choices(letters, k=10))
        self.root_id = "r-" + "".join(rng.choices(letters, k=4))
        self.ous = {stage: f"ou-{self.root_id[2:]}-{''.join(rng.choices(letters, k=8))}"
                    for stage in ("prod", "staging", "dev", "sandbox")}
        self.accounts = []
        for index, account_id in enumerate(self.ids):
            stage = "management" if index == 0 else rng.choice(list(self.ous))
            name = "management" if index == 0 else f"{stage}-{rng.choice(TEAMS)}-{index}"
            joined = EPOCH - 400 * DAY + timedelta(seconds=rng.randrange(0, 3 * 365 * 86400))
            self.accounts.append({
                "Id": account_id,
                "Arn": f"arn:aws:organizations::{self.management}:account/{self.org_id}/{account_id}",
                "Email": f"aws+{name}@acme.example",
                "Name": name,
                "Status": "ACTIVE",
                "JoinedMethod": "INVITED" if index == 0 else "CREATED",
                "JoinedTimestamp": joined.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
                "_stage": stage,
            })

    def account_paths(self):
        return {a["Id"]: [self.root_id] + ([self.ous[a["_stage"]]] if a["_stage"] in self.ous else [])
                for a in self.accounts}

    def scps(self):
        """FullAWSAccess, and denials that never take away an administrator's power."""
        members = [{"TargetId": ou, "Type": "ORGANIZATIONAL_UNIT"} for ou in self.ous.values()]
        root = [{"TargetId": self.root_id, "Type": "ROOT"}]

        def policy(policy_id, name, description, statement, targets):
            return {"Id": policy_id, "Name": name, "Description": description,
                    "AwsManaged": policy_id == "p-FullAWSAccess", "Content": document(statement), "Targets": targets}

        return [
            policy("p-FullAWSAccess", "FullAWSAccess", "Allows access to every operation", allow("*"), root),
            policy("p-keepinorg", "KeepInOrganization", "Accounts cannot leave the organization",
                   {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}, root),
            policy("p-audittrail", "ProtectAuditTrail", "The organization trail stays on",
                   {"Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
                    "Resource": "*"}, members),
        ]


# --identity-center: the planted drift, as (kind, how many).
IC_DRIFT = (("role-without-assignment", 5), ("assignment-without-role", 5), ("deleted-user", 5),
            ("deleted-group", 3), ("empty-group", 3))
IC_LONG_SESSION_HOURS = 4
IC_SSO_PATH = "/aws-reserved/sso.amazonaws.com/"


class IdentityCenter:
    """--identity-center: IAM Identity Center for the whole organization, planned before any
    account is written (each account's AWSReservedSSO roles follow from it), written to
    snapshot/organization/identity-center/, with its truth in OUT/identity-center-truth.json.

    Permission sets: three admin-equivalent (AdministratorAccess and BreakGlassAdmin attach
    AdministratorAccess, PlatformAdmin holds an inline */*), ReadOnlyAccess, PowerUserAccess,
    DeveloperAccess (PowerUserAccess capped by the DeveloperBoundary customer managed policy every
    account has), and team sets (ReadOnlyAccess plus an inline policy on the team's resources).
    Sets holding PowerUserAccess without a boundary are never assigned in the management account
    (there sts:AssumeRole would reach the members' OrganizationAccountAccessRole). Assignments:
    GROUP and USER principals, spread over every account; each group but the planted empty ones
    has 3 to 8 members. Every (set, account) pair with an assignment is provisioned (AccountIds)
    and has its role, but the planted drift (IC_DRIFT)."""

    def __init__(self, args, org):
        self.args, self.org = args, org
        rng = self.rng = random.Random(f"{args.seed}/identity-center")
        self.now = datetime.fromisoformat(args.now)
        hexits = lambda n: "".join(rng.choices("0123456789abcdef", k=n))
        self.instance = "ssoins-" + hexits(16)
        self.store = "d-" + hexits(10)
        self.sets = self.plan_sets(hexits)
        self.by_name = {ps["Name"]: ps for ps in self.sets}
        self.plan_people()
        self.plan_assignments()

    # -- planning ---------------------------------------------------------------------------
    def plan_sets(self, hexits):
        count = self.args.ic_permission_sets
        templates = [
            ("AdministratorAccess", "admin", ["AdministratorAccess"], None, False, "PT8H", 30),
            ("PlatformAdmin", "admin", [], EVERYTHING, False, "PT12H", 15),
            ("BreakGlassAdmin", "admin", ["AdministratorAccess"], None, False, "PT1H", 5),
            ("ReadOnlyAccess", "other", ["ReadOnlyAccess"], None, False, "PT1H", 250),
            ("PowerUserAccess", "power", ["PowerUserAccess"], None, False, "PT4H", 100),
            ("DeveloperAccess", "power-bounded", ["PowerUserAccess"], None, True, "PT8H", 150),
        ]
        for k in range(count - len(templates)):
            team = TEAMS[k % len(TEAMS)]
            suffix = ("Developer", "Operator", "Analyst")[(k // len(TEAMS)) % 3]
            lap = k // (3 * len(TEAMS))
            name = f"{team.capitalize()}{suffix}" + (str(lap + 1) if lap else "")
            inline = document(
                allow(["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [f"arn:aws:s3:::{team}-*", f"arn:aws:s3:::{team}-*/*"]),
                allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], f"arn:aws:dynamodb:*:*:table/{team}-*"),
                allow(["logs:FilterLogEvents", "logs:GetLogEvents"], f"arn:aws:logs:*:*:log-group:/{team}/*"))
            templates.append((name, "other", ["ReadOnlyAccess"], inline, False,
                              self.rng.choice(("PT1H", "PT2H", "PT4H", "PT8H", "PT12H")), 450 / max(1, count - 6)))
        sets, created = [], EPOCH + 500 * DAY
        for name, kind, managed, inline, bounded, duration, weight in templates[:count]:
            entry = {"Name": name, "PermissionSetArn": f"arn:aws:sso:::permissionSet/{self.instance}/ps-{hexits(16)}",
                     "Description": f"{name} ({kind})", "CreatedDate": timestamp(created), "SessionDuration": duration,
                     "AttachedManagedPolicies": [{"Name": m, "Arn": aws_policy_arn(m)} for m in managed],
                     "CustomerManagedPolicyReferences": []}
            if inline:
                entry["InlinePolicy"] = inline
            if bounded:
                entry["PermissionsBoundary"] = {"CustomerManagedPolicyReference": {"Name": "DeveloperBoundary",
                                                                                   "Path": "/"}}
            entry.update(AccountIds=[], _kind=kind, _managed=managed, _weight=weight)
            sets.append(entry)
            created += 3 * DAY
        return sets

    def plan_people(self):
        rng, args = self.rng, self.args
        self.users = []
        for i in range(args.ic_users):
            given, family = rng.choice(PEOPLE), rng.choice(PEOPLE)
            name = f"{given}.{family}.{i}@acme.example"
            self.users.append({"UserName": name, "UserId": self.new_id(),
                               "Name": {"FamilyName": family.capitalize(), "GivenName": given.capitalize()},
                               "DisplayName": f"{given.capitalize()} {family.capitalize()}",
                               "Emails": [{"Value": name, "Type": "work", "Primary": True}],
                               "IdentityStoreId": self.store})
        drift = dict(IC_DRIFT)
        self.groups, self.members = [], {}
        for i in range(args.ic_groups):
            name = f"{rng.choice(TEAMS)}-{rng.choice(('admins', 'developers', 'operators', 'analysts', 'oncall'))}-{i}"
            group = {"GroupId": self.new_id(), "DisplayName": name, "Description": f"team group {i}",
                     "IdentityStoreId": self.store}
            self.groups.append(group)
            empty = i < drift["empty-group"]
            self.members[group["GroupId"]] = [] if empty else [
                u["UserId"] for u in rng.sample(self.users, min(len(self.users), rng.randint(3, 8)))]
        self.empty_groups = [g["GroupId"] for g in self.groups[: drift["empty-group"]]]
        self.full_groups = [g["GroupId"] for g in self.groups[drift["empty-group"]:]]

    def new_id(self):
        return f"{self.store[2:]}-{uuid_from(self.rng)}"

    def plan_assignments(self):
        """Normal assignments first; then the drift, on pairs of its own."""
        rng, args = self.rng, self.args
        accounts, management = self.org.ids, self.org.management
        drift = dict(IC_DRIFT)
        weights = [ps["_weight"] for ps in self.sets]
        ordinary = [ps for ps in self.sets if ps["_kind"] in ("other", "power-bounded")]
        # Pairs set aside first, each kept free of other assignments: provisioned pairs nobody is
        # assigned on (their role stays), and pairs of a set that is not admin-equivalent whose
        # role was deleted from the account (one assignment each).
        possible = len(accounts) * len(ordinary)
        self.orphan_pairs, self.missing_pairs = set(), set()
        while len(self.orphan_pairs) < min(drift["role-without-assignment"], possible // 4):
            ps, account = rng.choice(self.sets), rng.choice(accounts)
            if not (ps["_kind"] == "power" and account == management):
                self.orphan_pairs.add((account, ps["Name"]))
        while len(self.missing_pairs) < min(drift["assignment-without-role"], possible // 4):
            pair = (rng.choice(accounts), rng.choice(ordinary)["Name"])
            if pair not in self.orphan_pairs:
                self.missing_pairs.add(pair)
        reserved = self.orphan_pairs | self.missing_pairs

        def principal():
            if rng.random() < 0.6 and self.full_groups:
                return "GROUP", rng.choice(self.full_groups)
            return "USER", rng.choice(self.users)["UserId"]
        seen, self.assignments = set(), []  # (account, set name, type, principal id)
        for account, name in sorted(self.missing_pairs):
            key = (account, name, *principal())
            seen.add(key)
            self.assignments.append(key)
        drift_assignments = drift["deleted-user"] + drift["deleted-group"] + drift["empty-group"]
        normal_count = max(0, args.ic_assignments - drift_assignments)
        attempts = 0
        while len(self.assignments) < normal_count and attempts < 20 * normal_count + 1000:
            attempts += 1
            ps = rng.choices(self.sets, weights)[0]
            account = rng.choice(accounts)
            if (ps["_kind"] == "power" and account == management) or (account, ps["Name"]) in reserved:
                continue
            key = (account, ps["Name"], *principal())
            if key not in seen:
                seen.add(key)
                self.assignments.append(key)
        # Drift principals, on pairs that keep their role, never admin-equivalent.

        def drift_key(kind, principal):
            for _ in range(100000):  # a free pair; there are many unless the organization is tiny
                ps, account = rng.choice(ordinary), rng.choice(accounts)
                key = (account, ps["Name"], kind, principal)
                if (account, ps["Name"]) not in reserved and key not in seen:
                    seen.add(key)
                    return key
            raise SystemExit("gen_org.py: no room for the Identity Center drift; ask for more accounts or sets")
        self.deleted_users = [self.new_id() for _ in range(drift["deleted-user"])]
        self.deleted_groups = [self.new_id() for _ in range(drift["deleted-group"])]
        self.drift_assignments = {
            "deleted-user": [drift_key("USER", u) for u in self.deleted_users],
            "deleted-group": [drift_key("GROUP", g) for g in self.deleted_groups],
            "empty-group": [drift_key("GROUP", g) for g in self.empty_groups],
        }
        for keys in self.drift_assignments.values():
            self.assignments.extend(keys)
        assigned_pairs = {(a, n) for a, n, _, _ in self.assignments}
        self.provisioned = assigned_pairs | self.orphan_pairs
        self.roles_by_account = {}
        for account, name in sorted(self.provisioned):
            self.by_name[name]["AccountIds"].append(account)
            if (account, name) not in self.missing_pairs:
                self.roles_by_account.setdefault(account, []).append(name)
        for ps in self.sets:
            ps["AccountIds"].sort(key=accounts.index)
        self.assignments.sort(key=lambda k: (accounts.index(k[0]), k[1], k[2], k[3]))

    # -- what accounts ask ----------------------------------------------------------------
    def roles_in(self, account):
        return [self.by_name[name] for name in self.roles_by_account.get(account, [])]

    def role_suffix(self, name, account):
        return hashlib.sha256(f"{self.args.seed}/{name}/{account}".encode()).hexdigest()[:16]

    def role_arn(self, name, account):
        return f"arn:aws:iam::{account}:role{IC_SSO_PATH}AWSReservedSSO_{name}_{self.role_suffix(name, account)}"

    # -- writing ----------------------------------------------------------------------------
    def write(self, snapshot, out, indent):
        folder = os.path.join(snapshot, "organization", "identity-center")
        os.makedirs(folder, exist_ok=True)
        arn_of = {ps["Name"]: ps["PermissionSetArn"] for ps in self.sets}
        memberships = [{"IdentityStoreId": self.store, "MembershipId": f"{self.store[2:]}-{uuid_from(self.rng)}",
                        "GroupId": group, "MemberId": {"UserId": user}}
                       for group in self.full_groups for user in self.members[group]]
        files = {
            "status.json": {"Collected": True},
            "instances.json": {"Instances": [{"InstanceArn": f"arn:aws:sso:::instance/{self.instance}",
                                              "IdentityStoreId": self.store, "OwnerAccountId": self.org.management,
                                              "Name": "acme", "Status": "ACTIVE"}]},
            "permission-sets.json": {"PermissionSets": [{k: v for k, v in ps.items() if not k.startswith("_")}
                                                         for ps in self.sets]},
            "account-assignments.json": {"AccountAssignments": [
                {"AccountId": a, "PermissionSetArn": arn_of[n], "PrincipalType": t, "PrincipalId": p}
                for a, n, t, p in self.assignments]},
            "users.json": {"Users": self.users},
            "groups.json": {"Groups": self.groups},
            "group-memberships.json": {"GroupMemberships": memberships},
        }
        for name, value in files.items():
            with open(os.path.join(folder, name), "w") as f:
                json.dump(value, f, indent=indent, ensure_ascii=False)
                f.write("\n")
        truth = self.truth(len(memberships))
        with open(os.path.join(out, "identity-center-truth.json"), "w") as f:
            json.dump(truth, f, indent=1, sort_keys=True)
            f.write("\n")
        return truth["counts"]

    def truth(self, membership_count):
        """What a correct audit of Identity Center reports, and the look-alikes it must not."""
        user_names = {u["UserId"]: u["UserName"] for u in self.users}
        group_names = {g["GroupId"]: g["DisplayName"] for g in self.groups}
        admin, other = {}, {}  # (account, user id) -> [why]
        for account, name, kind, principal in self.assignments:
            if (account, name) in self.missing_pairs:
                continue
            if kind == "USER":
                people, via = ([principal] if principal in user_names else []), "direct"
            else:
                people, via = self.members.get(principal, []), f"group {group_names.get(principal)}"
            target = admin if self.by_name[name]["_kind"] == "admin" else other
            for person in people:
                target.setdefault((account, person), []).append(f"{name} ({via})")
        admin_people = {person for _, person in admin}
        expected = {
            "sso-admin-assignment": {f"{a}/{p}": f"{user_names[p]}: " + "; ".join(sorted(why))
                                     for (a, p), why in sorted(admin.items())},
            "long-session": {ps["PermissionSetArn"]: f"{ps['Name']}: admin-equivalent, {ps['SessionDuration']}"
                             for ps in self.sets if ps["_kind"] == "admin" and hours(ps["SessionDuration"]) >
                             IC_LONG_SESSION_HOURS},
            "drift (role without assignment)": {
                self.role_arn(n, a): f"{n} provisioned to {a}, nobody assigned" for a, n in sorted(self.orphan_pairs)},
            "drift (assignment without role)": {
                f"{a}/{n}/{t}/{p}": f"{n} on {a}: its role was deleted from the account"
                for a, n, t, p in self.assignments if (a, n) in self.missing_pairs},
            "drift (deleted user)": {f"{a}/{n}/{t}/{p}": "user not in users.json"
                                     for a, n, t, p in self.drift_assignments["deleted-user"]},
            "drift (deleted group)": {f"{a}/{n}/{t}/{p}": "group not in groups.json"
                                      for a, n, t, p in self.drift_assignments["deleted-group"]},
            "drift (empty group)": {f"{a}/{n}/{t}/{p}": f"group {group_names[p]} has no members"
                                    for a, n, t, p in self.drift_assignments["empty-group"]},
        }
        decoys = {
            # People admin on some account, on the accounts where they hold only other sets.
            "sso-admin-assignment": {f"{a}/{p}": f"{user_names[p]}: only " + "; ".join(sorted(why))
                                     for (a, p), why in sorted(other.items())
                                     if p in admin_people and (a, p) not in admin},
            "long-session": {ps["PermissionSetArn"]: f"{ps['Name']}: {ps['SessionDuration']}, not admin-equivalent"
                             for ps in self.sets if ps["_kind"] != "admin"
                             and hours(ps["SessionDuration"]) > IC_LONG_SESSION_HOURS},
        }
        users_assigned = sum(1 for a in self.assignments if a[2] == "USER")
        counts = {
            "accounts": len(self.org.ids), "permission_sets": len(self.sets),
            "admin_permission_sets": sum(ps["_kind"] == "admin" for ps in self.sets),
            "users": len(self.users), "groups": len(self.groups), "group_memberships": membership_count,
            "account_assignments": len(self.assignments), "user_assignments": users_assigned,
            "group_assignments": len(self.assignments) - users_assigned,
            "provisioned_pairs": len(self.provisioned), "sso_roles": len(self.provisioned) - len(self.missing_pairs),
            "admin_people": len(admin_people), "missing_role_pairs": len(self.missing_pairs),
            **{row: len(keys) for row, keys in expected.items()},
            **{f"{row} (decoys)": len(keys) for row, keys in decoys.items()},
        }
        return {"schema": "iam-auditor/ground-truth-identity-center/v1", "generator": "bench/gen_org.py",
                "now": timestamp(self.now), "instance": self.instance, "identity_store": self.store,
                "admin_permission_sets": [ps["Name"] for ps in self.sets if ps["_kind"] == "admin"],
                "counts": counts, "expected": expected, "decoys": decoys}


def uuid_from(rng):
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hours(duration):
    """An ISO 8601 duration of hours and minutes (PT8H, PT1H30M) in hours."""
    body, total = duration.removeprefix("PT"), 0.0
    for unit, scale in (("H", 1), ("M", 1 / 60), ("S", 1 / 3600)):
        if unit in body:
            value, body = body.split(unit, 1)
            total += float(value) * scale
    return total


class Account:
    """One account: plans its principals, streams them to disk and records the truth."""

    def __init__(self, args, org, index, identity_center=None):
        self.args, self.org, self.index = args, org, index
        self.ic = identity_center
        self.reaches_members = {}  # management-account users with sts:AssumeRole, settled per user
        self.id = org.ids[index]
        self.name = org.accounts[index]["Name"]
        self.now = datetime.fromisoformat(args.now)
        self.rng = random.Random(f"{args.seed}/account/{self.id}")
        self.expected = {row: {} for row in EXPECTED_ROWS}
        self.decoys = {row: {} for row in DECOY_ROWS}
        self.attachments = {}  # policy ARN -> number of users, groups and roles it is attached to
        self.indent = None if args.compact else 4

    # -- small helpers ------------------------------------------------------------------
    def arn(self, kind, name, path="/"):
        return f"arn:aws:iam::{self.id}:{kind}{path}{name}"

    def unique_id(self, prefix):
        """An IAM unique id: the prefix and 17 characters of A-Z and 2-7."""
        return prefix + base64.b32encode(self.rng.getrandbits(88).to_bytes(11, "big")).decode()[:17]

    def recent(self, after=None):
        """A moment in the last 60 days (and after `after`)."""
        low = max(self.now - (THRESHOLD_DAYS - MARGIN) * DAY, after or EPOCH)
        span = max(0, int((self.now - low).total_seconds()) - 3600)
        return low + timedelta(seconds=int(self.rng.random() * span))

    def long_ago(self, after=None):
        """A moment more than 120 days ago (and after `after`, which must allow it)."""
        high = self.now - (THRESHOLD_DAYS + MARGIN) * DAY
        low = after or EPOCH
        return low + timedelta(seconds=int(self.rng.random() * max(0, int((high - low).total_seconds()))))

    def slots(self, count, kinds):
        """`count` kinds: each listed kind its share (at least one while room lasts), the rest "normal"."""
        plan = [kind for kind, share in kinds for _ in range(max(1, round(share * count)))][:count]
        plan += ["normal"] * (count - len(plan))
        self.rng.shuffle(plan)
        return plan

    def attach(self, entity, policy_name, policy_arn):
        entity["AttachedManagedPolicies"].append({"PolicyName": policy_name, "PolicyArn": policy_arn})
        self.attachments[policy_arn] = self.attachments.get(policy_arn, 0) + 1

    def expect(self, row, key, why):
        self.expected[row][key] = why

    def decoy(self, row, key, why):
        self.decoys[row][key] = why

    def power_user(self, arn, why):
        """Every action but IAM is not admin, except that it includes sts:AssumeRole: in the
        management account that reaches every member account's OrganizationAccountAccessRole
        (AdministratorAccess, trusting the management account)."""
        if self.index == 0 and len(self.org.ids) > 1:
            # Settled in admin_verdict: a boundary without sts (DeveloperBoundary) stops it.
            self.reaches_members[arn] = why
        else:
            self.decoy("admin-access (any)", arn, why + ": no IAM")

    def scoped_document(self):
        """Least-privilege work: named actions on named resources of this account."""
        team, number, region = self.rng.choice(TEAMS), self.rng.randrange(1, 60), self.rng.choice(
            ("us-east-1", "eu-west-1", "eu-central-1"))
        choices = [
            allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{team}-{number}-{self.id}/*"),
            allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                  f"arn:aws:dynamodb:{region}:{self.id}:table/{team}-{number}"),
            allow(["sqs:SendMessage", "sqs:ReceiveMessage"], f"arn:aws:sqs:{region}:{self.id}:{team}-{number}"),
            allow("logs:PutLogEvents", f"arn:aws:logs:{region}:{self.id}:log-group:/{team}/{number}:*"),
            allow(["ec2:DescribeInstances", "cloudwatch:GetMetricData"]),
        ]
        return document(*self.rng.sample(choices, self.rng.randrange(1, 3)))

    # -- customer managed policies and groups (planned first, written last) -------------
    def plan_policies(self):
        count = max(self.args.policies, len(POLICY_KINDS) + 4)
        self.policies = []  # (kind, name, path, [documents, default last])
        for i, kind in enumerate(self.slots(count - 1, POLICY_KINDS)):
            team = self.rng.choice(TEAMS)
            name, path, documents = {
                "admin-star": (f"{team}-admin-{i}", "/", [EVERYTHING]),
                "admin-notaction": (f"{team}-all-but-billing-{i}", "/", [document(
                    {"Effect": "Allow", "NotAction": ["aws-portal:*", "budgets:*", "ce:*"], "Resource": "*"})]),
                "policy-editor": (f"{team}-policy-editor-{i}", "/", [document(
                    allow(["iam:CreatePolicyVersion", "iam:GetPolicy", "iam:GetPolicyVersion",
                           "iam:ListPolicyVersions"]))]),
                "fake-admin-name": ("AdministratorAccess", f"/legacy-{i}/", [document(
                    allow(["ec2:Describe*", "s3:ListAllMyBuckets", "cloudwatch:GetMetricData"]))]),
                "admin-old-version": (f"{team}-ops-{i}", "/", [EVERYTHING, self.scoped_document()]),
                "star-on-bucket": (f"{team}-bucket-owner-{i}", "/", [document(allow(
                    "*", [f"arn:aws:s3:::{team}-{i}-{self.id}", f"arn:aws:s3:::{team}-{i}-{self.id}/*"]))]),
                "admin-unattached": (f"{team}-unused-admin-{i}", "/", [EVERYTHING]),
                "poweruser-copy": (f"{team}-power-user-{i}", "/", [document(
                    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"})]),
                "normal": (f"{team}-service-{i}", "/", [self.scoped_document()]),
            }[kind]
            self.policies.append((kind, name, path, documents))
        self.boundary_arn = self.arn("policy", "DeveloperBoundary")
        self.policies.append(("boundary", "DeveloperBoundary", "/", [document(
            allow(["s3:*", "dynamodb:*", "sqs:*", "logs:*", "cloudwatch:*", "ec2:Describe*"]))]))
        self.by_kind = {}
        for kind, name, path, _ in self.policies:
            self.by_kind.setdefault(kind, []).append((name, self.arn("policy", name, path)))

    def pick(self, kind):
        return self.rng.choice(self.by_kind[kind])

    def make_groups(self):
        count = max(self.args.groups, len(SPECIAL_GROUPS) + 1)
        self.team_groups = []
        for i in range(count):
            name = SPECIAL_GROUPS[i] if i < len(SPECIAL_GROUPS) else f"{self.rng.choice(TEAMS)}-team-{i}"
            group = {"Path": "/", "GroupName": name, "GroupId": self.unique_id("AGPA"),
                     "Arn": self.arn("group", name), "CreateDate": timestamp(self.long_ago()),
                     "GroupPolicyList": [], "AttachedManagedPolicies": []}
            if name == "Administrators":
                self.attach(group, "AdministratorAccess", aws_policy_arn("AdministratorAccess"))
            elif name == "PlatformAdmins":
                group["GroupPolicyList"].append({"PolicyName": "platform-everything", "PolicyDocument": EVERYTHING})
                self.expect("full-admin-policy", group["Arn"] + "#platform-everything", "group inline */*")
            elif name == "Developers":
                self.attach(group, "PowerUserAccess", aws_policy_arn("PowerUserAccess"))
            elif name == "ReadOnly":
                self.attach(group, "ReadOnlyAccess", aws_policy_arn("ReadOnlyAccess"))
            else:
                self.attach(group, *self.pick("normal"))
                self.team_groups.append(name)
            yield group

    # -- users and the credential report ------------------------------------------------
    def grant_user(self, user, kind):
        """What `kind` means for the user's policies; returns why it is admin, or None."""
        arn = user["Arn"]
        if kind == "admin-direct":
            self.attach(user, "AdministratorAccess", aws_policy_arn("AdministratorAccess"))
            return "AdministratorAccess attached"
        if kind == "admin-group":
            user["GroupList"].append("Administrators")
            return "member of Administrators (AdministratorAccess)"
        if kind == "admin-group-inline":
            user["GroupList"].append("PlatformAdmins")
            return "member of PlatformAdmins (group inline */*)"
        if kind == "admin-inline":
            user["UserPolicyList"].append({"PolicyName": "break-glass", "PolicyDocument": EVERYTHING})
            self.expect("full-admin-policy", arn + "#break-glass", "user inline */*")
            return "inline */*"
        if kind == "admin-customer":
            name, policy_arn = self.pick(self.rng.choice(("admin-star", "admin-notaction")))
            self.attach(user, name, policy_arn)
            return f"customer policy {name} (every action, or all but billing)"
        if kind == "self-put-policy":
            # A user's ARN holds its path: the grant must name it to reach the user itself.
            user["UserPolicyList"].append({"PolicyName": "self-service", "PolicyDocument": document(
                allow(["iam:PutUserPolicy", "iam:GetUserPolicy"], self.arn("user", "${aws:username}", user["Path"])))})
            return "can put an inline policy on itself (iam:PutUserPolicy on ${aws:username})"
        if kind == "iam-full-access":
            self.attach(user, "IAMFullAccess", aws_policy_arn("IAMFullAccess"))
            return "IAMFullAccess: can grant itself anything"
        if kind == "edits-own-policy":
            name, policy_arn = self.pick("policy-editor")
            self.attach(user, name, policy_arn)
            return f"can publish a new default version of its own policy {name}"
        if kind == "joins-admin-group":
            user["UserPolicyList"].append({"PolicyName": "group-self-service", "PolicyDocument": document(
                allow("iam:AddUserToGroup", self.arn("group", "Administrators")))})
            return "can add itself to Administrators"
        if kind == "poweruser":
            user["GroupList"].append("Developers")
            self.power_user(arn, "PowerUserAccess via Developers")
        elif kind == "fake-admin-name":
            name, policy_arn = self.pick("fake-admin-name")
            self.attach(user, name, policy_arn)
            self.decoy("admin-access (any)", arn, "customer policy named AdministratorAccess, read-only")
        elif kind == "quarantined":
            self.attach(user, "AdministratorAccess", aws_policy_arn("AdministratorAccess"))
            user["UserPolicyList"].append({"PolicyName": "quarantine", "PolicyDocument": document(
                {"Effect": "Deny", "Action": "*", "Resource": "*"})})
            self.decoy("admin-access (any)", arn, "AdministratorAccess cancelled by an inline Deny */*")
        elif kind == "self-put-wrong-path":
            # user/${aws:username} names only users at path /; this one lives elsewhere, so the
            # grant reaches no user at all (AWS compares the whole ARN, path included).
            other = "/" if user["Path"] != "/" else "/elsewhere/"
            user["UserPolicyList"].append({"PolicyName": "self-service", "PolicyDocument": document(
                allow(["iam:PutUserPolicy", "iam:GetUserPolicy"], self.arn("user", "${aws:username}", other)))})
            self.decoy("admin-access (any)", arn, "PutUserPolicy on user" + other + "${aws:username}: not its own ARN")
        elif kind == "iam-reader":
            user["UserPolicyList"].append({"PolicyName": "iam-read", "PolicyDocument": document(
                allow(["iam:Get*", "iam:List*", "iam:GenerateCredentialReport"]))})
            self.decoy("admin-access (any)", arn, "reads IAM, changes nothing")
        else:
            self.grant_normal(user, "UserPolicyList")
            if self.team_groups and self.rng.random() < 0.7:
                user["GroupList"].append(self.rng.choice(self.team_groups))
            if self.rng.random() < 0.2:
                user["GroupList"].append("ReadOnly")
            if self.rng.random() < 0.04:
                name, policy_arn = self.pick("poweruser-copy")
                self.attach(user, name, policy_arn)
                self.power_user(arn, f"{name}: every action but IAM")
        return None

    def grant_normal(self, entity, inline_list):
        """Scoped policies, and now and then a decoy policy that only looks like admin."""
        if self.rng.random() < 0.4:
            self.attach(entity, *self.pick("normal"))
        if self.rng.random() < 0.15:
            entity[inline_list].append({"PolicyName": "scoped-access", "PolicyDocument": self.scoped_document()})
        if self.rng.random() < 0.05:
            self.attach(entity, *self.pick(self.rng.choice(("admin-old-version", "star-on-bucket"))))

    def admin_verdict(self, entity, why):
        """Records an admin principal, capped or not; a boundary without IAM caps it."""
        if why is None:
            bounded = self.rng.random() < 0.04
            if bounded:
                entity["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                                 "PermissionsBoundaryArn": self.boundary_arn}
                self.boundary_uses += 1
            power_user = self.reaches_members.pop(entity["Arn"], None)
            if power_user and bounded:
                self.decoy("admin-access (any)", entity["Arn"], power_user + ", capped by DeveloperBoundary (no sts)")
            elif power_user:
                self.expect("admin-access (high)", entity["Arn"], power_user + ", and sts:AssumeRole into the "
                            "member accounts' OrganizationAccountAccessRole")
            return
        if self.rng.random() < 0.25:
            entity["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                             "PermissionsBoundaryArn": self.boundary_arn}
            self.boundary_uses += 1
            self.expect("admin-access (info, capped)", entity["Arn"], why + ", capped by DeveloperBoundary")
        else:
            self.expect("admin-access (high)", entity["Arn"], why)

    def credentials(self, user, created):
        """The user's credential report row, and the hygiene truth that follows from it."""
        rng, arn = self.rng, user["Arn"]
        human = "/people/" in user["Path"]
        row = dict.fromkeys(CREDENTIAL_COLUMNS, "N/A")
        row.update(user=user["UserName"], arn=arn, user_creation_time=timestamp(created),
                   cert_1_active="false", cert_2_active="false")
        old_enough = created < self.now - (THRESHOLD_DAYS + MARGIN) * DAY
        activity = []
        console = human and rng.random() < 0.85
        mfa = console and rng.random() < 0.75
        row["password_enabled"], row["mfa_active"] = str(console).lower(), str(mfa).lower()
        if console:
            changed = self.long_ago(created) if old_enough and rng.random() < 0.5 else self.recent(created)
            row["password_last_changed"] = timestamp(changed)
            used = rng.choices(("recent", "old", "never"), (70, 20, 10))[0]
            if used != "never":
                last = self.recent(changed) if used == "recent" or not old_enough else self.long_ago(changed)
                row["password_last_used"] = timestamp(last)
                activity.append(last)
            else:
                row["password_last_used"] = "no_information"
            if not mfa:
                self.expect("console-without-mfa", arn, "console password, no MFA")
        elif rng.random() < 0.3:
            row["mfa_active"] = "false"
            self.decoy("console-without-mfa", arn, "no console password (API only), no MFA")
        keys = rng.choices((0, 1, 2), (30, 55, 15) if human else (8, 72, 20))[0]
        active_keys = 0
        for n in range(1, keys + 1):
            prefix = f"access_key_{n}_"
            active = rng.random() < 0.85
            rotated = self.recent(created) if rng.random() < 0.6 or not old_enough else self.long_ago(created)
            row[prefix + "active"], row[prefix + "last_rotated"] = str(active).lower(), timestamp(rotated)
            use = rng.choices(("recent", "old", "never"), (65, 25, 10))[0]
            if use != "never":
                last = self.recent(rotated) if use == "recent" or rotated > self.now - (
                    THRESHOLD_DAYS + MARGIN) * DAY else self.long_ago(rotated)
                row[prefix + "last_used_date"] = timestamp(last)
                row[prefix + "last_used_region"] = rng.choice(("us-east-1", "eu-west-1"))
                row[prefix + "last_used_service"] = rng.choice(("s3", "sts", "dynamodb", "ec2"))
                activity.append(last)
            key = f"{arn}#access_key_{n}"
            if active:
                active_keys += 1
                if rotated < self.now - THRESHOLD_DAYS * DAY:
                    self.expect("stale-access-key", key, f"active, rotated {timestamp(rotated)}")
            elif rotated < self.now - THRESHOLD_DAYS * DAY:
                self.decoy("stale-access-key", key, "old but inactive")
        for n in range(keys + 1, 3):
            row[f"access_key_{n}_active"] = "false"
        if active_keys == 2:
            self.expect("multiple-active-keys", arn, "both access keys active")
        cut = self.now - THRESHOLD_DAYS * DAY
        if created < cut and not any(moment >= cut for moment in activity):
            self.expect("unused-user", arn, "no sign-in or key use in 90 days" if activity else "never used")
        return row

    def root_row(self, report):
        """The root user: the facts rotate across accounts so every combination occurs."""
        joined = datetime.fromisoformat(self.org.accounts[self.index]["JoinedTimestamp"])
        root = f"arn:aws:iam::{self.id}:root"
        row = dict.fromkeys(CREDENTIAL_COLUMNS, "N/A")
        row.update(user="<root_account>", arn=root, user_creation_time=timestamp(joined),
                   password_enabled="not_supported", password_last_changed="not_supported",
                   password_next_rotation="not_supported", password_last_used="no_information",
                   access_key_1_active="false", access_key_2_active="false",
                   cert_1_active="false", cert_2_active="false")
        mfa = self.index % 4 != 1
        row["mfa_active"] = str(mfa).lower()
        if not mfa:
            self.expect("root-mfa-disabled", root, "root user without MFA")
        use = ("recent", "old", "never")[self.index % 3]
        if use != "never":
            last = (self.now - self.rng.randrange(2, ROOT_USE_DAYS - 10) * DAY if use == "recent"
                    else self.now - self.rng.randrange(ROOT_USE_DAYS + MARGIN, 400) * DAY)
            row["password_last_used"] = timestamp(last)
            if use == "recent":
                self.expect("root-recent-use", root, f"root password used {timestamp(last)}")
        if self.index % 5 == 2:
            row.update(access_key_1_active="true", access_key_1_last_rotated=timestamp(self.long_ago(joined)))
            self.expect("root-access-keys", root, "root access key 1 active")
        report.writerow(row)
        self.mfa_on_root = mfa

    def make_users(self, report):
        count = self.args.users
        kinds = self.slots(count, USER_KINDS)
        for i, kind in enumerate(kinds):
            human = kind != "normal" or self.rng.random() < 0.6
            if human:
                name, path = f"{self.rng.choice(PEOPLE)}.{self.rng.choice(PEOPLE)}-{i}", "/people/"
            else:
                name, path = f"svc-{self.rng.choice(TEAMS)}-{i}", "/service/"
            created = self.recent() if self.rng.random() < 0.15 else self.long_ago()
            user = {"Path": path, "UserName": name, "UserId": self.unique_id("AIDA"),
                    "Arn": self.arn("user", name, path), "CreateDate": timestamp(created),
                    "GroupList": [], "AttachedManagedPolicies": [], "UserPolicyList": []}
            self.admin_verdict(user, self.grant_user(user, kind))
            if self.rng.random() < 0.3:
                user["Tags"] = [{"Key": "team", "Value": self.rng.choice(TEAMS)}]
            report.writerow(self.credentials(user, created))
            yield user

    # -- roles ----------------------------------------------------------------------------
    def trust_policy(self, kind):
        """The trust policy of `kind` (its truth is in TRUST_TRUTH)."""
        rng, org = self.rng, self.org

        def trusting(principal, condition=None, action="sts:AssumeRole"):
            statement = {"Effect": "Allow", "Principal": principal, "Action": action}
            if condition:
                statement["Condition"] = condition
            return document(statement)

        def web_identity(issuer, condition):
            return trusting({"Federated": self.arn("oidc-provider", issuer, "/")}, condition,
                            "sts:AssumeRoleWithWebIdentity")

        github_aud = {f"{GITHUB}:aud": "sts.amazonaws.com"}
        repository = f"repo:{GITHUB_ORG}/{rng.choice(TEAMS)}-service"
        eks = f"oidc.eks.eu-west-1.amazonaws.com/id/{self.unique_id('')[:16]}{self.id[:8]}"
        external_id = {"StringEquals": {"sts:ExternalId": f"{rng.getrandbits(96):024x}"}}
        vendor = rng.choice(org.vendors)
        others = [a for a in org.ids if a != self.id]
        match kind:
            case "anyone":
                return trusting({"AWS": "*"})
            case "anyone-star":
                return trusting("*")
            case "anyone-external-id":
                return trusting({"AWS": "*"}, external_id)
            case "anyone-in-org":
                return trusting({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": org.org_id}})
            case "anyone-in-account":
                return trusting({"AWS": "*"}, {"StringEquals": {"aws:PrincipalAccount": self.id}})
            case "vendor-external-id":
                return trusting({"AWS": f"arn:aws:iam::{vendor}:root"}, external_id)
            case "vendor-bare":
                return trusting({"AWS": vendor})
            case "vendor-role":
                return trusting({"AWS": f"arn:aws:iam::{vendor}:role/{rng.choice(VENDOR_NAMES)}-collector"})
            case "org-account" if others:
                return trusting({"AWS": f"arn:aws:iam::{rng.choice(others)}:role/deployer"})
            case "own-account" | "org-account":
                return trusting({"AWS": f"arn:aws:iam::{self.id}:root"})
            case "github-aud-only":
                return web_identity(GITHUB, {"StringEquals": github_aud})
            case "github-org-wildcard":
                return web_identity(GITHUB, {"StringEquals": github_aud,
                                             "StringLike": {f"{GITHUB}:sub": f"repo:{GITHUB_ORG}/*"}})
            case "github-any-owner":
                return web_identity(GITHUB, {"StringEquals": github_aud, "StringLike": {f"{GITHUB}:sub": "repo:*"}})
            case "github-branch":
                return web_identity(GITHUB, {"StringEquals": {**github_aud,
                                                              f"{GITHUB}:sub": f"{repository}:ref:refs/heads/main"}})
            case "github-any-ref":
                return web_identity(GITHUB, {"StringEquals": github_aud,
                                             "StringLike": {f"{GITHUB}:sub": f"{repository}:*"}})
            case "github-literal-star":
                return web_identity(GITHUB, {"StringEquals": {**github_aud, f"{GITHUB}:sub": f"repo:{GITHUB_ORG}/*"}})
            case "eks-no-sub":
                return web_identity(eks, {"StringEquals": {f"{eks}:aud": "sts.amazonaws.com"}})
            case "eks-wildcard-sa":
                return web_identity(eks, {"StringEquals": {f"{eks}:aud": "sts.amazonaws.com"},
                                          "StringLike": {f"{eks}:sub": "system:serviceaccount:jobs:*"}})
            case "eks-one-sa":
                return web_identity(eks, {"StringEquals": {f"{eks}:aud": "sts.amazonaws.com",
                                                           f"{eks}:sub": "system:serviceaccount:jobs:runner"}})
            case _:
                return trusting({"Service": f"{rng.choice(SERVICES)}.amazonaws.com"})

    TRUST_TRUTH = {  # kind -> (expected or decoy, rows, why)
        "anyone": ("expect", ("wide-trust",), 'Principal {"AWS": "*"}, no condition'),
        "anyone-star": ("expect", ("wide-trust",), 'Principal "*", no condition'),
        "anyone-external-id": ("expect", ("wide-trust",), '{"AWS": "*"} with only sts:ExternalId'),
        "anyone-in-org": ("decoy", ("wide-trust",), '{"AWS": "*"} limited by aws:PrincipalOrgID'),
        "anyone-in-account": ("decoy", ("wide-trust",), '{"AWS": "*"} limited by aws:PrincipalAccount'),
        "vendor-external-id": ("expect", ("external-trust",), "vendor account root, with sts:ExternalId"),
        "vendor-bare": ("expect", ("external-trust", "external-trust (no ExternalId)"), "bare vendor account id"),
        "vendor-role": ("expect", ("external-trust", "external-trust (no ExternalId)"), "vendor role ARN"),
        "org-account": ("decoy", ("external-trust",), "another account of the organization"),
        "own-account": ("decoy", ("external-trust",), "its own account"),
        "github-aud-only": ("expect", ("oidc-trust-unscoped",), "GitHub OIDC, no sub condition"),
        "github-org-wildcard": ("expect", ("oidc-trust-unscoped",), "GitHub sub repo:<org>/* (every repository)"),
        "github-any-owner": ("expect", ("oidc-trust-unscoped",), "GitHub sub repo:* (any owner)"),
        "github-branch": ("decoy", ("oidc-trust-unscoped",), "GitHub sub pinned to one repository and branch"),
        "github-any-ref": ("decoy", ("oidc-trust-unscoped",), "GitHub sub repo:<org>/<repo>:* (one repository)"),
        "github-literal-star": ("decoy", ("oidc-trust-unscoped",), "StringEquals: the * is a literal character"),
        "eks-no-sub": ("expect", ("oidc-trust-unscoped",), "EKS IRSA, no sub condition"),
        "eks-wildcard-sa": ("expect", ("oidc-trust-unscoped",), "EKS IRSA sub matches a whole namespace"),
        "eks-one-sa": ("decoy", ("oidc-trust-unscoped",), "EKS IRSA pinned to one service account"),
    }

    def grant_role(self, role, power):
        arn, name = role["Arn"], role["RoleName"]
        if power == "admin-managed":
            self.attach(role, "AdministratorAccess", aws_policy_arn("AdministratorAccess"))
            return "AdministratorAccess attached"
        if power == "admin-inline":
            role["RolePolicyList"].append({"PolicyName": "full-access", "PolicyDocument": EVERYTHING})
            self.expect("full-admin-policy", arn + "#full-access", "role inline */*")
            return "inline */*"
        if power == "admin-customer":
            policy_name, policy_arn = self.pick(self.rng.choice(("admin-star", "admin-notaction")))
            self.attach(role, policy_name, policy_arn)
            return f"customer policy {policy_name}"
        if power == "self-put-policy":
            role["RolePolicyList"].append({"PolicyName": "self-tuning", "PolicyDocument": document(
                allow("iam:PutRolePolicy", arn))})
            return f"can put an inline policy on itself ({name})"
        if power == "self-attach-policy":
            role["RolePolicyList"].append({"PolicyName": "self-attach", "PolicyDocument": document(
                allow(["iam:AttachRolePolicy", "iam:ListAttachedRolePolicies"], arn))})
            return f"can attach any managed policy to itself ({name})"
        self.grant_normal(role, "RolePolicyList")
        return None

    def role_entity(self, name, path, trust, created):
        return {"Path": path, "RoleName": name, "RoleId": self.unique_id("AROA"),
                "Arn": self.arn("role", name, path), "CreateDate": timestamp(created),
                "AssumeRolePolicyDocument": trust, "InstanceProfileList": [], "RolePolicyList": [],
                "AttachedManagedPolicies": [], "RoleLastUsed": {}}

    def last_used(self, role, created):
        """RoleLastUsed, and unused-role truth for roles that are not service-linked."""
        use = self.rng.choices(("recent", "old", "never"), (70, 15, 15))[0]
        old_enough = created < self.now - (THRESHOLD_DAYS + MARGIN) * DAY
        if use == "recent" or (use == "old" and not old_enough):
            role["RoleLastUsed"] = {"LastUsedDate": timestamp(self.recent(created)), "Region": "us-east-1"}
        elif use == "old":
            last = self.long_ago(created)
            role["RoleLastUsed"] = {"LastUsedDate": timestamp(last), "Region": "eu-west-1"}
            self.expect("unused-role", role["Arn"], f"last used {timestamp(last)}")
        elif created < self.now - THRESHOLD_DAYS * DAY:
            self.expect("unused-role", role["Arn"], "never used, created over 90 days ago")

    def special_roles(self):
        """Roles every account has: AWS's own, IAM Identity Center's, and the org access role."""
        slr_path = "/aws-service-role/support.amazonaws.com/"
        slr = self.role_entity("AWSServiceRoleForSupport", slr_path,
                               document({"Effect": "Allow", "Principal": {"Service": "support.amazonaws.com"},
                                         "Action": "sts:AssumeRole"}), self.long_ago())
        self.attach(slr, "AWSSupportServiceRolePolicy", aws_policy_arn("AWSSupportServiceRolePolicy"))
        self.decoy("unused-role", slr["Arn"], "service-linked, never used")
        yield slr
        sso_path = "/aws-reserved/sso.amazonaws.com/"
        saml = {"Federated": self.arn("saml-provider", "AWSSSO_acme_DO_NOT_DELETE")}
        if self.ic is not None:
            yield from self.identity_center_roles(sso_path, saml)
        else:
            for permission_set, policy in (("AdministratorAccess", "AdministratorAccess"), ("ReadOnly", "ReadOnlyAccess")):
                created = self.long_ago()
                role = self.role_entity(f"AWSReservedSSO_{permission_set}_{self.rng.getrandbits(64):016x}", sso_path,
                                        document({"Effect": "Allow", "Principal": saml,
                                                  "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                                                  "Condition": {"StringEquals": {
                                                      "SAML:aud": "https://signin.aws.amazon.com/saml"}}}), created)
                self.attach(role, policy, aws_policy_arn(policy))
                if policy == "AdministratorAccess":
                    self.expect("admin-access (high)", role["Arn"], "Identity Center AdministratorAccess")
                else:
                    self.decoy("admin-access (any)", role["Arn"], "Identity Center ReadOnly")
                self.last_used(role, created)
                yield role
        if self.index:
            created = self.long_ago()
            role = self.role_entity("OrganizationAccountAccessRole", "/", document(
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{self.org.management}:root"},
                 "Action": "sts:AssumeRole"}), created)
            self.attach(role, "AdministratorAccess", aws_policy_arn("AdministratorAccess"))
            self.expect("admin-access (high)", role["Arn"], "OrganizationAccountAccessRole")
            self.decoy("external-trust", role["Arn"], "trusts the management account")
            self.last_used(role, created)
            yield role

    def identity_center_roles(self, sso_path, saml):
        """--identity-center: the AWSReservedSSO role of every permission set provisioned to this
        account (but the planted missing ones), as Identity Center makes it: the set's managed
        policies attached, its inline policy as AwsSSOInlinePolicy, its boundary as the role's."""
        trust = document({"Effect": "Allow", "Principal": saml,
                          "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                          "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}})
        for permission_set in self.ic.roles_in(self.id):
            name = permission_set["Name"]
            created = self.long_ago()
            role = self.role_entity(f"AWSReservedSSO_{name}_{self.ic.role_suffix(name, self.id)}", sso_path,
                                    trust, created)
            for policy in permission_set["_managed"]:
                self.attach(role, policy, aws_policy_arn(policy))
            if permission_set.get("InlinePolicy"):
                role["RolePolicyList"].append({"PolicyName": "AwsSSOInlinePolicy",
                                               "PolicyDocument": permission_set["InlinePolicy"]})
            if permission_set.get("PermissionsBoundary"):
                role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                               "PermissionsBoundaryArn": self.boundary_arn}
                self.boundary_uses += 1
            kind = permission_set["_kind"]
            if kind == "admin":
                self.expect("admin-access (high)", role["Arn"], f"Identity Center {name}")
                if permission_set.get("InlinePolicy"):
                    self.expect("full-admin-policy", role["Arn"] + "#AwsSSOInlinePolicy",
                                f"Identity Center {name}: inline */*")
            elif kind == "power-bounded":
                self.decoy("admin-access (any)", role["Arn"], f"Identity Center {name}: PowerUserAccess capped "
                           "by DeveloperBoundary (no IAM, no sts)")
            elif kind == "power":
                self.power_user(role["Arn"], f"Identity Center {name} (PowerUserAccess)")
            else:
                self.decoy("admin-access (any)", role["Arn"], f"Identity Center {name}: read-only or scoped")
            self.last_used(role, created)
            yield role

    def make_roles(self):
        specials = list(self.special_roles())
        yield from specials
        count = max(0, self.args.roles - len(specials))
        powers, trusts = self.slots(count, ROLE_POWERS), self.slots(count, ROLE_TRUSTS)
        # An admin role that principals of the organization may assume makes each of them that
        # can call sts:AssumeRole (PowerUserAccess can) an escalation path. The truth plants
        # escalation only where it says so: admin powers go with trusts that admit nobody of
        # the organization (services, vendors, GitHub, EKS).
        safe = [j for j, t in enumerate(trusts) if t not in ADMITS_ORGANIZATION and powers[j] == "normal"]
        for k, (power, trust_kind) in enumerate(zip(list(powers), trusts)):
            if power != "normal" and trust_kind in ADMITS_ORGANIZATION and safe:
                j = safe.pop()
                powers[j], powers[k] = power, "normal"
        for i, (power, trust_kind) in enumerate(zip(powers, trusts)):
            team = self.rng.choice(TEAMS)
            name = (f"github-actions-{team}-{i}" if trust_kind.startswith("github") else
                    f"{team}-{self.rng.choice(VENDOR_NAMES)}-access-{i}" if trust_kind.startswith("vendor") else
                    f"{team}-role-{i}")
            created = self.recent() if self.rng.random() < 0.15 else self.long_ago()
            trust = self.trust_policy(trust_kind)
            role = self.role_entity(name, "/", trust, created)
            self.admin_verdict(role, self.grant_role(role, power))
            if trust_kind in self.TRUST_TRUTH:
                verdict, rows, why = self.TRUST_TRUTH[trust_kind]
                if trust_kind == "org-account" and len(self.org.ids) == 1:
                    rows, why = ("external-trust",), "its own account (an organization of one)"
                for row in rows:
                    (self.expect if verdict == "expect" else self.decoy)(row, role["Arn"], why)
            self.last_used(role, created)
            yield role

    # -- the policies, now that attachments are counted -------------------------------------
    def make_policies(self):
        for name, (policy_id, version, path, body) in AWS_MANAGED.items():
            policy_arn = aws_policy_arn(name)
            if self.attachments.get(policy_arn):
                yield self.policy_entity(name, policy_id, policy_arn, path, [body], version, EPOCH, 0)
        for kind, name, path, documents in self.policies:
            policy_arn = self.arn("policy", name, path)
            attached = self.attachments.get(policy_arn, 0)
            if kind in ("admin-star", "admin-notaction", "admin-unattached"):
                if attached:
                    self.expect("full-admin-policy", policy_arn, f"{kind}, attached {attached} time(s)")
                else:
                    self.decoy("full-admin-policy", policy_arn, "grants everything but is attached to nothing")
            elif kind in ("fake-admin-name", "admin-old-version", "star-on-bucket", "poweruser-copy"):
                self.decoy("full-admin-policy", policy_arn, {
                    "fake-admin-name": "named AdministratorAccess, grants a few reads",
                    "admin-old-version": "*/* only in a version that is not the default",
                    "star-on-bucket": "Action * on one bucket",
                    "poweruser-copy": "every action except IAM, Organizations and Account",
                }[kind])
            uses = self.boundary_uses if kind == "boundary" else 0
            created = self.long_ago()
            yield self.policy_entity(name, self.unique_id("ANPA"), policy_arn, path, documents,
                                     f"v{len(documents)}", created, uses, attached)

    def policy_entity(self, name, policy_id, policy_arn, path, documents, default, created, boundary_uses,
                      attached=None):
        first = int(default.lstrip("v")) - len(documents) + 1
        versions = [{"Document": body, "VersionId": f"v{first + i}", "IsDefaultVersion": i == len(documents) - 1,
                     "CreateDate": timestamp(created + i * DAY)} for i, body in enumerate(documents)]
        return {"PolicyName": name, "PolicyId": policy_id, "Arn": policy_arn, "Path": path,
                "DefaultVersionId": default,
                "AttachmentCount": self.attachments.get(policy_arn, 0) if attached is None else attached,
                "PermissionsBoundaryUsageCount": boundary_uses, "IsAttachable": True,
                "CreateDate": timestamp(created), "UpdateDate": timestamp(created + (len(documents) - 1) * DAY),
                "PolicyVersionList": list(reversed(versions))}

    # -- writing ------------------------------------------------------------------------------
    def write(self, snapshot, expected_dir):
        folder = os.path.join(snapshot, "accounts", self.id)
        os.makedirs(folder, exist_ok=True)
        self.boundary_uses = 0
        self.plan_policies()
        with open(os.path.join(folder, "credential-report.csv"), "w", newline="") as report_file, \
                open(os.path.join(folder, "account-authorization-details.json"), "w") as graph_file:
            report = CredentialReport(report_file)
            self.root_row(report)
            # Groups are made first (users join them) but written where AWS puts them.
            groups = list(self.make_groups())
            sections = (("UserDetailList", self.make_users(report)), ("GroupDetailList", groups),
                        ("RoleDetailList", self.make_roles()), ("Policies", self.make_policies()))
            graph_file.write("{")
            for index, (section, entities) in enumerate(sections):
                self.stream_list(graph_file, section, entities, first=index == 0)
            graph_file.write("\n}\n" if self.indent else "}\n")
        self.write_settings(folder)
        truth = {"schema": "iam-auditor/ground-truth/v1", "generator": "bench/gen_org.py",
                 "account_id": self.id, "account_name": self.name, "now": timestamp(self.now),
                 "expected": self.expected, "decoys": self.decoys}
        with open(os.path.join(expected_dir, f"{self.id}.json"), "w") as f:
            json.dump(truth, f, indent=1, sort_keys=True)
            f.write("\n")

    def stream_list(self, out, section, items, first):
        """Writes `"section": [items…]` one item at a time, indented as the AWS CLI does."""
        pad = "\n" + " " * self.indent if self.indent else ""
        out.write(("" if first else ",") + f'{pad}"{section}": [')
        inner = "\n" + " " * (2 * self.indent) if self.indent else ""
        empty = True
        for item in items:
            text = json.dumps(item, indent=self.indent, ensure_ascii=False)
            if self.indent:
                text = text.replace("\n", inner)
            out.write(("" if empty else ",") + inner + text)
            empty = False
        out.write("]" if empty else pad + "]")

    def write_settings(self, folder):
        strength = self.index % 3
        policy = None if strength == 0 else {
            "MinimumPasswordLength": 8 if strength == 1 else 16, "RequireSymbols": strength == 2,
            "RequireNumbers": True, "RequireUppercaseCharacters": strength == 2,
            "RequireLowercaseCharacters": True, "AllowUsersToChangePassword": True,
            "ExpirePasswords": strength == 2, "PasswordReusePrevention": 5 if strength == 1 else 24,
            **({"MaxPasswordAge": 90} if strength == 2 else {}), "HardExpiry": False}
        if strength != 2:
            self.expect("password-policy-weak", f"arn:aws:iam::{self.id}:root",
                        "no password policy" if policy is None else "length 8, reuse prevention 5")
        self.dump(os.path.join(folder, "password-policy.json"), {"PasswordPolicy": policy})
        summary = {"AccountMFAEnabled": int(self.mfa_on_root), "AccountAccessKeysPresent": int(self.index % 5 == 2),
                   "AccountPasswordPresent": 1, "Users": self.args.users,
                   "Groups": max(self.args.groups, len(SPECIAL_GROUPS) + 1), "Roles": self.args.roles,
                   "Policies": len(self.policies)}
        self.dump(os.path.join(folder, "account-summary.json"), {"SummaryMap": summary})

    @staticmethod
    def dump(path, value, indent=4):
        with open(path, "w") as f:
            json.dump(value, f, indent=indent, ensure_ascii=False)
            f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[5:]))
    for flag, default, what in (("accounts", 3, "accounts in the organization (the first is the management account)"),
                                ("users", 200, "IAM users per account"),
                                ("roles", 200, "IAM roles per account, AWS's own included"),
                                ("groups", 20, "IAM groups per account (at least 5)"),
                                ("policies", 100, "customer managed policies per account (at least 12)"),
                                ("seed", 1, "the same seed gives the same organization")):
        parser.add_argument("--" + flag, type=int, default=default, help=f"{what} (default {default})")
    parser.add_argument("--out", required=True, help="writes OUT/snapshot and OUT/expected")
    parser.add_argument("--now", default="2024-06-01T00:00:00+00:00",
                        help="the instant ages are judged against; audit with --as-of NOW (default %(default)s)")
    parser.add_argument("--compact", action="store_true",
                        help="write account-authorization-details.json without indentation (smaller, faster)")
    parser.add_argument("--identity-center", action="store_true",
                        help="also write organization/identity-center/ (IAM Identity Center at scale), each account's "
                             "AWSReservedSSO roles following it, and OUT/identity-center-truth.json")
    for flag, default, what in (("ic-permission-sets", 20, "permission sets (at least 6; 3 are admin-equivalent)"),
                                ("ic-users", 5000, "people in the identity store (at least 10)"),
                                ("ic-groups", 500, "groups in the identity store (at least 10)"),
                                ("ic-assignments", 20000, "account assignments, drift included (at least 50)")):
        parser.add_argument("--" + flag, type=int, default=default, help=f"with --identity-center: {what} "
                                                                          f"(default {default})")
    args = parser.parse_args()
    if args.accounts < 1 or args.users < 0 or args.roles < 0:
        parser.error("--accounts must be at least 1, --users and --roles at least 0")
    if args.identity_center and (args.ic_permission_sets < 6 or args.ic_users < 10 or args.ic_groups < 10
                                 or args.ic_assignments < 50):
        parser.error("--ic-permission-sets must be at least 6, --ic-users and --ic-groups at least 10, "
                     "--ic-assignments at least 50")

    org = Organization(args)
    snapshot, expected_dir = os.path.join(args.out, "snapshot"), os.path.join(args.out, "expected")
    os.makedirs(os.path.join(snapshot, "organization"), exist_ok=True)
    os.makedirs(expected_dir, exist_ok=True)
    accounts = [{k: v for k, v in a.items() if not k.startswith("_")} for a in org.accounts]
    Account.dump(os.path.join(snapshot, "organization", "accounts.json"), {"Accounts": accounts})
    Account.dump(os.path.join(snapshot, "organization", "scps.json"),
                 {"OrganizationId": org.org_id, "RootId": org.root_id, "Policies": org.scps(),
                  "AccountPaths": org.account_paths()})
    Account.dump(os.path.join(snapshot, "manifest.json"), {
        "schema": "iam-auditor/snapshot/v1", "tool_version": "bench/gen_org.py", "collected_at": args.now,
        "organization_id": org.org_id,
        "accounts": [{"account_id": a["Id"], "name": a["Name"], "status": "collected"} for a in accounts]}, indent=2)
    identity_center = IdentityCenter(args, org) if args.identity_center else None
    for index in range(len(org.ids)):
        Account(args, org, index, identity_center).write(snapshot, expected_dir)
    if identity_center:
        counts = identity_center.write(snapshot, args.out, None if args.compact else 4)
        print(f"identity center: {counts['account_assignments']} assignments, {counts['sso_roles']} AWSReservedSSO "
              f"roles, {counts['sso-admin-assignment']} person x account admin pairs; truth in "
              f"{os.path.join(args.out, 'identity-center-truth.json')}")


if __name__ == "__main__":
    main()
