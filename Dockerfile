# zhizao service image. Build: docker build -t zhizao .   (or: docker compose up --build)

# Scoring's hot modules compiled by mypyc (as `make install` does; ~2x the scorings per CPU-second),
# in a stage of their own so that the compiler stays out of the service image. Same base image:
# the extensions match the interpreter that loads them. scoring/_native.py uses them only while
# every source has the digest this build recorded, and the engine runs as Python otherwise.
FROM python:3.11-slim-bookworm AS scoring-build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# mypyc comes with mypy (pinned); mypy reads pyproject.toml's settings (the pydantic plugin) and
# follows the engine's imports (PyYAML and its stubs); setuptools runs the C build.
COPY pyproject.toml README.md constraints.txt ./
RUN pip install -c constraints.txt mypy pydantic pyyaml types-PyYAML setuptools
COPY scoring scoring
COPY tools tools
RUN python -m tools.compile_scoring

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# What WeasyPrint's PDF reports need (design §10): Pango, HarfBuzz's subsetter (several times
# faster Chinese PDFs), fontconfig and a CJK font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/* \
    && fc-cache -f

RUN groupadd --system --gid 10001 zhizao \
    && useradd --system --uid 10001 --gid zhizao --home-dir /srv/zhizao --no-create-home zhizao

WORKDIR /srv/zhizao

# Dependencies first, so that code changes do not reinstall them: install against empty packages,
# then copy the source and re-link the project alone. The install is editable on purpose: the
# service finds alembic.ini, migrations/, questionnaires/, subsidies/ and templates/ next to app/.
# The versions are those pinned in constraints.txt, the ones the test suite last passed with.
COPY pyproject.toml README.md constraints.txt ./
RUN mkdir app scoring && touch app/__init__.py scoring/__init__.py \
    && pip install -c constraints.txt -e . \
    && rm -rf app scoring
COPY . .
COPY --from=scoring-build /build/scoring/*.so /build/scoring/_native.json scoring/
RUN pip install --no-deps -e . \
    && mkdir -p var \
    && chown -R zhizao:zhizao var

USER zhizao

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Migrate, then serve. Settings come from ZHIZAO_* variables (see README); outside development
# ZHIZAO_SECRET_KEY must be set or the service refuses to start.
CMD ["sh", "-c", "zhizao db upgrade && exec zhizao serve --host 0.0.0.0 --port 8000"]
