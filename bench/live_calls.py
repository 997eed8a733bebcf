#!/usr/bin/env python3
"""Makes, with boto3 and one call at a time, the IAM calls iam-auditor makes per account, and
times them: how long the server takes to answer the same work, without iam-auditor.

  live_calls.py --endpoint http://127.0.0.1:PORT --seed seed.json [--accounts N]

For each of the first N accounts of seed.json (all by default): sts:AssumeRole into its
role_arn (members only), then GetAccountAuthorizationDetails (every page),
GenerateCredentialReport until COMPLETE and GetCredentialReport, GetAccountPasswordPolicy
(NoSuchEntity is an answer) and GetAccountSummary. Prints one JSON object on stdout:
{"accounts", "calls", "seconds" (all, with boto3 session and client setup), "call_seconds" (the
calls alone), "by_operation": {op: {"calls", "seconds"}}}. A call's seconds include boto3's own
request signing and response parsing (Python), so they are an upper bound of the server's share. Used by bench/live_bench.sh; stdlib + boto3 (the test venv has both).
"""
import argparse
import json
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--seed", required=True, help="seed.json written by tests/moto_org.py")
    parser.add_argument("--accounts", type=int, default=None, help="the first N accounts (default all)")
    args = parser.parse_args()
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(var, None)
    with open(args.seed, encoding="utf-8") as f:
        accounts = json.load(f)["accounts"]
    if args.accounts is not None:
        accounts = accounts[:args.accounts]
    config = Config(region_name=REGION, retries={"mode": "standard", "max_attempts": 1}, read_timeout=300)

    def client(service, key="testing", secret="testing", token=None):
        session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                        aws_session_token=token, region_name=REGION)
        return session.client(service, endpoint_url=args.endpoint, config=config)

    by_op = {}

    def timed(op, call, **kwargs):
        start = time.perf_counter()
        try:
            return call(**kwargs)
        except ClientError as e:
            if e.response["Error"]["Code"] != "NoSuchEntity":
                raise
            return None
        finally:
            entry = by_op.setdefault(op, {"calls": 0, "seconds": 0.0})
            entry["calls"] += 1
            entry["seconds"] += time.perf_counter() - start

    sts = client("sts")
    started = time.perf_counter()
    for account in accounts:
        if account.get("role_arn"):
            creds = timed("sts:AssumeRole", sts.assume_role, RoleArn=account["role_arn"],
                          RoleSessionName="live-bench")["Credentials"]
            iam = client("iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        else:
            iam = client("iam")
        marker = None
        while True:
            page = timed("iam:GetAccountAuthorizationDetails", iam.get_account_authorization_details,
                         **({"Marker": marker} if marker else {}))
            if not page.get("IsTruncated"):
                break
            marker = page["Marker"]
        while timed("iam:GenerateCredentialReport", iam.generate_credential_report)["State"] != "COMPLETE":
            time.sleep(0.1)
        timed("iam:GetCredentialReport", iam.get_credential_report)
        timed("iam:GetAccountPasswordPolicy", iam.get_account_password_policy)
        timed("iam:GetAccountSummary", iam.get_account_summary)
    seconds = time.perf_counter() - started
    json.dump({"accounts": len(accounts), "calls": sum(e["calls"] for e in by_op.values()),
               "seconds": round(seconds, 3),
               "call_seconds": round(sum(e["seconds"] for e in by_op.values()), 3),
               "by_operation": {op: {"calls": e["calls"], "seconds": round(e["seconds"], 3)}
                                for op, e in sorted(by_op.items())}}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
