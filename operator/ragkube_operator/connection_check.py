"""A background task that keeps the operator's API connections alive or drops them early.

See `KubeApi.check_connections` for why. The task logs once when the API server stops
answering and once when it answers again, so an outage shows in the log as two lines
rather than one per check.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from ragkube_operator.kubeapi import KubeApi

#: Seconds between two checks: after an outage the pool is fresh again within about this long,
#: well before kopf notices a silent watch stream (70 s) and the first reconcile runs.
CHECK_INTERVAL_SECONDS: Final = 10.0

_log = logging.getLogger(__name__)


async def check_forever(api: KubeApi, interval: float = CHECK_INTERVAL_SECONDS) -> None:
    """Check the API connections every `interval` seconds until cancelled."""
    reachable = True
    while True:
        await asyncio.sleep(interval)
        now = await api.check_connections()
        if now != reachable:
            if now:
                _log.info("api_server_answering_again")
            else:
                _log.warning("api_server_not_answering")
        reachable = now
