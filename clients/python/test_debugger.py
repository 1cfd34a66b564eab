"""Tests of the shared debugger (issue 15), standard library only.

`DebuggerTest` drives `ensemble_client.py debug-script` over its socket pair, as the client's
`run` and the server's sandbox do. `AgainstServerTest` runs the workspace's starter train.py
through `run_file` against a real server: tests/debug/python.test.ts starts one and passes
ENSEMBLE_TEST_URL, ENSEMBLE_TEST_WORKSPACE, ENSEMBLE_TEST_KEY, ENSEMBLE_TEST_OWNER_COOKIE and
ENSEMBLE_TEST_VIEWER_COOKIE.

    python3 -m unittest clients/python/test_debugger.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ensemble_client as ec  # noqa: E402

CLIENT = os.path.join(HERE, "ensemble_client.py")
DEADLINE_S = float(os.environ.get("ENSEMBLE_TEST_DEADLINE_S", "30"))

SCRIPT = """\
import os, sys, time

def double(x):
    y = x * 2
    return y

total = 0
for i in range(5):
    total += double(i)
    marker = os.path.join(os.path.dirname(__file__), "go")
print("total", total)
"""

# Waits (without a breakpoint) until the test creates the file "go", then loops past line 9.
WAITING_SCRIPT = """\
import os, time
here = os.path.dirname(os.path.abspath(__file__))
print("ready", flush=True)
while not os.path.exists(os.path.join(here, "go")):
    time.sleep(0.01)
count = 0
for i in range(1000):
    count += 1
    last = i
