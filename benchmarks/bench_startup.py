"""CLI start-up time beside `python -c "import pandas"`, measured in one run.

    python benchmarks/bench_startup.py [--repeat 5] [--before DIR]

Each command runs in a fresh interpreter (`python -m hpcpredict ...`), interleaved with the
`import pandas` baseline so that load drifts hit both alike; the table gives medians. ``--before``
names a checkout of an earlier hpcpredict (e.g. `git archive <commit> | tar -x -C DIR`) measured
the same way, from its own source.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import describe_machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {
    'python -c "import pandas"': ["-c", "import pandas"],
    "hpcpredict --help": ["-m", "hpcpredict", "--help"],
    "hpcpredict --version": ["-m", "hpcpredict", "--version"],
    "hpcpredict ingest --help": ["-m", "hpcpredict", "ingest", "--help"],
}


def _seconds(args: list[str], source: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(source)}
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=source, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", type=Path, help="a checkout of an earlier hpcpredict to measure beside this one")
    args = parser.parse_args()
    sources = {"this": REPO, **({"before": args.before.resolve()} if args.before else {})}
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeat):
        for label, source in sources.items():
            for name, argv in COMMANDS.items():
                if name.startswith("python") and label != "this":
                    continue
                times.setdefault((label, name), []).append(_seconds(argv, source))
    print(describe_machine())
    with open("/proc/loadavg") as fh:
        print(f"load average at the end: {fh.read().split()[0]}; medians of {args.repeat}\n")
    base = statistics.median(times[("this", 'python -c "import pandas"')])
    print("| command | source | median (s) | vs import pandas |\n|---|---|---:|---:|")
    for (label, name), values in times.items():
        median = statistics.median(values)
        print(f"| `{name}` | {label if not name.startswith('python') else '-'} | {median:.2f} | {median / base:.2f}x |")


if __name__ == "__main__":
    main()
