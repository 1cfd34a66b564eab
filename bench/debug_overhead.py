#!/usr/bin/env python3
"""The shared debugger's overhead (issue 15): the same script run plainly and under
`ensemble_client.py debug-script` with no breakpoint set, and with one set in another
function that is never reached (the trace hook is then installed). Prints the main thread's
CPU time (min and median): wall time on a shared machine is mostly noise.

Every mode is started and read the same way, as `run` does (`ensemble_client.start_job`, the
output read line by line): the starter prints a line per epoch, and what a pipe write costs
depends on how the reader wakes up. Also prints the start-up (wall time of an empty script).

    python3 bench/debug_overhead.py [--repeat 15] [--epochs 20000]
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT = os.path.join(ROOT, "clients", "python", "ensemble_client.py")
SEED = os.path.join(ROOT, "server", "api", "seed.ts")
sys.path.insert(0, os.path.dirname(CLIENT))
import ensemble_client  # noqa: E402

MODES = ("plain", "none", "armed")

LOOP = """\
import time
t = time.thread_time()
total = 0
for i in range(1_000_000):
    total += i % 7
print("inside_s", time.thread_time() - t)

def never():
    return 0
"""

EMPTY = """\
def never():
    return 0
"""


def starter_train_py(epochs: int) -> str:
    """The workspace's starter train.py (from server/api/seed.ts), timed inside."""
    text = open(SEED, encoding="utf-8").read()
    code = re.search(r"STARTER_CODE = `(.*?)`;", text, re.S).group(1)
    code = code.replace("\\`", "`").replace("${JSON.stringify(DEFAULT_HYPERPARAMETERS)}", json.dumps({"learning_rate": 0.01, "epochs": epochs, "seed": 42}))
    code = code.replace("import json\n", "import json\nimport time\n_t = time.thread_time()\n", 1)
    return code + '    print("inside_s", time.thread_time() - _t)\n\ndef never():\n    return 0\n'


def run(path: str, mode: str) -> str:
    """Runs the script in `mode` as `run` runs a job; returns its output."""
    env = dict(os.environ, ENSEMBLE_HYPERPARAMETERS="{}")
    if mode == "plain":
        return _output(ensemble_client.start_job([sys.executable, path], os.path.dirname(path), env))
    ours, theirs = socket.socketpair()
    breakpoints = {"none": [], "armed": [{"id": "b", "file": os.path.basename(path), "line": len(open(path).read().splitlines()), "by": {"id": "", "name": ""}, "condition": None, "hitCount": 1}]}[mode]
    ours.sendall((json.dumps({"t": "breakpoints", "breakpoints": breakpoints}) + "\n").encode())
    command = [sys.executable, CLIENT, "debug-script", str(theirs.fileno()), path]  # as DebugBridge.wrap makes it
    proc = ensemble_client.start_job(command, os.path.dirname(path), env, (theirs.fileno(),))
    theirs.close()
    try:
        return _output(proc)
    finally:
        ours.close()


def _output(proc: subprocess.Popen) -> str:
    lines = list(proc.stdout)  # line by line, as run_job reads a job
    if proc.wait() != 0:
        raise SystemExit(f"{proc.args} exited with code {proc.returncode}:\n{''.join(lines[-20:])}")
    return "".join(lines)


def inside_s(output: str) -> float:
    return float(re.search(r"inside_s ([0-9.e-]+)", output).group(1))


def start_up_s(path: str, mode: str) -> float:
    start = time.perf_counter()
    run(path, mode)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=20_000, help="epochs of the starter train.py (its default is 50: too short to time)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {args.repeat} runs of each")
    scripts = (
        ("starter train.py", starter_train_py(args.epochs), inside_s),
        ("loop of 10^6", LOOP, inside_s),
        ("start-up (wall)", EMPTY, None),
    )
    with tempfile.TemporaryDirectory() as d:
        for name, source, measure in scripts:
            path = os.path.join(d, "train.py")
            with open(path, "w") as f:
                f.write(source)
            samples: Dict[str, List[float]] = {m: [] for m in MODES}
            for _ in range(args.repeat):  # interleaved, so load on a shared machine hits every mode alike
                for m in MODES:
                    samples[m].append(measure(run(path, m)) if measure else start_up_s(path, m))
            report(name, samples)


def report(name: str, samples: Dict[str, List[float]]) -> None:
    """min and median of each mode, then `paired`: the median of each round's ratio to plain,
    which a load that comes and goes during the batch skews less."""
    for stat in ("min", "median"):
        pick = min if stat == "min" else statistics.median
        t = {m: pick(samples[m]) for m in MODES}
        base = t["plain"]
        print(
            f"{name:17} {stat:6} plain {base * 1000:7.1f} ms | debugger, no breakpoint {t['none'] * 1000:7.1f} ms ({(t['none'] / base - 1) * 100:+5.1f}%)"
            f" | a breakpoint in an uncalled function of the file {t['armed'] * 1000:7.1f} ms ({(t['armed'] / base - 1) * 100:+5.1f}%)"
        )
    paired = {m: statistics.median(x / p for x, p in zip(samples[m], samples["plain"])) - 1 for m in MODES}
    print(f"{name:17} paired {'':19} | debugger, no breakpoint {'':10}({paired['none'] * 100:+5.1f}%) | a breakpoint in an uncalled function of the file {'':10}({paired['armed'] * 100:+5.1f}%)")


if __name__ == "__main__":
    main()