print("done", count, flush=True)
"""


class Script:
    """A script under `debug-script`, with the test as its bridge."""

    def __init__(self, source: str, breakpoints: List[Dict[str, Any]]):
        self.dir = tempfile.TemporaryDirectory(prefix="ensemble-debug-test-")
        self.path = os.path.join(self.dir.name, "train.py")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(source)
        ours, theirs = socket.socketpair()
        self.sock = ours
        self.send({"t": "breakpoints", "breakpoints": breakpoints})
        self.proc = subprocess.Popen(
            [sys.executable, CLIENT, "debug-script", str(theirs.fileno()), self.path],
            pass_fds=(theirs.fileno(),),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        theirs.close()
        self.lines = ours.makefile("r", encoding="utf-8")
        self.seq = 0

    def send(self, message: Dict[str, Any]) -> None:
        self.sock.sendall((json.dumps(message) + "\n").encode("utf-8"))

    def next_event(self, kind: str) -> Dict[str, Any]:
        self.sock.settimeout(DEADLINE_S)
        for line in self.lines:
            event = json.loads(line)
            if event["t"] == kind:
                return event
        raise AssertionError(f"the script ended before a {kind!r} event; output: {self.output()}")

    def command(self, name: str, expression: Optional[str] = None) -> None:
        self.seq += 1
        self.send({"t": "command", "seq": self.seq, "command": name, **({"expression": expression} if expression else {})})

    def output(self) -> str:
        self.lines.close()
        self.sock.close()
        out, _ = self.proc.communicate(timeout=DEADLINE_S)
        return out

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.lines.close()
        self.sock.close()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.dir.cleanup()


def bp(line: int, **extra: Any) -> Dict[str, Any]:
    return {"id": f"bp{line}", "file": "train.py", "line": line, "by": {"id": "u1", "name": "Alice"}, "condition": None, "hitCount": 1, **extra}


def local(frame: Dict[str, Any], name: str) -> Optional[str]:
    return next((v["value"] for v in frame["locals"] if v["name"] == name), None)


class DebuggerTest(unittest.TestCase):
    def script(self, source: str, breakpoints: List[Dict[str, Any]]) -> Script:
        s = Script(source, breakpoints)
        self.addCleanup(s.close)
        return s

    def test_DBG5_pauses_at_a_breakpoint_with_the_stack_and_locals(self) -> None:
        s = self.script(SCRIPT, [bp(4)])
        paused = s.next_event("paused")
        self.assertEqual((paused["file"], paused["line"], paused["reason"], paused["breakpoint"]), ("train.py", 4, "breakpoint", "bp4"))
        self.assertEqual([f["function"] for f in paused["stack"]], ["double", "<module>"])
        self.assertEqual(local(paused["stack"][0], "x"), "0")
        self.assertEqual(local(paused["stack"][1], "total"), "0")
        self.assertIsNone(local(paused["stack"][1], "os"), "modules are not listed as locals")
        s.send({"t": "breakpoints", "breakpoints": []})
        s.command("continue")
        s.next_event("running")
        self.assertIn("total 20", s.output())
        self.assertEqual(s.proc.returncode, 0)

    def test_DBG5_condition_and_hit_count(self) -> None:
        s = self.script(SCRIPT, [bp(4, condition="x >= 2", hitCount=2)])
        paused = s.next_event("paused")
        self.assertEqual(local(paused["stack"][0], "x"), "3", "the 2nd hit where x >= 2")
        self.assertEqual(paused["hits"], {"bp4": 2})
        s.send({"t": "breakpoints", "breakpoints": []})
        s.command("continue")
        self.assertIn("total 20", s.output())

    def test_DBG6_step_over_into_and_out(self) -> None:
        s = self.script(SCRIPT, [bp(9)])
        self.assertEqual(s.next_event("paused")["line"], 9)
        s.send({"t": "breakpoints", "breakpoints": []})
        s.command("step_into")
        into = s.next_event("paused")
        self.assertEqual((into["line"], into["reason"], into["stack"][0]["function"]), (4, "step", "double"))
        s.command("step_over")
        self.assertEqual(s.next_event("paused")["line"], 5)
        s.command("step_out")
        out = s.next_event("paused")
        self.assertEqual((out["line"], out["stack"][0]["function"]), (10, "<module>"))
        s.command("step_over")
        self.assertEqual(s.next_event("paused")["line"], 8)
        s.command("continue")
        self.assertIn("total 20", s.output())

    def test_DBG7_evaluates_in_the_paused_frame(self) -> None:
        s = self.script(SCRIPT, [bp(5)])
        s.next_event("paused")
        s.command("eval", "y + 100")
        result = s.next_event("result")
        self.assertEqual((result["seq"], result["value"], result["error"]), (1, "100", None))
        s.command("eval", "undefined_name")
        self.assertEqual(s.next_event("result")["error"], "NameError: name 'undefined_name' is not defined")
        s.send({"t": "breakpoints", "breakpoints": []})
        s.command("continue")
        self.assertIn("total 20", s.output())

    def test_DBG8_a_breakpoint_set_while_the_script_runs_pauses_it(self) -> None:
        s = self.script(WAITING_SCRIPT, [])
        self.assertEqual(s.proc.stdout.readline().strip(), "ready")  # type: ignore[union-attr]
        s.send({"t": "breakpoints", "breakpoints": [bp(8, hitCount=500)]})
        time.sleep(0.2)  # the breakpoint travels to the script's reader thread; nothing to wait on
        open(os.path.join(s.dir.name, "go"), "w").close()
        paused = s.next_event("paused")
        self.assertEqual((paused["line"], local(paused["stack"][0], "i")), (8, "499"))
        s.send({"t": "breakpoints", "breakpoints": []})
        s.command("continue")
        self.assertIn("done 1000", s.output())

    def test_DBG8_a_script_whose_bridge_goes_away_runs_on(self) -> None:
        s = self.script(SCRIPT, [bp(4)])
        s.next_event("paused")
        self.assertIn("total 20", s.output())  # output() closes the socket first

    def test_DBG9_tensors_by_shape_dtype_and_a_few_values_without_importing_them(self) -> None:
        class Flat:
            def __init__(self, values: List[float]):
                self.values = values

            def __getitem__(self, s: slice) -> "Flat":
                return Flat(self.values[s])

            def tolist(self) -> List[float]:
                return self.values

        class Tensor:
            shape = (2, 4)
            dtype = "torch.float32"

            def detach(self) -> "Tensor":
                return self

            def cpu(self) -> "Tensor":
                return self

            def reshape(self, n: int) -> Flat:
                return Flat([0.5, 1.25, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])

        Tensor.__module__ = "torch"
        Tensor.__name__ = "Tensor"
        self.assertEqual(ec.describe_value(Tensor()), "Tensor shape=(2, 4) dtype=torch.float32 [0.5, 1.25, 2, 3, 4, …]")
        self.assertNotIn("numpy", sys.modules)
        self.assertLessEqual(len(ec.describe_value("x" * 10_000)), ec.MAX_VALUE)
        self.assertEqual(ec.describe_value(list(range(100))), "[0, 1, 2, 3, 4, 5, 6, 7, ...]")


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: tests/debug/python.test.ts starts a server and sets it")
    return value


class Http:
    """The app's side, with a member's session cookie."""

    def __init__(self, cookie: str):
        self.url = env("ENSEMBLE_TEST_URL")
        self.workspace = env("ENSEMBLE_TEST_WORKSPACE")
        self.cookie = cookie

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/api/workspaces/{self.workspace}{path}",
            data=data,
            method=method,
            headers={"cookie": self.cookie, "content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=DEADLINE_S) as res:
                text = res.read().decode()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            error = json.loads(err.read().decode())["error"]
            raise ec.EnsembleError(err.code, error["code"], error["message"]) from None


def wait_for(what: str, read: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class AgainstServerTest(unittest.TestCase):
    def test_DBG10_the_starter_train_py_pauses_at_a_shared_breakpoint_and_people_step_it(self) -> None:
        client = ec.Client(env("ENSEMBLE_TEST_URL"), env("ENSEMBLE_TEST_WORKSPACE"), env("ENSEMBLE_TEST_KEY"))
        owner = Http(env("ENSEMBLE_TEST_OWNER_COOKIE"))
        viewer = Http(env("ENSEMBLE_TEST_VIEWER_COOKIE"))
        # Line 18 of the starter train.py: `loss *= 1 - hp["learning_rate"] * ...`, inside train().
        mark = client._request("POST", "/debug/breakpoints", {"file": "train.py", "line": 18, "hit_count": 3})
        self.assertEqual(mark["line"], 18)
        output: List[str] = []
        result: Dict[str, Any] = {}
        runner = threading.Thread(target=lambda: result.update(ec.run_file(client, "train.py", echo=output.append)), daemon=True)
        runner.start()

        def stop_paused() -> None:  # on a failure, leave no paused process behind
            for s in owner.call("GET", "/debug/sessions")["sessions"]:
                if s["status"] in ("paused", "running"):
                    owner.call("POST", f"/debug/sessions/{s['id']}/commands", {"command": "stop"})

        self.addCleanup(stop_paused)

        def paused() -> Optional[Dict[str, Any]]:
            sessions = owner.call("GET", "/debug/sessions")["sessions"]
            return next((s for s in sessions if s["status"] == "paused"), None)

        session = wait_for("the script to pause", paused)
        where = session["paused"]
        self.assertEqual((where["file"], where["line"]), ("train.py", 18))
        self.assertEqual(where["breakpoint"]["by"]["name"], "Olivia")
        self.assertEqual(local(where["stack"][0], "epoch"), "3")
        self.assertEqual([f["function"] for f in where["stack"]], ["train", "<module>"])

        with self.assertRaises(ec.EnsembleError) as refused:
            viewer.call("POST", f"/debug/sessions/{session['id']}/commands", {"command": "continue"})
        self.assertEqual(refused.exception.status, 403)
        self.assertIn("Viewers watch", refused.exception.message)

        owner.call("POST", f"/debug/sessions/{session['id']}/commands", {"command": "eval", "expression": "epoch * 10"})

        def answered() -> Optional[Dict[str, Any]]:
            s = next(s for s in owner.call("GET", "/debug/sessions")["sessions"] if s["id"] == session["id"])
            return s["results"][0] if s["results"] else None

        answer = wait_for("the evaluation", answered)
        self.assertEqual((answer["value"], answer["by"]["name"]), ("30", "Olivia"))

        client._request("DELETE", f"/debug/breakpoints/{mark['id']}")
        owner.call("POST", f"/debug/sessions/{session['id']}/commands", {"command": "continue"})
        runner.join(DEADLINE_S)
        self.assertEqual(result.get("status"), "completed")
        self.assertEqual(result["summary"]["epoch"], 50)
        ended = next(s for s in owner.call("GET", "/debug/sessions")["sessions"] if s["id"] == session["id"])
        self.assertEqual(ended["status"], "ended")


if __name__ == "__main__":
    unittest.main()
