"""Every documented web command logs requests only through the project's own access log (ids redacted, no query
string): each is started as a real uvicorn process, sent requests whose paths and queries carry a customer id,
a generation id and a URL signature, and its whole output is searched for them. uvicorn's own access line prints
the raw path and query, so a command that left it on would leak them."""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

CUSTOMER_ID = "shopper-secret-4242"
GENERATION_ID = "gen_secretsecret4242"
SIGNATURE = "5ec7e7" * 10 + "abcd"
REQUESTS = (
    ("DELETE", f"/tryon/v1/customers/{CUSTOMER_ID}"),
    ("GET", f"/tryon/v1/generations/{GENERATION_ID}?customerId={CUSTOMER_ID}"),
    ("GET", f"/files/customer/2026/01/01/x.jpg?exp=99999999999&sig={SIGNATURE}"),
)


def _shell_lines() -> dict[str, str]:
    """The web command of every place that documents one, as written there."""
    readme = (ROOT / "README.md").read_text()
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    procfile = (ROOT / "Procfile").read_text()
    systemd = (ROOT / "deploy" / "systemd" / "tryon-web@.service").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", "")
    docker_cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    return {
        "README.md": re.search(r"^(uvicorn tryon_project\.asgi:application[^#\n]*)", readme, re.M).group(1),
        "docs/deployment.md": re.search(r"\| web \| `(uvicorn [^`]+)`", deployment).group(1),
        "Procfile": re.search(r"^web: (.+)$", procfile, re.M).group(1),
        "deploy/systemd/tryon-web@.service": re.search(r"^ExecStart=\S*/(uvicorn .+)$", systemd, re.M).group(1),
        "Dockerfile": shlex.join(docker_cmd),
    }


def _run_py_command() -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import run
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return run.child_commands(host="127.0.0.1", port=8000, embedded=True)["web"]


def _documented() -> dict[str, list[str]]:
    commands = {where: shlex.split(line) for where, line in _shell_lines().items()}
    commands["scripts/run.py (make run)"] = _run_py_command()
    return commands


def _for_test(argv: list[str], port: int) -> list[str]:
    """The command as documented, on a free loopback port with one process (the supervisor of several workers
    configures logging the same way in each)."""
    out, values = [str(BIN / "uvicorn")], {"--host": "127.0.0.1", "--port": str(port), "--workers": "1"}
    args = iter(argv[1:])
    for arg in args:
        if arg in values:
            next(args)
            out += [arg, values[arg]]
        else:
            out.append(arg)
    return out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tryon_project.settings",
        DATABASE_URL="",
        REDIS_URL="",
        TRYON_VAR_DIR=str(tmp_path_factory.mktemp("commands-var")),
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return env


def _served_output(argv: list[str], env: dict[str, str]) -> str:
    port = _free_port()
    process = subprocess.Popen(
        _for_test(argv, port), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read()[-2000:]
            assert time.monotonic() < deadline, "uvicorn did not start"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        statuses = []
        for method, path in REQUESTS:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", method=method, headers={"x-api-key": "tok_not-a-key"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
        assert statuses == [401, 401, 403]
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    return output


def test_every_place_that_documents_a_web_command_is_checked():
    commands = _documented()
    assert len(commands) == 6
    for where, argv in commands.items():
        assert Path(argv[0]).name == "uvicorn" and argv[1] == "tryon_project.asgi:application", where


@pytest.mark.parametrize("where", sorted(_documented()))
def test_documented_web_command_logs_only_redacted_lines(where, embedded_env):
    output = _served_output(_documented()[where], embedded_env)
    for secret in (CUSTOMER_ID, GENERATION_ID, SIGNATURE, "tok_not-a-key", "exp=99999999999"):
        assert secret not in output, f"{where} logged {secret!r}:\n{output[-3000:]}"
    # The project's own line stands in for uvicorn's: one per request, the route instead of the path.
    assert "DELETE /tryon/v1/customers/{customer_id} 401" in output, output[-3000:]
    assert "GET /tryon/v1/generations/{generation_id} 401" in output
    assert re.search(r"GET /files/\S* 403", output), output[-3000:]
    assert '" 401' not in output and "HTTP/1.1" not in output
