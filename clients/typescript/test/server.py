"""Start the live ragkube API for the TypeScript tests (see tests/integration/sdk/live_api.py).

Run with the repository's virtual environment: `.venv/bin/python test/server.py DIR`. Prints
the connection facts as one JSON line, then serves until standard input closes.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO_ROOT))

from tests.integration.sdk.live_api import main  # noqa: E402  (needs the path above)

if __name__ == "__main__":
    main()
