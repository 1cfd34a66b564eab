#!/usr/bin/env python3
"""Report training runs to an Ensemble workspace (Python standard library only).

As a module::

    import ensemble_client as ec

    client = ec.Client("http://localhost:8000", "WORKSPACE_ID", "ens_...")
    hp = client.hyperparameters()
    with client.create_run(name="resnet on gpu-1", params=hp, code={"train.py": source}) as run:
        for epoch in range(1, hp["epochs"] + 1):
            loss, acc = train_one_epoch(hp)
            run.log(step=epoch, loss=loss, accuracy=acc)
    # Leaving the block marks the run completed, or failed (with the traceback) on an exception.

From the command line (URL, workspace and key also from ENSEMBLE_URL,
ENSEMBLE_WORKSPACE, ENSEMBLE_API_KEY)::

    python3 ensemble_client.py params
    python3 ensemble_client.py run train.py      # fetch train.py from the workspace and run it here
    python3 ensemble_client.py agent --name gpu-1   # take the workspace's queued agent runs, one at a time

`run` writes the workspace's code files to a temporary directory, runs the file
with this Python, and passes the current hyperparameters in the environment
(ENSEMBLE_HYPERPARAMETERS as JSON, ENSEMBLE_HYPERPARAMETERS_FILE as a path). Every
line the script prints that is a JSON object (or a Python dict literal), such as
``{"epoch": 1, "loss": 0.42, "accuracy": 0.8}``, is a metric point: ``step`` (or
else ``epoch``, or else a counter) is the x axis, ``kind`` may be "batch", and the
other numeric keys are metrics. Other lines are shown and kept; if the script
fails, the run ends ``failed`` with its last lines. Inside the script,
``ensemble_client.hyperparameters()`` and ``ensemble_client.report(**metrics)``
do both for you.

`agent` long-polls the workspace's queue for runs queued on an agent (any, or
this one by name), and runs each the same way (`run_job`) from the code the run
recorded, with ENSEMBLE_DATASET (the data set as a CSV file) and ENSEMBLE_TARGET
too, heartbeating so the server notices if it dies. Ctrl-C or SIGTERM ends its
current run `interrupted` and exits.
"""

from __future__ import annotations

import gc
import json
import os
import queue
import reprlib
import signal
import sys
import threading
import traceback
import types
import _thread
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Tuple

# --- The shared debugger (issue 15) -------------------------------------------------------------
#
# A script started by `run` runs under a small debugger in its own process (`debug-script`),
# which talks JSON lines over a socket pair (an inherited fd) to whoever started it: this
# client's `run` (which relays to the server over HTTP, authenticated with the API key), or the
# server's sandbox (which has no network). The bridge sends the workspace's breakpoints whenever
# they change and the commands people send; the debugger reports where it paused, the call
# stack with locals, and the results of evaluated expressions.
#
# Overhead: with no breakpoint set nothing is traced at all (no sys.settrace). Breakpoints that
# arrive while the script runs are armed from the main thread through a simulated signal
# (_thread.interrupt_main), which sets the global trace function and `f_trace` on the running
# frames whose code has a breakpoint line; other calls return no local tracer. Once a trace
# function is set, though, Python 3.11 runs every instruction of the thread through its tracing
# path, so a breakpoint anywhere slows the whole script (bench/debug_overhead.py, "armed").
#
# This part comes first in the file because the script's process loads nothing after it (see
# the early exit below): none of the HTTP and subprocess modules the client proper needs.

DEBUG_SIGNAL = getattr(signal, "SIGUSR2", None)
MAX_FRAMES = 30
LOCALS_FRAMES = 8
MAX_LOCALS = 40
MAX_VALUE = 300
_TENSOR_MODULES = ("numpy", "torch", "jax", "tensorflow", "cupy")


def _short_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring = 120
    r.maxother = 120
    r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = r.maxdeque = r.maxarray = 8
    r.maxdict = 8
    r.maxlevel = 3
    return r


_REPR = _short_repr()


def describe_value(value: Any) -> str:
    """A short, safe text for a value: tensors and arrays by shape, dtype and a few values.

    numpy and torch are recognised by their type's module, never imported here.
    """
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    if module.split(".")[0] in _TENSOR_MODULES and hasattr(value, "shape") and hasattr(value, "dtype"):
        try:
            shape = tuple(int(s) for s in value.shape)
            flat = value
            for step in ("detach", "cpu"):
                if hasattr(flat, step):
                    flat = getattr(flat, step)()
            size = 1
            for s in shape:
                size *= s
            few = list(flat.reshape(-1)[:5].tolist()) if size else []
            shown = ", ".join(f"{x:.4g}" if isinstance(x, float) else repr(x) for x in few)
            more = ", …" if size > len(few) else ""
            return f"{kind.__name__} shape={shape} dtype={value.dtype} [{shown}{more}]"[:MAX_VALUE]
        except Exception:
            pass
    try:
        text = _REPR.repr(value)
    except Exception as err:  # a broken __repr__ must not break the pause
        text = f"<{kind.__name__}: repr failed with {type(err).__name__}>"
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


