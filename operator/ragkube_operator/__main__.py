"""`python -m ragkube_operator run ...`: kopf's own command line on the standard asyncio loop.

kopf's command line runs on uvloop whenever uvloop can be imported. The operator image does
not ship it (it carries only the operator's own dependencies), but a development environment
does (the API's uvicorn[standard] pulls it in), so an operator started there with `kopf run`
ran on another event loop than in production, and one with a known bug: a connect cancelled
at the wrong moment leaves a file descriptor registered to a dead transport, and the next
connection that the kernel gives that number fails with "File descriptor N is used by
transport" — kopf's watcher died of it during an API server outage. Started this way, a local
operator (the tests, the demo) runs as the image does. Arguments are kopf's (`run -m
ragkube_operator.main ...`).
"""

from __future__ import annotations

import sys

# A None entry makes `import uvloop` raise ImportError, which is how kopf decides to use the
# standard loop.
sys.modules["uvloop"] = None  # type: ignore[assignment]

from kopf import cli  # noqa: E402  (after the entry above, which it must see)

if __name__ == "__main__":
    cli.main()
