"""`python -m ragkube_index`: serve the index under INDEX_DATA_DIR on INDEX_HOST:INDEX_PORT."""

from __future__ import annotations

import uvicorn

from ragkube_index.app import create_app
from ragkube_index.settings import IndexSettings


def main() -> None:
    """Serve until interrupted, with settings from the environment."""
    settings = IndexSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.index_host,
        port=settings.index_port,
        access_log=False,
        log_config=None,
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
