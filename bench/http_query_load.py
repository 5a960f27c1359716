"""Query throughput over HTTP against the in-process floor, measured in one run.

    .venv/bin/python bench/http_query_load.py [--docs N] [--requests 300] [--soak-seconds 0]

1. Indexes SciFact (or its first --docs documents) with rag_core into an embedded Chroma.
2. Floor: a sequential loop of raw `model.encode(query)` + one `collection.query(...)` on the
   same collection (no API, no fusion, no answer) — queries per second.
3. Starts the API (`python -m api.serve`, one uvicorn worker, extractive answerer, default
   hybrid mode, answer cache off so every request does the work) and logs in.
4. Sweeps concurrency 1..32 with authenticated POST /query requests (distinct SciFact
   queries): QPS, p50, p99 and the ratio to the floor.
5. Reports the worker's idle RSS with the model loaded, and with --soak-seconds the RSS
   growth over a load run at concurrency 8.

The load generator runs on the same machine, so it competes with the server for CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throwaway bench user


def read_jsonl(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    rows = []
    with path.open() as handle:
        for line in handle:
            rows.append(json.loads(line))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def index(data_dir: Path, docs: int | None) -> int:
    from rag_core import DocumentInput, RagSettings, RAGSystem

    corpus = read_jsonl(SCIFACT / "corpus.jsonl", docs)
    rag = RAGSystem(RagSettings(data_dir=data_dir, collection_name="scifact"))
    await rag.astart()
    started = time.perf_counter()
    for i in range(0, len(corpus), 256):
        batch = [
            DocumentInput(
                content=row["text"], id=row["_id"], metadata={"title": row.get("title", "")}
            )
            for row in corpus[i : i + 256]
        ]
        await rag.aingest(batch)
    print(f"indexed {len(corpus)} documents in {time.perf_counter() - started:.1f}s")
    await rag.aclose()
    return len(corpus)


def floor_qps(data_dir: Path, queries: list[str]) -> float:
    """Sequential raw encode + one Chroma query per question, with the faster of torch's
    default intra-op threads and one thread (on a busy 2-core machine one thread is often
    several times faster for a single short query), so the floor is the best raw path."""
    import chromadb
    import torch
    from chromadb.config import Settings as ChromaSettings

    from rag_core.embeddings import shared_model

    model = shared_model("all-MiniLM-L6-v2")
    client = chromadb.PersistentClient(
        path=str(data_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection("scifact")
    best = 0.0
    for threads in (torch.get_num_threads(), 1):
        torch.set_num_threads(threads)
        for q in queries[:10]:  # warm up
            vector = model.encode([q], normalize_embeddings=True)
            collection.query(query_embeddings=vector, n_results=5)
        started = time.perf_counter()
        for q in queries:
            vector = model.encode([q], normalize_embeddings=True)
            collection.query(query_embeddings=vector, n_results=5)
        best = max(best, len(queries) / (time.perf_counter() - started))
    return best


def floor_qps_in_fresh_process(data_dir: Path, count: int) -> float:
    """The floor measured in its own process, like the API server's: a process that has just
    indexed a corpus carries thread pools and allocator state that slow it down several-fold,
    which would make the floor, and every ratio to it, meaningless."""
    out = subprocess.run(
        [sys.executable, __file__, "--floor-only", str(data_dir), "--requests", str(count)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["floor_qps"])


def write_users(path: Path) -> None:
    from api.auth import hash_password

    path.write_text(
        json.dumps(
            {
                "users": [
                    {
                        "username": "bench",
                        "password_hash": hash_password(PASSWORD, rounds=4),
                        "scopes": ["query"],
                    }
                ]
            }
        )
    )


async def run_level(
    client: httpx.AsyncClient, headers: dict[str, str], queries: list[str], concurrency: int
) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    errors = 0
    position = 0

    async def worker() -> None:
        nonlocal position, errors
        while position < len(queries):
            query = queries[position]
            position += 1
            started = time.perf_counter()
            response = await client.post(
                "/query", json={"query": query, "max_results": 5}, headers=headers
            )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(queries) / elapsed, p50, p99, errors


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=None, help="index only the first N documents")
    parser.add_argument("--requests", type=int, default=300, help="requests per concurrency level")
    parser.add_argument("--levels", default="1,2,4,8,16,32")
    parser.add_argument("--soak-seconds", type=float, default=0.0)
    parser.add_argument("--floor-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_only is not None:
        queries = [row["text"] for row in read_jsonl(SCIFACT / "queries.jsonl")]
        print(json.dumps({"floor_qps": floor_qps(args.floor_only, queries[: args.requests])}))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    work = Path(tempfile.mkdtemp(prefix="ragkube-bench-"))
    data_dir = work / "data"
    docs = await index(data_dir, args.docs)
    queries = [row["text"] for row in read_jsonl(SCIFACT / "queries.jsonl")]
    floor_queries = queries[: args.requests]
    floor_before = floor_qps_in_fresh_process(data_dir, len(floor_queries))
    print(f"floor (encode + one Chroma query, sequential): {floor_before:.1f} q/s")

    users = work / "users.json"
    write_users(users)
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "CHROMA_COLLECTION_NAME": "scifact",
        "USERS_FILE": str(users),
        "JWT_SECRET_KEY": "b" * 48,
        "PORT": str(port),
        "WORKERS": "1",
        "RATE_LIMIT_REQUESTS": "100000000",
        "ANSWER_CACHE_TTL_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
    }
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from api.serve import app_from_environment, run;"
            "from api.settings import Settings; run(Settings(), embedded_defaults=False)",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(
            base_url=base, timeout=60, limits=httpx.Limits(max_connections=64)
        ) as client:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if (await client.get("/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the API did not become ready")
                await asyncio.sleep(0.5)
            login = await client.post(
                "/auth/login", data={"username": "bench", "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            await run_level(client, headers, queries[:20], 2)  # warm up
            idle = rss_mb(server.pid)
            print(f"idle RSS of the API worker (model loaded): {idle:.0f} MiB")
            print(f"\nSciFact: {docs} documents indexed; hybrid; extractive; JWT auth; cache off")
            print(f"{'conc':>5} {'QPS':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs floor':>9} errors")
            for level in [int(x) for x in args.levels.split(",")]:
                qps, p50, p99, errors = await run_level(
                    client, headers, queries[: args.requests], level
                )
                print(
                    f"{level:>5} {qps:>8.1f} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f} "
                    f"{qps / floor_before:>8.0%} {errors:>6}"
                )
            if args.soak_seconds > 0:
                before = rss_mb(server.pid)
                started = time.monotonic()
                end = started + args.soak_seconds
                samples: list[tuple[float, float]] = [(0.0, before)]
                soak_errors = requests = 0
                while time.monotonic() < end:
                    _, _, _, errors = await run_level(client, headers, queries, 8)
                    soak_errors += errors
                    requests += len(queries)
                    samples.append((time.monotonic() - started, rss_mb(server.pid)))
                after = samples[-1][1]
                # RSS at each tenth of the run shows whether growth levels off (warm-up:
                # allocator arenas, tokenizer and Chroma caches) or keeps climbing (a leak).
                marks = [
                    min(samples, key=lambda s, t=t: abs(s[0] - t * args.soak_seconds / 10))
                    for t in range(11)
                ]
                print(
                    f"soak {args.soak_seconds:.0f}s at concurrency 8: {requests} requests, "
                    f"{soak_errors} errors"
                )
                print("  RSS MiB by time: " + ", ".join(f"{t:.0f}s {m:.0f}" for t, m in marks))
                half = marks[5][1]
                print(
                    f"  RSS {before:.0f} -> {after:.0f} MiB ({(after - before) / before:+.1%}); "
                    f"second half {half:.0f} -> {after:.0f} MiB ({(after - half) / half:+.1%})"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor_after = floor_qps_in_fresh_process(data_dir, len(floor_queries))
    print(f"\nfloor again after the HTTP runs: {floor_after:.1f} q/s")


if __name__ == "__main__":
    asyncio.run(main())
