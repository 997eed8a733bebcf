#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of moto_server, for iam-auditor's live-collection tests.

  aws_fault_proxy.py --upstream http://127.0.0.1:MOTOPORT --port-file FILE
                     [--rules RULES.json] [--recorded DIR] [--log LOG.jsonl]
                     [--gaad-page-size N] [--caller-account 123456789012]

It listens on 127.0.0.1 on a free port and writes that port to --port-file (atomically) once it
accepts connections. Every request is classified from its SigV4 credential scope and body:

  service    iam | sts | organizations | access-analyzer | sso | identitystore | ... (credential
             scope; sso is sso-admin's signing name)
  operation  awsQuery (iam, sts): the Action parameter; JSON 1.1 (organizations): the part of
             X-Amz-Target after the dot; access-analyzer (restJson1): GET /analyzer ->
             ListAnalyzers, POST /findingv2 -> ListFindingsV2, anything else "METHOD /path"
  account    sts AssumeRole: the account of the RoleArn parameter; otherwise the account that
             owns the access key id (learned from the AssumeRole responses forwarded; keys never
             seen belong to --caller-account)

--rules: a JSON list of rules, re-read whenever the file changes (mtime, size or inode; a
  rename-into-place is the safe way to change it; counters restart on every reload):
    {"service": "iam", "operation": "GetAccountAuthorizationDetails", "account": "123456789012",
     "respond": "AccessDenied" | "Throttling" | "InternalError" | "ServiceUnavailable"
                | "CloseConnection" | "Slow" | [one of these, ...],
     "skip": 0, "times": null, "match_marker": false,
     "chance": 1.0, "max_in_a_row": null, "seed": null, "slow_seconds": 3}
  Every given field must match (match_marker: true = only requests carrying a pagination
  Marker/NextToken/nextToken). "skip": K lets the first K matching requests through, "times": N
  injects at most N times. Rules are tried in order; the first that fires answers the request
  with the service's real error wire format instead of forwarding it.
  A fault mix: "chance": P fires the rule for a matching request with probability P, "respond"
  as a list picks one of its values at random (with a "seed", the draws are a hash of the seed,
  the call and its faults so far: a call meets the same faults in every run), and
  "max_in_a_row": N lets a call through after N faults in a row on it (a call: the same
  account, service, operation, path and body, i.e. one SDK call and its retries), so a client
  that makes N+1 attempts always gets an answer.
  CloseConnection: the connection is closed without an answer (the client sees the connection
  reset or an incomplete message). Slow: the request is forwarded after "slow_seconds" (longer
  than the client's attempt timeout, which then gives up on it).

--log: one JSON line per request, written and flushed before the response is sent:
    {"service","operation","account","region","status","injected","marker","time"}
  ("injected" is the rule's respond value or null; "time" the Unix time it was answered).

--gaad-page-size N: moto answers GetAccountAuthorizationDetails in one page and ignores
  MaxItems/Marker. With this flag the proxy fetches the whole answer (Marker and MaxItems removed)
  and returns it in pages of at most min(N, MaxItems) members in total (UserDetailList,
  GroupDetailList, RoleDetailList, Policies, in that order), with IsTruncated/Marker like AWS.
  The marker is opaque (base64 of a snapshot id and the offset): pages after the first come
  from the answer the first page was cut from (a marker whose snapshot is gone re-fetches and
  uses the offset). Fault rules are applied first.

--recorded DIR: access-analyzer requests are never forwarded (moto has no Access Analyzer); they
  are answered from recorded responses (see tests/recorded/access-analyzer/README.md). DIR may be
  the folder holding the files or its parent (tests/recorded). DIR/<account>/<file> overrides
  DIR/<file> for that account. "{account}" and "{region}" in the files are replaced.

--latency-ms N: every request waits N ms before it is answered, a stand-in for the network
  and service time of a real AWS endpoint (bench/live_bench.sh uses it to show concurrency).

SIGTERM or SIGINT: stops listening and exits 0.
"""
import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
QUERY_SERVICES = {"iam": IAM_NS, "sts": STS_NS}
RESPONDS = ("AccessDenied", "Throttling", "InternalError", "ServiceUnavailable", "CloseConnection", "Slow")
GAAD_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
ET.register_namespace("", IAM_NS)  # re-serialized GAAD pages keep the default namespace
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
              "proxy-authorization", "te", "trailer", "trailers", "transfer-encoding", "upgrade",
              "content-length"}
CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
ACCOUNT_IN_ARN_RE = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+::(\d{12}):")


def log_err(message):
    print(f"aws_fault_proxy: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Fault rules
# ---------------------------------------------------------------------------------------------

class Rule:
    FIELDS = {"service", "operation", "account", "respond", "skip", "times", "match_marker", "chance",
              "max_in_a_row", "seed", "slow_seconds"}

    def __init__(self, spec, index):
        if not isinstance(spec, dict):
            raise ValueError(f"rule {index}: not an object")
        unknown = set(spec) - self.FIELDS
        if unknown:
            raise ValueError(f"rule {index}: unknown field(s) {sorted(unknown)}")
        responds = spec.get("respond")
        responds = responds if isinstance(responds, list) else [responds]
        if not responds or any(r not in RESPONDS for r in responds):
            raise ValueError(f"rule {index}: respond must be one of {RESPONDS}, or a list of them")
        self.service = spec.get("service")
        self.operation = spec.get("operation")
        self.account = None if spec.get("account") is None else str(spec["account"])
        self.responds = responds
        self.skip = int(spec.get("skip") or 0)
        self.times = None if spec.get("times") is None else int(spec["times"])
        self.match_marker = spec.get("match_marker")
        self.chance = float(spec.get("chance", 1.0))
        if not 0.0 <= self.chance <= 1.0:
            raise ValueError(f"rule {index}: chance must be between 0 and 1")
        self.max_in_a_row = None if spec.get("max_in_a_row") is None else int(spec["max_in_a_row"])
        self.slow_seconds = float(spec.get("slow_seconds", 3))
        self.seed = spec.get("seed")
        self.random = random.Random()
        self.in_a_row = {}  # call key -> faults injected in a row on it
        self.seen = 0
        self.injected = 0

    def draw(self, call, row):
        """A number in [0, 1): from the seed, the call and its faults so far when seeded (so a
        call meets the same faults whatever order the requests come in), else random."""
        if self.seed is None:
            return self.random.random()
        digest = hashlib.sha256(f"{self.seed}:{call}:{row}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2 ** 64

    def fire(self, call):
        """The respond value for this matching request, or None to let it through (lock held)."""
        row = self.in_a_row.get(call, 0)
        if self.chance < 1.0 and self.draw(call, row) >= self.chance:
            self.in_a_row.pop(call, None)
            return None
        if self.max_in_a_row is not None and row >= self.max_in_a_row:
            self.in_a_row.pop(call, None)
            return None
        self.in_a_row[call] = row + 1
        if len(self.responds) == 1:
            return self.responds[0]
        return self.responds[int(self.draw(call, f"{row}:kind") * len(self.responds))]

    def matches(self, info):
        return ((self.service is None or self.service == info["service"])
                and (self.operation is None or self.operation == info["operation"])
                and (self.account is None or self.account == info["account"])
                and (self.match_marker is None or bool(self.match_marker) == info["marker"]))


class RuleSet:
    """The rules file, re-read when it changes; counters are per rule and guarded by a lock."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.signature = None
        self.rules = []

    def _reload_locked(self):
        if not self.path:
            return
        try:
            st = os.stat(self.path)
            signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            signature = "missing"
        if signature == self.signature:
            return
        if signature == "missing":
            self.rules, self.signature = [], signature
            return
        try:
            with open(self.path, encoding="utf-8") as f:
                specs = json.load(f)
            if not isinstance(specs, list):
                raise ValueError("the rules file must hold a JSON list")
            rules = [Rule(spec, i) for i, spec in enumerate(specs)]
        except (OSError, ValueError) as e:
            # Perhaps half-written: keep the previous rules and try again on the next request.
            log_err(f"rules file {self.path} not loaded ({e}); keeping {len(self.rules)} rule(s)")
            return
        self.rules, self.signature = rules, signature
        log_err(f"loaded {len(rules)} rule(s) from {self.path}")

    def decide(self, info, call):
        """(respond value, slow seconds) of the first rule that fires for this request, or
        (None, 0). `call` identifies the SDK call (the same for each of its retries)."""
        with self.lock:
            self._reload_locked()
            for rule in self.rules:
                if not rule.matches(info):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.times is not None and rule.injected >= rule.times:
                    continue
                respond = rule.fire(call)
                if respond is None:
                    continue
                rule.injected += 1
                return respond, rule.slow_seconds
        return None, 0


# ---------------------------------------------------------------------------------------------
# Error bodies in each protocol's wire format
# ---------------------------------------------------------------------------------------------

def xml_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def query_error(info, respond, principal_arn, params):
    """awsQuery (IAM, STS) ErrorResponse."""
    service, operation = info["service"], info["operation"]
    if respond == "AccessDenied":
        resource = params.get("RoleArn", "*") if (service, operation) == ("sts", "AssumeRole") else "*"
        status, kind, code = 403, "Sender", "AccessDenied"
        message = (f"User: {principal_arn} is not authorized to perform: {service}:{operation} "
                   f"on resource: {resource}")
    elif respond == "Throttling":
        status, kind, code, message = 400, "Sender", "Throttling", "Rate exceeded"
    elif respond == "InternalError":
        status, kind = 500, "Receiver"
        code = "ServiceFailure" if service == "iam" else "InternalFailure"
        message = "The request processing has failed because of an unknown error, exception or failure."
    else:
        status, kind, code, message = 503, "Receiver", "ServiceUnavailable", "Service is unavailable"
    request_id = str(uuid.uuid4())
    namespace = QUERY_SERVICES.get(service, IAM_NS)
    body = (f'<ErrorResponse xmlns="{namespace}"><Error><Type>{kind}</Type><Code>{code}</Code>'
            f'<Message>{xml_escape(message)}</Message></Error><RequestId>{request_id}</RequestId>'
            f'</ErrorResponse>').encode()
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body


def json11_error(info, respond, principal_arn):
    """AWS JSON 1.1 error: Organizations', or IAM Identity Center's (sso, identitystore)."""
    if info["service"] in ("sso", "identitystore"):
        return identity_center_error(info, respond, principal_arn)
    if respond == "AccessDenied":
        status, code = 400, "AccessDeniedException"
        message = (f"You don't have permissions to access this resource. User: {principal_arn} is not "
                   f"authorized to perform: {info['service']}:{info['operation']}")
    elif respond == "Throttling":
        status, code = 400, "TooManyRequestsException"
        message = "AWS Organizations can't complete your request because of too many requests. Try again later."
    elif respond == "InternalError":
        status, code = 500, "ServiceException"
        message = "AWS Organizations can't complete your request because of an internal service error. Try again later."
    else:
        status, code, message = 503, "ServiceUnavailableException", "Service is unavailable"
    request_id = str(uuid.uuid4())
    body = json.dumps({"__type": code, "Message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id),
                    ("x-amzn-ErrorType", code)], body


def identity_center_error(info, respond, principal_arn):
    """sso-admin and identitystore errors (AWS JSON 1.1; lowercase "message", as AWS sends it)."""
    action = f"{info['service']}:{info['operation']}"
    if respond == "AccessDenied":
        status, code = 400, "AccessDeniedException"
        message = f"User: {principal_arn} is not authorized to perform: {action}"
    elif respond == "Throttling":
        status, code, message = 400, "ThrottlingException", "Rate exceeded"
    elif respond == "InternalError":
        status, code, message = 500, "InternalServerException", "An internal failure occurred"
    else:
        status, code, message = 503, "ServiceUnavailableException", "Service is unavailable"
    request_id = str(uuid.uuid4())
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id),
                    ("x-amzn-ErrorType", code)], body


def rest_json_error(status, code, message, extra_headers=()):
    """restJson1 (Access Analyzer) error."""
    request_id = str(uuid.uuid4())
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id),
               ("x-amzn-ErrorType", code)] + list(extra_headers)
    return status, headers, json.dumps({"message": message}).encode()


