"""Local HTTP servers that speak the hosted providers' wire formats, for the engine adapters to talk to.

- ``FakeGoogle`` replays recorded Google API answers (Gemini and Vertex AI through the real google-genai SDK).
- ``CogServer`` implements Cog's documented prediction API: ``GET /health-check``, idempotent
  ``PUT /predictions/{id}``, 409 while another prediction holds the only slot, ``POST /predictions/{id}/cancel``,
  422 for inputs the model does not take, outputs as data URLs.
- ``ReplicateServer`` implements Replicate's: model and version endpoints, ``Prefer: wait``, polling, cancel,
  problem-details errors, 429 with ``retry_after``, and output files served from a delivery URL.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

from PIL import Image


def image_bytes(size: tuple[int, int], fmt: str, colour: tuple[int, int, int]) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


RESULT = image_bytes((24, 32), "PNG", (10, 200, 10))
RESULT_B64 = base64.b64encode(RESULT).decode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that timed out has closed its socket; the late write failing is the point of that test."""


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, object]


class _JsonHandler(BaseHTTPRequestHandler):
    def _body(self) -> dict[str, object]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def _send(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(payload, bytes) else "image/png")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # The client may have given up waiting (a timeout test): its closed socket is expected there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


# --- Google ---------------------------------------------------------------------------------------------------


@dataclass
class FakeGoogle:
    """Replays scripted (status, JSON body, delay) answers in order and records what the SDK sent."""

    url: str = ""
    script: list[tuple[int, dict[str, object], float]] = field(default_factory=list)
    seen: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def reply(self, status: int, body: dict[str, object], *, delay: float = 0.0) -> None:
        self.script.append((status, body, delay))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(_JsonHandler):
            def do_POST(self) -> None:
                body = self._body()
                fake.seen.append(Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, answer, delay = fake.script.pop(0) if fake.script else (599, {"error": "unscripted"}, 0.0)
                if delay:
                    fake.release.wait(delay)
                self._send(status, answer)

        return Handler


# --- Cog ------------------------------------------------------------------------------------------------------


@dataclass
class CogPrediction:
    id: str
    input: dict[str, object]
    done: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)
    result: dict[str, object] | None = None


