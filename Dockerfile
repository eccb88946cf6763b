# Minimal image mirroring the Makefile's install (not built in this repository's CI: treat it as a starting point).
# One image runs every role; the command picks it (see compose.yaml and docs/deployment.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 TRYON_VAR_DIR=/srv/tryon/var
# libgl/libglib: OpenCV and mediapipe's native parts; libheif comes inside the pillow-heif wheel.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /srv/tryon tryon

WORKDIR /srv/tryon
COPY requirements.lock pyproject.toml ./
# Same two steps as `make install`: the runtime lock (no test, lint or load tools: those are requirements-dev.lock),
# then mediapipe without its unused declared dependencies.
RUN python -m venv .venv \
    && .venv/bin/pip install --upgrade pip \
    && .venv/bin/pip install -r requirements.lock \
    && .venv/bin/pip install --no-deps mediapipe==0.10.21
COPY . .
RUN mkdir -p var && chown -R tryon:tryon var
USER tryon
ENV PATH=/srv/tryon/.venv/bin:$PATH

EXPOSE 8000
# The application writes one access-log line per request itself; Django has no lifespan handler to probe.
CMD ["uvicorn", "tryon_project.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", \
     "--no-access-log", "--lifespan", "off", "--proxy-headers"]