def rest_json_injected(info, respond, principal_arn):
    if respond == "AccessDenied":
        return rest_json_error(403, "AccessDeniedException",
                               f"User: {principal_arn} is not authorized to perform: "
                               f"access-analyzer:{info['operation']}")
    if respond == "Throttling":
        return rest_json_error(429, "ThrottlingException", "Rate exceeded", [("Retry-After", "1")])
    if respond == "InternalError":
        return rest_json_error(500, "InternalServerException", "Internal server error")
    return rest_json_error(503, "ServiceUnavailableException", "Service is unavailable")


# ---------------------------------------------------------------------------------------------
# GetAccountAuthorizationDetails pagination
# ---------------------------------------------------------------------------------------------

class GaadSnapshot:
    """One full GAAD answer: a skeleton (the response with its four lists emptied) and the
    members in order, each kept serialized (list name, bytes) to hold little memory."""

    def __init__(self, xml_bytes, owner):
        root = ET.fromstring(xml_bytes)
        result = root.find(f"{{{IAM_NS}}}GetAccountAuthorizationDetailsResult")
        if result is None:
            raise ValueError("no GetAccountAuthorizationDetailsResult in moto's answer")
        self.members = []
        for name in GAAD_LISTS:
            lst = result.find(f"{{{IAM_NS}}}{name}")
            if lst is None:
                continue
            for member in list(lst):
                self.members.append((name, ET.tostring(member, encoding="utf-8")))
                lst.remove(member)
            lst.text = None
        for marker in result.findall(f"{{{IAM_NS}}}Marker"):
            result.remove(marker)
        self.skeleton = ET.tostring(root, encoding="utf-8")
        self.owner = owner  # (account, request parameters other than Marker/MaxItems)
        self.id = uuid.uuid4().hex[:16]

    def page(self, offset, page_size):
        """The response bytes for members [offset, offset+page_size), and whether more follow."""
        root = ET.fromstring(self.skeleton)
        result = root.find(f"{{{IAM_NS}}}GetAccountAuthorizationDetailsResult")
        for name, member in self.members[offset:offset + page_size]:
            lst = result.find(f"{{{IAM_NS}}}{name}")
            if lst is None:
                lst = ET.SubElement(result, f"{{{IAM_NS}}}{name}")
            lst.append(ET.fromstring(member))
        truncated = offset + page_size < len(self.members)
        is_truncated = result.find(f"{{{IAM_NS}}}IsTruncated")
        if is_truncated is None:
            is_truncated = ET.SubElement(result, f"{{{IAM_NS}}}IsTruncated")
        is_truncated.text = "true" if truncated else "false"
        if truncated:
            marker = ET.Element(f"{{{IAM_NS}}}Marker")
            marker.text = encode_marker(self.id, offset + page_size)
            result.insert(list(result).index(is_truncated) + 1, marker)
        request_id = root.find(f"{{{IAM_NS}}}ResponseMetadata/{{{IAM_NS}}}RequestId")
        if request_id is not None:
            request_id.text = str(uuid.uuid4())
        return ET.tostring(root, encoding="unicode").encode("utf-8"), truncated


