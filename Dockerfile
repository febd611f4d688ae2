# One image for the API, the worker and migrations; the command picks the role:
#   docker run IMAGE api | worker | migrate        (the default is `api`)
# Settings come from NOPIC_* environment variables (.env.example lists them).

# Pinned by tag and by digest (the multi-architecture index of python:3.11.14-slim-bookworm):
# a rebuild gets the same base until someone changes this line on purpose.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

FROM ${PYTHON_IMAGE} AS dependencies
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# The runtime lock only (no test or lint tool, no dev server), every file checked against its
# hash; wheels only, so nothing is compiled and no unpinned build backend is fetched.
COPY requirements-runtime.lock /tmp/requirements-runtime.lock
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --only-binary=:all: \
        -r /tmp/requirements-runtime.lock \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH PYTHONPATH=/app
# A fixed UID, so volumes and a pod's securityContext can name it; no shell, no home.
RUN groupadd --system --gid 10001 nopic \
    && useradd --system --uid 10001 --gid nopic --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin nopic
COPY --from=dependencies /opt/venv /opt/venv
WORKDIR /app
# Only what the product runs, owned by root and read-only to the service user. The code is run
# from here (PYTHONPATH), not installed: the templates are found beside the packages.
COPY domain/ domain/
COPY workflows/ workflows/
COPY activities/ activities/
COPY persistence/ persistence/
COPY api/ api/
COPY config/ config/
COPY cli/ cli/
COPY templates/ templates/
COPY alembic.ini ./
# The data folder (NOPIC_DATA_DIR, relative to /app) is the one place the service may write.
RUN python -m compileall -q domain workflows activities persistence api config cli \
    && mkdir var && chown nopic:nopic var
USER 10001:10001
EXPOSE 8000
# For the API: /healthz answers 200 when the database and Temporal answer. The worker and the
# migration serve no HTTP; docker-compose.yml turns the check off for them.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('NOPIC_HTTP_PORT', '8000') + '/healthz', timeout=4)"]
ENTRYPOINT ["python", "-m", "cli.main"]
CMD ["api"]