@dataclass
class CogServer:
    """One model in one Cog container with one prediction slot (Cog's default concurrency)."""

    url: str = ""
    # What GET /health-check reports when no prediction runs (READY, STARTING, SETUP_FAILED, ...).
    health: str = "READY"
    # Inputs the model's predict() requires; a body missing one is refused with 422 as Cog (FastAPI) does.
    required: tuple[str, ...] = ("human_img", "garm_img")
    predict_seconds: float = 0.05
    fail_with: str = ""
    # True: outputs are uploaded and returned as a URL (Cog's `output_file_prefix` / `--upload-url` mode).
    upload_outputs: bool = False
    # Predictions that ran to the end (one per distinct run of the model).
    runs: list[CogPrediction] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    seen: list[Recorded] = field(default_factory=list)
    running: dict[str, CogPrediction] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def occupy(self, prediction_id: str = "someone-else") -> CogPrediction:
        """Another client's prediction holding the slot until `release()`."""
        prediction = CogPrediction(id=prediction_id, input={})
        with self.lock:
            self.running[prediction_id] = prediction
        return prediction

    def release(self, prediction_id: str = "someone-else") -> None:
        with self.lock:
            self.running.pop(prediction_id, None)

    def _predict(self, prediction: CogPrediction) -> dict[str, object]:
        started = time.monotonic()
        canceled = prediction.cancel.wait(self.predict_seconds)
        metrics = {"predict_time": round(time.monotonic() - started, 3)}
        if canceled:
            result: dict[str, object] = {"id": prediction.id, "status": "canceled", "output": None, "metrics": metrics}
        elif self.fail_with:
            result = {"id": prediction.id, "status": "failed", "error": self.fail_with, "metrics": metrics}
        else:
            result = {
                "id": prediction.id,
                "status": "succeeded",
                "output": f"{self.url}/uploads/{prediction.id}.png"
                if self.upload_outputs
                else f"data:image/png;base64,{RESULT_B64}",
                "metrics": metrics,
            }
        self.runs.append(prediction)
        return result

    def handler(self) -> type[BaseHTTPRequestHandler]:
        cog = self

        class Handler(_JsonHandler):
            def _record(self, body: dict[str, object]) -> None:
                cog.seen.append(
                    Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )

            def do_GET(self) -> None:
                self._record({})
                if self.path.startswith("/uploads/"):
                    self._send(200, RESULT)
                    return
                if self.path != "/health-check":
                    self._send(404, {"detail": "Not Found"})
                    return
                status = "BUSY" if cog.running and cog.health == "READY" else cog.health
                self._send(
                    200,
                    {
                        "status": status,
                        "setup": {"started_at": "2026-12-01T00:00:00+00:00", "status": "succeeded", "logs": ""},
                        "version": {"coglet": "0.17.0", "cog": "0.14.0", "python": "3.12.0"},
                    },
                )

            def do_PUT(self) -> None:
                body = self._body()
                self._record(body)
                match = re.fullmatch(r"/predictions/([A-Za-z0-9_-]+)", self.path)
                if not match:
                    self._send(404, {"detail": "Not Found"})
                    return
                prediction_id = match.group(1)
                if body.get("id") not in (None, prediction_id):
                    self._send(422, {"detail": "prediction ID must match the ID supplied in the URL"})
                    return
                with cog.lock:
                    existing = cog.running.get(prediction_id)
                    busy = bool(cog.running) and existing is None
                    prediction = None
                    if not busy and existing is None:
                        inputs = body.get("input") if isinstance(body.get("input"), dict) else {}
                        missing = [name for name in cog.required if name not in inputs]
                        if missing:
                            self._send(
                                422,
                                {
                                    "detail": [
                                        {"loc": ["body", "input", name], "msg": "Field required", "type": "missing"}
                                        for name in missing
                                    ]
                                },
                            )
                            return
                        prediction = CogPrediction(id=prediction_id, input=inputs)
                        cog.running[prediction_id] = prediction
                if busy:
                    self._send(409, {"detail": "Already running a prediction"})
                    return
                if existing is not None:
                    # Same id while it runs: nothing new starts; a synchronous request gets the finished state.
                    existing.done.wait(30)
                    self._send(200, existing.result or {"id": prediction_id, "status": "processing"})
                    return
                assert prediction is not None
                prediction.result = cog._predict(prediction)
                with cog.lock:
                    cog.running.pop(prediction_id, None)
                prediction.done.set()
                self._send(200, prediction.result)

            def do_POST(self) -> None:
                self._record({})
                match = re.fullmatch(r"/predictions/([A-Za-z0-9_-]+)/cancel", self.path)
                prediction = cog.running.get(match.group(1)) if match else None
                if prediction is None:
                    self._send(404, {"detail": "Not Found"})
                    return
                cog.cancels.append(prediction.id)
                prediction.cancel.set()
                self._send(200, {})

        return Handler


# --- Replicate ------------------------------------------------------------------------------------------------


@dataclass
class ReplicatePrediction:
    id: str
    model: str
    version: str
    input: dict[str, object]
    created: float
    status: str = "starting"
    error: str | None = None