class GaadCache:
    """Snapshots by id, so that pages 2..n of one listing come from the answer page 1 saw
    (consistent paging, and one moto GAAD per listing instead of one per page)."""

    LIMIT = 64

    def __init__(self):
        self.lock = threading.Lock()
        self.snapshots = {}

    def get(self, snapshot_id, owner):
        with self.lock:
            snap = self.snapshots.get(snapshot_id)
        return snap if snap is not None and snap.owner == owner else None

    def put(self, snap):
        with self.lock:
            self.snapshots[snap.id] = snap
            while len(self.snapshots) > self.LIMIT:
                self.snapshots.pop(next(iter(self.snapshots)))

    def drop(self, snapshot_id):
        with self.lock:
            self.snapshots.pop(snapshot_id, None)


def encode_marker(snapshot_id, offset):
    return base64.b64encode(json.dumps({"snapshot": snapshot_id, "offset": offset}).encode()).decode()


def decode_marker(marker):
    """(snapshot id, offset) of a marker made by encode_marker, or None."""
    try:
        data = json.loads(base64.b64decode(marker.encode(), validate=True))
        if isinstance(data["offset"], int) and data["offset"] >= 0 and isinstance(data["snapshot"], str):
            return data["snapshot"], data["offset"]
    except (ValueError, KeyError, TypeError):
        pass
    return None


