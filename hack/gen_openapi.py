"""Write the API's OpenAPI document, as the running service serves it at `/openapi.json`.

    python hack/gen_openapi.py > docs/openapi.json

The document comes from `api.app.create_app(Settings())`: nothing is started (no model, no
vector store), only the routes are inspected. Settings from the environment are ignored so
that the output is the same on every machine; a unit test checks that the committed file is
current.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def openapi_document() -> str:
    """The OpenAPI document of the API with default settings, as stable JSON text."""
    from api.app import create_app
    from api.settings import Settings

    saved = dict(os.environ)
    os.environ.clear()  # only the defaults: a developer's .env must not leak into the file
    try:
        settings = Settings()
    finally:
        os.environ.update(saved)
    app = create_app(settings)
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(openapi_document())
