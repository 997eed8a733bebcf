#!/usr/bin/env python3
"""Seeds an AWS Organization with planted IAM problems in moto_server, through boto3.

  moto_org.py --endpoint http://127.0.0.1:PORT --out seed.json [--members 3]
              [--users N] [--roles M] [--groups G] [--policies P] [--no-problems] [--workers 16]
              [--identity-center]

Talks to moto directly (not through the fault proxy) with static credentials ("testing",
us-east-1): the caller is the management account (moto's default 123456789012). It creates
the organization (OUs Production, Sandbox and Sandbox/Experiments, two SCPs), --members member
accounts (prod-app, sandbox-data, experiments-ml, ...; round-robin over the three OUs), and in
every account (members through their OrganizationAccountAccessRole) IAM entities with planted
problems (unless --no-problems) plus filler entities. SCPs: DenyLeaveOrganization on the
Production and Sandbox OUs, DenyIamCreateUser directly on the first member account (on the
Experiments OU when there is no member; moto does not enforce SCPs). The one weak password
policy (MinimumPasswordLength 8) is in the management account; the others have none.
Filler entities, created in parallel (--workers):

  users  user-00001...  each in a filler group and with a filler managed policy attached
                        directly (so each is a direct-user-policy finding, listed as planted)
  groups group-00001... each with a filler policy attached (default: one per 25 users)
  roles  role-00001...  lambda.amazonaws.com trust, two filler policies attached
  policies policy-00001... read-only S3 access to one bucket (default: one per 20 users+roles)

--identity-center (needs --members 2 or more) seeds IAM Identity Center in moto's default
instance, from the management account, with member accounts A (the first) and B (the second):

  permission sets  Admin (AdministratorAccess), ReadOnly (ReadOnlyAccess), DataScience (an inline
                   policy and a customer managed policy reference; its permissions boundary is
                   tried, and moto refuses it)
  users            alice, bob, carol (display names, work emails); groups ops (bob, carol) and
                   auditors (alice)
  assignments      alice -> A Admin; ops -> B Admin; ops -> A ReadOnly; DataScience is provisioned
                   to B and assigned to nobody
  IAM              the reserved role AWS would make for each provisioned set in its account
                   (the assigned pairs, and DataScience in B, assigned to nobody),
                   AWSReservedSSO_<set>_<16 hex> under /aws-reserved/sso.amazonaws.com/ (made
                   through the account's OrganizationAccountAccessRole), with the set's AWS managed
                   policy when moto knows it (only with MOTO_IAM_LOAD_MANAGED_POLICIES=true); when
                   it does not, Admin's role gets AdministratorAccess's grant (* on *) as its
                   inline policy AwsSSOInlinePolicy, so that it is admin as in AWS

and records, under "identity_center" in seed.json, what ProvisionPermissionSet answered and what
ListAccountsForProvisionedPermissionSet then lists (moto names only the caller's account).

seed.json (written at the end):
  {"organization_id", "root_id", "management_account",
   "ous": {"Production": {"id", "path": [root, ou]}, ...},
   "scps": [{"id", "name", "targets": [ids]}],
   "seconds": seeding time,
   "accounts": [{"id", "name", "email", "ou_path": [root, ou, ...], "role_arn": the
                 OrganizationAccountAccessRole ARN or null for the management account,
                 "password_policy": "weak" | "none",
                 "planted": {check id: [resource ARN, ...]},
                 "must_not_flag": {check id: [resource ARN, ...]},
                 "info_only": {check id: [resource ARN, ...]}}],
   "identity_center": null, or with --identity-center {"instance_arn", "identity_store_id",
     "permission_sets": {name: {"arn", "managed", "inline", "customer_managed"}},
     "users": {name: {"id", "display_name", "email"}}, "groups": {name: {"id", "members"}},
     "assignments": [{"account", "permission_set", "principal_type", "principal"}],
     "provisioned": {name: {"targets", "answers", "accounts_listed"}}, "boundary",
     "reserved_roles": [{"account", "permission_set", "role_name", "arn", "attached", "admin_stand_in"}]}}
  "info_only" lists resources the check should report at severity info at most (capped-admin,
  an admin capped by its permissions boundary). Check ids: admin-access, full-admin-policy,
  wide-trust, external-trust, oidc-trust-unscoped, console-without-mfa, direct-user-policy,
  password-policy-weak. With --no-problems, "planted" holds only password-policy-weak (no
  account has a password policy) and direct-user-policy for filler users.
"""
import argparse
import json
import math
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.parsers import ResponseParserError