# ---------------------------------------------------------------------------------------------
# Recorded Access Analyzer responses
# ---------------------------------------------------------------------------------------------

EXTERNAL_ACCESS_TYPES = {"ACCOUNT", "ORGANIZATION"}


class Recorded:
    def __init__(self, directory):
        if directory and os.path.isdir(os.path.join(directory, "access-analyzer")):
            directory = os.path.join(directory, "access-analyzer")
        self.dir = directory

    def load(self, name, account, region):
        """The template NAME for ACCOUNT (DIR/<account>/NAME first), substituted and parsed."""
        for path in (os.path.join(self.dir, account, name), os.path.join(self.dir, name)):
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                text = text.replace("{account}", account).replace("{region}", region)
                data = json.loads(text)
                if isinstance(data, dict):  # "_comment" and the like are not part of the response
                    data = {k: v for k, v in data.items() if not k.startswith("_")}
                return data
        return None

    def answer(self, method, path, query, body, account, region):
        """(status, headers, body) for an access-analyzer request."""
        if not self.dir:
            return rest_json_error(500, "InternalServerException",
                                   "aws_fault_proxy: no --recorded directory for access-analyzer")
        if method == "GET" and path == "/analyzer":
            data = self.load("list-analyzers.json", account, region) or {"analyzers": []}
            wanted = query.get("type", [None])[0]
            if wanted:
                data = dict(data, analyzers=[a for a in data.get("analyzers", []) if a.get("type") == wanted])
            return self.ok(data)
        if method == "POST" and path == "/findingv2":
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                return rest_json_error(400, "ValidationException", "Request body is not JSON")
            arn = request.get("analyzerArn")
            analyzers = (self.load("list-analyzers.json", account, region) or {}).get("analyzers", [])
            analyzer = next((a for a in analyzers if a.get("arn") == arn), None)
            if analyzer is None:
                return rest_json_error(404, "ResourceNotFoundException", f"Analyzer {arn} not found")
            if analyzer.get("type") not in EXTERNAL_ACCESS_TYPES:
                return self.ok(self.load("list-findings-v2-empty.json", account, region) or {"findings": []})
            token = request.get("nextToken")
            page_number = 1
            while True:
                page = self.load(f"list-findings-v2-{page_number}.json", account, region)
                if page is None:
                    if page_number == 1:
                        return self.ok({"findings": []})
                    return rest_json_error(400, "ValidationException", "Invalid nextToken")
                if not token:
                    return self.ok(page)
                if page.get("nextToken") == token:
                    token = None  # serve the next page
                page_number += 1
        return rest_json_error(404, "ResourceNotFoundException",
                               f"aws_fault_proxy: no recorded response for {method} {path}")

    @staticmethod
    def ok(data):
        request_id = str(uuid.uuid4())
        return 200, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)], \
            json.dumps(data).encode()


