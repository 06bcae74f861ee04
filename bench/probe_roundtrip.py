"""Round trip API → broker → worker → database on the embedded default, against a plain API read.

Starts `manage.py serve` on a throw-away SQLite database, then times N worker probes (created
over the API, answered by the in-process worker) and N `GET /api/me` calls as the baseline
measured in the same run. Prints figures; never fails a build.

    .venv/bin/python bench/probe_roundtrip.py [--probes 50]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.http import csrf_headers, logged_in_client
from tests.processes import (
    free_port,
    process_environment,
    start_process,
    wait_until,
)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as var_dir:
        env = process_environment(
            DATABASE_URL=None, REDIS_URL=None, SECRET_KEY=None, STEPWISE_VAR_DIR=var_dir
        )
        for command in (["migrate", "--noinput", "-v", "0"], ["load_demo"]):
            start_process("setup", ["manage.py", *command], env, Path(var_dir)).process.wait(120)
        port = free_port()
        server = start_process(
            "serve", ["manage.py", "serve", "--port", str(port)], env, Path(var_dir)
        )
        try:
            wait_until(lambda: "Stepwise is serving" in server.log(), 60, "the server", server)
            client = logged_in_client(f"http://127.0.0.1:{port}", "operator", "stepwise-operator")
            baseline, probes = [], []
            for index in range(args.probes):
                began = time.perf_counter()
                client.get("/api/me").raise_for_status()
                baseline.append(time.perf_counter() - began)

                began = time.perf_counter()
                probe_id = client.post(
                    "/api/system/worker-probes", headers=csrf_headers(client)
                ).json()["id"]
                while (
                    client.get(f"/api/system/worker-probes/{probe_id}").json()["answered_at"]
                    is None
                ):
                    time.sleep(0.002)
                probes.append(time.perf_counter() - began)
                print(f"\r{index + 1}/{args.probes} probes", end="", file=sys.stderr)
            print(file=sys.stderr)
        finally:
            server.stop()

    def row(name: str, samples: list[float]) -> str:
        return (
            f"{name:<28} median {statistics.median(samples) * 1000:7.1f} ms   "
            f"p95 {percentile(samples, 0.95) * 1000:7.1f} ms"
        )

    print(f"embedded default (SQLite, in-process worker), {args.probes} samples")
    print(row("GET /api/me (baseline)", baseline))
    print(row("probe round trip", probes))
    print(f"ratio probe/baseline: {statistics.median(probes) / statistics.median(baseline):.1f}x")


if __name__ == "__main__":
    main()