REGION = "us-east-1"
CHECK_IDS = ("admin-access", "full-admin-policy", "wide-trust", "external-trust",
             "oidc-trust-unscoped", "console-without-mfa", "direct-user-policy",
             "password-policy-weak")
OU_NAMES = {"prod": "Production", "sandbox": "Sandbox", "experiments": "Experiments"}
ACCOUNT_NAMES = {
    "prod": ["app", "web", "api", "billing", "search", "auth", "payments"],
    "sandbox": ["data", "dev", "qa", "poc", "demo", "training", "tools"],
    "experiments": ["ml", "ai", "graph", "edge", "quantum", "vision", "speech"],
}
VENDOR_ACCOUNT = "999988887777"
GITHUB_HOST = "token.actions.githubusercontent.com"
GITHUB_THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def fail(message):
    sys.exit(f"moto_org.py: {message}")


def doc(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def client_config(workers):
    return Config(region_name=REGION, max_pool_connections=max(10, workers * 2),
                  retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10, read_timeout=120)


def make_client(service, endpoint, config, key="testing", secret="testing", token=None):
    # A session per client: boto3's default session is not safe to share between threads.
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                    aws_session_token=token, region_name=REGION)
    return session.client(service, endpoint_url=endpoint, config=config)


def check_reachable(endpoint):
    try:
        urllib.request.urlopen(endpoint.rstrip("/") + "/moto-api/", timeout=5).read(1)
    except urllib.error.HTTPError:
        pass  # it answered: reachable
    except (urllib.error.URLError, OSError) as e:
        fail(f"moto_server is not reachable at {endpoint} ({getattr(e, 'reason', e)}); "
             f"start it with: moto_server -H 127.0.0.1 -p PORT")


def call(method, **kwargs):
    """One seeding call, retried when moto fails under concurrency (HTTP 500, often with an
    HTML body); on a retry, "already exists" means the failed attempt did the work."""
    for attempt in range(1, 7):
        try:
            return method(**kwargs)
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if attempt > 1 and code in ("EntityAlreadyExists", "EntityAlreadyExistsException"):
                return None
            if e.response["ResponseMetadata"].get("HTTPStatusCode", 0) < 500 or attempt == 6:
                raise
        except ResponseParserError:
            if attempt == 6:
                raise
        time.sleep(0.05 * attempt)
    return None


