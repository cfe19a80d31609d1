#!/usr/bin/python3
"""Submit a layout to folio, watch the job, fetch its artifacts.

    ./generate.sh /tmp/gen
    PYTHONPATH=/tmp/gen /usr/bin/python3 folio_example.py layout.json out/ \
        [--addr 127.0.0.1:50051] [--key $FOLIO_API_KEY]

Uses the client generated from protos/folio/v1/layout_service.proto.
"""
import argparse
import hashlib
import os
import sys

import grpc

from folio.v1 import layout_service_pb2 as pb
from folio.v1 import layout_service_pb2_grpc as pb_grpc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("layout")
    ap.add_argument("out_dir")
    ap.add_argument("--addr", default=os.environ.get("FOLIO_ADDR", "127.0.0.1:50051"))
    ap.add_argument("--key", default=os.environ.get("FOLIO_API_KEY", ""))
    args = ap.parse_args()

    auth = [("authorization", f"Bearer {args.key}")]
    with grpc.insecure_channel(args.addr) as channel:
        stub = pb_grpc.LayoutServiceStub(channel)

        # 1. submit
        with open(args.layout, "rb") as f:
            req = pb.SubmitLayoutRequest(
                layout_json=f.read(),
                formats=[pb.FORMAT_PDF, pb.FORMAT_PNG, pb.FORMAT_SLA],
                labels={"client": "python-example"},
            )
        try:
            job_id = stub.SubmitLayout(req, metadata=auth, timeout=30).job_id
        except grpc.RpcError as e:
            print(f"submit: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
        print(f"submitted {job_id}")

        # 2. watch until a terminal state
        job = None
        for job in stub.WatchJob(pb.WatchJobRequest(job_id=job_id), metadata=auth):
            print(f"  {pb.JobState.Name(job.state)} {job.progress_percent}%")
        if job is None or job.state != pb.JOB_STATE_SUCCEEDED:
            err = f"{job.error.code}: {job.error.message}" if job else "no update"
            print(f"job did not succeed: {err}", file=sys.stderr)
            return 1

        # 3. fetch every artifact through the server, checking its sha256
        os.makedirs(args.out_dir, exist_ok=True)
        for art in job.artifacts:
            digest = hashlib.sha256()
            path = os.path.join(args.out_dir, art.name)
            final_sha = ""
            with open(path, "wb") as f:
                chunks = stub.StreamArtifact(
                    pb.StreamArtifactRequest(job_id=job_id, name=art.name), metadata=auth)
                for chunk in chunks:
                    f.write(chunk.data)
                    digest.update(chunk.data)
                    final_sha = chunk.sha256_hex or final_sha
            if digest.hexdigest() != art.sha256_hex or final_sha != art.sha256_hex:
                print(f"{art.name}: sha256 mismatch", file=sys.stderr)
                return 1
            print(f"fetched {path} ({art.size_bytes} bytes, sha256 ok)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
