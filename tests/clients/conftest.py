"""The Python client (clients/python) driven against a real server: pytest-django's live server, in-process.

`client_for` builds a client of one merchant with a recording sleep and a fake clock that moves only when the
client sleeps, so backoff and `Retry-After` waits are observed exactly and cost no wall time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
from django.conf import settings
from tryon_client import TryOnClient

from accounts.models import Account
from tests.factories import AccountFactory, api_key_for

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples"
PERSON = SAMPLES / "person.jpg"
GARMENT = SAMPLES / "tshirt.jpg"


@dataclass
class FakeTime:
    """`clock` and `sleep` for the client: time passes only when the client waits. `on_sleep` runs at each wait
    (a test uses it to let a rate-limit window lapse, as the real wait would)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: Callable[[float], None] | None = None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)


@dataclass
class Merchant:
    account: Account
    api_key: str
    client: TryOnClient
    time: FakeTime
    # Every request the client sent, and every answer it received: (method, path, status, headers).
    requests: list[httpx2.Request]
    answers: list[tuple[str, str, int, httpx2.Headers]]


@pytest.fixture
def eager_celery():
    """Generations run inside the live server's request thread as soon as they are enqueued after commit."""
    from tryon_project.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def api_base(live_server, settings) -> str:
    # Signed local-file URLs must point at the server the client talks to.
    settings.PUBLIC_BASE_URL = live_server.url
    return f"{live_server.url}/tryon/v1"


@pytest.fixture
def client_for(api_base) -> Iterator[Callable[..., Merchant]]:
    opened: list[httpx2.Client] = []

    def build(*, credits: int = 10, rate_limit: int = 100, max_retries: int = 0, api_key: str | None = None):
        account = AccountFactory(credits=credits, rate_limit_per_minute=rate_limit)
        key = api_key if api_key is not None else api_key_for(account)
        requests: list[httpx2.Request] = []
        answers: list[tuple[str, str, int, httpx2.Headers]] = []

        def record(response: httpx2.Response) -> None:
            answers.append((response.request.method, response.request.url.path, response.status_code, response.headers))

        # trust_env=False: a proxy configured on the machine would not reach the test server.
        http = httpx2.Client(
            trust_env=False, timeout=120, event_hooks={"request": [requests.append], "response": [record]}
        )
        opened.append(http)
        fake = FakeTime()
        client = TryOnClient(
            api_key=key,
            base_url=api_base,
            http_client=http,
            max_retries=max_retries,
            sleep=fake.sleep,
            clock=fake.clock,
        )
        return Merchant(account=account, api_key=key, client=client, time=fake, requests=requests, answers=answers)

    yield build
    for http in opened:
        http.close()
