#!/usr/bin/env python3
"""Ask a running ``hpcpredict serve`` for the runtime of a job about to be submitted.

A dependency-free client (standard library only) for login nodes, job_submit wrappers or
dashboards::

    predict_hint.py --url http://hpcpredict.example.org:8000 --time 4:00:00 --nodes 2 --name lammps

It prints the prediction and its reasons, and exits 0 even when the service cannot be reached,
so a submission wrapper never fails because of it.
"""

import argparse
import getpass
import json
import sys
import urllib.request


def seconds(text: str) -> float:
    parts = [float(p) for p in text.replace("-", ":").split(":")]
    if "-" in text:
        d, h, m, s = (parts + [0, 0, 0])[:4]
        return ((d * 24 + h) * 60 + m) * 60 + s
    return {1: lambda p: p[0] * 60, 2: lambda p: p[0] * 60 + p[1], 3: lambda p: (p[0] * 60 + p[1]) * 60 + p[2]}[len(parts)](parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--time", help="requested limit, Slurm syntax")
    parser.add_argument("--nodes", type=int)
    parser.add_argument("--cpus", type=int)
    parser.add_argument("--name", help="job name / application")
    parser.add_argument("--partition")
    parser.add_argument("--token-file")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    job = {"job_id": "pending", "user": getpass.getuser(), "app": args.name, "partition": args.partition, "req_nodes": args.nodes, "req_cpus": args.cpus}
    if args.time:
        job["time_limit_s"] = seconds(args.time)
    request = urllib.request.Request(f"{args.url}/predict", data=json.dumps({"jobs": [job]}).encode(), headers={"Content-Type": "application/json"})
    if args.token_file:
        request.add_header("Authorization", "Bearer " + open(args.token_file).read().strip())
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as answer:
            prediction = json.load(answer)["predictions"][0]
    except Exception as exc:  # never stand in the way of a submission
        print(f"hpcpredict: no prediction ({exc})", file=sys.stderr)
        return 0
    print(f"predicted runtime: {prediction['predicted_runtime_s'] / 3600:.2f} h")
    for reason in prediction["reasons"]:
        print(f"  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
