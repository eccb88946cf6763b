"""`make bench`: run every bench/*.py against the production stack on this machine and write docs/benchmarks.md
from the `name=value` lines they print. Nothing in the document is typed by hand: rerun to refresh it.

Each benchmark measures its own baseline in the same run (a bare view, bare Pillow, the engine alone, the small
catalog), so the ratios compare across machines; the absolute numbers are there for context."""

from __future__ import annotations

import ast
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import REDIS_URL, database_url  # noqa: E402

OUT = ROOT / "docs" / "benchmarks.md"
# A line may hold several pairs ("a=1 b=2"); a value runs until the next " name=" or the end of the line.
# Figure names are dotted (`api.poll.rps`); this also keeps out `name=value` text of child processes' banners.
PAIR = re.compile(r"([A-Za-z0-9_]+\.[A-Za-z0-9_.]+)=(.*?)(?=\s+[A-Za-z0-9_.]+=|$)")
RATIO = re.compile(r"(^|[._])(ratio|goal_met)")
TIMEOUT_SECONDS = 1200
# `make quality` needs photos the project does not ship: its section is text, not figures of this run.
QUALITY_SECTION = (ROOT / "bench" / "quality.md").read_text()
# Measurements compared across versions of the code (before/after a change) are text too: no run of the current
# code can reproduce the "before" column.
API_HISTORY_SECTION = (ROOT / "bench" / "api_history.md").read_text()


def describe(script: Path) -> str:
    doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    return " ".join(doc.split("\n\n")[0].split())


def run(script: Path, env: dict[str, str]) -> tuple[dict[str, str], float, int, str]:
    started = time.monotonic()
    # -P: the script's folder is not put on sys.path, where bench/products.py would shadow the `products` app.
    result = subprocess.run(
        [sys.executable, "-P", str(script)], cwd=ROOT, env=env, text=True, capture_output=True, timeout=TIMEOUT_SECONDS
    )
    figures: dict[str, str] = {}
    for line in result.stdout.splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        figures.update({name: value.strip() for name, value in PAIR.findall(line.strip())})
    return figures, time.monotonic() - started, result.returncode, result.stderr[-2000:]


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    versions = []
    for command in (["psql", "--version"], ["redis-server", "--version"]):
        try:
            versions.append(subprocess.run(command, text=True, capture_output=True, timeout=10).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            versions.append(f"{command[0]}: not found")
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {memory_kb / 2**20:.1f} GiB",
        f"- OS: {platform.system()} {platform.release()} {platform.machine()}; Python {platform.python_version()}",
        f"- services on 127.0.0.1: {versions[0]}; {versions[1]}",
        "- web: uvicorn (ASGI), 2 processes; workers: Celery prefork, concurrency 1 each (see each benchmark)",
    ]


def main() -> int:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key"),
        "DJANGO_SETTINGS_MODULE": "tryon_project.settings",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    # locustfile.py is the traffic of `make load`, not a benchmark that prints figures; quality.py (`make quality`)
    # needs a folder of photos the project does not ship; its section is bench/quality.md (QUALITY_SECTION).
    scripts = sorted(
        p
        for p in (ROOT / "bench").glob("*.py")
        if not p.name.startswith("_") and p.name not in ("locustfile.py", "quality.py")
    )
    sections, failures = [], []
    for script in scripts:
        print(f"bench: {script.name} ...", flush=True)
        figures, seconds, code, stderr = run(script, env)
        if code != 0:
            failures.append(script.name)
            print(stderr, file=sys.stderr)
        ratios = {k: v for k, v in figures.items() if RATIO.search(k)}
        absolute = {k: v for k, v in figures.items() if k not in ratios}
        lines = [
            f"## {script.stem}",
            "",
            describe(script),
            "",
            f"Exit status {code}; ran {seconds:.0f} s. Command: `.venv/bin/python bench/{script.name}`.",
            "",
        ]
        if ratios:
            lines += ["| ratio (against the baseline of the same run) | value |", "|---|---|"]
            lines += [f"| `{k}` | **{v}** |" for k, v in ratios.items()]
            lines.append("")
        if absolute:
            lines += ["| absolute figure (context) | value |", "|---|---|"]
            lines += [f"| `{k}` | {v} |" for k, v in absolute.items()]
            lines.append("")
        sections.append("\n".join(lines))
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`scripts/bench_all.py`), which runs every `bench/*.py` against the production",
        "stack on this machine (a dedicated PostgreSQL database, Redis, uvicorn, Celery workers) and copies the",
        "`name=value` lines they print. Do not edit the figures by hand: rerun the command.",
        "",
        "Each figure that matters is a **ratio against a baseline measured in the same run**, so it can be",
        "compared across machines; absolute times are given for context only and depend on this machine.",
        "",
        f"Run: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        "Machine:",
        "",
        *machine(),
        "",
    ]
    if failures:
        header += [f"**Failed benchmarks: {', '.join(failures)}** (their figures are incomplete).", ""]
    sections.append(API_HISTORY_SECTION)
    sections.append(QUALITY_SECTION)
    OUT.write_text("\n".join(header) + "\n" + "\n".join(sections))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
