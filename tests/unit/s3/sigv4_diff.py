#!/usr/bin/python3
"""Differential SigV4 cases: signs generated requests and presigned URLs with
botocore (Debian's python3-botocore) and prints each case with botocore's answer,
one per line, for test_s3_sigv4_diff to recompute with our code.

Line format (fields separated by TAB, strings hex-encoded so any byte survives):
  H  method  amz_date  region  access  secret  path  query  headers  payload_hash  authorization
  P  endpoint  addressing  region  access  secret  key  disposition  ttl  now  url_prefix  sorted_query  signature
query/headers: comma-separated "hexname=hexvalue" pairs (empty field: "-").
Usage: sigv4_diff.py [N_CASES] [SEED]"""
import datetime
import hashlib
import random
import sys
import types

import botocore.auth
import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode


class FixedClock(datetime.datetime):
    now_value = datetime.datetime(2026, 11, 29, 1, 2, 3)

    @classmethod
    def utcnow(cls):
        return cls.now_value


botocore.auth.datetime = types.SimpleNamespace(datetime=FixedClock, timedelta=datetime.timedelta)

ODD = [" ", "+", "=", "&", "~", "%", "/", "é", "ሴ", "😀", "*", "'", "(", ")", "!", "$", ",", ";", ":", "@", "?", "#", "[", "]", ".", "-", "_"]
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def hx(s):
    return s.encode("utf-8").hex() if isinstance(s, str) else s.hex()


def pairs(items):
    return ",".join(f"{hx(k)}={hx(v)}" for k, v in items) or "-"


def odd_text(rng, n_min=1, n_max=24, slash=True):
    out = []
    for _ in range(rng.randint(n_min, n_max)):
        if rng.random() < 0.35:
            c = rng.choice(ODD)
            if c == "/" and not slash:
                c = "_"
            out.append(c)
        else:
            out.append(rng.choice(ALNUM))
    s = "".join(out)
    return s


def odd_key(rng):
    k = odd_text(rng)
    while k.startswith("/") or "//" in k:  # botocore rewrites these; S3 keys rarely have them
        k = k.lstrip("/").replace("//", "/") or "k"
    return k


def rand_date(rng):
    return datetime.datetime(2013, 1, 1) + datetime.timedelta(seconds=rng.randint(0, 20 * 365 * 86400))


def header_case(rng):
    region = rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2", "default"])
    access = "AK" + "".join(rng.choice(ALNUM) for _ in range(18))
    secret = odd_text(rng, 20, 40, slash=True)
    creds = Credentials(access, secret)
    method = rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST"])
    bucket = rng.choice(["folio-test", "my.bucket", "b1"])
    key = odd_key(rng)
    host = rng.choice(["127.0.0.1:9000", "s3.amazonaws.com", f"{bucket}.s3.eu-west-1.amazonaws.com", "localhost:18080"])
    params = []
    for _ in range(rng.randint(0, 4)):
        name = rng.choice(["uploadId", "partNumber", "uploads", "response-content-disposition", "versionId", None])
        if name is None:
            name = odd_text(rng, 1, 8)
        if any(name == p[0] for p in params):
            continue
        value = "" if name == "uploads" else (str(rng.randint(1, 10000)) if name == "partNumber" else odd_text(rng, 0, 20))
        params.append((name, value))
    body = odd_text(rng, 0, 64).encode("utf-8") if method in ("PUT", "POST") else b""
    headers = {"Host": host}
    if rng.random() < 0.5:
        a = rng.randint(0, 1000)
        headers["Range"] = rng.choice([f"bytes={a}-{a + rng.randint(0, 999)}", f"bytes=-{a + 1}", f"bytes={a}-"])
    if rng.random() < 0.4:
        headers["Content-Type"] = rng.choice(["application/pdf", "text/plain; charset=utf-8", "image/png"])
    if rng.random() < 0.4:
        headers["x-amz-meta-note"] = rng.choice(["  two  spaces  ", "a\tb", "plain", " lead", "trail ", "x   y   z"])
    url = f"https://{host}/{percent_encode(bucket + '/' + key, safe='/~')}"
    req = AWSRequest(method=method, url=url, headers=headers, data=body, params=params)
    FixedClock.now_value = rand_date(rng)
    botocore.auth.S3SigV4Auth(creds, "s3", region).add_auth(req)
    auth = botocore.auth.S3SigV4Auth(creds, "s3", region)
    hts = auth.headers_to_sign(req)
    signed = [(k, v) for k in sorted(set(hts)) if k != "authorization" for v in hts.get_all(k)]
    amz_date = req.headers["X-Amz-Date"]
    payload = req.headers["X-Amz-Content-SHA256"]
    assert payload == hashlib.sha256(body).hexdigest()
    return "\t".join(["H", method, amz_date, region, hx(access), hx(secret), hx("/" + bucket + "/" + key),
                      pairs(params), pairs(signed), payload, hx(req.headers["Authorization"])])


SESSION = botocore.session.Session()
CLIENTS = {}
# presign cases draw credentials from a small pool so that botocore clients
# (slow to create) can be reused
CRED_POOL = [("AKIDPOOL0000000000", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
             ("AKIDPOOL0000000001", "s p a c e s+and=odd&chars~é"),
             ("AKIDPOOL0000000002", "ሴ😀/+="), ("folio-test", "folio-test-secret-key")]


def presign_case(rng):
    region = rng.choice(["us-east-1", "eu-central-1", "default"])
    access, secret = rng.choice(CRED_POOL)
    style = rng.choice(["path", "virtual"])
    if style == "path":
        endpoint = rng.choice(["http://127.0.0.1:9000", "https://s3.example.org", "http://localhost:18080", "https://minio.internal:9443"])
    else:
        endpoint = rng.choice(["https://s3.example.org", "http://localhost:18080", "https://s3.eu-central-1.amazonaws.com"])
    bucket = rng.choice(["folio-test", "artifacts-01"])
    key = odd_key(rng)
    disposition = rng.choice([None, None, 'attachment; filename="report.pdf"', "inline; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", odd_text(rng, 1, 30)])
    ttl = rng.choice([1, 2, 60, 3600, 86400, 604800, rng.randint(1, 604800)])
    FixedClock.now_value = rand_date(rng)
    now = int((FixedClock.now_value - datetime.datetime(1970, 1, 1)).total_seconds())
    ck = (region, endpoint, style, access)
    if ck not in CLIENTS:
        CLIENTS[ck] = SESSION.create_client(
            "s3", region_name=region, endpoint_url=endpoint, aws_access_key_id=access,
            aws_secret_access_key=secret,
            config=Config(signature_version="s3v4", s3={"addressing_style": style}))
    client = CLIENTS[ck]
    params = {"Bucket": bucket, "Key": key}
    if disposition is not None:
        params["ResponseContentDisposition"] = disposition
    url = client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
    prefix, _, query = url.partition("?")
    items = query.split("&")
    sig = [i for i in items if i.startswith("X-Amz-Signature=")][0].split("=", 1)[1]
    rest = "&".join(sorted(i for i in items if not i.startswith("X-Amz-Signature=")))
    return "\t".join(["P", hx(endpoint), style, region, hx(access), hx(secret), hx(key),
                      hx(disposition) if disposition is not None else "-", str(ttl), str(now),
                      hx(prefix), hx(rest), sig])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20261129)
    for i in range(n):
        print(header_case(rng) if i % 2 == 0 else presign_case(rng))


if __name__ == "__main__":
    main()
