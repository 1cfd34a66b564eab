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
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from typing import Any, Deque, Dict, Iterable, List, Optional

__all__ = ["Client", "Run", "EnsembleError", "hyperparameters", "report", "parse_metric_line"]

RESERVED = {"step", "epoch", "kind", "elapsed_ms"}
MAX_POINTS_PER_POST = 1000
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

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        quoted = urllib.parse.quote(self.workspace, safe="")
        req = urllib.request.Request(
            f"{self.url}/api/workspaces/{quoted}{path}", data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
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
        run = self._request("POST", "/external-runs", body)["run"]
        return Run(self, run["id"])

    def post_metrics(self, run_id: str, points: List[Dict[str, Any]]) -> None:
        for i in range(0, len(points), MAX_POINTS_PER_POST):
            self._request("POST", f"/runs/{run_id}/metrics", {"points": points[i : i + MAX_POINTS_PER_POST]})

    def finish(
        self, run_id: str, status: str = "completed", message: Optional[str] = None, output: Iterable[str] = ()
    ) -> Dict[str, Any]:
        body: Dict[str, Any] = {"status": status, "output": list(output)[-TAIL_LINES:]}
        if message:
            body["message"] = message[:2000]
        return self._request("POST", f"/runs/{run_id}/status", body)["run"]


class Run:
    """A run being reported. `log` buffers; points are posted in batches at least every `interval` s."""

    def __init__(self, client: Client, run_id: str, interval: float = 0.5):
        self.client = client
        self.id = run_id
        self.interval = interval
        self._points: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._started = time.monotonic()
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

    def flush(self) -> None:
        with self._lock:
            points, self._points = self._points, []
        if points:
            self.client.post_metrics(self.id, points)

    def _flush_loop(self) -> None:
        while not self._closed.wait(self.interval):
            try:
                self.flush()
            except BaseException as err:  # kept and raised by finish(), never lost
                self._error = err
                return

    def finish(self, status: str = "completed", message: Optional[str] = None, output: Iterable[str] = ()) -> Dict[str, Any]:
        self._closed.set()
        self._thread.join()
        self.flush()
        record = self.client.finish(self.id, status, message, output)
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


def run_file(client: Client, filename: str, name: Optional[str] = None, args: Iterable[str] = (), echo=print) -> Dict[str, Any]:
    """Fetches the workspace's code, runs `filename` here, and reports it as a run. Returns the final run."""
    files = client.code_files()
    if filename not in files:
        names = ", ".join(sorted(files)) or "none"
        raise EnsembleError(404, "not_found", f"The workspace has no code file {filename!r} (it has: {names}).")
    hp = client.hyperparameters()
    run = client.create_run(name=name or f"{filename} on {platform.node()}", params=hp, code=files)
    tail: Deque[str] = deque(maxlen=TAIL_LINES)
    with tempfile.TemporaryDirectory(prefix="ensemble-run-") as workdir:
        for fname, text in files.items():
            path = os.path.normpath(os.path.join(workdir, fname))
            if not path.startswith(workdir + os.sep):
                continue  # a file name that would escape the directory is not written
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        hp_file = os.path.join(workdir, ".ensemble-hyperparameters.json")
        with open(hp_file, "w", encoding="utf-8") as f:
            json.dump(hp, f)
        here = os.path.dirname(os.path.abspath(__file__))
        env = dict(os.environ)
        env.update(
            ENSEMBLE_HYPERPARAMETERS=json.dumps(hp),
            ENSEMBLE_HYPERPARAMETERS_FILE=hp_file,
            ENSEMBLE_RUN_ID=run.id,
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p),
        )
        proc = subprocess.Popen(
            [sys.executable, os.path.join(workdir, filename), *args],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
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
                echo(line)
            code = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            return run.finish("stopped", "Interrupted from the keyboard", tail)
    if code == 0:
        return run.finish("completed", None, tail)
    return run.finish("failed", f"{filename} exited with code {code}", tail)


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
            record = run_file(client, args.file, args.name, args.args)
            print(f"run {record['id']}: {record['status']}", file=sys.stderr)
            return 0 if record["status"] == "completed" else 1
    except EnsembleError as err:
        print(f"error: {err.message} ({err.status} {err.code})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