@dataclass
class ReplicateServer:
    url: str = ""
    token: str = "r8_test_token"
    run_seconds: float = 0.05
    fail_with: str = ""
    # Answers given before any real one, e.g. [(429, {...}, {"Retry-After": "5"})].
    refusals: list[tuple[int, dict[str, object], dict[str, str]]] = field(default_factory=list)
    predictions: dict[str, ReplicatePrediction] = field(default_factory=dict)
    seen: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _state(self, prediction: ReplicatePrediction) -> dict[str, object]:
        elapsed = time.monotonic() - prediction.created
        if prediction.status not in ("canceled",):
            if elapsed >= self.run_seconds:
                prediction.status = "failed" if self.fail_with else "succeeded"
                prediction.error = self.fail_with or None
            elif elapsed >= self.run_seconds / 2:
                prediction.status = "processing"
        body: dict[str, object] = {
            "id": prediction.id,
            "model": prediction.model,
            "version": prediction.version,
            "input": prediction.input,
            "logs": "",
            "output": f"{self.url}/delivery/{prediction.id}/out-0.png" if prediction.status == "succeeded" else None,
            "data_removed": False,
            "error": prediction.error,
            "source": "api",
            "status": prediction.status,
            "created_at": "2026-12-01T00:00:00.000Z",
            "urls": {
                "cancel": f"{self.url}/v1/predictions/{prediction.id}/cancel",
                "get": f"{self.url}/v1/predictions/{prediction.id}",
                "web": f"https://replicate.com/p/{prediction.id}",
            },
        }
        if prediction.status == "succeeded":
            body["metrics"] = {"predict_time": self.run_seconds}
        return body

    def handler(self) -> type[BaseHTTPRequestHandler]:
        rep = self

        class Handler(_JsonHandler):
            def _authorised(self, body: dict[str, object]) -> bool:
                rep.seen.append(
                    Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if self.path.startswith("/delivery/"):
                    return True
                if self.headers.get("Authorization") != f"Bearer {rep.token}":
                    self._send(
                        401,
                        {
                            "title": "Unauthenticated",
                            "detail": "You did not pass a valid authentication token",
                            "status": 401,
                        },
                    )
                    return False
                if rep.refusals:
                    status, payload, headers = rep.refusals.pop(0)
                    self._send(status, payload, headers)
                    return False
                return True

            def do_POST(self) -> None:
                body = self._body()
                if not self._authorised(body):
                    return
                cancel = re.fullmatch(r"/v1/predictions/([a-z0-9]+)/cancel", self.path)
                if cancel:
                    prediction = rep.predictions.get(cancel.group(1))
                    if prediction is None:
                        self._send(404, {"detail": "Not found.", "status": 404})
                        return
                    state = rep._state(prediction)
                    if state["status"] in ("starting", "processing"):
                        prediction.status = "canceled"
                    self._send(200, rep._state(prediction))
                    return
                model = re.fullmatch(r"/v1/models/([\w.-]+)/([\w.-]+)/predictions", self.path)
                if model:
                    name, version = f"{model.group(1)}/{model.group(2)}", "hidden"
                elif self.path == "/v1/predictions" and isinstance(body.get("version"), str):
                    name, version = "owner/pinned", str(body["version"])
                else:
                    self._send(404, {"detail": "Not found.", "status": 404})
                    return
                if not isinstance(body.get("input"), dict):
                    self._send(
                        422,
                        {"title": "Input validation failed", "detail": "input is required", "status": 422},
                    )
                    return
                prediction = ReplicatePrediction(
                    id=uuid.uuid4().hex[:26], model=name, version=version, input=body["input"], created=time.monotonic()
                )
                with rep.lock:
                    rep.predictions[prediction.id] = prediction
                wait = re.fullmatch(r"wait(?:=(\d+))?", self.headers.get("Prefer", ""))
                if wait:
                    # Sync mode: hold the request until the prediction finishes or the wait runs out.
                    limit = time.monotonic() + float(wait.group(1) or 60)
                    while rep._state(prediction)["status"] in ("starting", "processing") and time.monotonic() < limit:
                        time.sleep(0.01)
                self._send(201, rep._state(prediction))

            def do_GET(self) -> None:
                if not self._authorised({}):
                    return
                delivery = re.fullmatch(r"/delivery/([a-z0-9]+)/out-0\.png", self.path)
                if delivery:
                    self._send(200, RESULT)
                    return
                match = re.fullmatch(r"/v1/predictions/([a-z0-9]+)", self.path)
                prediction = rep.predictions.get(match.group(1)) if match else None
                if prediction is None:
                    self._send(404, {"detail": "Not found.", "status": 404})
                    return
                self._send(200, rep._state(prediction))

        return Handler


# --- Requests and engines built the way the server builds them ------------------------------------------------


PERSON = image_bytes((300, 400), "JPEG", (200, 170, 150))
GARMENT = image_bytes((200, 200), "PNG", (20, 40, 200))


def tryon_request(**overrides: object):
    from engines.base import Category, EngineOptions, TryOnRequest

    values: dict[str, object] = {
        "person_image": PERSON,
        "garment_images": (GARMENT,),
        "title": "Blue tee",
        "description": "Cotton crew-neck T-shirt",
        "category": Category.TOPS,
        "options": EngineOptions(seed=7, requested=frozenset({"seed"})),
    }
    values.update(overrides)
    return TryOnRequest(**values)  # type: ignore[arg-type]


class FromSettings:
    """An engine built from the settings as they are at each call, the way the server's registry builds it."""

    def __init__(self, engine_class: type, name: str, **kwargs: object) -> None:
        self.engine_class, self.name, self.kwargs = engine_class, name, kwargs

    def build(self):
        from generations.engine_config import engine_config_build

        return self.engine_class(engine_config_build(self.name), **self.kwargs)

    @property
    def version(self) -> str:
        return self.build().version

    def run(self, request):
        return self.build().run(request)


# --- FASHN ----------------------------------------------------------------------------------------------------


@dataclass
class FashnServer:
    """FASHN's job API: ``POST /v1/run`` (one credit per job) and ``GET /v1/status/{id}`` moving through
    starting → in_queue → processing → completed over `run_seconds`."""

    url: str = ""
    api_key: str = "fa-test-key"
    run_seconds: float = 0.05
    jobs: dict[str, tuple[float, dict[str, object]]] = field(default_factory=dict)
    seen: list[Recorded] = field(default_factory=list)

    @property
    def credits_used(self) -> int:
        return len(self.jobs)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fashn = self

        class Handler(_JsonHandler):
            def _authorised(self, body: dict[str, object]) -> bool:
                fashn.seen.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
                if self.headers.get("Authorization") != f"Bearer {fashn.api_key}":
                    self._send(401, {"error": "UnauthorizedAccess", "message": "Unauthorized: Invalid token"})
                    return False
                return True

            def do_POST(self) -> None:
                body = self._body()
                if not self._authorised(body):
                    return
                if self.path != "/v1/run" or not isinstance(body.get("inputs"), dict):
                    self._send(400, {"error": "BadRequest", "message": "Invalid request format"})
                    return
                job_id = f"{uuid.uuid4()}-u1"
                fashn.jobs[job_id] = (time.monotonic(), body)
                self._send(200, {"id": job_id, "error": None})

            def do_GET(self) -> None:
                if not self._authorised({}):
                    return
                match = re.fullmatch(r"/v1/status/([\w-]+)", self.path)
                job = fashn.jobs.get(match.group(1)) if match else None
                if job is None:
                    self._send(404, {"error": "NotFound", "message": "Prediction status is no longer tracked"})
                    return
                elapsed = (time.monotonic() - job[0]) / fashn.run_seconds
                if elapsed >= 1:
                    output = [f"data:image/png;base64,{RESULT_B64}"]
                    self._send(200, {"id": match.group(1), "status": "completed", "output": output, "error": None})
                    return
                status = "starting" if elapsed < 0.2 else "in_queue" if elapsed < 0.4 else "processing"
                self._send(200, {"id": match.group(1), "status": status, "output": None, "error": None})

        return Handler