# ---------------------------------------------------------------------------------------------
# The proxy
# ---------------------------------------------------------------------------------------------

class ProxyState:
    def __init__(self, args):
        up = urllib.parse.urlsplit(args.upstream)
        if up.scheme != "http" or not up.hostname:
            raise SystemExit(f"aws_fault_proxy: --upstream must be http://HOST:PORT, got {args.upstream}")
        self.upstream_host = up.hostname
        self.upstream_port = up.port or 80
        self.rules = RuleSet(args.rules)
        self.recorded = Recorded(args.recorded)
        self.gaad_page_size = args.gaad_page_size
        self.latency = args.latency_ms / 1000.0
        self.gaad_cache = GaadCache()
        self.caller_account = args.caller_account
        self.keys = {}  # access key id -> (account, principal arn)
        self.keys_lock = threading.Lock()
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        self.log_lock = threading.Lock()

    def key_owner(self, access_key):
        with self.keys_lock:
            return self.keys.get(access_key)

    def learn_key(self, access_key, account, principal_arn):
        with self.keys_lock:
            self.keys[access_key] = (account, principal_arn)

    def write_log(self, record):
        if self.log is None:
            return
        record["time"] = round(time.time(), 3)
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self.log_lock:
            self.log.write(line)
            self.log.flush()