class Findings:
    """planted / must_not_flag / info_only maps of one account (thread-safe appends)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.maps = {"planted": {}, "must_not_flag": {}, "info_only": {}}

    def add(self, kind, check, arn):
        assert check in CHECK_IDS, check
        with self.lock:
            self.maps[kind].setdefault(check, []).append(arn)

    def as_json(self):
        return {kind: {check: sorted(arns) for check, arns in sorted(m.items())}
                for kind, m in self.maps.items()}


SSO_PATH = "/aws-reserved/sso.amazonaws.com/"


def seed_identity_center(endpoint, config, iam_clients, account_a, account_b):
    """IAM Identity Center as the module docstring describes; the "identity_center" part of seed.json."""
    sso = make_client("sso-admin", endpoint, config)
    store = make_client("identitystore", endpoint, config)
    instance = sso.list_instances()["Instances"][0]  # moto's default instance
    inst, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
    inline = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "athena:*"], "Resource": "*"}]}
    specs = {"Admin": {"managed": ["AdministratorAccess"]}, "ReadOnly": {"managed": ["ReadOnlyAccess"]},
             "DataScience": {"managed": [], "inline": inline,
                             "customer_managed": [{"Name": "DataLakeRead", "Path": "/"}]}}
    sets = {}
    boundary = "stored"
    for name, spec in specs.items():
        # SessionDuration as a string: without it moto answers the number 3600, which the Rust
        # SDK (a string in the model) cannot read.
        arn = sso.create_permission_set(InstanceArn=inst, Name=name, Description=f"{name} access",
                                        SessionDuration="PT1H")["PermissionSet"]["PermissionSetArn"]
        for policy in spec["managed"]:
            sso.attach_managed_policy_to_permission_set(
                InstanceArn=inst, PermissionSetArn=arn, ManagedPolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        if spec.get("inline"):
            sso.put_inline_policy_to_permission_set(InstanceArn=inst, PermissionSetArn=arn,
                                                    InlinePolicy=json.dumps(spec["inline"]))
        for ref in spec.get("customer_managed", []):
            sso.attach_customer_managed_policy_reference_to_permission_set(
                InstanceArn=inst, PermissionSetArn=arn, CustomerManagedPolicyReference=ref)
        if spec.get("inline"):
            try:
                sso.put_permissions_boundary_to_permission_set(
                    InstanceArn=inst, PermissionSetArn=arn,
                    PermissionsBoundary={"ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"})
            except ClientError as e:
                boundary = f"not stored: {e.response['Error']['Code']}"
        sets[name] = {"arn": arn, "managed": [f"arn:aws:iam::aws:policy/{p}" for p in spec["managed"]],
                      "inline": spec.get("inline"), "customer_managed": spec.get("customer_managed", [])}

    people = {"alice": "Alice Liddell", "bob": "Bob Builder", "carol": "Carol Danvers"}
    users = {}
    for user, display in people.items():
        given, family = display.split(" ")
        email = f"{user}@example.com"
        user_id = store.create_user(IdentityStoreId=store_id, UserName=user, DisplayName=display,
                                    Name={"GivenName": given, "FamilyName": family},
                                    Emails=[{"Value": email, "Type": "work", "Primary": True}])["UserId"]
        users[user] = {"id": user_id, "display_name": display, "email": email}
    groups = {}
    for group, members in (("ops", ["bob", "carol"]), ("auditors", ["alice"])):
        group_id = store.create_group(IdentityStoreId=store_id, DisplayName=group,
                                      Description=f"the {group} team")["GroupId"]
        for member in members:
            store.create_group_membership(IdentityStoreId=store_id, GroupId=group_id,
                                          MemberId={"UserId": users[member]["id"]})
        groups[group] = {"id": group_id, "members": members}

    assignments = [(account_a, "Admin", "USER", "alice"), (account_b, "Admin", "GROUP", "ops"),
                   (account_a, "ReadOnly", "GROUP", "ops")]
    for account, name, kind, principal in assignments:  # once each: moto pages duplicates forever
        principal_id = users[principal]["id"] if kind == "USER" else groups[principal]["id"]
        sso.create_account_assignment(InstanceArn=inst, TargetId=account, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=sets[name]["arn"], PrincipalType=kind,
                                      PrincipalId=principal_id)
    provisioned = {}
    for name, accounts in (("Admin", [account_a, account_b]), ("ReadOnly", [account_a]),
                           ("DataScience", [account_b])):
        answers = []
        for account in accounts:
            status = sso.provision_permission_set(InstanceArn=inst, PermissionSetArn=sets[name]["arn"],
                                                  TargetType="AWS_ACCOUNT", TargetId=account)
            status = status["PermissionSetProvisioningStatus"]
            answers.append({"target": account, "status": status.get("Status"),
                            "account_id": status.get("AccountId")})
        listed = sso.list_accounts_for_provisioned_permission_set(
            InstanceArn=inst, PermissionSetArn=sets[name]["arn"])["AccountIds"]
        provisioned[name] = {"targets": accounts, "answers": answers, "accounts_listed": sorted(listed)}
        if sorted(listed) != sorted(accounts):
            print(f"moto_org.py: {name} was provisioned to {accounts}, but ListAccountsForProvisionedPermissionSet "
                  f"lists {listed}", file=sys.stderr)

    # The reserved role AWS makes in an account for each set provisioned there: the assigned
    # pairs, and DataScience in B, which no one is assigned (drift: a role with no assignment).
    saml = "arn:aws:iam::{account}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"
    reserved = []
    for account, name in sorted({(a, n) for a, n, _, _ in assignments} | {(account_b, "DataScience")}):
        iam = iam_clients[account]
        role_name = f"AWSReservedSSO_{name}_{secrets.token_hex(8)}"
        trust = doc([{"Effect": "Allow", "Principal": {"Federated": saml.format(account=account)},
                      "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                      "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}}])
        arn = iam.create_role(RoleName=role_name, Path=SSO_PATH, AssumeRolePolicyDocument=trust,
                              Description=f"Identity Center permission set {name}")["Role"]["Arn"]
        attached = []
        stand_in = None
        for policy in sets[name]["managed"]:
            try:
                iam.attach_role_policy(RoleName=role_name, PolicyArn=policy)
                attached.append(policy)
            except ClientError as e:
                # moto knows AWS managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES=true.
                if e.response["Error"]["Code"] != "NoSuchEntity":
                    raise
                if policy.endswith("/AdministratorAccess"):
                    # What AdministratorAccess grants, as the role's inline policy, so that
                    # the role is admin as it is in AWS.
                    stand_in = "AwsSSOInlinePolicy"
                    iam.put_role_policy(RoleName=role_name, PolicyName=stand_in, PolicyDocument=doc(
                        [{"Effect": "Allow", "Action": "*", "Resource": "*"}]))
        if sets[name]["inline"] and stand_in is None:
            iam.put_role_policy(RoleName=role_name, PolicyName="AwsSSOInlinePolicy",
                                PolicyDocument=json.dumps(sets[name]["inline"]))
        reserved.append({"account": account, "permission_set": name, "role_name": role_name, "arn": arn,
                         "attached": attached, "admin_stand_in": stand_in})

    return {"instance_arn": inst, "identity_store_id": store_id, "permission_sets": sets, "users": users,
            "groups": groups,
            "assignments": [{"account": a, "permission_set": n, "principal_type": k, "principal": p}
                            for a, n, k, p in assignments],
            "provisioned": provisioned, "boundary": boundary, "reserved_roles": reserved}


def plant_problems(iam, account, org_id, out):
    """The planted problems and false-positive guards of one account."""
    user = lambda name: f"arn:aws:iam::{account}:user/{name}"  # noqa: E731
    role = lambda name: f"arn:aws:iam::{account}:role/{name}"  # noqa: E731
    policy = lambda name: f"arn:aws:iam::{account}:policy/{name}"  # noqa: E731
    service_trust = doc([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                          "Action": "sts:AssumeRole"}])

    # admin-alice: customer managed "*" on "*", console password without MFA, an access key.
    iam.create_user(UserName="admin-alice")
    iam.create_policy(PolicyName="alice-full-admin", PolicyDocument=json.dumps(ALLOW_ALL),
                      Description="planted: full admin")
    iam.attach_user_policy(UserName="admin-alice", PolicyArn=policy("alice-full-admin"))
    iam.create_login_profile(UserName="admin-alice", Password="Planted-Passw0rd!", PasswordResetRequired=False)
    iam.create_access_key(UserName="admin-alice")
    out.add("planted", "admin-access", user("admin-alice"))
    out.add("planted", "full-admin-policy", policy("alice-full-admin"))
    out.add("planted", "direct-user-policy", user("admin-alice"))
    out.add("planted", "console-without-mfa", user("admin-alice"))

    # ops-admins: inline "*" on "*"; bob is admin through the group only.
    iam.create_group(GroupName="ops-admins")
    iam.put_group_policy(GroupName="ops-admins", PolicyName="ops-everything", PolicyDocument=json.dumps(ALLOW_ALL))
    iam.create_user(UserName="bob-in-admin-group")
    iam.add_user_to_group(GroupName="ops-admins", UserName="bob-in-admin-group")
    out.add("planted", "admin-access", user("bob-in-admin-group"))
    out.add("planted", "full-admin-policy", f"arn:aws:iam::{account}:group/ops-admins")
    out.add("must_not_flag", "direct-user-policy", user("bob-in-admin-group"))
    out.add("must_not_flag", "console-without-mfa", user("bob-in-admin-group"))

    # carol-readonly: inline s3:GetObject only (false-positive guard).
    iam.create_user(UserName="carol-readonly")
    iam.put_user_policy(UserName="carol-readonly", PolicyName="read-objects",
                        PolicyDocument=doc([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))
    out.add("must_not_flag", "admin-access", user("carol-readonly"))
    out.add("must_not_flag", "full-admin-policy", user("carol-readonly"))
    out.add("planted", "direct-user-policy", user("carol-readonly"))

    # dave-poweruser: NotAction iam/organizations/account on "*" is not admin.
    iam.create_user(UserName="dave-poweruser")
    iam.create_policy(PolicyName="dave-power-user", PolicyDocument=doc(
        [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}]))
    iam.attach_user_policy(UserName="dave-poweruser", PolicyArn=policy("dave-power-user"))
    out.add("must_not_flag", "admin-access", user("dave-poweruser"))
    out.add("must_not_flag", "full-admin-policy", policy("dave-power-user"))
    out.add("planted", "direct-user-policy", user("dave-poweruser"))

    # Trust policies.
    iam.create_role(RoleName="wide-open-role", AssumeRolePolicyDocument=doc(
        [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]))
    out.add("planted", "wide-trust", role("wide-open-role"))
    out.add("must_not_flag", "external-trust", role("wide-open-role"))
    iam.create_role(RoleName="org-limited-role", AssumeRolePolicyDocument=doc(
        [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
          "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}}]))
    out.add("must_not_flag", "wide-trust", role("org-limited-role"))
    out.add("must_not_flag", "external-trust", role("org-limited-role"))
    iam.create_role(RoleName="vendor-role", AssumeRolePolicyDocument=doc(
        [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{VENDOR_ACCOUNT}:root"},
          "Action": "sts:AssumeRole"}]))
    out.add("planted", "external-trust", role("vendor-role"))
    out.add("must_not_flag", "wide-trust", role("vendor-role"))

    # GitHub Actions OIDC: audience only (unscoped) vs audience + one branch of one repository.
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB_HOST}", ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=[GITHUB_THUMBPRINT])["OpenIDConnectProviderArn"]
    aud = {f"{GITHUB_HOST}:aud": "sts.amazonaws.com"}
    iam.create_role(RoleName="github-deploy", AssumeRolePolicyDocument=doc(
        [{"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
          "Condition": {"StringEquals": aud}}]))
    out.add("planted", "oidc-trust-unscoped", role("github-deploy"))
    iam.create_role(RoleName="github-scoped", AssumeRolePolicyDocument=doc(
        [{"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
          "Condition": {"StringEquals": aud,
                        "StringLike": {f"{GITHUB_HOST}:sub": "repo:example-org/app:ref:refs/heads/main"}}}]))
    out.add("must_not_flag", "oidc-trust-unscoped", role("github-scoped"))

    # capped-admin: admin policy attached, but a permissions boundary allowing only s3:*.
    iam.create_policy(PolicyName="capped-admin-full", PolicyDocument=json.dumps(ALLOW_ALL))
    iam.create_policy(PolicyName="s3-only-boundary", PolicyDocument=doc(
        [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))
    iam.create_role(RoleName="capped-admin", AssumeRolePolicyDocument=service_trust,
                    PermissionsBoundary=policy("s3-only-boundary"))
    iam.attach_role_policy(RoleName="capped-admin", PolicyArn=policy("capped-admin-full"))
    out.add("info_only", "admin-access", role("capped-admin"))
    out.add("planted", "full-admin-policy", policy("capped-admin-full"))
    out.add("must_not_flag", "full-admin-policy", policy("s3-only-boundary"))


class Seeder:
    def __init__(self, args):
        self.args = args
        self.endpoint = args.endpoint.rstrip("/")
        self.config = client_config(args.workers)
        self.pool = ThreadPoolExecutor(max_workers=args.workers)

    def run_all(self, tasks):
        """Run callables on the pool; re-raise the first error."""
        futures = [self.pool.submit(task) for task in tasks]
        for future in futures:
            future.result()

    def seed(self):
        args = self.args
        started = time.monotonic()
        org = make_client("organizations", self.endpoint, self.config)
        sts = make_client("sts", self.endpoint, self.config)
        management = sts.get_caller_identity()["Account"]
        try:
            organization = org.create_organization(FeatureSet="ALL")["Organization"]
        except ClientError as e:
            if e.response["Error"]["Code"] == "AlreadyInOrganizationException":
                fail("moto already holds an organization (seeded before?): start a fresh moto_server")
            raise
        org_id = organization["Id"]
        root_id = org.list_roots()["Roots"][0]["Id"]

        ous = {}
        for key, parent in (("prod", root_id), ("sandbox", root_id), ("experiments", None)):
            parent_id = parent or ous["sandbox"]["id"]
            parent_path = [root_id] if parent else ous["sandbox"]["path"]
            ou = org.create_organizational_unit(ParentId=parent_id, Name=OU_NAMES[key])["OrganizationalUnit"]
            ous[key] = {"id": ou["Id"], "path": parent_path + [ou["Id"]]}

        scps = []
        deny_leave = org.create_policy(
            Name="DenyLeaveOrganization", Type="SERVICE_CONTROL_POLICY",
            Description="Member accounts may not leave the organization",
            Content=doc([{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]),
        )["Policy"]["PolicySummary"]["Id"]
        deny_create_user = org.create_policy(
            Name="DenyIamCreateUser", Type="SERVICE_CONTROL_POLICY",
            Description="No long-lived IAM users: use roles and Identity Center",
            Content=doc([{"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]),
        )["Policy"]["PolicySummary"]["Id"]
        leave_targets = [ous["prod"]["id"], ous["sandbox"]["id"]]
        for target in leave_targets:
            org.attach_policy(PolicyId=deny_leave, TargetId=target)
        scps.append({"id": deny_leave, "name": "DenyLeaveOrganization", "targets": leave_targets})

        accounts = [{"id": management, "name": "management", "email": organization.get("MasterAccountEmail"),
                     "ou_path": [root_id], "role_arn": None}]
        used = {key: 0 for key in ACCOUNT_NAMES}
        for i in range(args.members):
            key = ("prod", "sandbox", "experiments")[i % 3]
            names = ACCOUNT_NAMES[key]
            n = used[key]
            used[key] += 1
            name = f"{key}-{names[n]}" if n < len(names) else f"{key}-{n + 1:02d}"
            email = f"{name}@example.com"
            status = org.create_account(Email=email, AccountName=name)["CreateAccountStatus"]
            deadline = time.monotonic() + 60
            while status["State"] != "SUCCEEDED":
                if status["State"] == "FAILED" or time.monotonic() > deadline:
                    fail(f"create_account {name}: {status}")
                time.sleep(0.1)
                status = org.describe_create_account_status(
                    CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
            account_id = status["AccountId"]
            org.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=ous[key]["id"])
            accounts.append({"id": account_id, "name": name, "email": email, "ou_path": ous[key]["path"],
                             "role_arn": f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"})
        direct_targets = [accounts[1]["id"]] if len(accounts) > 1 else [ous["experiments"]["id"]]
        for target in direct_targets:
            org.attach_policy(PolicyId=deny_create_user, TargetId=target)
        scps.append({"id": deny_create_user, "name": "DenyIamCreateUser", "targets": direct_targets})
        org_seconds = time.monotonic() - started

        # One IAM client per account: the management account's own credentials, the members'
        # through their OrganizationAccountAccessRole.
        clients = {}
        for account in accounts:
            if account["role_arn"] is None:
                clients[account["id"]] = make_client("iam", self.endpoint, self.config)
            else:
                creds = sts.assume_role(RoleArn=account["role_arn"], RoleSessionName="moto-org-seed")["Credentials"]
                clients[account["id"]] = make_client("iam", self.endpoint, self.config, creds["AccessKeyId"],
                                                     creds["SecretAccessKey"], creds["SessionToken"])

        findings = {a["id"]: Findings() for a in accounts}
        weak_account = management  # the one account with a (weak) password policy

        users, roles = args.users, args.roles
        groups = args.groups if args.groups is not None else (math.ceil(users / 25) if users else 0)
        if users and not groups:
            fail("--users needs at least one group (--groups G, G >= 1): every filler user is in a group")
        policies = args.policies if args.policies is not None else (
            math.ceil((users + roles) / 20) if users + roles else 0)
        if (users or roles or groups) and not policies:
            fail("filler users, groups and roles need at least one filler policy (--policies P, P >= 1)")

        def first_phase(account):
            iam, acct, out = clients[account["id"]], account["id"], findings[account["id"]]
            tasks = []
            if not args.no_problems:
                tasks.append(lambda: plant_problems(iam, acct, org_id, out))
            if acct == weak_account and not args.no_problems:
                tasks.append(lambda: iam.update_account_password_policy(
                    MinimumPasswordLength=8, RequireSymbols=False, RequireNumbers=False,
                    RequireUppercaseCharacters=False, RequireLowercaseCharacters=False))
            account["password_policy"] = "weak" if acct == weak_account and not args.no_problems else "none"
            out.add("planted", "password-policy-weak", f"arn:aws:iam::{acct}:root")
            for p in range(1, policies + 1):
                tasks.append(lambda p=p: call(iam.create_policy,
                    PolicyName=f"policy-{p:05d}",
                    PolicyDocument=doc([{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                                         "Resource": [f"arn:aws:s3:::bucket-{p:05d}",
                                                      f"arn:aws:s3:::bucket-{p:05d}/*"]}])))
            for g in range(1, groups + 1):
                tasks.append(lambda g=g: call(iam.create_group, GroupName=f"group-{g:05d}"))
            return tasks

        def second_phase(account):
            iam, acct, out = clients[account["id"]], account["id"], findings[account["id"]]
            policy_arn = lambda n: f"arn:aws:iam::{acct}:policy/policy-{(n - 1) % policies + 1:05d}"  # noqa: E731
            tasks = []
            for g in range(1, groups + 1):
                tasks.append(lambda g=g: call(iam.attach_group_policy, GroupName=f"group-{g:05d}",
                                              PolicyArn=policy_arn(g)))

            def make_user(u):
                name = f"user-{u:05d}"
                call(iam.create_user, UserName=name)
                call(iam.add_user_to_group, GroupName=f"group-{(u - 1) % groups + 1:05d}", UserName=name)
                call(iam.attach_user_policy, UserName=name, PolicyArn=policy_arn(u))
                out.add("planted", "direct-user-policy", f"arn:aws:iam::{acct}:user/{name}")

            def create_roles():
                # Roles are created by one task per account: moto finds a role by walking its role
                # dict, which fails ("dictionary changed size during iteration", HTTP 500) when
                # another thread adds a role to the same account meanwhile. Their policies are
                # attached in the next phase, in parallel, once no role is being added.
                trust = doc([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                              "Action": "sts:AssumeRole"}])
                for r in range(1, roles + 1):
                    call(iam.create_role, RoleName=f"role-{r:05d}", AssumeRolePolicyDocument=trust)

            if roles:
                tasks.insert(0, create_roles)  # the longest task first
            tasks += [lambda u=u: make_user(u) for u in range(1, users + 1)]
            return tasks

        def third_phase(account):
            iam, acct = clients[account["id"]], account["id"]
            policy_arn = lambda n: f"arn:aws:iam::{acct}:policy/policy-{(n - 1) % policies + 1:05d}"  # noqa: E731

            def attach(r):
                call(iam.attach_role_policy, RoleName=f"role-{r:05d}", PolicyArn=policy_arn(r))
                if policies > 1:
                    call(iam.attach_role_policy, RoleName=f"role-{r:05d}", PolicyArn=policy_arn(r + 1))

            return [lambda r=r: attach(r) for r in range(1, roles + 1)]

        self.run_all([t for a in accounts for t in first_phase(a)])
        self.run_all([t for a in accounts for t in second_phase(a)])
        self.run_all([t for a in accounts for t in third_phase(a)])
        identity_center = None
        if args.identity_center:
            identity_center = seed_identity_center(self.endpoint, self.config, clients,
                                                   accounts[1]["id"], accounts[2]["id"])
        for account in accounts:
            if account["role_arn"] is not None:
                # The role the auditor assumes trusts the management account: inside the organization.
                findings[account["id"]].add("must_not_flag", "external-trust", account["role_arn"])
            account.update(findings[account["id"]].as_json())
        seconds = time.monotonic() - started
        self.pool.shutdown()
        print(f"moto_org.py: seeded {len(accounts)} account(s) (organization {org_seconds:.2f}s), "
              f"{users} filler user(s), {roles} role(s), {groups} group(s), {policies} policy(ies) per account "
              f"in {seconds:.2f}s", file=sys.stderr)
        return {"organization_id": org_id, "root_id": root_id, "management_account": management,
                "ous": {OU_NAMES[k]: v for k, v in ous.items()}, "scps": scps,
                "seconds": round(seconds, 3), "accounts": accounts, "identity_center": identity_center}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="moto_server URL, http://127.0.0.1:PORT")
    parser.add_argument("--out", required=True, help="where to write seed.json")
    parser.add_argument("--members", type=int, default=3, help="member accounts (default 3)")
    parser.add_argument("--users", type=int, default=0, help="filler users per account")
    parser.add_argument("--roles", type=int, default=0, help="filler roles per account")
    parser.add_argument("--groups", type=int, default=None,
                        help="filler groups per account (default: one per 25 filler users)")
    parser.add_argument("--policies", type=int, default=None,
                        help="filler managed policies per account (default: one per 20 filler users+roles)")
    parser.add_argument("--no-problems", action="store_true", help="no planted problems, filler only")
    parser.add_argument("--workers", type=int, default=16, help="parallel requests (default 16)")
    parser.add_argument("--identity-center", action="store_true",
                        help="seed IAM Identity Center too (needs --members 2 or more)")
    args = parser.parse_args()
    if args.identity_center and args.members < 2:
        parser.error("--identity-center assigns permission sets in two member accounts: give --members 2 or more")
    for name in ("members", "users", "roles", "groups", "policies"):
        value = getattr(args, name)
        if value is not None and value < 0:
            parser.error(f"--{name} must not be negative")
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(var, None)  # only the endpoint given, only static test credentials
    check_reachable(args.endpoint)
    try:
        seed = Seeder(args).seed()
    except EndpointConnectionError as e:
        fail(f"lost the connection to moto_server at {args.endpoint}: {e}")
    except ClientError as e:
        fail(f"moto_server refused a seeding call: {e}")
    tmp = f"{args.out}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(seed, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
