#!/usr/bin/env python3
"""Self-test of tests/aws_fault_proxy.py and tests/moto_org.py against a real moto_server, and of
tests/aws_standin.py (the scale benchmark's stand-in for AWS) on its own.

  python tests/pytools_selftest.py [--big] [--keep]

Starts moto_server on a free port and the proxy in front of it (subprocesses, stopped by PID at
the end, also on failure), seeds an organization with 3 members, and checks through the proxy
with boto3: GAAD paging (page size 3, every entity exactly once), an injected throttle on page 2
(retried, logged), an injected AccessDenied on AssumeRole into one account (the awsQuery wire
shape), the JSON 1.1 and restJson1 error shapes, rule skip/times counters, the recorded Access
Analyzer answers (paginated, per-account override), keep-alive and concurrent requests, the
request log, and a clean exit on SIGTERM. The stand-in, with boto3: every API it answers
(Organizations' pages of 20, AssumeRole into a member, GAAD pages holding every entity of the
template once with the member's id, the two-poll credential report, the password policy and
NoSuchEntity, the summary, Access Analyzer, Identity Center), its throttling retried (every
throttle it counted is a retry boto3 made), each service's throttling error shape, and a clean
exit on SIGTERM. --big also times seeding 1 account with 1,000 users
and 600 roles on a fresh moto_server. Exits non-zero on the first failed check.
Needs the Python that has moto[server] and boto3 (e.g. .venv/bin/python); moto_server is taken
from next to it, or $MOTO_SERVER, or PATH.
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
PROXY = os.path.join(HERE, "aws_fault_proxy.py")
STANDIN = os.path.join(HERE, "aws_standin.py")
DEMO_ORG = os.path.join(os.path.dirname(HERE), "examples", "demo-org")
SEEDER = os.path.join(HERE, "moto_org.py")
RECORDED = os.path.join(HERE, "recorded")
CHECK_IDS = {"admin-access", "full-admin-policy", "wide-trust", "external-trust", "oidc-trust-unscoped",
             "console-without-mfa", "direct-user-policy", "password-policy-weak"}
LOG_KEYS = {"service", "operation", "account", "region", "status", "injected", "marker"}
GAAD_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
REGION = "us-east-1"


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def step(message):
    print(f"-- {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_server_binary():
    candidates = [os.environ.get("MOTO_SERVER"), os.path.join(os.path.dirname(sys.executable), "moto_server"),
                  shutil.which("moto_server")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    sys.exit("pytools_selftest: moto_server not found (run with the venv's python or set MOTO_SERVER)")


class Processes:
    """Subprocesses started here, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, name, argv, env=None):
        out = open(os.path.join(self.workdir, f"{name}.stderr"), "wb")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def stop(self, proc, timeout=5):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def stop_all(self):
        for _name, proc in reversed(self.procs):
            self.stop(proc)