def parse_form(body):
    try:
        return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        return {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aws-fault-proxy"
    timeout = 300  # an idle keep-alive connection is dropped after this many seconds
    state: ProxyState = None  # set on the class before serving

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # --log is the request log; keep stderr quiet

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = lambda self: self.handle_any()

    # -- request reading ----------------------------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def classify(self, body):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        auth = self.headers.get("Authorization", "")
        match = CREDENTIAL_RE.search(auth)
        if not match and "X-Amz-Credential" in query:
            match = CREDENTIAL_RE.search("Credential=" + query["X-Amz-Credential"][0])
        access_key, _date, region, service = match.groups() if match else (None, None, None, None)
        params = {}
        marker = False
        operation = None
        if service in QUERY_SERVICES or "Action" in query:
            params = {k: v[0] for k, v in query.items()}
            if "x-www-form-urlencoded" in self.headers.get("Content-Type", "") or (body and b"Action=" in body):
                params.update(parse_form(body))
            operation = params.get("Action")
            marker = bool(params.get("Marker") or params.get("NextToken"))
        elif self.headers.get("X-Amz-Target"):
            operation = self.headers["X-Amz-Target"].rsplit(".", 1)[-1]
            try:
                doc = json.loads(body or b"{}")
                marker = isinstance(doc, dict) and bool(doc.get("NextToken") or doc.get("nextToken"))
            except ValueError:
                pass
        elif service == "access-analyzer":
            operation = {("GET", "/analyzer"): "ListAnalyzers",
                         ("POST", "/findingv2"): "ListFindingsV2"}.get((self.command, url.path))
            if operation is None:
                operation = f"{self.command} {url.path}"
            marker = bool(query.get("nextToken", [""])[0])
            if body:
                try:
                    doc = json.loads(body)
                    marker = marker or (isinstance(doc, dict) and bool(doc.get("nextToken")))
                except ValueError:
                    pass
        else:
            operation = f"{self.command} {url.path}"
        owner = self.state.key_owner(access_key) if access_key else None
        account, principal = owner if owner else (self.state.caller_account, None)
        if principal is None:
            principal = f"arn:aws:iam::{account}:user/test"
        if (service, operation) == ("sts", "AssumeRole"):
            arn_match = ACCOUNT_IN_ARN_RE.match(params.get("RoleArn", ""))
            if arn_match:
                account = arn_match.group(1)
        info = {"service": service, "operation": operation, "account": account, "region": region,
                "marker": marker}
        return info, params, principal, url, query

    # -- upstream -----------------------------------------------------------------------------

    def forward(self, body, path=None, drop_params=()):
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP and k.lower() not in ("accept-encoding", "expect")]
        if drop_params:
            form = [(k, v) for k, v in urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
                    if k not in drop_params]
            body = urllib.parse.urlencode(form).encode()
        if self.command not in ("GET", "HEAD") or body:
            headers.append(("Content-Length", str(len(body))))
        conn = http.client.HTTPConnection(self.state.upstream_host, self.state.upstream_port, timeout=300)
        try:
            conn.putrequest(self.command, path or self.path, skip_host=True, skip_accept_encoding=True)
            if not any(k.lower() == "host" for k, _ in headers):
                conn.putheader("Host", f"{self.state.upstream_host}:{self.state.upstream_port}")
            for k, v in headers:
                conn.putheader(k, v)
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            out_headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            if self.command == "HEAD":
                length = resp.getheader("Content-Length")
                if length is not None:
                    out_headers.append(("Content-Length", length))
            return resp.status, out_headers, data
        finally:
            conn.close()

    # -- one request --------------------------------------------------------------------------

    def handle_any(self):
        body = self.read_body()
        try:
            info, params, principal, url, query = self.classify(body)
        except Exception as e:  # noqa: BLE001 - never kill the connection over classification
            log_err(f"cannot classify {self.command} {self.path}: {e}")
            info, params, principal, url, query = (
                {"service": None, "operation": None, "account": self.state.caller_account, "region": None,
                 "marker": False}, {}, "", urllib.parse.urlsplit(self.path), {})
        call = hashlib.sha256(repr((info["account"], info["service"], info["operation"],
                                    self.command, self.path)).encode() + body).hexdigest()
        injected, slow_seconds = self.state.rules.decide(info, call)
        if self.state.latency:
            # A stand-in for the network and service time of a real AWS endpoint (benchmarks).
            time.sleep(self.state.latency)
        if injected == "CloseConnection":
            # No answer at all: the client sees the connection closed under it.
            self.state.write_log({"service": info["service"], "operation": info["operation"],
                                  "account": info["account"], "region": info["region"], "status": None,
                                  "injected": injected, "marker": info["marker"]})
            self.close_connection = True
            return
        if injected == "Slow":
            time.sleep(slow_seconds)
        try:
            if injected is not None and injected != "Slow":
                status, headers, data = self.injected_error(info, injected, principal, params)
            elif info["service"] == "access-analyzer":
                status, headers, data = self.state.recorded.answer(
                    self.command, url.path, query, body, info["account"], info["region"] or "us-east-1")
            elif (self.state.gaad_page_size and info["service"] == "iam"
                  and info["operation"] == "GetAccountAuthorizationDetails"):
                status, headers, data = self.gaad_page(info, body, params)
            else:
                status, headers, data = self.forward(body)
                if (status == 200 and (info["service"], info["operation"]) == ("sts", "AssumeRole")):
                    self.learn(data, info["account"])
        except (OSError, http.client.HTTPException) as e:
            status, headers, data = 502, [("Content-Type", "text/plain")], f"aws_fault_proxy: upstream: {e}".encode()
            log_err(f"upstream error for {info['service']} {info['operation']}: {e}")
        except Exception as e:  # noqa: BLE001 - report, do not hang the client
            status, headers, data = 500, [("Content-Type", "text/plain")], f"aws_fault_proxy: {e!r}".encode()
            log_err(f"error for {info['service']} {info['operation']}: {e!r}")
        self.state.write_log({"service": info["service"], "operation": info["operation"],
                              "account": info["account"], "region": info["region"], "status": status,
                              "injected": injected, "marker": info["marker"]})
        self.send_response_only(status)
        names = {k.lower() for k, _ in headers}
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        if "server" not in names:
            self.send_header("Server", self.version_string())
        for k, v in headers:
            self.send_header(k, v)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def injected_error(self, info, respond, principal, params):
        if info["service"] in QUERY_SERVICES:
            return query_error(info, respond, principal, params)
        if info["service"] == "access-analyzer":
            return rest_json_injected(info, respond, principal)
        if self.headers.get("X-Amz-Target"):
            return json11_error(info, respond, principal)
        return query_error(info, respond, principal, params)

    def learn(self, data, account):
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            return
        ns = {"s": STS_NS}
        key = root.find("s:AssumeRoleResult/s:Credentials/s:AccessKeyId", ns)
        arn = root.find("s:AssumeRoleResult/s:AssumedRoleUser/s:Arn", ns)
        if key is not None and key.text:
            principal = arn.text.strip() if arn is not None and arn.text else f"arn:aws:iam::{account}:user/test"
            self.state.learn_key(key.text.strip(), account, principal)

    def gaad_page(self, info, body, params):
        snapshot_id, offset = None, 0
        if params.get("Marker"):
            decoded = decode_marker(params["Marker"])
            if decoded is None:
                return query_error_simple(400, "Sender", "InvalidInput", "Invalid Marker")
            snapshot_id, offset = decoded
        page_size = self.state.gaad_page_size
        if params.get("MaxItems", "").isdigit() and int(params["MaxItems"]) > 0:
            page_size = min(page_size, int(params["MaxItems"]))
        rest = tuple(sorted((k, v) for k, v in params.items() if k not in ("Marker", "MaxItems")))
        owner = (info["account"], rest)
        snap = self.state.gaad_cache.get(snapshot_id, owner) if snapshot_id else None
        headers = [("Content-Type", "text/xml")]
        if snap is None:
            # A first page, or a marker whose snapshot is gone: ask moto for everything again.
            url = urllib.parse.urlsplit(self.path)
            path = self.path
            if url.query:  # Marker/MaxItems may come in the query string too
                q = [(k, v) for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True)
                     if k not in ("Marker", "MaxItems")]
                path = urllib.parse.urlunsplit(("", "", url.path, urllib.parse.urlencode(q), ""))
            status, headers, data = self.forward(body, path=path, drop_params=("Marker", "MaxItems"))
            if status != 200:
                return status, headers, data
            snap = GaadSnapshot(data, owner)
            self.state.gaad_cache.put(snap)
        data, truncated = snap.page(offset, page_size)
        if not truncated:
            self.state.gaad_cache.drop(snap.id)
        request_id = re.search(rb"<RequestId>([^<]*)</RequestId>", data)
        headers = [(k, v) for k, v in headers if k.lower() != "x-amzn-requestid"]
        if request_id:
            headers.append(("x-amzn-RequestId", request_id.group(1).decode()))
        return 200, headers, data


