"""Seeds and inspects moto_server's S3 (and Secrets Manager) for tests/s3_archive.rs and
tests/lambda.rs (boto3, which moto brings).

  s3_tool.py ENDPOINT create-locked-bucket BUCKET
  s3_tool.py ENDPOINT put BUCKET KEY FILE         -> uploads FILE
  s3_tool.py ENDPOINT create-secret NAME JSON     -> the secret's ARN on stdout
  s3_tool.py ENDPOINT inspect BUCKET PREFIX      -> JSON: [{key, lock_mode, retain_until, sse}]
  s3_tool.py ENDPOINT get BUCKET KEY             -> the object's bytes on stdout
"""
import json
import sys

import boto3

endpoint, command, *args = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")

if command == "create-locked-bucket":
    s3.create_bucket(Bucket=args[0], ObjectLockEnabledForBucket=True)
elif command == "inspect":
    bucket, prefix = args
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            head = s3.head_object(Bucket=bucket, Key=item["Key"])
            objects.append({"key": item["Key"], "lock_mode": head.get("ObjectLockMode"),
                            "retain_until": str(head.get("ObjectLockRetainUntilDate")),
                            "sse": head.get("ServerSideEncryption"),
                            "last_modified": item["LastModified"].isoformat()})
    print(json.dumps(objects))
elif command == "put":
    bucket, key, path = args
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f.read())
elif command == "create-secret":
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    print(secrets.create_secret(Name=args[0], SecretString=args[1])["ARN"])
elif command == "get":
    sys.stdout.buffer.write(s3.get_object(Bucket=args[0], Key=args[1])["Body"].read())
else:
    sys.exit(f"unknown command {command}")
