#!/usr/bin/env python3
"""A fast stand-in for the AWS APIs iam-auditor's collector calls, for organizations of
thousands of accounts (moto is too slow for that). Python 3.9+ standard library only.

  aws_standin.py --snapshot DIR --port-file FILE [--accounts N] [--latency-ms 100]
                 [--throttle-percent 3] [--throttle-seed 1] [--throttle-in-a-row 2]
                 [--gaad-page-size 1000] [--ous 10]

It listens on 127.0.0.1 on a free port, writes the port to --port-file (atomically) once it
accepts connections, and answers in each service's real wire format, as aws-sdk-rust and boto3
read it: awsQuery XML (IAM, STS), AWS JSON 1.1 (Organizations, IAM Identity Center) and
restJson1 (Access Analyzer). Point the SDK at it with AWS_ENDPOINT_URL.

What it is not: an emulator. Nothing can be written; every answer comes from DIR, a snapshot
in the layout of docs/DESIGN.md (bench/gen_org.py writes one). The accounts of DIR that have
account-authorization-details.json are the templates.

  --accounts N   an organization of N accounts: account 0 is the management account (the
                 caller, from the snapshot's management template), account i > 0 has the id
                 200000000000 + i and answers what template (i mod templates) answers, with the
                 template's account id replaced by its own. Without it, the snapshot's own
                 accounts. The OU tree: the root, holding the management account and --ous OUs
                 that hold the members in turn. The snapshot's SCPs: attached to the root (its
                 ROOT targets) or to the first OU (its OU targets).

Every account's answers are rendered once per template, with the template's account id cut
out, and joined with the asking account's id per request: the answers cost the server a join,
not a rendering, so 10,000 accounts are as cheap to serve as one.

The calls answered, by service (the credential scope of the SigV4 Authorization header):
  sts            GetCallerIdentity (the management account's auditor role), AssumeRole (into
                 any account of the organization; the access key id it returns names the
                 account: ASIA + 12 digits + STND, so every later call is known by its key;
                 a key it did not issue is the caller's)
  organizations  DescribeOrganization, ListAccounts, ListRoots, ListOrganizationalUnitsForParent,
                 ListAccountsForParent, ListPolicies, DescribePolicy, ListTargetsForPolicy;
                 pages of at most 20 (AWS's limit for these listings) with an opaque NextToken
  iam            GetAccountAuthorizationDetails (pages of min(MaxItems, --gaad-page-size)
                 entities in all, UserDetailList, GroupDetailList, RoleDetailList, Policies in
                 that order, IsTruncated/Marker as AWS does; MaxItems defaults to 100 as on AWS),
                 GenerateCredentialReport (STARTED on the first call of a cycle, COMPLETE on the
                 next: every account's report needs two polls, in every run),
                 GetCredentialReport, GetAccountPasswordPolicy (NoSuchEntity when the template
                 has none), GetAccountSummary
  access-analyzer  ListAnalyzers: no analyzer (so no ListFindingsV2)
  sso            ListInstances: no Identity Center instance
Anything else: 400 InvalidAction (awsQuery) or UnknownOperationException (JSON), loudly.

--latency-ms: every answer waits that long (AWS's round trip and service time; default 100).
--throttle-percent P: about P % of calls are answered with the service's throttling error
  (awsQuery 400 Throttling; Organizations 400 TooManyRequestsException; Identity Center 400
  ThrottlingException; Access Analyzer 429 ThrottlingException), which the SDK retries. The draw
  is a hash of --throttle-seed, the call (account, operation, parameters) and its throttles so
  far, so a run meets the same throttles whatever the order of the calls; after
  --throttle-in-a-row throttles in a row a call is let through, so a client retrying more often
  always gets its answer.

GET /__standin/stats (unsigned): a JSON object with the calls answered by operation, the
throttles by operation, the calls of each account (min, max, mean over the accounts that were
called; organization-level calls, made with the caller's own key to Organizations, Identity
Center and sts:GetCallerIdentity, are counted apart), and the accounts assumed into.
POST /__standin/reset (unsigned): forgets those counters and every credential report cycle.

SIGTERM or SIGINT: stops and exits 0.
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import signal
import sys
import time
import urllib.parse
import uuid

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
GAAD_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(.+)$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)$")
# Policy documents travel URL-encoded inside the XML, as IAM sends them.
DOCUMENT_KEYS = {"PolicyDocument", "AssumeRolePolicyDocument", "Document"}
ORG_PAGE = 20
MEMBER_BASE = 200000000000
KEY_PREFIX, KEY_SUFFIX = "ASIA", "STND"


def log(message):
    print(f"aws_standin: {message}", file=sys.stderr, flush=True)


def xml_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def xml_value(key, value):
    """One JSON member as awsQuery XML: lists as <member>s, objects as elements, documents
    URL-encoded, UTC timestamps with Z."""
    if value is None:
        return ""
    if key in DOCUMENT_KEYS and not isinstance(value, str):
        value = json.dumps(value, separators=(",", ":"))
    if key in DOCUMENT_KEYS:
        return f"<{key}>{xml_escape(urllib.parse.quote(value, safe=''))}</{key}>"
    if isinstance(value, list):
        return f"<{key}>" + "".join(xml_value("member", item) for item in value) + f"</{key}>"
    if isinstance(value, dict):
        return f"<{key}>" + "".join(xml_value(k, v) for k, v in value.items()) + f"</{key}>"
    if isinstance(value, bool):
        return f"<{key}>{'true' if value else 'false'}</{key}>"
    text = str(value)
    if TIMESTAMP_RE.match(text):
        text = text.replace("+00:00", "Z")
    return f"<{key}>{xml_escape(text)}</{key}>"


def query_response(operation, namespace, result_xml):
    return (f'<{operation}Response xmlns="{namespace}"><{operation}Result>{result_xml}</{operation}Result>'
            f'<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>'
            f'</{operation}Response>')


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Template:
    """One snapshot account, rendered once: every answer's bytes split on its account id."""

    def __init__(self, directory, account, page_size):
        self.account = account
        self.cut = account.encode()
        with open(os.path.join(directory, "account-authorization-details.json"), encoding="utf-8") as f:
            details = json.load(f)
        # (list name, member XML) in AWS's order; pages are rendered on first use, by size.
        self.members = [(name, xml_value("member", member))
                        for name in GAAD_LISTS for member in details.get(name) or []]
        self.pages = {}
        self.default_page_size = page_size
        report = os.path.join(directory, "credential-report.csv")
        with open(report, "rb") as f:
            self.report = f.read().split(self.cut)
        self.password_policy = self._read(directory, "password-policy.json").get("PasswordPolicy")
        summary = self._read(directory, "account-summary.json").get("SummaryMap") or {}
        entries = "".join(f"<entry><key>{xml_escape(k)}</key><value>{int(v)}</value></entry>"
                          for k, v in summary.items())
        self.summary = query_response("GetAccountSummary", IAM_NS,
                                      f"<SummaryMap>{entries}</SummaryMap>").encode()
        if self.password_policy is not None:
            self.password = query_response("GetAccountPasswordPolicy", IAM_NS,
                                           xml_value("PasswordPolicy", self.password_policy)).encode()

    @staticmethod
    def _read(directory, name):
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            return {}
        with open(path, encoding="utf-8") as f:
            return json.load(f) or {}

    def gaad_page(self, offset, size):
        """(parts split on the account id, next offset or None) of the page at offset."""
        key = (offset, size)
        page = self.pages.get(key)
        if page is None:
            chunk = self.members[offset:offset + size]
            following = offset + size if offset + size < len(self.members) else None
            body = [f"<IsTruncated>{'true' if following is not None else 'false'}</IsTruncated>"]
            if following is not None:
                body.append(f"<Marker>{encode_token('gaad', following)}</Marker>")
            for name in GAAD_LISTS:
                members = "".join(xml for list_name, xml in chunk if list_name == name)
                body.append(f"<{name}>{members}</{name}>")
            xml = query_response("GetAccountAuthorizationDetails", IAM_NS, "".join(body))
            page = (xml.encode().split(self.cut), following)
            self.pages[key] = page
        return page