def query_error_simple(status, kind, code, message):
    request_id = str(uuid.uuid4())
    body = (f'<ErrorResponse xmlns="{IAM_NS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
            f'<Message>{xml_escape(message)}</Message></Error><RequestId>{request_id}</RequestId>'
            f'</ErrorResponse>').encode()
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # the client went away (or idled out): nothing to report
        super().handle_error(request, client_address)


def write_port_file(path, port):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="moto_server URL, http://127.0.0.1:PORT")
    parser.add_argument("--port-file", required=True, help="where to write the port listened on")
    parser.add_argument("--rules", help="JSON list of fault rules (re-read when it changes)")
    parser.add_argument("--recorded", help="folder of recorded access-analyzer responses")
    parser.add_argument("--log", help="append one JSON line per request here")
    parser.add_argument("--gaad-page-size", type=int, default=0,
                        help="paginate GetAccountAuthorizationDetails with this many members per page")
    parser.add_argument("--latency-ms", type=float, default=0,
                        help="wait this long before answering each request (a stand-in for AWS's latency)")
    parser.add_argument("--caller-account", default="123456789012",
                        help="account of access keys not learned from AssumeRole (default 123456789012)")
    args = parser.parse_args()
    if args.gaad_page_size < 0:
        parser.error("--gaad-page-size must be positive")

    Handler.state = ProxyState(args)
    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]

    def stop(signum, _frame):
        log_err(f"signal {signum}: stopping")
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # The socket is listening (bind + listen happen in the constructor): connections queue up
    # until serve_forever picks them, so the port can be published now.
    write_port_file(args.port_file, port)
    log_err(f"listening on 127.0.0.1:{port}, upstream {args.upstream}")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if Handler.state.log:
            Handler.state.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