def wait_http(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read(1)
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise CheckFailed(f"{url} did not answer within {timeout}s")


def wait_port_file(path, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            check(text.endswith("\n") and text.strip().isdigit(), f"port file holds {text!r}")
            return int(text)
        check(proc.poll() is None, f"the proxy exited with {proc.returncode}")
        time.sleep(0.02)
    raise CheckFailed(f"no port file {path} after {timeout}s")


def start_moto(procs):
    port = free_port()
    started = time.monotonic()
    procs.start(f"moto-{port}", [moto_server_binary(), "-H", "127.0.0.1", "-p", str(port)])
    endpoint = f"http://127.0.0.1:{port}"
    wait_http(endpoint + "/moto-api/")
    return endpoint, time.monotonic() - started


def seed(endpoint, out, *extra):
    started = time.monotonic()
    result = subprocess.run([sys.executable, SEEDER, "--endpoint", endpoint, "--out", out, *extra],
                            capture_output=True, text=True)
    check(result.returncode == 0, f"moto_org.py failed ({result.returncode}):\n{result.stderr}")
    with open(out, encoding="utf-8") as f:
        return json.load(f), time.monotonic() - started, result.stderr.strip()


class Requests:
    """Counts every HTTP request boto3 sends (retries included) to compare with the log."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0

    def hook(self, **_kwargs):
        with self.lock:
            self.count += 1

    def add(self, n):
        with self.lock:
            self.count += n


def client(service, endpoint, counter=None, creds=None, attempts=3, pool=10):
    creds = creds or {"AccessKeyId": "testing", "SecretAccessKey": "testing", "SessionToken": None}
    session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds.get("SessionToken"), region_name=REGION)
    c = session.client(service, endpoint_url=endpoint, config=Config(
        retries={"mode": "standard", "max_attempts": attempts}, max_pool_connections=pool))
    if counter is not None:
        c.meta.events.register("before-send", counter.hook)
    return c


def entities(page):
    out = []
    for u in page.get("UserDetailList", []):
        out.append(f"user/{u['UserName']}")
    for g in page.get("GroupDetailList", []):
        out.append(f"group/{g['GroupName']}")
    for r in page.get("RoleDetailList", []):
        out.append(f"role/{r['RoleName']}")
    for p in page.get("Policies", []):
        out.append(f"policy/{p['Arn']}")
    return out


def read_log(path):
    """The proxy's log lines, without the time each was answered (checked once, below)."""
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    for line in lines:
        check(isinstance(line.pop("time", None), float), f"a log line without its time: {line}")
    return lines


def write_rules(path, rules):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(rules, f)
    os.replace(tmp, path)


def fake_sigv4(service, key="testing"):
    return (f"AWS4-HMAC-SHA256 Credential={key}/20261123/{REGION}/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


def run(args, workdir, procs, timings):
    step("start moto_server")
    moto, timings["moto start"] = start_moto(procs)

    step("seed an organization with 3 members (moto_org.py, directly against moto)")
    seed_doc, timings["seed 3 members"], seed_msg = seed(moto, os.path.join(workdir, "seed.json"), "--members", "3")
    print(f"   {seed_msg}")
    accounts = seed_doc["accounts"]
    management = seed_doc["management_account"]
    check(len(accounts) == 4, f"4 accounts expected, got {len(accounts)}")
    check(accounts[0]["id"] == management and accounts[0]["role_arn"] is None, "management account first, no role")
    check(seed_doc["organization_id"].startswith("o-") and seed_doc["root_id"].startswith("r-"), "org/root ids")
    for account in accounts:
        check(len(account["id"]) == 12 and account["id"].isdigit(), f"account id {account['id']}")
        check(account["ou_path"][0] == seed_doc["root_id"], f"ou_path of {account['name']} starts at the root")
        check(all(p.startswith("ou-") for p in account["ou_path"][1:]), f"ou_path of {account['name']}")
        for kind in ("planted", "must_not_flag", "info_only"):
            check(set(account[kind]) <= CHECK_IDS, f"{kind} of {account['name']}: {set(account[kind])}")
        check(set(account["planted"]) == CHECK_IDS, f"every check planted in {account['name']}")
        check(account["planted"]["password-policy-weak"] == [f"arn:aws:iam::{account['id']}:root"],
              "password-policy-weak on the root ARN")
        if account["role_arn"]:
            check(account["role_arn"] == f"arn:aws:iam::{account['id']}:role/OrganizationAccountAccessRole",
                  "role_arn")
    check([len(a["ou_path"]) for a in accounts] == [1, 2, 2, 3], "round-robin over Production, Sandbox, Experiments")
    check(sum(1 for a in accounts if a["password_policy"] == "weak") == 1, "exactly one weak password policy")

    # Every ARN in seed.json names something moto really has (direct, one-page GAAD).
    direct = {}
    sts_direct = client("sts", moto)
    org_direct = client("organizations", moto)
    check(len(org_direct.list_accounts()["Accounts"]) == 4, "moto lists 4 accounts")
    for account in accounts:
        creds = None
        if account["role_arn"]:
            creds = sts_direct.assume_role(RoleArn=account["role_arn"], RoleSessionName="selftest")["Credentials"]
        iam = client("iam", moto, creds=creds)
        page = iam.get_account_authorization_details()
        check(not page["IsTruncated"], "moto answers GAAD in one page")
        direct[account["id"]] = page
        arns = {x["Arn"] for k in GAAD_LISTS for x in page[k]}
        for kind in ("planted", "must_not_flag", "info_only"):
            for check_id, resources in account[kind].items():
                for arn in resources:
                    if arn.endswith(":root"):
                        continue
                    check(arn in arns, f"{kind} {check_id} {arn} exists in moto")
        pp = None
        try:
            pp = iam.get_account_password_policy()["PasswordPolicy"]
        except ClientError as e:
            check(e.response["Error"]["Code"] == "NoSuchEntity", f"password policy: {e}")
        if account["password_policy"] == "weak":
            check(pp and pp["MinimumPasswordLength"] == 8, f"weak password policy: {pp}")
        else:
            check(pp is None, f"no password policy expected in {account['name']}: {pp}")
        alice = iam.get_login_profile(UserName="admin-alice")["LoginProfile"]
        check(alice["UserName"] == "admin-alice", "alice has a console password")
        check(iam.list_mfa_devices(UserName="admin-alice")["MFADevices"] == [], "alice has no MFA")
        check(len(iam.list_access_keys(UserName="admin-alice")["AccessKeyMetadata"]) == 1, "alice has a key")
        capped = iam.get_role(RoleName="capped-admin")["Role"]
        boundary = capped.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", "")
        check(boundary.endswith(":policy/s3-only-boundary"), "capped-admin has its boundary")
    check(len(org_direct.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]) >= 2, "two SCPs")

    step("start the proxy (--gaad-page-size 3, --recorded, --rules, --log)")
    recorded = os.path.join(workdir, "recorded")
    shutil.copytree(RECORDED, recorded)
    rules = os.path.join(workdir, "rules.json")
    write_rules(rules, [])
    log = os.path.join(workdir, "proxy.jsonl")
    port_file = os.path.join(workdir, "proxy.port")
    started = time.monotonic()
    proxy_proc = procs.start("proxy", [sys.executable, PROXY, "--upstream", moto, "--port-file", port_file,
                                       "--rules", rules, "--recorded", recorded, "--log", log,
                                       "--gaad-page-size", "3"])
    proxy = f"http://127.0.0.1:{wait_port_file(port_file, proxy_proc)}"
    timings["proxy start"] = time.monotonic() - started
    sent = Requests()

    member_a, member_b = accounts[1], accounts[2]
    sts = client("sts", proxy, sent)
    creds_a = sts.assume_role(RoleArn=member_a["role_arn"], RoleSessionName="selftest")["Credentials"]
    lines = read_log(log)
    check(lines[-1]["service"] == "sts" and lines[-1]["operation"] == "AssumeRole"
          and lines[-1]["account"] == member_a["id"] and lines[-1]["status"] == 200, f"AssumeRole logged: {lines[-1]}")
    iam_a = client("iam", proxy, sent, creds_a)

    step("GAAD through the proxy: pages of 3 following Marker, every entity exactly once")
    expected = sorted(entities(direct[member_a["id"]]))
    got, pages, marker = [], 0, None
    while True:
        kwargs = {"MaxItems": 100}
        if marker:
            kwargs["Marker"] = marker
        page = iam_a.get_account_authorization_details(**kwargs)
        pages += 1
        n = len(entities(page))
        got += entities(page)
        if page["IsTruncated"]:
            check(n == 3 and page.get("Marker"), f"a truncated page holds 3 members and a Marker ({n})")
            marker = page["Marker"]
        else:
            check(0 < n <= 3 and "Marker" not in page, f"last page: 1-3 members, no Marker ({n})")
            break
        check(pages < 1000, "paging does not end")
    check(len(got) == len(set(got)), "no entity twice")
    check(sorted(got) == expected, f"paged entities differ from moto's:\n{sorted(got)}\n{expected}")
    check(pages == -(-len(expected) // 3), f"{pages} pages for {len(expected)} entities")
    small = iam_a.get_account_authorization_details(MaxItems=2)
    check(len(entities(small)) == 2 and small["IsTruncated"], "MaxItems below the page size is honoured")
    filtered = iam_a.get_account_authorization_details(Filter=["Role"], MaxItems=100)
    check(filtered["UserDetailList"] == [] and len(filtered["RoleDetailList"]) == 3, "Filter=Role kept")
    in_order = entities(direct[member_a["id"]])
    stale = base64.b64encode(json.dumps({"snapshot": "gone", "offset": 3}).encode()).decode()
    check(entities(iam_a.get_account_authorization_details(Marker=stale)) == in_order[3:6],
          "a marker whose snapshot is gone: re-fetched, cut at its offset")
    try:
        iam_a.get_account_authorization_details(Marker="not-a-marker")
        raise CheckFailed("a bad Marker was accepted")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "InvalidInput", f"{e.response['Error']}")
    print(f"   {len(expected)} entities in {pages} pages")
    lines = read_log(log)
    gaad_lines = [x for x in lines if x["operation"] == "GetAccountAuthorizationDetails"]
    check(all(x["account"] == member_a["id"] and x["service"] == "iam" for x in gaad_lines),
          "GAAD lines carry the member account (key learned from AssumeRole)")
    check([x["marker"] for x in gaad_lines[:pages]] == [False] + [True] * (pages - 1), "marker flags in the log")

    step("throttle the 2nd GAAD page once: boto3 retries and still gets everything")
    write_rules(rules, [{"service": "iam", "operation": "GetAccountAuthorizationDetails", "match_marker": True,
                         "times": 1, "respond": "Throttling"}])
    before = len(read_log(log))
    got = []
    for page in iam_a.get_paginator("get_account_authorization_details").paginate():
        got += entities(page)
    check(sorted(got) == expected, "throttled paging still returns every entity once")
    new = read_log(log)[before:]
    injected = [x for x in new if x["injected"]]
    check(len(injected) == 1, f"one injected line: {injected}")
    check(injected[0] == {"service": "iam", "operation": "GetAccountAuthorizationDetails", "account": member_a["id"],
                          "region": REGION, "status": 400, "injected": "Throttling", "marker": True},
          f"the throttle line: {injected[0]}")
    check(new[1] == injected[0], "the throttle hit the 2nd request (page 2)")
    check(len(new) == pages + 1, f"{pages} pages + 1 retry logged, got {len(new)}")

    step("AccessDenied on AssumeRole into one account: the awsQuery wire shape")
    write_rules(rules, [{"service": "sts", "operation": "AssumeRole", "account": member_b["id"],
                         "respond": "AccessDenied"}])
    try:
        sts.assume_role(RoleArn=member_b["role_arn"], RoleSessionName="selftest")
        raise CheckFailed("AssumeRole into the denied account succeeded")
    except ClientError as e:
        err, meta = e.response["Error"], e.response["ResponseMetadata"]
        check(err["Code"] == "AccessDenied" and err["Type"] == "Sender", f"error: {err}")
        check(meta["HTTPStatusCode"] == 403, f"status {meta['HTTPStatusCode']}")
        check(err["Message"] == f"User: arn:aws:iam::{management}:user/test is not authorized to perform: "
                                f"sts:AssumeRole on resource: {member_b['role_arn']}", f"message: {err['Message']}")
        check(meta["RequestId"] and meta["HTTPHeaders"].get("x-amzn-requestid") == meta["RequestId"],
              "RequestId in body and header")
    sts.assume_role(RoleArn=member_a["role_arn"], RoleSessionName="selftest")  # other accounts unaffected
    # The raw bytes, as the Rust SDK sees them.
    conn = http.client.HTTPConnection("127.0.0.1", int(proxy.rsplit(":", 1)[1]), timeout=10)
    body = f"Action=AssumeRole&Version=2011-06-15&RoleArn={member_b['role_arn']}&RoleSessionName=raw"
    conn.request("POST", "/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                                                  "Authorization": fake_sigv4("sts")})
    resp = conn.getresponse()
    raw = resp.read().decode()
    sent.add(1)
    conn.close()
    check(resp.status == 403 and resp.getheader("Content-Type") == "text/xml", f"{resp.status} {resp.getheaders()}")
    check(raw.startswith('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                         "<Code>AccessDenied</Code><Message>User: ") and "<RequestId>" in raw, f"raw body: {raw}")
    check(resp.getheader("x-amzn-RequestId") in raw, "x-amzn-RequestId header matches the body")

    step("JSON 1.1 (organizations) and IAM faults; skip/times counters; rules reload")
    org = client("organizations", proxy, sent)
    write_rules(rules, [{"service": "organizations", "operation": "ListAccounts", "respond": "AccessDenied"}])
    try:
        org.list_accounts()
        raise CheckFailed("ListAccounts not denied")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "AccessDeniedException", f"{e.response['Error']}")
        headers = e.response["ResponseMetadata"]["HTTPHeaders"]
        check(headers.get("x-amzn-errortype") == "AccessDeniedException"
              and headers.get("content-type") == "application/x-amz-json-1.1", f"headers {headers}")
    write_rules(rules, [{"service": "organizations", "operation": "ListAccounts", "respond": "Throttling", "times": 1},
                        {"service": "iam", "operation": "ListUsers", "respond": "InternalError", "times": 1},
                        {"service": "iam", "operation": "ListRoles", "respond": "ServiceUnavailable", "times": 1},
                        {"service": "iam", "operation": "ListGroups", "respond": "AccessDenied", "skip": 1,
                         "times": 1}])
    before = len(read_log(log))
    check(len(org.list_accounts()["Accounts"]) == 4, "ListAccounts after a throttle")
    check(any(u["UserName"] == "admin-alice" for u in iam_a.list_users()["Users"]), "ListUsers after a 500")
    check(any(r["RoleName"] == "vendor-role" for r in iam_a.list_roles()["Roles"]), "ListRoles after a 503")
    iam_a.list_groups()
    try:
        iam_a.list_groups()
        raise CheckFailed("the 2nd ListGroups was not denied (skip 1)")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "AccessDenied", f"{e.response['Error']}")
        check(f"User: arn:aws:sts::{member_a['id']}:assumed-role/OrganizationAccountAccessRole/selftest"
              in e.response["Error"]["Message"], f"message names the assumed role: {e.response['Error']['Message']}")
    iam_a.list_groups()  # times 1: the 3rd passes
    new = read_log(log)[before:]
    summary = [(x["operation"], x["status"], x["injected"]) for x in new]
    check(summary == [("ListAccounts", 400, "Throttling"), ("ListAccounts", 200, None),
                      ("ListUsers", 500, "InternalError"), ("ListUsers", 200, None),
                      ("ListRoles", 503, "ServiceUnavailable"), ("ListRoles", 200, None),
                      ("ListGroups", 200, None), ("ListGroups", 403, "AccessDenied"), ("ListGroups", 200, None)],
          f"log of the fault sequence: {summary}")
    check(new[0]["account"] == management and new[2]["account"] == member_a["id"], "accounts in the log")

    step("a seeded fault mix: at most max_in_a_row faults per call, the same faults in every run; "
         "closed connections and slow answers")
    mix = {"service": "iam", "operation": "ListUsers", "chance": 1.0, "max_in_a_row": 2, "seed": 5,
           "respond": ["CloseConnection", "InternalError"]}
    sequences = []
    for _ in range(2):
        write_rules(rules, [mix])  # a reload restarts the counters
        before = len(read_log(log))
        check(any(u["UserName"] == "admin-alice" for u in iam_a.list_users()["Users"]), "ListUsers within 3 attempts")
        sequences.append([x["injected"] for x in read_log(log)[before:]])
    check(len(sequences[0]) == 3 and sequences[0][2] is None, f"2 faults, then the answer: {sequences[0]}")
    check(sequences[0] == sequences[1], f"the same faults for the same call: {sequences}")
    write_rules(rules, [{"service": "iam", "operation": "ListUsers", "respond": "CloseConnection", "times": 1}])
    before = len(read_log(log))
    iam_a.list_users()
    closed = [(x["status"], x["injected"]) for x in read_log(log)[before:]]
    check(closed == [(None, "CloseConnection"), (200, None)], f"closed without an answer, then retried: {closed}")
    write_rules(rules, [{"service": "iam", "operation": "ListRoles", "respond": "Slow", "slow_seconds": 1.5,
                         "times": 1}])
    started = time.monotonic()
    iam_a.list_roles()
    check(time.monotonic() - started >= 1.4, "the slow answer came after slow_seconds")
    write_rules(rules, [])

    step("IAM Identity Center (sso-admin, identitystore) faults in their JSON 1.1 wire format")
    sso = client("sso-admin", proxy, sent)
    write_rules(rules, [{"service": "sso", "operation": "ListInstances", "respond": "AccessDenied"}])
    try:
        sso.list_instances()
        raise CheckFailed("ListInstances not denied")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "AccessDeniedException"
              and "sso:ListInstances" in e.response["Error"]["Message"], f"{e.response['Error']}")
    write_rules(rules, [{"service": "identitystore", "respond": "Throttling", "times": 1}])
    store = client("identitystore", proxy, sent)
    before = len(read_log(log))
    check(store.list_users(IdentityStoreId="d-0000000000")["Users"] == [], "ListUsers after a throttle")
    summary = [(x["service"], x["operation"], x["status"], x["injected"]) for x in read_log(log)[before:]]
    check(summary == [("identitystore", "ListUsers", 400, "Throttling"), ("identitystore", "ListUsers", 200, None)],
          f"log of the identitystore throttle: {summary}")
    write_rules(rules, [])

    step("Access Analyzer from recorded responses (restJson1), paginated; per-account override")
    write_rules(rules, [])
    aa_a = client("accessanalyzer", proxy, sent, creds_a)
    analyzers = aa_a.list_analyzers()["analyzers"]
    check([(a["name"], a["type"], a["status"]) for a in analyzers] ==
          [("external-access", "ACCOUNT", "ACTIVE"), ("unused-access", "ACCOUNT_UNUSED_ACCESS", "ACTIVE")],
          f"analyzers: {analyzers}")
    check(analyzers[0]["arn"] == f"arn:aws:access-analyzer:{REGION}:{member_a['id']}:analyzer/external-access",
          "{account}/{region} substituted")
    check(analyzers[0]["createdAt"].year == 2026 and "_comment" not in analyzers[0], "timestamps parsed")
    check(len(aa_a.list_analyzers(type="ACCOUNT")["analyzers"]) == 1, "type filter")
    findings, finding_pages = [], 0
    for page in aa_a.get_paginator("list_findings_v2").paginate(
            analyzerArn=analyzers[0]["arn"], filter={"status": {"eq": ["ACTIVE"]}}):
        finding_pages += 1
        findings += page["findings"]
    check(finding_pages == 2 and len(findings) == 3, f"{finding_pages} pages, {len(findings)} findings")
    check(all(f["resourceOwnerAccount"] == member_a["id"] and f["status"] == "ACTIVE"
              and f["findingType"] == "ExternalAccess" for f in findings), "finding fields")
    check({f["resourceType"] for f in findings} == {"AWS::S3::Bucket", "AWS::IAM::Role", "AWS::KMS::Key"},
          "resource types")
    unused = aa_a.list_findings_v2(analyzerArn=analyzers[1]["arn"])
    check(unused["findings"] == [] and "nextToken" not in unused, "the unused-access analyzer has no findings")
    try:
        aa_a.list_findings_v2(analyzerArn=f"arn:aws:access-analyzer:{REGION}:{member_a['id']}:analyzer/nope")
        raise CheckFailed("unknown analyzer answered")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "ResourceNotFoundException", f"{e.response['Error']}")
    write_rules(rules, [{"service": "access-analyzer", "operation": "ListAnalyzers", "respond": "Throttling",
                         "times": 1},
                        {"service": "access-analyzer", "operation": "ListFindingsV2", "respond": "AccessDenied",
                         "account": member_a["id"]}])
    check(len(aa_a.list_analyzers()["analyzers"]) == 2, "ListAnalyzers after a 429")
    try:
        aa_a.list_findings_v2(analyzerArn=analyzers[0]["arn"])
        raise CheckFailed("ListFindingsV2 not denied")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "AccessDeniedException"
              and e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, f"{e.response}")
    throttles = [x for x in read_log(log) if x["service"] == "access-analyzer" and x["injected"] == "Throttling"]
    check(len(throttles) == 1 and throttles[0]["status"] == 429, f"access-analyzer throttle: {throttles}")
    write_rules(rules, [])
    os.makedirs(os.path.join(recorded, "access-analyzer", member_b["id"]))
    with open(os.path.join(recorded, "access-analyzer", member_b["id"], "list-analyzers.json"), "w") as f:
        json.dump({"analyzers": []}, f)
    creds_b = sts.assume_role(RoleArn=member_b["role_arn"], RoleSessionName="selftest")["Credentials"]
    aa_b = client("accessanalyzer", proxy, sent, creds_b)
    check(aa_b.list_analyzers()["analyzers"] == [], "account override: no analyzer in member B")
    check(len(aa_a.list_analyzers()["analyzers"]) == 2, "member A keeps its analyzers")

    step("keep-alive (one connection, several requests) and 32 concurrent clients")
    conn = http.client.HTTPConnection("127.0.0.1", int(proxy.rsplit(":", 1)[1]), timeout=10)
    local_ports = set()
    for _ in range(5):
        conn.request("POST", "/", body="Action=GetCallerIdentity&Version=2011-06-15",
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                              "Authorization": fake_sigv4("sts")})
        resp = conn.getresponse()
        data = resp.read()
        check(resp.status == 200 and b"<Account>" + management.encode() in data, f"GetCallerIdentity: {data[:200]}")
        local_ports.add(conn.sock.getsockname()[1])
    conn.close()
    sent.add(5)
    check(len(local_ports) == 1, f"the proxy kept the connection open ({local_ports})")
    iam_many = client("iam", proxy, sent, creds_a, pool=32)
    before = len(read_log(log))

    def list_users(_):
        return len(iam_many.list_users()["Users"])

    with ThreadPoolExecutor(32) as pool:
        counts = list(pool.map(list_users, range(320)))
    check(set(counts) == {len(direct[member_a["id"]]["UserDetailList"])}, f"concurrent answers: {set(counts)}")
    check(len(read_log(log)) - before == 320, "320 log lines for 320 concurrent requests")

    step("the request log: one complete line per request")
    lines = read_log(log)
    check(all(set(x) == LOG_KEYS for x in lines), "every line has exactly the documented keys")
    check(len(lines) == sent.count, f"{len(lines)} log lines for {sent.count} requests sent")
    check(all(x["region"] == REGION for x in lines), "regions")
    check({x["service"] for x in lines} == {"sts", "iam", "organizations", "access-analyzer", "sso", "identitystore"},
          "services")

    step("SIGTERM stops the proxy cleanly")
    code = procs.stop(proxy_proc)
    check(code == 0, f"proxy exit code {code}")

    standin_checks(workdir, procs)

    if args.big:
        step("seed 1 account with 1,000 users and 600 roles on a fresh moto_server")
        moto_big, _ = start_moto(procs)
        big, timings["seed 1 account, 1000 users + 600 roles"], msg = seed(
            moto_big, os.path.join(workdir, "seed-big.json"), "--members", "0", "--users", "1000", "--roles", "600")
        print(f"   {msg}")
        page = client("iam", moto_big).get_account_authorization_details()
        check(len(page["UserDetailList"]) == 1004 and len(page["RoleDetailList"]) == 606,
              f"{len(page['UserDetailList'])} users, {len(page['RoleDetailList'])} roles")
        check(len(big["accounts"][0]["planted"]["direct-user-policy"]) == 1003, "filler users listed as planted")