def encode_token(kind, offset):
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode()


def decode_token(kind, token):
    try:
        got_kind, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if got_kind == kind and int(offset) >= 0:
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    return None


class Organization:
    def __init__(self, snapshot, accounts, page_size, ous):
        org_dir = os.path.join(snapshot, "organization")
        listed = self._json(os.path.join(org_dir, "accounts.json")).get("Accounts") or []
        scps = self._json(os.path.join(org_dir, "scps.json"))
        manifest = self._json(os.path.join(snapshot, "manifest.json"))
        accounts_dir = os.path.join(snapshot, "accounts")
        ids = sorted(d for d in os.listdir(accounts_dir)
                     if os.path.isfile(os.path.join(accounts_dir, d, "account-authorization-details.json")))
        if not ids:
            raise SystemExit(f"aws_standin: no account of {snapshot} has account-authorization-details.json")
        management = manifest.get("management_account")
        if not management and ROLE_ARN_RE.match(manifest.get("caller") or "") is None:
            caller = re.match(r"^arn:aws[a-z-]*:(?:sts|iam)::(\d{12}):", manifest.get("caller") or "")
            management = caller.group(1) if caller else None
        if not management:
            named = [a["Id"] for a in listed if a.get("Name") == "management"]
            management = named[0] if named else None
        if management not in ids:
            management = ids[0]
        self.templates = {i: Template(os.path.join(accounts_dir, i), i, page_size) for i in ids}
        members = [i for i in ids if i != management]
        self.org_id = scps.get("OrganizationId") or manifest.get("organization_id") or "o-standin00"
        self.root = "r-stnd"
        self.ous = [f"ou-stnd-{n:08d}" for n in range(ous)]
        names = {a.get("Id"): a.get("Name") for a in listed}
        if accounts is None:
            self.accounts = [(management, management, names.get(management) or "management")]
            self.accounts += [(i, i, names.get(i) or f"account-{i}") for i in members]
        else:
            self.accounts = [(management, management, "management")]
            pool = members or [management]
            self.accounts += [(f"{MEMBER_BASE + n:012d}", pool[(n - 1) % len(pool)], f"member-{n}")
                              for n in range(1, accounts)]
        self.management = management
        self.template_of = {a: t for a, t, _ in self.accounts}
        self.parent = {management: self.root}
        for n, (account, _, _) in enumerate(self.accounts[1:]):
            self.parent[account] = self.ous[n % len(self.ous)] if self.ous else self.root
        self.children = {}
        for account, _, _ in self.accounts:
            self.children.setdefault(self.parent[account], []).append(account)
        self.names = {a: name for a, _, name in self.accounts}
        self.policies = []
        for policy in scps.get("Policies") or []:
            targets = []
            for target in policy.get("Targets") or []:
                if target.get("Type") == "ROOT":
                    targets.append((self.root, "ROOT", "Root"))
                elif target.get("Type") == "ORGANIZATIONAL_UNIT" and self.ous:
                    targets.append((self.ous[0], "ORGANIZATIONAL_UNIT", "ou-0"))
            self.policies.append((policy, sorted(set(targets))))

    @staticmethod
    def _json(path):
        if not os.path.isfile(path):
            return {}
        with open(path, encoding="utf-8") as f:
            return json.load(f) or {}

    def account_json(self, account):
        return {"Id": account, "Arn": f"arn:aws:organizations::{self.management}:account/{self.org_id}/{account}",
                "Email": f"aws+{account}@standin.example", "Name": self.names[account],
                "Status": "ACTIVE", "State": "ACTIVE", "JoinedMethod": "CREATED",
                "JoinedTimestamp": 1500000000.0}


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Standin:
    def __init__(self, org, args):
        self.org = org
        self.latency = args.latency_ms / 1000.0
        self.throttle = args.throttle_percent / 100.0
        self.seed = args.throttle_seed
        self.in_a_row_limit = args.throttle_in_a_row
        self.page_size = args.gaad_page_size
        self.reset()

    def reset(self):
        self.in_a_row = {}
        self.report_started = set()
        self.calls = {}
        self.throttled = {}
        self.account_calls = {}
        self.organization_calls = 0
        self.assumed = set()

    # --- the request ---------------------------------------------------------------------

    def identify(self, headers):
        """(service, the account whose key signed it: None for the caller's own key)."""
        match = CREDENTIAL_RE.search(headers.get("authorization", ""))
        if not match:
            raise ApiError(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        key, service = match.group(1), match.group(4)
        account = None
        if key.startswith(KEY_PREFIX) and key.endswith(KEY_SUFFIX) and len(key) == 20:
            account = key[4:16]
            if account not in self.org.template_of:
                raise ApiError(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        return service, account

    def should_throttle(self, call):
        if self.throttle <= 0:
            return False
        row = self.in_a_row.get(call, 0)
        if row >= self.in_a_row_limit:
            self.in_a_row.pop(call, None)
            return False
        digest = hashlib.sha256(f"{self.seed}:{call}:{row}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2 ** 64 < self.throttle:
            self.in_a_row[call] = row + 1
            return True
        self.in_a_row.pop(call, None)
        return False

    def count(self, operation, account, throttled):
        self.calls[operation] = self.calls.get(operation, 0) + 1
        if throttled:
            self.throttled[operation] = self.throttled.get(operation, 0) + 1
        if account is None:
            self.organization_calls += 1
        else:
            self.account_calls[account] = self.account_calls.get(account, 0) + 1

    def stats(self):
        per = list(self.account_calls.values())
        return {
            "accounts_in_organization": len(self.org.accounts),
            "accounts_called": len(per),
            "accounts_assumed": len(self.assumed),
            "calls": dict(sorted(self.calls.items())),
            "calls_total": sum(self.calls.values()),
            "throttled": dict(sorted(self.throttled.items())),
            "throttled_total": sum(self.throttled.values()),
            "organization_calls": self.organization_calls,
            "calls_per_account": {"min": min(per, default=0), "max": max(per, default=0),
                                  "mean": round(sum(per) / len(per), 3) if per else 0},
        }

    async def answer(self, method, target, headers, body):
        """(status, headers, body bytes) for one request."""
        path, _, query = target.partition("?")
        if path == "/__standin/stats":
            return 200, [("Content-Type", "application/json")], json.dumps(self.stats()).encode()
        if path == "/__standin/reset" and method == "POST":
            self.reset()
            return 200, [("Content-Type", "application/json")], b"{}"
        try:
            service, key_account = self.identify(headers)
        except ApiError as e:
            return query_error(e, STS_NS)
        if service in ("iam", "sts"):
            params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
            operation = params.get("Action", "")
            protocol = "query"
        elif service in ("organizations", "sso", "identitystore"):
            operation = headers.get("x-amz-target", "").rpartition(".")[2]
            params = json.loads(body or b"{}")
            protocol = "json"
        elif service == "access-analyzer":
            operation = "ListAnalyzers" if (method, path) == ("GET", "/analyzer") else f"{method} {path}"
            params = dict(urllib.parse.parse_qsl(query))
            protocol = "rest"
        else:
            operation, params, protocol = "?", {}, "query"
        # Whose call it is: AssumeRole's is the target account's; the caller's own key is the
        # management account's for IAM, and the organization's for everything else.
        account = key_account
        if (service, operation) == ("sts", "AssumeRole"):
            match = ROLE_ARN_RE.match(params.get("RoleArn", ""))
            account = match.group(1) if match else None
        elif account is None and service in ("iam", "access-analyzer"):
            account = self.org.management
        call = json.dumps([account, service, operation, sorted(params.items())], default=str)
        throttled = self.should_throttle(call)
        self.count(f"{service}:{operation}", account, throttled)
        if self.latency:
            await asyncio.sleep(self.latency)
        if throttled:
            return throttling(service, protocol)
        try:
            if service == "sts":
                return self.sts(operation, params, key_account)
            if service == "iam":
                return self.iam(operation, params, account)
            if service == "organizations":
                return self.organizations(operation, params)
            if service == "sso" and operation == "ListInstances":
                return json_ok({"Instances": []})
            if service == "access-analyzer" and operation == "ListAnalyzers":
                return 200, [("Content-Type", "application/json")], b'{"analyzers":[]}'
            raise ApiError(400, "InvalidAction" if protocol == "query" else "UnknownOperationException",
                           f"the stand-in does not answer {service}:{operation}")
        except ApiError as e:
            log(f"{service}:{operation} ({account}): {e.code}: {e.message}")
            if protocol == "query":
                return query_error(e, STS_NS if service == "sts" else IAM_NS)
            return json_error(e)

    # --- STS ---------------------------------------------------------------------------------

    def sts(self, operation, params, key_account):
        if operation == "GetCallerIdentity":
            account = key_account or self.org.management
            arn = (f"arn:aws:sts::{account}:assumed-role/iam-auditor/standin" if key_account is None
                   else f"arn:aws:sts::{account}:assumed-role/auditor/session")
            result = (f"<Arn>{arn}</Arn><UserId>AROASTANDIN0000000000:standin</UserId>"
                      f"<Account>{account}</Account>")
            return query_ok(query_response("GetCallerIdentity", STS_NS, result))
        if operation == "AssumeRole":
            arn = params.get("RoleArn", "")
            match = ROLE_ARN_RE.match(arn)
            if not match or match.group(1) not in self.org.template_of:
                raise ApiError(403, "AccessDenied",
                               f"User: arn:aws:sts::{self.org.management}:assumed-role/iam-auditor/standin "
                               f"is not authorized to perform: sts:AssumeRole on resource: {arn}")
            account, role = match.groups()
            self.assumed.add(account)
            session = params.get("RoleSessionName", "session")
            result = (
                f"<Credentials><AccessKeyId>{KEY_PREFIX}{account}{KEY_SUFFIX}</AccessKeyId>"
                f"<SecretAccessKey>standin-secret-{account}</SecretAccessKey>"
                f"<SessionToken>standin-token-{account}</SessionToken>"
                f"<Expiration>{iso(time.time() + 3600)}</Expiration></Credentials>"
                f"<AssumedRoleUser><AssumedRoleId>AROASTANDIN{account[:9]}:{xml_escape(session)}</AssumedRoleId>"
                f"<Arn>arn:aws:sts::{account}:assumed-role/{xml_escape(role)}/{xml_escape(session)}</Arn>"
                f"</AssumedRoleUser>")
            return query_ok(query_response("AssumeRole", STS_NS, result))
        raise ApiError(400, "InvalidAction", f"Could not find operation {operation} for version 2011-06-15")

    # --- IAM ---------------------------------------------------------------------------------

    def iam(self, operation, params, account):
        template = self.org.templates[self.org.template_of[account]]
        cut = account.encode()
        if operation == "GetAccountAuthorizationDetails":
            size = min(int(params.get("MaxItems") or 100), self.page_size)
            offset = 0
            if params.get("Marker"):
                offset = decode_token("gaad", params["Marker"])
                if offset is None:
                    raise ApiError(400, "InvalidInput", "Invalid Marker.")
            parts, _ = template.gaad_page(offset, max(size, 1))
            return query_ok(cut.join(parts))
        if operation == "GenerateCredentialReport":
            if account in self.report_started:
                self.report_started.discard(account)
                state, description = "COMPLETE", ""
            else:
                self.report_started.add(account)
                state, description = "STARTED", "No report exists. Starting a new report generation task"
            result = f"<State>{state}</State>" + (f"<Description>{description}</Description>" if description else "")
            return query_ok(query_response("GenerateCredentialReport", IAM_NS, result))
        if operation == "GetCredentialReport":
            content = base64.b64encode(cut.join(template.report)).decode()
            result = (f"<Content>{content}</Content><ReportFormat>text/csv</ReportFormat>"
                      f"<GeneratedTime>{iso(time.time())}</GeneratedTime>")
            return query_ok(query_response("GetCredentialReport", IAM_NS, result))
        if operation == "GetAccountPasswordPolicy":
            if template.password_policy is None:
                raise ApiError(404, "NoSuchEntity",
                               f"The Password Policy with domain name {account} cannot be found.")
            return query_ok(template.password)
        if operation == "GetAccountSummary":
            return query_ok(template.summary)
        raise ApiError(400, "InvalidAction", f"Could not find operation {operation} for version 2010-05-08")

    # --- Organizations -------------------------------------------------------------------------

    def organizations(self, operation, params):
        org = self.org
        if operation == "DescribeOrganization":
            return json_ok({"Organization": {
                "Id": org.org_id, "Arn": f"arn:aws:organizations::{org.management}:organization/{org.org_id}",
                "FeatureSet": "ALL", "MasterAccountId": org.management,
                "MasterAccountArn": f"arn:aws:organizations::{org.management}:account/{org.org_id}/{org.management}",
                "MasterAccountEmail": f"aws+{org.management}@standin.example",
                "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}})
        if operation == "ListAccounts":
            ids = [a for a, _, _ in org.accounts]
            return json_ok(page(params, "Accounts", [org.account_json(a) for a in ids], "accounts"))
        if operation == "ListRoots":
            return json_ok({"Roots": [{"Id": org.root, "Name": "Root",
                                       "Arn": f"arn:aws:organizations::{org.management}:root/{org.org_id}/{org.root}",
                                       "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]}]})
        if operation == "ListOrganizationalUnitsForParent":
            parent = params.get("ParentId")
            units = org.ous if parent == org.root else []
            items = [{"Id": u, "Name": f"ou-{n}",
                      "Arn": f"arn:aws:organizations::{org.management}:ou/{org.org_id}/{u}"}
                     for n, u in enumerate(units)]
            return json_ok(page(params, "OrganizationalUnits", items, f"ous-{parent}"))
        if operation == "ListAccountsForParent":
            parent = params.get("ParentId")
            items = [org.account_json(a) for a in org.children.get(parent, [])]
            return json_ok(page(params, "Accounts", items, f"children-{parent}"))
        if operation == "ListPolicies":
            items = [{"Id": p["Id"], "Name": p.get("Name"), "Description": p.get("Description", ""),
                      "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": bool(p.get("AwsManaged")),
                      "Arn": f"arn:aws:organizations::aws:policy/service_control_policy/{p['Id']}"}
                     for p, _ in org.policies]
            return json_ok(page(params, "Policies", items, "policies"))
        if operation in ("DescribePolicy", "ListTargetsForPolicy"):
            found = [(p, t) for p, t in org.policies if p["Id"] == params.get("PolicyId")]
            if not found:
                raise ApiError(400, "PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
            policy, targets = found[0]
            if operation == "ListTargetsForPolicy":
                items = [{"TargetId": t, "Type": kind, "Name": name,
                          "Arn": f"arn:aws:organizations::{org.management}:{kind.lower()}/{org.org_id}/{t}"}
                         for t, kind, name in targets]
                return json_ok(page(params, "Targets", items, f"targets-{policy['Id']}"))
            content = policy.get("Content")
            return json_ok({"Policy": {
                "PolicySummary": {"Id": policy["Id"], "Name": policy.get("Name"),
                                  "Description": policy.get("Description", ""),
                                  "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": bool(policy.get("AwsManaged")),
                                  "Arn": f"arn:aws:organizations::aws:policy/service_control_policy/{policy['Id']}"},
                "Content": content if isinstance(content, str) else json.dumps(content)}})
        raise ApiError(400, "UnknownOperationException", f"the stand-in does not answer organizations:{operation}")


def page(params, name, items, kind):
    """One page of at most 20 (or MaxResults) items, with an opaque NextToken like AWS's."""
    size = max(1, min(int(params.get("MaxResults") or ORG_PAGE), ORG_PAGE))
    offset = 0
    if params.get("NextToken"):
        offset = decode_token(kind, params["NextToken"])
        if offset is None:
            raise ApiError(400, "InvalidInputException", "You specified an invalid value for nextToken.")
    out = {name: items[offset:offset + size]}
    if offset + size < len(items):
        out["NextToken"] = encode_token(kind, offset + size)
    return out


def query_ok(xml):
    body = xml if isinstance(xml, bytes) else xml.encode()
    return 200, [("Content-Type", "text/xml")], body


def json_ok(value):
    return 200, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(value).encode()


def query_error(error, namespace):
    kind = "Sender" if error.status < 500 else "Receiver"
    request_id = str(uuid.uuid4())
    body = (f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{error.code}</Code>'
            f'<Message>{xml_escape(error.message)}</Message></Error><RequestId>{request_id}</RequestId>'
            f'</ErrorResponse>').encode()
    return error.status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body


def json_error(error):
    body = json.dumps({"__type": error.code, "Message": error.message}).encode()
    return error.status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", error.code)], body


def throttling(service, protocol):
    """The throttling error each service answers with, in its own wire format."""
    if protocol == "query":
        namespace = STS_NS if service == "sts" else IAM_NS
        return query_error(ApiError(400, "Throttling", "Rate exceeded"), namespace)
    if protocol == "rest":
        return 429, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ThrottlingException"),
                     ("Retry-After", "1")], b'{"message":"Rate exceeded"}'
    if service == "organizations":
        return json_error(ApiError(400, "TooManyRequestsException",
                                   "AWS Organizations can't complete your request because of too many "
                                   "requests. Try again later."))
    body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    return 400, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "ThrottlingException")], body


REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error"}


async def serve_connection(standin, reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers = {}
            while True:
                raw = await reader.readline()
                if raw in (b"\r\n", b"\n", b""):
                    break
                name, _, value = raw.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            length = int(headers.get("content-length") or 0)
            body = await reader.readexactly(length) if length else b""
            status, response_headers, payload = await standin.answer(method, target, headers, body)
            head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
                    f"Content-Length: {len(payload)}",
                    "Connection: close" if headers.get("connection", "").lower() == "close" else "Connection: keep-alive"]
            head += [f"{k}: {v}" for k, v in response_headers]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            writer.write(payload)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    except asyncio.CancelledError:
        # Stopping: an idle keep-alive connection is simply closed.
        return
    except Exception as e:  # a bug here must be seen, not turned into a hang
        log(f"error answering a request: {e!r}")
        raise
    finally:
        writer.close()


async def main_async(args):
    accounts = args.accounts
    org = Organization(args.snapshot, accounts, args.gaad_page_size, args.ous)
    standin = Standin(org, args)
    server = await asyncio.start_server(lambda r, w: serve_connection(standin, r, w), "127.0.0.1", 0,
                                        backlog=1024)
    port = server.sockets[0].getsockname()[1]
    temp = args.port_file + ".tmp"
    with open(temp, "w", encoding="utf-8") as f:
        f.write(f"{port}\n")
    os.replace(temp, args.port_file)
    log(f"listening on 127.0.0.1:{port}: {len(org.accounts)} accounts from {len(org.templates)} template(s), "
        f"management {org.management}; latency {args.latency_ms} ms, throttling {args.throttle_percent} %")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    log(f"stopping: {json.dumps(standin.stats())}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snapshot", required=True, help="a snapshot folder (docs/DESIGN.md layout)")
    parser.add_argument("--port-file", required=True, help="where to write the port once listening")
    parser.add_argument("--accounts", type=int, default=None, help="an organization of N accounts")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--throttle-percent", type=float, default=0.0)
    parser.add_argument("--throttle-seed", default="1")
    parser.add_argument("--throttle-in-a-row", type=int, default=2)
    parser.add_argument("--gaad-page-size", type=int, default=1000)
    parser.add_argument("--ous", type=int, default=10)
    args = parser.parse_args()
    if args.accounts is not None and args.accounts < 1:
        parser.error("--accounts must be at least 1")
    if not 0 <= args.throttle_percent <= 100:
        parser.error("--throttle-percent must be between 0 and 100")
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
