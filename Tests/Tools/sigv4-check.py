#!/usr/bin/env python3
"""Recomputes the AWS Signature V4 of a request store-proxy.py recorded, with botocore (the
AWS SDK's own signer) as the independent oracle, and prints "match" or what differs.

    sigv4-check.py REQUEST_JSON ACCESS_KEY SECRET_KEY REGION

Only the headers the request says it signed (SignedHeaders) are given to botocore, with the
request's own X-Amz-Date as the signing time.
"""
import json
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

recorded = json.load(open(sys.argv[1]))
access, secret, region = sys.argv[2:5]
headers = {k.lower(): v for k, v in recorded["headers"].items()}
authorization = headers["authorization"]
fields = dict(part.strip().split("=", 1) for part in authorization.split(" ", 1)[1].split(","))
signed = fields["SignedHeaders"].split(";")

request = AWSRequest(method=recorded["method"], url="http://" + headers["host"] + recorded["path"],
                     headers={name: headers[name] for name in signed})
request.context["timestamp"] = headers["x-amz-date"]
auth = S3SigV4Auth(Credentials(access, secret), "s3", region)
canonical = auth.canonical_request(request)
expected = auth.signature(auth.string_to_sign(request, canonical), request)
if expected == fields["Signature"]:
    print("match")
else:
    print(f"differs: botocore {expected}, request {fields['Signature']}\ncanonical request:\n{canonical}")
    sys.exit(1)