def start_standin(workdir, procs, name, *extra):
    port_file = os.path.join(workdir, f"{name}.port")
    proc = procs.start(name, [sys.executable, STANDIN, "--snapshot", DEMO_ORG, "--port-file", port_file,
                              "--latency-ms", "0", *extra])
    return proc, f"http://127.0.0.1:{wait_port_file(port_file, proc)}"


def standin_stats(endpoint):
    return json.loads(urllib.request.urlopen(endpoint + "/__standin/stats", timeout=10).read())


def standin_checks(workdir, procs):
    """tests/aws_standin.py with boto3: every answer parsed, throttles retried."""
    step("the stand-in: an organization of 45 accounts from examples/demo-org, 20 % of calls throttled")
    proc, endpoint = start_standin(workdir, procs, "standin", "--accounts", "45", "--throttle-percent", "20")
    sent = Requests()
    org = client("organizations", endpoint, sent, attempts=5)
    pages = list(org.get_paginator("list_accounts").paginate())
    accounts = [a["Id"] for p in pages for a in p["Accounts"]]
    check(len(pages) == 3 and len(accounts) == 45 == len(set(accounts)), f"{len(pages)} pages, {len(accounts)} accounts")
    management = org.describe_organization()["Organization"]["MasterAccountId"]
    check(accounts[0] == management, f"the management account first: {accounts[:2]}")
    root = org.list_roots()["Roots"][0]["Id"]
    ous = [u["Id"] for p in org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=root)
           for u in p["OrganizationalUnits"]]
    placed = [a["Id"] for parent in [root] + ous
              for p in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent) for a in p["Accounts"]]
    check(sorted(placed) == sorted(accounts), "every account in the tree once")
    policies = org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    for policy in policies:
        json.loads(org.describe_policy(PolicyId=policy["Id"])["Policy"]["Content"])
        org.list_targets_for_policy(PolicyId=policy["Id"])
    sts = client("sts", endpoint, sent, attempts=5)
    check(sts.get_caller_identity()["Account"] == management, "the caller is the management account")
    member = accounts[7]
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                            RoleSessionName="selftest")["Credentials"]
    iam = client("iam", endpoint, sent, creds, attempts=5)
    got = [e for p in iam.get_paginator("get_account_authorization_details").paginate(
        PaginationConfig={"PageSize": 2}) for e in entities(p)]
    with open(os.path.join(DEMO_ORG, "accounts", "444455556666", "account-authorization-details.json")) as f:
        template = json.load(f)
    check(len(got) == len(set(got)) == sum(len(template.get(k) or []) for k in GAAD_LISTS),
          f"GAAD in pages of 2: {len(got)} entities, {len(set(got))} distinct")
    arns = [u["Arn"] for u in iam.get_account_authorization_details(MaxItems=1000)["UserDetailList"]]
    check(arns and all(f"::{member}:" in a for a in arns), f"the member's own ARNs: {arns[:2]}")
    states = [iam.generate_credential_report()["State"] for _ in range(2)]
    check(states == ["STARTED", "COMPLETE"], f"two polls: {states}")
    report = iam.get_credential_report()["Content"].decode()
    check(report.startswith("user,arn,") and f"arn:aws:iam::{member}:root" in report, report[:200])
    try:
        policy = iam.get_account_password_policy()["PasswordPolicy"]
        check("MinimumPasswordLength" in policy, f"{policy}")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "NoSuchEntity", f"{e.response}")
    check(iam.get_account_summary()["SummaryMap"].get("Users", 0) >= 1, "the summary")
    check(client("accessanalyzer", endpoint, sent, creds, attempts=5).list_analyzers()["analyzers"] == [],
          "no analyzer")
    check(client("sso-admin", endpoint, sent, attempts=5).list_instances()["Instances"] == [], "no instance")
    stats = standin_stats(endpoint)
    check(stats["calls_total"] == sent.count, f"{stats['calls_total']} answered, {sent.count} sent")
    check(stats["throttled_total"] > 0, f"some calls throttled: {stats}")
    check(stats["accounts_assumed"] == 1 and stats["calls"]["iam:GenerateCredentialReport"] >= 2, f"{stats}")
    check(procs.stop(proc) == 0, "SIGTERM stops the stand-in with exit code 0")

    step("the stand-in's throttling error in each service's wire format")
    proc, endpoint = start_standin(workdir, procs, "standin-throttled", "--accounts", "2", "--throttle-percent",
                                   "100", "--throttle-in-a-row", "1000")
    expected = [("iam", lambda c: c.get_account_summary(), "Throttling", 400),
                ("sts", lambda c: c.get_caller_identity(), "Throttling", 400),
                ("organizations", lambda c: c.list_roots(), "TooManyRequestsException", 400),
                ("sso-admin", lambda c: c.list_instances(), "ThrottlingException", 400),
                ("accessanalyzer", lambda c: c.list_analyzers(), "ThrottlingException", 429)]
    for service, call, code, status in expected:
        try:
            call(client(service, endpoint, attempts=1))
            raise CheckFailed(f"{service}: not throttled")
        except ClientError as e:
            got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
            check(got == (code, status), f"{service}: {got}, expected {(code, status)}")
    check(procs.stop(proc) == 0, "SIGTERM stops the stand-in with exit code 0")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", action="store_true", help="also time seeding 1,000 users and 600 roles")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, seed.json)")
    args = parser.parse_args()
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE",
                "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(var, None)
    workdir = tempfile.mkdtemp(prefix="pytools-selftest-")
    procs = Processes(workdir)
    timings = {}
    started = time.monotonic()
    ok = False
    try:
        run(args, workdir, procs, timings)
        ok = True
    except CheckFailed as e:
        print(f"FAILED: {e}", file=sys.stderr)
    finally:
        procs.stop_all()
        if not ok:
            for name in sorted(os.listdir(workdir)):
                if name.endswith(".stderr"):
                    with open(os.path.join(workdir, name), errors="replace") as f:
                        tail = f.read()[-3000:]
                    print(f"--- {name} (tail)\n{tail}", file=sys.stderr)
        if args.keep or not ok:
            print(f"work folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for name, seconds in timings.items():
        print(f"   {name}: {seconds:.2f}s")
    print(("OK" if ok else "FAILED") + f" in {time.monotonic() - started:.1f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
