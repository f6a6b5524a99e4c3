"""A small Open Inference Protocol (v2) server for one MLflow model on loopback, started by
`serve(..., mode="local")` as `python -m jupyter_mlops.serving.local_server`.

It answers the routes and JSON of KServe's MLServer runtime (health, model metadata, infer)
with the model loaded through mlflow.pyfunc, so `predict` and `drift` work unchanged when the
model moves to the cluster. It exits when the process that started it exits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..errors import BadInput
from .protocol import decode, encode_response

MAX_BODY = 256 * 2**20
_MODEL_PATH = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?$")


class ModelApp:
    """The v2 answers for one loaded pyfunc model."""

    def __init__(self, model: Any, name: str, version: str) -> None:
        self.model = model
        self.name = name
        self.version = version
        self._lock = threading.Lock()
        signature = getattr(model.metadata, "signature", None)
        self.inputs = signature.inputs if signature is not None else None
        self.outputs = signature.outputs if signature is not None else None
        # A column-based signature takes a DataFrame, as MLServer's MLflow runtime decides.
        tensors = self.inputs is not None and self.inputs.is_tensor_spec()
        self.default_content_type = "np" if tensors else "pd"

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": [self.version],
            "platform": "mlflow",
            "inputs": _tensors(self.inputs, "input-"),
            "outputs": _tensors(self.outputs, "output-"),
            "parameters": {"content_type": self.default_content_type},
        }

    def infer(self, body: dict[str, Any]) -> dict[str, Any]:
        data = decode(body, "inputs", self.default_content_type)
        with self._lock:
            output = self.model.predict(data)
        request_id = str(body.get("id") or uuid.uuid4())
        return encode_response(
            output, model_name=self.name, model_version=self.version, request_id=request_id
        )


_V2_TYPES = {
    "boolean": "BOOL",
    "integer": "INT32",
    "long": "INT64",
    "float": "FP32",
    "double": "FP64",
    "string": "BYTES",
    "binary": "BYTES",
    "datetime": "BYTES",
}


def _tensors(schema: Any, prefix: str) -> list[dict[str, Any]]:
    """A signature's columns or tensors as v2 metadata tensors."""
    if schema is None:
        return []
    found = []
    for i, spec in enumerate(schema.inputs):
        name = spec.name or f"{prefix}{i}"
        if schema.is_tensor_spec():
            from .protocol import datatype

            found.append({"name": name, "datatype": datatype(spec.type), "shape": list(spec.shape)})
        else:
            kind = _V2_TYPES.get(str(getattr(spec.type, "name", spec.type)), "BYTES")
            found.append({"name": name, "datatype": kind, "shape": [-1, 1]})
    return found


def handler(app: ModelApp) -> type[BaseHTTPRequestHandler]:
    """The request handler class serving `app`."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "jupyter-mlops-v2"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # no access log: the notebook's output stays clean

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _target(self) -> str | None:
            """What is asked of the model ("", "/ready", "/infer"); None once answered 404."""
            match = _MODEL_PATH.match(self.path.split("?", 1)[0])
            if match is None:
                self._send(404, {"error": f"no route {self.path}"})
                return None
            name, version, action = match.groups()
            if name != app.name or version not in (None, app.version):
                self._send(404, {"error": f"Model {name} with version {version} not found"})
                return None
            return str(action or "")

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            fixed: dict[str, dict[str, Any]] = {
                "/v2": {"name": "jupyter-mlops", "version": "1", "extensions": []},
                "/v2/health/live": {"live": True},
                "/v2/health/ready": {"ready": True},
            }
            if path in fixed:
                self._send(200, fixed[path])
                return
            action = self._target()
            if action == "/ready":
                self._send(200, {"name": app.name, "ready": True})
            elif action == "":
                self._send(200, app.metadata())
            elif action == "/infer":
                self._send(405, {"error": "infer takes POST"})

        def do_POST(self) -> None:
            action = self._target()
            if action is None:
                return
            if action != "/infer":
                self._send(405, {"error": f"{self.path} takes GET"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, {"error": f"the request is larger than {MAX_BODY} bytes"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"null")
                if not isinstance(body, dict):
                    raise BadInput("the request is not a v2 inference request object")
                self._send(200, app.infer(body))
            except (BadInput, ValueError) as exc:
                self._send(400, {"error": getattr(exc, "message", None) or str(exc)})
            except Exception as exc:  # the model's own failure, told to the caller
                status = 400 if type(exc).__name__ == "MlflowException" else 500
                self._send(status, {"error": f"{type(exc).__name__}: {exc}"})

    return Handler


def _exit_with(parent: int, server: ThreadingHTTPServer) -> None:
    """Stop serving once the process that started this one is gone."""
    child_of_parent = os.getppid() == parent
    while True:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            pass
        # Orphans are adopted by another process: a reused pid must not keep this one alive.
        if child_of_parent and os.getppid() != parent:
            break
        time.sleep(1.0)
    server.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", required=True, help="The downloaded MLflow model.")
    parser.add_argument("--name", required=True, help="The model's name in /v2/models/NAME.")
    parser.add_argument("--version", default="1", help="Its version, as v2 metadata says.")
    parser.add_argument("--host", default="127.0.0.1", help="Loopback by default.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port.")
    parser.add_argument("--parent", type=int, default=os.getppid(), help="Exit with this pid.")
    args = parser.parse_args(argv)

    import mlflow.pyfunc

    app = ModelApp(mlflow.pyfunc.load_model(args.model_dir), args.name, args.version)
    server = ThreadingHTTPServer((args.host, args.port), handler(app))
    server.daemon_threads = True
    threading.Thread(target=_exit_with, args=(args.parent, server), daemon=True).start()
    # Nothing to save on the way out: stop at once rather than unwind mlflow's imports.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # The one line the parent waits for: the model is loaded and the port is open.
    print(json.dumps({"port": server.server_address[1], "pid": os.getpid()}), flush=True)
    sys.stdout.close()
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