class Debugger:
    """Honours the workspace's breakpoints in this process; see the comment above."""

    def __init__(self, fd: int, root: str):
        self.fd = fd
        self.root = os.path.realpath(root)
        self._send_lock = threading.Lock()
        self.by_file: Dict[str, Dict[int, Dict[str, Any]]] = {}
        self.commands: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.hits: Dict[str, int] = {}
        self.step: Optional[Tuple[str, Any]] = None
        self.paused = False
        self.ready = threading.Event()
        self._wants_cache: Dict[Any, bool] = {}
        self._paths: Dict[str, str] = {}
        self._me = os.path.realpath(__file__)

    # -- the channel
    def send(self, message: Dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode("utf-8")
        with self._send_lock:
            try:
                os.write(self.fd, data) if len(data) < 4096 else _write_all(self.fd, data)
            except OSError:
                pass  # the bridge is gone: the script carries on

    def read_loop(self) -> None:
        with os.fdopen(os.dup(self.fd), "r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if message.get("t") == "breakpoints":
                    self.set_breakpoints(message.get("breakpoints") or [])
                    self.ready.set()
                elif message.get("t") == "command":
                    self.commands.put(message)
        # The bridge went away: nobody can continue a pause, so run on untraced.
        self.set_breakpoints([])
        self.ready.set()
        self.commands.put({"command": "continue"})

    def set_breakpoints(self, breakpoints: List[Dict[str, Any]]) -> None:
        by_file: Dict[str, Dict[int, Dict[str, Any]]] = {}
        for bp in breakpoints:
            try:
                path = os.path.realpath(os.path.join(self.root, str(bp["file"])))
                by_file.setdefault(path, {}).setdefault(int(bp["line"]), bp)
            except (KeyError, TypeError, ValueError):
                continue
        self.by_file = by_file
        self._wants_cache = {}
        if not self.paused and DEBUG_SIGNAL is not None:
            try:
                _thread.interrupt_main(DEBUG_SIGNAL)  # _arm runs in the main thread
            except (RuntimeError, ValueError):
                pass

    # -- arming
    def _path(self, filename: str) -> str:
        path = self._paths.get(filename)
        if path is None:
            path = self._paths[filename] = os.path.realpath(filename)
        return path

    def _user(self, code: Any) -> bool:
        path = self._path(code.co_filename)
        return path.startswith(self.root + os.sep) and path != self._me

    def _wants(self, code: Any) -> bool:
        """Whether a code object holds a breakpoint line (only those frames get a local tracer)."""
        wanted = self._wants_cache.get(code)
        if wanted is None:
            lines = self.by_file.get(self._path(code.co_filename))
            wanted = bool(lines) and any(line in lines for _, _, line in code.co_lines() if line)
            self._wants_cache[code] = wanted
        return wanted

    def on_signal(self, signum: int, frame: Any) -> None:
        self.arm(frame)

    def arm(self, frame: Any) -> None:
        active = bool(self.by_file) or self.step is not None
        sys.settrace(self._global if active else None)
        while frame is not None:
            if frame.f_code.co_filename == __file__ and frame.f_code.co_name == "debug_script_main":
                break
            traced = active and (self._wants(frame.f_code) or (self.step is not None and self._user(frame.f_code)))
            frame.f_trace = self._local if traced else None
            frame = frame.f_back

    def _global(self, frame: Any, event: str, arg: Any) -> Any:
        if event != "call":
            return None
        if self._wants(frame.f_code) or (self.step is not None and self.step[0] == "into" and self._user(frame.f_code)):
            return self._local
        return None

    def _local(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            lines = self.by_file.get(self._path(frame.f_code.co_filename))
            bp = lines.get(frame.f_lineno) if lines else None
            if bp is not None and self._should_break(bp, frame):
                self._pause(frame, "breakpoint", bp)
            elif self.step is not None and self._step_stops(frame):
                self._pause(frame, "step", None)
        elif event == "return" and self.step is not None and self.step[1] is frame:
            back = frame.f_back
            self.step = ("over", back) if back is not None and self._user(back.f_code) else None
        return frame.f_trace

    def _step_stops(self, frame: Any) -> bool:
        kind, target = self.step  # type: ignore[misc]
        return self._user(frame.f_code) if kind == "into" else frame is target

    def _should_break(self, bp: Dict[str, Any], frame: Any) -> bool:
        condition = bp.get("condition")
        if condition:
            try:
                if not eval(condition, frame.f_globals, frame.f_locals):
                    return False
            except Exception:
                pass  # a condition that fails pauses, so its author sees why (as pdb does)
        bid = str(bp.get("id"))
        self.hits[bid] = self.hits.get(bid, 0) + 1
        return self.hits[bid] >= int(bp.get("hitCount") or 1)

    # -- pausing
    def _rel(self, filename: str) -> str:
        path = self._path(filename)
        return os.path.relpath(path, self.root) if path.startswith(self.root + os.sep) else filename

    def _stack(self, frame: Any) -> List[Dict[str, Any]]:
        stack: List[Dict[str, Any]] = []
        while frame is not None and len(stack) < MAX_FRAMES:
            code = frame.f_code
            if code.co_filename == __file__:
                break  # debug_script_main and below: the debugger's own frames
            locals_: List[Dict[str, str]] = []
            if len(stack) < LOCALS_FRAMES:
                module_level = frame.f_globals is frame.f_locals
                for name, value in list(frame.f_locals.items()):
                    if name.startswith("__") or (
                        module_level and isinstance(value, (type, types.ModuleType, types.FunctionType))
                    ):
                        continue
                    locals_.append({"name": name[:200], "value": describe_value(value), "type": type(value).__name__[:200]})
                    if len(locals_) >= MAX_LOCALS:
                        break
            stack.append({"file": self._rel(code.co_filename)[:500], "line": frame.f_lineno, "function": code.co_name[:200], "locals": locals_})
            frame = frame.f_back
        return stack

    def _pause(self, frame: Any, reason: str, bp: Optional[Dict[str, Any]]) -> None:
        self.paused = True
        self.step = None
        self.send(
            {
                "t": "paused",
                "file": self._rel(frame.f_code.co_filename)[:500],
                "line": frame.f_lineno,
                "reason": reason,
                "breakpoint": str(bp["id"]) if bp is not None else None,
                "stack": self._stack(frame),
                "hits": dict(self.hits),
            }
        )
        while True:
            command = self.commands.get()
            name = command.get("command")
            if name == "eval":
                self._evaluate(frame, command)
                continue
            if name == "stop":
                self.send({"t": "ended", "note": "Stopped from the debugger."})
                sys.stdout.flush()
                os._exit(143)
            break
        if name == "step_into":
            self.step = ("into", None)
        elif name == "step_over":
            self.step = ("over", frame)
        elif name == "step_out":
            back = frame.f_back
            self.step = ("over", back) if back is not None and self._user(back.f_code) else None
        self.paused = False
        self.send({"t": "running", "hits": dict(self.hits)})
        self.arm(frame)

    def _evaluate(self, frame: Any, command: Dict[str, Any]) -> None:
        expression = str(command.get("expression") or "")
        value: Optional[str] = None
        error: Optional[str] = None
        try:
            try:
                compiled = compile(expression, "<debug>", "eval")
            except SyntaxError:
                exec(compile(expression, "<debug>", "exec"), frame.f_globals, frame.f_locals)
                value = "(done)"
            else:
                value = describe_value(eval(compiled, frame.f_globals, frame.f_locals))
        except BaseException as err:  # the script's own exceptions are the answer, not a crash
            error = f"{type(err).__name__}: {err}"[:2000]
        self.send({"t": "result", "seq": int(command.get("seq") or 0), "expression": expression[:2000], "value": value, "error": error})


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def debug_script_main(argv: List[str]) -> int:
    """`ensemble_client.py debug-script FD SCRIPT [ARGS…]`: runs SCRIPT as __main__ under the debugger."""
    fd, script, args = int(argv[0]), os.path.abspath(argv[1]), argv[2:]
    debugger = Debugger(fd, os.path.dirname(script))
    threading.Thread(target=debugger.read_loop, name="ensemble-debugger", daemon=True).start()
    if DEBUG_SIGNAL is not None:
        signal.signal(DEBUG_SIGNAL, debugger.on_signal)
    debugger.ready.wait(10.0)  # breakpoints set before the start are honoured from the first line
    with open(script, "rb") as f:
        code = compile(f.read(), script, "exec")
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(script)
    main_module = types.ModuleType("__main__")
    main_module.__file__ = script
    sys.modules["__main__"] = main_module
    if debugger.by_file:
        sys.settrace(debugger._global)
    # The debugger's own objects (this module, threading, json, …) are not the script's: frozen,
    # the collector skips them instead of walking them in every full collection.
    gc.freeze()
    try:
        exec(code, main_module.__dict__)
    except SystemExit:
        raise
    except BaseException:
        kind, err, tb = sys.exc_info()
        sys.settrace(None)
        traceback.print_exception(kind, err, tb.tb_next if tb is not None else None)
        return 1
    finally:
        sys.settrace(None)
    return 0


if __name__ == "__main__" and sys.argv[1:2] == ["debug-script"]:
    # The debugged script's own process stops loading this module here, before the modules for
    # HTTP, subprocesses and the command line below (urllib alone pulls in http.client, email and
    # ssl): the script shares its process only with the few modules the debugger needs, and
    # starts 14 ms after plain python instead of 42 ms (bench/debug_overhead.py).
    sys.exit(debug_script_main(sys.argv[2:]))


# The rest is the client proper: talking to the server, running jobs, the command line.
import argparse  # noqa: E402 (after the debugged script's early exit above)
import ast  # noqa: E402
import http.client  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from collections import deque  # noqa: E402

__all__ = ["Client", "Run", "Job", "EnsembleError", "hyperparameters", "report", "parse_metric_line", "run_job", "agent"]

RESERVED = {"step", "epoch", "kind", "elapsed_ms"}
MAX_POINTS_PER_POST = 1000
MAX_LINES_PER_POST = 1000
MAX_LINE_CHARS = 10_000
MAX_BUFFERED_LINES = 20_000
TAIL_LINES = 50


class EnsembleError(Exception):
    """The server refused a request; `code` and `message` are its explanation."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Client:
    def __init__(self, url: str, workspace: str, api_key: str, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.workspace = workspace
        self.api_key = api_key
        self.timeout = timeout

    def _request(self, method: str, path: str, body: Any = None, timeout: Optional[float] = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        quoted = urllib.parse.quote(self.workspace, safe="")
        req = urllib.request.Request(
            f"{self.url}/api/workspaces/{quoted}{path}", data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as res:
                text = res.read().decode("utf-8")
                return json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            try:
                error = json.loads(text)["error"]
                raise EnsembleError(err.code, error["code"], error["message"]) from None
            except (ValueError, KeyError, TypeError):
                raise EnsembleError(err.code, "http_error", text or str(err)) from None

    def hyperparameters(self) -> Dict[str, Any]:
        """The workspace's current hyperparameters."""
        return self._request("GET", "/hyperparameters")["hyperparameters"]

    def config(self) -> Dict[str, Any]:
        return self._request("GET", "/hyperparameters")["config"]

    def code_files(self) -> Dict[str, str]:
        """Every code file of the workspace, name -> text."""
        return self._request("GET", "/code")["files"]

    def create_run(
        self,
        name: Optional[str] = None,
        params: Optional[Dict[str, Any]] = None,
        code: Optional[Dict[str, str]] = None,
        dataset: Optional[str] = None,
        target: Optional[str] = None,
    ) -> "Run":
        """Creates a run everyone in the workspace sees. `params` defaults to the current ones."""
        body: Dict[str, Any] = {}
        if name:
            body["name"] = name
        if params is not None:
            body["params"] = {k: v for k, v in params.items() if isinstance(v, (int, float, str, bool))}
        if code is not None:
            body["code"] = code
        if dataset:
            body["dataset"] = dataset
        if target:
            body["target"] = target
        reply = self._request("POST", "/external-runs", body)
        return Run(self, reply["run"]["id"], heartbeat_s=float(reply.get("heartbeat_s", 5)))

    def post_metrics(self, run_id: str, points: List[Dict[str, Any]], agent: Optional[str] = None) -> None:
        for i in range(0, len(points), MAX_POINTS_PER_POST):
            body: Dict[str, Any] = {"points": points[i : i + MAX_POINTS_PER_POST]}
            if agent:
                body["agent"] = agent
            self._request("POST", f"/runs/{run_id}/metrics", body)

    def post_log(self, run_id: str, lines: List[str], agent: Optional[str] = None) -> None:
        """Appends output lines (not metrics) to the run's live log."""
        for i in range(0, len(lines), MAX_LINES_PER_POST):
            body: Dict[str, Any] = {"lines": [line[:MAX_LINE_CHARS] for line in lines[i : i + MAX_LINES_PER_POST]]}
            if agent:
                body["agent"] = agent
            self._request("POST", f"/runs/{run_id}/log", body)

    def heartbeat(self, run_id: str, agent: Optional[str] = None) -> bool:
        """Says the run's reporter is alive; returns True when someone asked the run to stop."""
        body: Dict[str, Any] = {"agent": agent} if agent else {}
        return bool(self._request("POST", f"/runs/{run_id}/heartbeat", body)["stop"])

    def claim(self, agent: str, wait_s: float = 25.0) -> Optional[Dict[str, Any]]:
        """Takes the oldest queued agent run (for any agent or this one), waiting up to wait_s; None if none came."""
        return self._request("POST", "/agents/claim", {"agent": agent, "wait_s": wait_s}, timeout=wait_s + 30)

    def finish(
        self,
        run_id: str,
        status: str = "completed",
        message: Optional[str] = None,
        output: Iterable[str] = (),
        agent: Optional[str] = None,
    ) -> Dict[str, Any]:
        body: Dict[str, Any] = {"status": status, "output": [line[:MAX_LINE_CHARS] for line in list(output)[-TAIL_LINES:]]}
        if message:
            body["message"] = message[:2000]
        if agent:
            body["agent"] = agent
        return self._request("POST", f"/runs/{run_id}/status", body)["run"]


def _transient(err: BaseException) -> bool:
    """A failure worth retrying: the network, a timeout, or the server's own trouble (5xx, 429)."""
    if isinstance(err, EnsembleError):
        return err.status >= 500 or err.status == 429
    return isinstance(err, (urllib.error.URLError, OSError, http.client.HTTPException))


class Run:
    """A run being reported. `log` buffers points and `line` output lines; both are posted in
    batches at least every `interval` s, and the run heartbeats every `heartbeat_s` s, so a
    reporter that dies is noticed (the run ends `lost`). When someone stops the run in the
    workspace, `stop_requested` is set and every `on_stop` callback is called. When the server
    no longer takes reports for the run (it was marked lost, or it ended), `refused` holds why."""

    def __init__(
        self,
        client: Client,
        run_id: str,
        interval: float = 0.5,
        agent: Optional[str] = None,
        heartbeat_s: float = 5.0,
    ):
        self.client = client
        self.id = run_id
        self.interval = interval
        self.agent = agent
        self.heartbeat_s = heartbeat_s
        self.stop_requested = threading.Event()
        self.refused: Optional[EnsembleError] = None
        self.on_stop: List[Callable[[], None]] = []
        self._points: List[Dict[str, Any]] = []
        self._lines: List[str] = []
        self._dropped_lines = 0
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._started = time.monotonic()
        self._last_beat = time.monotonic()
        self._counter = 0
        self._closed = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._flush_loop, name=f"ensemble-{run_id}", daemon=True)
        self._thread.start()

    def log(
        self,
        step: Optional[int] = None,
        kind: str = "epoch",
        epoch: Optional[float] = None,
        elapsed_ms: Optional[float] = None,
        **values: float,
    ) -> None:
        """Records one point: `values` are the metrics (loss=..., accuracy=...)."""
        metrics = {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if not metrics:
            return
        self._counter += 1
        point: Dict[str, Any] = {
            "step": int(step if step is not None else (epoch if epoch is not None else self._counter)),
            "kind": "batch" if kind == "batch" else "epoch",
            "elapsed_ms": elapsed_ms if elapsed_ms is not None else (time.monotonic() - self._started) * 1000,
            "values": metrics,
        }
        if epoch is not None:
            point["epoch"] = epoch
        with self._lock:
            self._points.append(point)

    def line(self, text: str) -> None:
        """Records one line of output for the run's live log (the newest MAX_BUFFERED_LINES while the server is away)."""
        with self._lock:
            self._lines.append(text[:MAX_LINE_CHARS])
            if len(self._lines) > MAX_BUFFERED_LINES:
                drop = len(self._lines) - MAX_BUFFERED_LINES
                del self._lines[:drop]
                self._dropped_lines += drop

    def flush(self) -> None:
        """Posts what is buffered. On failure what was not posted stays buffered for the next try."""
        with self._send_lock:
            with self._lock:
                points, self._points = self._points, []
                lines, self._lines = self._lines, []
                if self._dropped_lines:
                    lines.insert(0, f"[ensemble] {self._dropped_lines} lines of output were dropped while the server was unreachable")
                    self._dropped_lines = 0
            try:
                while points:
                    self.client.post_metrics(self.id, points[:MAX_POINTS_PER_POST], self.agent)
                    del points[:MAX_POINTS_PER_POST]
                while lines:
                    self.client.post_log(self.id, lines[:MAX_LINES_PER_POST], self.agent)
                    del lines[:MAX_LINES_PER_POST]
            finally:
                if points or lines:
                    with self._lock:
                        self._points[:0] = points
                        self._lines[:0] = lines

    def beat(self) -> None:
        """Heartbeats now; sets `stop_requested` (and calls `on_stop`) when the workspace asked to stop."""
        self._last_beat = time.monotonic()
        if self.client.heartbeat(self.id, self.agent) and not self.stop_requested.is_set():
            self._stop("stop")

    def _stop(self, why: str) -> None:
        self.stop_requested.set()
        for callback in list(self.on_stop):
            try:
                callback()
            except Exception as err:  # a callback's failure must not end the heartbeats
                print(f"[ensemble] stopping the run failed: {err}", file=sys.stderr)

    def _flush_loop(self) -> None:
        while not self._closed.wait(self.interval):
            try:
                self.flush()
                if time.monotonic() - self._last_beat >= self.heartbeat_s:
                    self.beat()
            except BaseException as err:
                if _transient(err):
                    continue  # kept; the next round tries again (heartbeats too)
                # Refused (the run was marked lost, or ended elsewhere): nothing more will be taken.
                self._error = err
                if isinstance(err, EnsembleError):
                    self.refused = err
                self._stop("refused")
                return

    def close(self) -> None:
        """Stops the background posting (finish() does this too)."""
        self._closed.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def finish(self, status: str = "completed", message: Optional[str] = None, output: Iterable[str] = ()) -> Dict[str, Any]:
        self.close()
        if self.refused is not None:
            raise self.refused
        for attempt in range(5):
            try:
                self.flush()
                record = self.client.finish(self.id, status, message, output, self.agent)
                break
            except BaseException as err:
                if not _transient(err) or attempt == 4:
                    raise
                time.sleep(min(2**attempt, 10))
        if self._error is not None:
            raise self._error
        return record

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.finish("completed")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("stopped", "Interrupted")
        else:
            import traceback

            lines = "".join(traceback.format_exception(exc_type, exc, tb)).splitlines()
            self.finish("failed", f"{exc_type.__name__}: {exc}", lines)


def parse_metric_line(line: str) -> Optional[Dict[str, Any]]:
    """A JSON object or Python dict literal with at least one numeric metric, else None."""
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None
    if not isinstance(value, dict):
        return None
    metrics = {
        k: v
        for k, v in value.items()
        if isinstance(k, str) and k not in RESERVED and isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    if not metrics:
        return None
    point: Dict[str, Any] = {"values": metrics}
    for key in ("step", "epoch", "elapsed_ms"):
        if isinstance(value.get(key), (int, float)) and not isinstance(value.get(key), bool):
            point[key] = value[key]
    if value.get("kind") == "batch":
        point["kind"] = "batch"
    return point


def hyperparameters() -> Dict[str, Any]:
    """Inside a script started by `run`: the workspace's hyperparameters (empty dict otherwise)."""
    raw = os.environ.get("ENSEMBLE_HYPERPARAMETERS")
    if raw:
        return json.loads(raw)
    path = os.environ.get("ENSEMBLE_HYPERPARAMETERS_FILE")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return {}


def report(**metrics: Any) -> None:
    """Inside a script started by `run`: prints one metric line, e.g. report(epoch=1, loss=0.3)."""
    print(json.dumps(metrics), flush=True)


class Job:
    """What a run executes: the recorded code files, the entry file, hyperparameters, data set.

    The environment contract is the server sandbox's: the code files in the working directory,
    ENSEMBLE_HYPERPARAMETERS (JSON) and ENSEMBLE_HYPERPARAMETERS_FILE, ENSEMBLE_DATASET (a CSV
    file, when the run has a data set), ENSEMBLE_TARGET (its target column) and ENSEMBLE_RUN_ID.
    """

    def __init__(
        self,
        run_id: str,
        files: Dict[str, str],
        entry: str,
        hyperparameters: Dict[str, Any],
        dataset_csv: Optional[str] = None,
        target: Optional[str] = None,
        python: Optional[str] = None,
        args: Iterable[str] = (),
        debug: bool = True,
    ):
        self.run_id = run_id
        self.files = files
        self.entry = entry
        self.hyperparameters = hyperparameters
        self.dataset_csv = dataset_csv
        self.target = target
        self.python = python or sys.executable
        self.args = list(args)
        self.debug = debug  # run under the shared debugger (honours the workspace's breakpoints)


def _safe_path(root: str, name: str) -> Optional[str]:
    path = os.path.normpath(os.path.join(root, name))
    return path if path.startswith(root + os.sep) else None


def prepare_job(job: Job, workdir: str) -> Tuple[List[str], str, Dict[str, str]]:
    """Writes the job into `workdir` (code/ and data/); returns its command, working directory and environment."""
    code_dir = os.path.join(workdir, "code")
    data_dir = os.path.join(workdir, "data")
    os.makedirs(code_dir)
    os.makedirs(data_dir)
    for fname, text in job.files.items():
        path = _safe_path(code_dir, fname)
        if path is None:
            continue  # a file name that would escape the directory is not written
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    hp_file = os.path.join(data_dir, "hyperparameters.json")
    with open(hp_file, "w", encoding="utf-8") as f:
        json.dump(job.hyperparameters, f)
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ)
    for key in ("ENSEMBLE_API_KEY", "ENSEMBLE_DATASET", "ENSEMBLE_TARGET"):
        env.pop(key, None)  # the job gets no key, and no data set but its own
    env.update(
        ENSEMBLE_HYPERPARAMETERS=json.dumps(job.hyperparameters),
        ENSEMBLE_HYPERPARAMETERS_FILE=hp_file,
        ENSEMBLE_RUN_ID=job.run_id,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p),
    )
    if job.dataset_csv is not None:
        dataset_file = os.path.join(data_dir, "dataset.csv")
        with open(dataset_file, "w", encoding="utf-8") as f:
            f.write(job.dataset_csv)
        env["ENSEMBLE_DATASET"] = dataset_file
    if job.target:
        env["ENSEMBLE_TARGET"] = job.target
    entry = _safe_path(code_dir, job.entry)
    if entry is None:
        raise EnsembleError(400, "bad_request", f"The entry file {job.entry!r} is not a plain file name.")
    return [job.python, entry, *job.args], code_dir, env


def start_job(command: List[str], cwd: str, env: Dict[str, str], pass_fds: Tuple[int, ...] = ()) -> subprocess.Popen:
    """Starts the job's process (in its own process group, stdout and stderr merged, line by line).

    The one place a job is launched, for `run` and `agent` alike: wrap or replace it to run
    the job under something else (a debugger, a container).
    """
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
        start_new_session=True,
        pass_fds=pass_fds,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )


def _die_with_parent() -> None:
    """In the job's process (Linux): SIGKILL when the agent dies, so no orphan keeps training a lost run."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _terminate(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM to the job's process group, SIGKILL after `grace_s` if it is still there."""

    def signal_group(sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    if proc.poll() is not None:
        return
    signal_group(signal.SIGTERM)

    def kill_later() -> None:
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            signal_group(signal.SIGKILL)

    threading.Thread(target=kill_later, daemon=True).start()


class Outcome:
    """How a job ended: status (completed, failed, stopped, interrupted, lost), message, last lines."""

    def __init__(self, status: str, message: Optional[str], tail: List[str]):
        self.status = status
        self.message = message
        self.tail = tail


class Shutdown(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the current run ends honestly."""


def run_job(run: Run, job: Job, echo: Callable[[str], None] = print, interrupted_status: str = "stopped") -> Outcome:
    """Runs `job` here and streams it into `run`: each metric line a point, other lines the live log.

    Ends the process when the workspace stops the run (heartbeat) or the server refuses the run
    (marked lost); Ctrl-C or SIGTERM ends it as `interrupted_status`. Does not finish the run.
    """
    tail: Deque[str] = deque(maxlen=TAIL_LINES)
    with tempfile.TemporaryDirectory(prefix="ensemble-run-") as workdir:
        command, cwd, env = prepare_job(job, workdir)
        bridge = DebugBridge.start(run.client, run.id, job.entry, "agent" if run.agent else "client") if job.debug else None
        proc = start_job(bridge.wrap(command) if bridge else command, cwd, env, bridge.fds if bridge else ())
        run.on_stop.append(lambda: _terminate(proc))
        if bridge:
            bridge.attach(proc, lambda: _terminate(proc))
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip("\n")
                point = parse_metric_line(line)
                if point is not None:
                    run.log(
                        step=point.get("step"),
                        kind=point.get("kind", "epoch"),
                        epoch=point.get("epoch"),
                        elapsed_ms=point.get("elapsed_ms"),
                        **point["values"],
                    )
                else:
                    tail.append(line)
                    run.line(line)
                echo(line)
            code = proc.wait()
        except KeyboardInterrupt as err:
            _terminate(proc, grace_s=5.0)
            proc.wait()
            how = "SIGTERM" if isinstance(err, Shutdown) else "Ctrl-C"
            where = f"the agent {run.agent}" if run.agent else f"the script on {platform.node()}"
            if bridge:
                bridge.close(f"Interrupted: {where} was stopped ({how}).")
            return Outcome(interrupted_status, f"Interrupted: {where} was stopped ({how}).", list(tail))
    if bridge:
        bridge.close(f"Stopped by {bridge.stopped_by}." if bridge.stopped_by else f"{job.entry} exited with code {code}.")
        if bridge.stopped_by:
            return Outcome("stopped", f"Stopped from the debugger by {bridge.stopped_by}.", list(tail))
    if run.refused is not None:
        return Outcome("lost", f"The server no longer takes this run: {run.refused.message}", list(tail))
    if run.stop_requested.is_set():
        return Outcome("stopped", "Stopped from the workspace.", list(tail))
    if code == 0:
        return Outcome("completed", None, list(tail))
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return Outcome("failed", f"{job.entry} {how}", list(tail))


def _end(run: Run, outcome: Outcome) -> Optional[Dict[str, Any]]:
    """Reports the outcome (a lost run is not reported: the server already ended it)."""
    if outcome.status == "lost":
        run.close()
        return None
    return run.finish(outcome.status, outcome.message, outcome.tail)


def run_file(
    client: Client, filename: str, name: Optional[str] = None, args: Iterable[str] = (), echo=print, debug: bool = True
) -> Dict[str, Any]:
    """Fetches the workspace's code, runs `filename` here, and reports it as a run. Returns the final run.

    With `debug` (the default) it runs under the shared debugger: it pauses at the workspace's breakpoints.
    """
    files = client.code_files()
    if filename not in files:
        names = ", ".join(sorted(files)) or "none"
        raise EnsembleError(404, "not_found", f"The workspace has no code file {filename!r} (it has: {names}).")
    hp = client.hyperparameters()
    run = client.create_run(name=name or f"{filename} on {platform.node()}", params=hp, code=files)
    outcome = run_job(run, Job(run.id, files, filename, hp, args=args, debug=debug), echo)
    if outcome.status == "lost":
        run.close()
        raise EnsembleError(409, "lost", outcome.message or "the run was lost")
    return run.finish(outcome.status, outcome.message, outcome.tail)


def agent_name(name: Optional[str]) -> str:
    """The agent's name: given, or this machine's (letters, digits, _ . : @ -; at most 64)."""
    chosen = name or re.sub(r"[^A-Za-z0-9_.:@-]", "-", platform.node() or "agent")[:64] or "agent"
    if not re.fullmatch(r"[A-Za-z0-9_.:@-]{1,64}", chosen):
        raise SystemExit(f"--name {chosen!r}: use 1-64 letters, digits, _ . : @ -")
    return chosen


def run_claimed(client: Client, name: str, claim: Dict[str, Any], python: str, echo=print) -> Optional[Outcome]:
    """Runs one claimed run to its end and reports it; returns the outcome (None if it was not started)."""
    record = claim["run"]
    dataset = claim.get("dataset")
    job = Job(
        record["id"],
        claim["files"],
        claim["entry"],
        claim["hyperparameters"],
        dataset_csv=dataset["csv"] if dataset else None,
        target=record.get("target"),
        python=python,
    )
    run = Run(client, record["id"], agent=name, heartbeat_s=float(claim.get("heartbeat_s", 5)))
    say = lambda text: print(f"[agent {name}] {text}", file=sys.stderr, flush=True)  # noqa: E731
    say(f"run {record['id']} ({record.get('name')}): {job.entry}")
    try:
        outcome = run_job(run, job, echo, interrupted_status="interrupted")
    except Exception as err:  # could not even start it (a bad entry, no such interpreter)
        outcome = Outcome("failed", f"The agent {name} could not start {job.entry}: {err}", [])
    try:
        _end(run, outcome)
    except EnsembleError as err:
        say(f"run {record['id']}: could not report its end ({err.message})")
    say(f"run {record['id']}: {outcome.status}" + (f" ({outcome.message})" if outcome.message else ""))
    return outcome


def agent(
    client: Client,
    name: str,
    python: Optional[str] = None,
    max_runs: Optional[int] = None,
    echo=print,
    wait_s: float = 25.0,
) -> int:
    """Takes queued agent runs (for any agent or `name`) one after another until stopped.

    Ctrl-C or SIGTERM ends the current run `interrupted` (re-queued when its starter asked) and exits.
    """
    say = lambda text: print(f"[agent {name}] {text}", file=sys.stderr, flush=True)  # noqa: E731
    python = python or sys.executable
    say(f"waiting for runs in workspace {client.workspace} at {client.url} (Python: {python})")
    done = 0
    backoff = 1.0
    try:
        while max_runs is None or done < max_runs:
            try:
                claim = client.claim(name, wait_s)
            except BaseException as err:
                if isinstance(err, KeyboardInterrupt) or not _transient(err):
                    raise
                say(f"the server is unreachable ({err}); trying again in {backoff:.0f} s")
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if not claim:
                continue
            outcome = run_claimed(client, name, claim, python, echo)
            done += 1
            if outcome is not None and outcome.status == "interrupted":
                return 130
    except KeyboardInterrupt:
        say("stopped")
        return 130
    return 0


class DebugBridge:
    """In `run`: relays between the script's debugger (a socket pair) and the server (HTTP long poll)."""

    @classmethod
    def start(cls, client: "Client", run_id: Optional[str], entry: str, via: str = "client") -> Optional["DebugBridge"]:
        """A bridge, or None (the run goes on undebugged) when the server has no debugger or refuses."""
        try:
            return cls(client, run_id, entry, via)
        except (EnsembleError, OSError, ValueError) as err:
            print(f"ensemble: running without the shared debugger ({err})", file=sys.stderr)
            return None

    def __init__(self, client: "Client", run_id: Optional[str], entry: str, via: str = "client"):
        self.client = client
        answer = client._request("POST", "/debug/sessions", {"file": entry, "via": via, **({"run": run_id} if run_id else {})})
        self.session = answer["session"]
        self.version = answer["version"]
        self.after = 0
        self.stopped_by: Optional[str] = None
        self.stop: Callable[[], None] = lambda: None
        self.closed = threading.Event()
        self.ours, self.theirs = socket.socketpair()
        self._send({"t": "breakpoints", "breakpoints": answer["breakpoints"]})

    def wrap(self, command: List[str]) -> List[str]:
        """[python, script, args…] → the same script under the debugger (the socket's fd is inherited)."""
        return [command[0], os.path.abspath(__file__), "debug-script", str(self.theirs.fileno()), *command[1:]]

    @property
    def fds(self) -> Tuple[int, ...]:
        return (self.theirs.fileno(),)

    def attach(self, proc: subprocess.Popen, stop: Callable[[], None]) -> None:
        """`stop`: ends the script's process (Stop from the app)."""
        self.stop = stop
        self.theirs.close()
        threading.Thread(target=self._poll_loop, name="ensemble-debug-poll", daemon=True).start()
        threading.Thread(target=self._event_loop, name="ensemble-debug-events", daemon=True).start()

    def _send(self, message: Dict[str, Any]) -> None:
        try:
            self.ours.sendall((json.dumps(message) + "\n").encode("utf-8"))
        except OSError:
            pass

    def _path(self, tail: str) -> str:
        return f"/debug/sessions/{urllib.parse.quote(self.session, safe='')}{tail}"

    def _poll_loop(self) -> None:
        while not self.closed.is_set():
            query = urllib.parse.urlencode({"after": self.after, "version": self.version, "wait_s": 20})
            try:
                answer = self.client._request("GET", self._path(f"/poll?{query}"))
            except EnsembleError as err:
                if err.status in (404, 409):
                    return  # marked gone or removed: nobody can command it any more
                self.closed.wait(1.0)
                continue
            except (OSError, ValueError):
                self.closed.wait(1.0)
                continue
            if answer["version"] != self.version:
                self.version = answer["version"]
                self._send({"t": "breakpoints", "breakpoints": answer["breakpoints"]})
            for command in answer["commands"]:
                self.after = max(self.after, int(command["seq"]))
                if command["command"] == "stop":
                    self.stopped_by = command["by"]["name"]
                    self.stop()
                else:
                    self._send({"t": "command", **command})

    def _event_loop(self) -> None:
        with self.ours.makefile("r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    event = json.loads(line)
                    self.client._request("POST", self._path("/events"), event)
                except (ValueError, OSError, EnsembleError) as err:
                    print(f"ensemble: a debugger event was not delivered: {err}", file=sys.stderr)

    def close(self, note: str) -> None:
        self.closed.set()
        try:
            self.client._request("POST", self._path("/events"), {"t": "ended", "note": note[:500]})
        except (OSError, EnsembleError):
            pass
        self.ours.close()


def _client_from(args: argparse.Namespace) -> Client:
    missing = [n for n, v in (("--url", args.url), ("--workspace", args.workspace), ("--key", args.key)) if not v]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)} (or ENSEMBLE_URL / ENSEMBLE_WORKSPACE / ENSEMBLE_API_KEY)")
    return Client(args.url, args.workspace, args.key)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Report training runs to an Ensemble workspace.")
    parser.add_argument("--url", default=os.environ.get("ENSEMBLE_URL", "http://localhost:8000"))
    parser.add_argument("--workspace", default=os.environ.get("ENSEMBLE_WORKSPACE"))
    parser.add_argument("--key", default=os.environ.get("ENSEMBLE_API_KEY"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("params", help="print the current hyperparameters as JSON")
    code = sub.add_parser("code", help="print a code file of the workspace (all names without FILE)")
    code.add_argument("file", nargs="?")
    create = sub.add_parser("create-run", help="create a run; prints its id")
    create.add_argument("--name")
    create.add_argument("--params", help="JSON object (default: the current hyperparameters)")
    create.add_argument("--code", nargs="*", default=[], help="local files the run used")
    post = sub.add_parser("post-metrics", help="post metric lines (JSON objects) from stdin or --file")
    post.add_argument("run_id")
    post.add_argument("--file")
    finish = sub.add_parser("finish", help="set a run's final status")
    finish.add_argument("run_id")
    finish.add_argument("--status", choices=["completed", "failed", "stopped"], default="completed")
    finish.add_argument("--message")
    finish.add_argument("--output-file", help="its output; the last lines are kept")
    run = sub.add_parser("run", help="fetch a workspace code file, run it here and report it live")
    run.add_argument("file")
    run.add_argument("--name")
    run.add_argument("args", nargs="*", help="arguments for the script (put them after --)")
    agent_cmd = sub.add_parser("agent", help="take queued agent runs of the workspace and run them here, one at a time")
    agent_cmd.add_argument("--name", help="this agent's name, for runs queued for it (default: the host name)")
    agent_cmd.add_argument("--python", help="the Python that runs the jobs (default: the one running the agent)")
    agent_cmd.add_argument("--max-runs", type=int, help="exit after this many runs (default: never)")
    run.add_argument("--no-debug", action="store_true", help="ignore the workspace's breakpoints")
    args = parser.parse_args(argv)
    client = _client_from(args)
    try:
        if args.command == "params":
            print(json.dumps(client.hyperparameters(), indent=2))
        elif args.command == "code":
            files = client.code_files()
            if args.file is None:
                print("\n".join(sorted(files)))
            elif args.file in files:
                sys.stdout.write(files[args.file])
            else:
                raise EnsembleError(404, "not_found", f"no code file {args.file!r}")
        elif args.command == "create-run":
            code_files = {}
            for path in args.code:
                with open(path, encoding="utf-8") as f:
                    code_files[os.path.basename(path)] = f.read()
            params = json.loads(args.params) if args.params else None
            print(client.create_run(name=args.name, params=params, code=code_files).id)
        elif args.command == "post-metrics":
            source = open(args.file, encoding="utf-8") if args.file else sys.stdin
            with source:
                points = []
                for i, line in enumerate(source, 1):
                    point = parse_metric_line(line)
                    if point is not None:
                        point.setdefault("step", int(point.get("epoch", i)))
                        point["step"] = int(point["step"])
                        points.append(point)
            client.post_metrics(args.run_id, points)
            print(f"posted {len(points)} points")
        elif args.command == "finish":
            output: List[str] = []
            if args.output_file:
                with open(args.output_file, encoding="utf-8", errors="replace") as f:
                    output = f.read().splitlines()
            print(client.finish(args.run_id, args.status, args.message, output)["status"])
        elif args.command == "run":
            record = run_file(client, args.file, args.name, args.args, debug=not args.no_debug)
            print(f"run {record['id']}: {record['status']}", file=sys.stderr)
            return 0 if record["status"] == "completed" else 1
        elif args.command == "agent":
            return agent(client, agent_name(args.name), args.python, args.max_runs)
    except EnsembleError as err:
        print(f"error: {err.message} ({err.status} {err.code})", file=sys.stderr)
        return 2
    return 0


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: the run is being ended
    raise Shutdown()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.exit(main())
