"""What reading the shared index version on every answer-cache lookup costs.

    .venv/bin/python bench/index_version_read.py [--lookups 300]

Starts a real Chroma server, ingests the sample corpus through `RAGSystem` (as a replica
with CHROMA_HOST set), then interleaves, lookup by lookup:

- the cache lookup as it was: `cache_key(rag.index_version, ...)` and an in-process get;
- the lookup as it is now: `await rag.acurrent_index_version()` (one read of the Chroma
  collection's metadata, off the event loop) and the same key and get;
- a full answer of a new question (`aquery`, hybrid, extractive), for scale.

Prints median, mean and p95 in milliseconds. Target: the version read adds under 5 ms to a
cache hit and stays under 10% of a full answer.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from api.answer_cache import InProcessAnswerCache, cache_key
from rag_core import RagSettings, RAGSystem
from rag_core.samples import sample_documents

# The Chroma server is started the way the test suites start theirs.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.services import chroma_server

OPTIONS = {"max_results": 5, "threshold": None, "mode": None, "filters": None}


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{name:<34} {statistics.median(ordered) * 1000:>9.3f} "
        f"{statistics.fmean(ordered) * 1000:>9.3f} {p95 * 1000:>9.3f}"
    )


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def measure(lookups: int, work: Path) -> dict[str, list[float]]:
    (work / "chroma").mkdir()
    with chroma_server(work / "chroma") as chroma:
        settings = RagSettings(
            data_dir=work / "data", chroma_host=chroma.host, chroma_port=chroma.port
        )
        rag = RAGSystem(settings)
        await rag.astart()
        try:
            await rag.aingest(sample_documents())
            cache = InProcessAnswerCache(ttl_seconds=300, max_entries=1024)
            query = "How are webhook deliveries signed?"

            async def before() -> object:
                return await cache.get(cache_key(rag.index_version, query, OPTIONS))

            async def now() -> object:
                version = await rag.acurrent_index_version()
                return await cache.get(cache_key(version, query, OPTIONS))

            samples: dict[str, list[float]] = {"before": [], "now": [], "answer": []}
            for n in range(lookups):
                samples["before"].append(await timed(before))
                samples["now"].append(await timed(now))
                if n % 10 == 0:
                    question = f"How are webhook deliveries signed, question {n}?"
                    samples["answer"].append(await timed(functools.partial(rag.aquery, question)))
            return samples
        finally:
            await rag.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        samples = asyncio.run(measure(args.lookups, Path(work)))
    print(f"{'':<34} {'median':>9} {'mean':>9} {'p95':>9}  (ms)")
    print(summary("cache lookup, version held", samples["before"]))
    print(summary("cache lookup, version read", samples["now"]))
    print(summary("full answer (cache miss)", samples["answer"]))
    added = statistics.median(samples["now"]) - statistics.median(samples["before"])
    share = added / statistics.median(samples["answer"])
    print(f"version read adds {added * 1000:.3f} ms per lookup ({share:.1%} of a full answer)")


if __name__ == "__main__":
    main()
