"""The chaos and scale tests at full size, against the same tests at the suite's small size.

Runs tests/engine/runtime/test_durability__crash_and_scale.py twice through pytest (its own
database and queue): small (3 SIGKILL rounds, 300 waiting runs), as the suite does, then
full (20 rounds, 10,000 runs). Prints the time per kill round and per waiting run of each size
and their ratio, so growth that is not linear shows. Prints figures; never fails a build.

    .venv/bin/python bench/durability.py [--small-only]
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/engine/runtime/test_durability__crash_and_scale.py"


def run_at(scale: str) -> dict[str, float]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stepwise_bench_durability")
    env.setdefault("STEPWISE_QUEUE", "stepwise-bench-durability")
    env.setdefault("STEPWISE_CHANNEL_PREFIX", "stepwise-bench-durability")
    env["STEPWISE_CHAOS_SCALE"] = scale
    print(f"running the {scale} size…", file=sys.stderr)
    done = subprocess.run(  # noqa: S603 - our own interpreter on our own test file
        [sys.executable, "-m", "pytest", TEST, "-q", "-s", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    out = done.stdout
    if done.returncode != 0:
        print(out[-3000:], file=sys.stderr)
        raise SystemExit(f"the {scale} run failed")
    rounds = [float(s) for s in re.findall(r"completed in ([\d.]+)s", out)]
    waiting = re.search(r"(\d+) runs waiting after ([\d.]+)s", out)
    delivered = re.search(r"(\d+) events delivered in ([\d.]+)s", out)
    if not (rounds and waiting and delivered):
        raise SystemExit(f"the {scale} run printed no figures:\n{out[-2000:]}")
    count = int(waiting.group(1))
    return {
        "rounds": len(rounds),
        "per round s": sum(rounds) / len(rounds),
        "runs": count,
        "per waiting run ms": float(waiting.group(2)) * 1000 / count,
        "per delivered event ms": float(delivered.group(2)) * 1000 / count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-only", action="store_true")
    args = parser.parse_args()
    small = run_at("small")
    full = small if args.small_only else run_at("full")
    print(f"{'':<24}{'small':>12}{'full':>12}{'full/small':>12}")
    for key in ("rounds", "runs"):
        print(f"{key:<24}{small[key]:>12.0f}{full[key]:>12.0f}")
    for key in ("per round s", "per waiting run ms", "per delivered event ms"):
        ratio = full[key] / small[key] if small[key] else float("nan")
        print(f"{key:<24}{small[key]:>12.2f}{full[key]:>12.2f}{ratio:>11.2f}x")


if __name__ == "__main__":
    main()
