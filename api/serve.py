"""Run the API under uvicorn: `run(settings)` (what `ragkube serve` calls) or `python -m api.serve`.

In development mode with no users file, a users file with one `admin` user and a random
password is created under the data directory and the password is printed once; later starts
reuse the file and print nothing. Production mode never creates users.

With WORKERS > 1 every worker process builds its own app from the environment (uvicorn's
factory mode), so what `run` decides for them (users file, development JWT key, metrics
directory) is passed through environment variables.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

import uvicorn

from api.auth import hash_password
from api.http_protocol import HEADER_TIMEOUT_ENV, BoundedHttpToolsProtocol, ConnectionLimits
from api.settings import Settings

DEV_USERS_FILE_NAME = "users.json"
#: glibc malloc tuning for the API process, as the environment variables glibc reads at start
#: (worker processes) and the mallopt parameters that set the same in this process.
#: - 2 arenas: glibc's default (8 per core) lets every executor and server thread grow its own
#:   arena under load.
#: - a fixed 512 KiB mmap threshold: by default glibc raises the threshold after freeing a
#:   large block, so later large buffers (tensors, response bodies) come from the heap and
#:   their pages are never returned; measured, RSS then crept up for minutes under load.
#:   128 KiB kept RSS as flat but cost about 6% throughput; 512 KiB cost none measurable.
MALLOC_TUNING = (
    # (environment variable, mallopt parameter number from glibc's malloc.h, value)
    ("MALLOC_ARENA_MAX", -8, 2),
    ("MALLOC_MMAP_THRESHOLD_", -3, 512 * 1024),
)


def tune_malloc() -> bool:
    """Apply MALLOC_TUNING here and, through the environment, to worker processes.

    A value already in the environment wins. Returns False where the C library is not glibc
    (nothing to tune there).
    """
    library = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(library), "mallopt", None) if library else None
    applied = mallopt is not None
    for variable, parameter, default in MALLOC_TUNING:
        value = int(os.environ.setdefault(variable, str(default)))
        if mallopt is not None:
            applied = bool(mallopt(parameter, value)) and applied
    return applied


def ensure_development_admin(settings: Settings) -> tuple[Settings, str | None]:
    """Settings pointing at a users file, and the new admin password if one was created now.

    Only in development and only when USERS_FILE is not set; the file is written with
    owner-only permissions and holds a bcrypt hash, never the password.
    """
    if settings.is_production or settings.users_file is not None:
        return settings, None
    path = settings.effective_data_dir / DEV_USERS_FILE_NAME
    password: str | None = None
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(18)
        document = {
            "users": [
                {
                    "username": "admin",
                    "password_hash": hash_password(password),
                    "scopes": ["admin"],
                }
            ],
            "api_keys": [],
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=2)
    return settings.model_copy(update={"users_file": path}), password


def bounded_app(settings: Settings) -> ConnectionLimits:
    """The app behind the connection limits of `settings` (what uvicorn serves)."""
    from api.app import EXEMPT_FROM_RATE_LIMIT, create_app

    return ConnectionLimits(
        create_app(settings),
        max_concurrency=settings.http_max_concurrency,
        body_timeout_seconds=settings.http_body_timeout_seconds,
        always_admitted=EXEMPT_FROM_RATE_LIMIT,
    )


def app_from_environment() -> ConnectionLimits:
    """The app of one worker process (uvicorn factory), built from the environment."""
    return bounded_app(Settings())


def _server_options(settings: Settings) -> dict[str, object]:
    """uvicorn options shared by the one-process and the multi-worker paths."""
    os.environ[HEADER_TIMEOUT_ENV] = str(settings.http_header_timeout_seconds)
    return {
        "host": settings.host,
        "port": settings.port,
        "http": BoundedHttpToolsProtocol,
        "timeout_keep_alive": settings.http_keep_alive_timeout_seconds,
        "access_log": False,
        "log_config": None,
        "proxy_headers": False,
    }


def run(settings: Settings, *, embedded_defaults: bool = True) -> None:
    """Serve the API with `settings` until interrupted.

    `embedded_defaults` ingests rag_core's bundled sample corpus into an empty collection and
    creates the development admin (see the module docstring).
    """
    tune_malloc()
    if embedded_defaults:
        settings, password = ensure_development_admin(settings)
        if password is not None:
            print(
                f"\nCreated user 'admin' with password: {password}\n"
                f"(stored as a bcrypt hash in {settings.users_file}; this is the only time "
                "it is shown)\n",
                file=sys.stderr,
                flush=True,
            )
        if not settings.is_production:
            settings = settings.model_copy(update={"ingest_sample_corpus": True})
    if settings.workers == 1:
        uvicorn.run(bounded_app(settings), **_server_options(settings))  # type: ignore[arg-type]
        return
    env = os.environ
    if settings.users_file is not None:
        env["USERS_FILE"] = str(settings.users_file)
    if settings.jwt_secret_key is None:
        # Development: one key for all workers, so a token from one is valid on the others.
        env["JWT_SECRET_KEY"] = secrets.token_urlsafe(48)
    env["INGEST_SAMPLE_CORPUS"] = "true" if settings.ingest_sample_corpus else "false"
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ragkube-metrics-")
    else:
        for stale in Path(env["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
            stale.unlink()
    uvicorn.run(
        "api.serve:app_from_environment",
        factory=True,
        workers=settings.workers,
        **_server_options(settings),  # type: ignore[arg-type]
    )


def main() -> None:
    """`python -m api.serve`: settings from the environment."""
    run(Settings())


if __name__ == "__main__":
    main()
