"""Run one benchmark command against two checkouts in alternation, so both see the same machine load.

Run: .venv/bin/python bench/before_after.py --before /path/to/main --after . --rounds 3 -- \\
         bench/async.py --only delivery
Each round runs the command once in the `before` checkout, with it first on PYTHONPATH (its code is what
the benchmark imports, and, as the working directory, what `python -m novaro_lite` starts: `-m` puts the
working directory ahead of PYTHONPATH), then once in `after`; the order flips every round. Output lines
are prefixed with the round and side; take medians across rounds from them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="checkout measured as the baseline")
    parser.add_argument("--after", type=Path, required=True, help="checkout measured against it")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="script and its arguments, after --")
    options = parser.parse_args()
    command = [arg for arg in options.command if arg != "--"]
    command[0] = str(Path(command[0]).resolve())  # the script from here; the code it imports from a checkout
    sides = [("before", options.before.resolve()), ("after", options.after.resolve())]
    for round_ in range(1, options.rounds + 1):
        for side, checkout in sides if round_ % 2 else sides[::-1]:
            environ = {**os.environ, "PYTHONPATH": str(checkout)}
            result = subprocess.run(
                [sys.executable, *command], env=environ, cwd=checkout, capture_output=True, text=True, check=False
            )
            for line in (result.stdout + result.stderr).splitlines():
                print(f"[round {round_} {side}] {line}", flush=True)


if __name__ == "__main__":
    main()
