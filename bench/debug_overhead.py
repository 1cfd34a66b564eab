#!/usr/bin/env python3
"""The shared debugger's overhead (issue 15): the same script run plainly and under
`ensemble_client.py debug-script` with no breakpoint set, and with one set in another
function that is never reached (the trace hook is then installed). Prints the main thread's CPU time (min and median): wall time on a shared machine is mostly noise.

    python3 bench/debug_overhead.py [--repeat 7]
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT = os.path.join(ROOT, "clients", "python", "ensemble_client.py")
SEED = os.path.join(ROOT, "server", "api", "seed.ts")

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


def starter_train_py(epochs: int) -> str:
    """The workspace's starter train.py (from server/api/seed.ts), timed inside."""
    text = open(SEED, encoding="utf-8").read()
    code = re.search(r"STARTER_CODE = `(.*?)`;", text, re.S).group(1)
    code = code.replace("\\`", "`").replace("${JSON.stringify(DEFAULT_HYPERPARAMETERS)}", json.dumps({"learning_rate": 0.01, "epochs": epochs, "seed": 42}))
    code = code.replace("import json\n", "import json\nimport time\n_t = time.thread_time()\n", 1)
    return code + '    print("inside_s", time.thread_time() - _t)\n\ndef never():\n    return 0\n'


def run(path: str, mode: str) -> float:
    env = dict(os.environ, ENSEMBLE_HYPERPARAMETERS="{}")
    if mode == "plain":
        out = subprocess.run([sys.executable, path], capture_output=True, text=True, env=env, check=True).stdout
    else:
        ours, theirs = socket.socketpair()
        lines = {"none": [], "armed": [{"id": "b", "file": os.path.basename(path), "line": len(open(path).read().splitlines()), "by": {"id": "", "name": ""}, "condition": None, "hitCount": 1}]}[mode]
        ours.sendall((json.dumps({"t": "breakpoints", "breakpoints": lines}) + "\n").encode())
        proc = subprocess.Popen([sys.executable, CLIENT, "debug-script", str(theirs.fileno()), path], pass_fds=(theirs.fileno(),), stdout=subprocess.PIPE, text=True, env=env)
        theirs.close()
        out, _ = proc.communicate()
        ours.close()
    return float(re.search(r"inside_s ([0-9.e-]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=20_000, help="epochs of the starter train.py (its default is 50: too short to time)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, median of {args.repeat} runs")
    with tempfile.TemporaryDirectory() as d:
        for name, source in (("starter train.py", starter_train_py(args.epochs)), ("loop of 10^6", LOOP)):
            path = os.path.join(d, "train.py")
            with open(path, "w") as f:
                f.write(source)
            samples: dict = {m: [] for m in MODES}
            for _ in range(args.repeat):  # interleaved, so load on a shared machine hits every mode alike
                for m in MODES:
                    samples[m].append(run(path, m))
            for stat in ("min", "median"):
                pick = min if stat == "min" else statistics.median
                t = {m: pick(samples[m]) for m in MODES}
                base = t["plain"]
                print(
                    f"{name:17} {stat:6} plain {base * 1000:7.1f} ms | debugger, no breakpoint {t['none'] * 1000:7.1f} ms ({(t['none'] / base - 1) * 100:+5.1f}%)"
                    f" | a breakpoint in an uncalled function of the file {t['armed'] * 1000:7.1f} ms ({(t['armed'] / base - 1) * 100:+5.1f}%)"
                )


if __name__ == "__main__":
    main()
