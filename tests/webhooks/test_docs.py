"""The verification snippets of docs/webhooks.md, run against a real delivery."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.webhooks.helpers import endpoint_for
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_events_enqueue

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _snippet(language: str) -> str:
    [code] = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)
    return code


@pytest.fixture
def delivered(account, receiver, eager, django_capture_on_commit_callbacks):
    from generations.models import Generation

    secret = endpoint_for(account, receiver.url("/docs"))
    generation = Generation.objects.create(account=account, product_external_id="p", status="COMPLETED")
    with django_capture_on_commit_callbacks(execute=True):
        webhook_events_enqueue(generation_id=generation.id)
    [received] = receiver.received
    assert WebhookDelivery.objects.get(generation=generation).status == "delivered"
    return secret, received


def test_python_snippet_verifies(delivered):
    secret, received = delivered
    namespace: dict = {}
    exec(compile(_snippet("python"), str(DOC), "exec"), namespace)
    verify_webhook = namespace["verify_webhook"]
    assert verify_webhook(secret, received.headers, received.body) is True
    assert verify_webhook(secret, received.headers, received.body.replace(b"COMPLETED", b"FAILED")) is False
    assert verify_webhook("whsec_" + base64.b64encode(b"x" * 32).decode(), received.headers, received.body) is False
    stale = {**received.headers, "webhook-timestamp": str(int(received.headers["webhook-timestamp"]) - 3600)}
    assert verify_webhook(secret, stale, received.body) is False


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_node_snippet_verifies(delivered, tmp_path):
    secret, received = delivered
    script = tmp_path / "verify.js"
    script.write_text(
        _snippet("js")
        + "\nconst input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        + "process.stdout.write(JSON.stringify(input.cases.map(([s, b]) =>"
        + " verifyWebhook(s, input.headers, Buffer.from(b, 'base64')))));\n"
    )
    body = base64.b64encode(received.body).decode()
    tampered = base64.b64encode(received.body + b" ").decode()
    cases = [[secret, body], [secret, tampered], ["whsec_" + base64.b64encode(b"y" * 32).decode(), body]]
    output = subprocess.run(
        ["node", str(script)],
        input=json.dumps({"headers": received.headers, "cases": cases}),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert json.loads(output) == [True, False, False]
