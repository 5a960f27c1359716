"""The index tier at scale: today's design (per-pod bm25s) beside the new one (shared tantivy
index server), through the API over HTTP, in one run.

    .venv/bin/python bench/scale.py                          # 10k chunks (CI size, a few minutes)
    .venv/bin/python bench/scale.py --sizes 10000,100000     # the report's sizes
    .venv/bin/python bench/scale.py --sizes 1000000 --allow-1m  # new design only; ~1 hour

For each size a synthetic corpus is made once: chunks of 100-200 words drawn from a Zipf
distribution over real words (SciFact's vocabulary, stopwords left out), metadata on each
(category, year) and a random unit vector, written straight into a Chroma server, so no model
is measured. Each design then gets its own copy of that Chroma data and, the new design, a
lexical index server filled with the same chunks. Two API replicas (real uvicorn processes,
`EMBEDDINGS_PROVIDER=openai-compatible` against a stand-in that returns random unit vectors)
share that storage tier. Replica A takes the writes, replica B answers the queries:

- hybrid query p50/p99 (200 candidates a side, the default) on B, idle, then while A ingests
  about 50 chunks a second (the rate A actually reached is printed beside it);
- one-document write latency on A; bulk ingest through A in chunks/s (the stand-in embedder
  answers in microseconds, so this is the index tier's throughput, embedding excluded), and,
  for the new design, the index server's own bulk write rate;
- start-to-ready and RSS of each API replica; RSS and disk of Chroma and the index server.

Today's design is run from a git worktree of commit d001554 (`--baseline-tree`), with the same
virtual environment. Every process this script starts is stopped before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"
DEFAULT_BASELINE_TREE = Path(tempfile.gettempdir()) / "ragkube-baseline"
BASELINE_COMMIT = "d001554"
DIMENSION = 384
COLLECTION = "scale"
PASSWORD = "bench-password-0123456789"  # noqa: S105 - a throwaway bench user
INDEX_TOKEN = "bench-index-token-" + "x" * 24
CATEGORIES = [f"category-{n}" for n in range(10)]
#: Zipf exponent of word frequencies in English text (about 1).
ZIPF_EXPONENT = 1.07
#: Sizes at or over this need --allow-1m: on 2 cores, filling Chroma alone takes 40-60 min
#: (260-440 chunks/s measured at 100k), then the replicas and measurements some minutes.
LARGE_SIZE = 1_000_000
#: Today's design is measured up to this size (past it, one write costs minutes).
BASELINE_MAX_SIZE = 100_000


# --- the synthetic corpus -----------------------------------------------------------------


def vocabulary(limit: int = 20_000) -> list[str]:
    """SciFact's words, most frequent first, without English stopwords."""
    from bm25s.stopwords import STOPWORDS_EN

    stop = frozenset(STOPWORDS_EN)
    counts: collections.Counter[str] = collections.Counter()
    with (SCIFACT / "corpus.jsonl").open() as handle:
        for line in handle:
            row = json.loads(line)
            counts.update(w for w in re.findall(r"[a-z]{3,}", row["text"].lower()))
    return [w for w, _ in counts.most_common() if w not in stop][:limit]


@dataclass
class Corpus:
    """Deterministic synthetic chunks: chunk `i` is the same in every design and every run."""

    words: list[str]
    seed: int = 14
    cdf: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        weights = 1.0 / np.arange(1, len(self.words) + 1) ** ZIPF_EXPONENT
        self.cdf = np.cumsum(weights / weights.sum())

    def texts(self, rng: np.random.Generator, count: int) -> list[str]:
        lengths = rng.integers(100, 201, size=count)
        ranks = np.searchsorted(self.cdf, rng.random(int(lengths.sum())))
        ranks = np.minimum(ranks, len(self.words) - 1)
        out, start = [], 0
        for length in lengths:
            out.append(" ".join(self.words[r] for r in ranks[start : start + length]))
            start += length
        return out

    def batch(self, start: int, count: int, prefix: str = "doc") -> list[dict[str, Any]]:
        """Chunks start..start+count as {id, document_id, text, metadata, vector}."""
        rng = np.random.default_rng([self.seed, start, count, len(prefix)])
        texts = self.texts(rng, count)
        vectors = unit_vectors(rng, count)
        rows = []
        for offset, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
            number = start + offset
            document_id = f"{prefix}-{number:07d}"
            rows.append(
                {
                    "id": f"{document_id}::0",
                    "document_id": document_id,
                    "text": text,
                    "vector": vector,
                    "metadata": {
                        "category": CATEGORIES[number % len(CATEGORIES)],
                        "year": 1990 + number % 35,
                    },
                }
            )
        return rows

    def queries(self, count: int) -> list[str]:
        """Questions of 3-5 mid-frequency words (ranks 50-3000: words that match thousands
        of chunks at 100k, as real questions do, and are not near-stopwords)."""
        rng = np.random.default_rng([self.seed, 999])
        pool = self.words[50:3000]
        return [
            " ".join(pool[i] for i in rng.integers(0, len(pool), size=rng.integers(3, 6)))
            for _ in range(count)
        ]


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def stored_metadata(row: dict[str, Any]) -> dict[str, Any]:
    """A chunk's metadata as rag_core writes it for a one-chunk, untitled document."""
    return {
        **row["metadata"],
        "document_id": row["document_id"],
        "source": "",
        "title": row["document_id"],
        "position": 0,
        "chunks": 1,
        "section": "",
        "title_prefixed": False,
        "content_hash": row["document_id"],
    }


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def disk_mib(path: Path) -> float:
    if not path.exists():
        return 0.0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / (1 << 20)


class Processes:
    """Every process the bench starts, stopped (SIGTERM, then SIGKILL) when it is done."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, command: Sequence[str], log: Path, cwd: Path, env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            proc = subprocess.Popen(
                list(command), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self._procs:
            self._procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self._procs)):
            self.stop(proc)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> float:
    """Seconds until `url` answers 200; fails with the log's tail if the process dies."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"{log.name} exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.1)
    raise SystemExit(f"{url} was not ready within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTHONPATH")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    return env


def start_chroma(procs: Processes, data: Path, work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    chroma = str(Path(sys.executable).parent / "chroma")
    command = [chroma, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    log = work / "chroma.log"
    proc = procs.start(command, log, work, base_env())
    wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, log, 120)
    return proc, port


def start_index_server(
    procs: Processes, data: Path, work: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **base_env(),
        "INDEX_DATA_DIR": str(data),
        "INDEX_HOST": "127.0.0.1",
        "INDEX_PORT": str(port),
        "INDEX_AUTH_TOKEN": INDEX_TOKEN,
    }
    log = work / "index.log"
    proc = procs.start([sys.executable, "-m", "ragkube_index"], log, ROOT, env)
    wait_http(f"http://127.0.0.1:{port}/ready", proc, log, 120)
    return proc, f"http://127.0.0.1:{port}"


# --- the stand-in embeddings endpoint -----------------------------------------------------


def serve_embeddings(port: int) -> None:
    """An OpenAI-compatible /embeddings endpoint returning random unit vectors, fast."""
    rng = np.random.default_rng(7)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:  # the bench's readiness probe
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            vectors = np.round(unit_vectors(rng, len(inputs)), 5).tolist()
            data = json.dumps(
                {
                    "object": "list",
                    "model": body.get("model", "stand-in"),
                    "data": [
                        {"object": "embedding", "index": i, "embedding": v}
                        for i, v in enumerate(vectors)
                    ],
                    "usage": {"prompt_tokens": 0, "total_tokens": 0},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# --- filling the storage tier directly ----------------------------------------------------


def fill_chroma(port: int, corpus: Corpus, size: int) -> float:
    """Writes `size` chunks straight into a new collection; returns chunks/s."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection(
        COLLECTION,
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"ragkube_index_version": uuid.uuid4().hex},
        embedding_function=None,
    )
    batch = min(int(client.get_max_batch_size()), 5000)
    started = time.perf_counter()
    for start in range(0, size, batch):
        rows = corpus.batch(start, min(batch, size - start))
        collection.upsert(
            ids=[r["id"] for r in rows],
            embeddings=np.stack([r["vector"] for r in rows]),
            documents=[r["text"] for r in rows],
            metadatas=[stored_metadata(r) for r in rows],
        )
    return size / (time.perf_counter() - started)


def fill_index_server(url: str, corpus: Corpus, size: int) -> float:
    """Writes `size` chunks into the index server in its largest batches; returns chunks/s
    (the corpus is generated before the clock starts for each batch)."""
    from ragkube_contract.index_server import CHUNKS_PATH, MAX_CHUNKS_PER_WRITE

    path = CHUNKS_PATH.format(collection=COLLECTION)
    headers = {"Authorization": f"Bearer {INDEX_TOKEN}"}
    elapsed = 0.0
    with httpx.Client(base_url=url, headers=headers, timeout=600) as client:
        for start in range(0, size, MAX_CHUNKS_PER_WRITE):
            rows = corpus.batch(start, min(MAX_CHUNKS_PER_WRITE, size - start))
            chunks = [
                {"id": r["id"], "text": r["text"], "metadata": stored_metadata(r)} for r in rows
            ]
            began = time.perf_counter()
            client.post(path, json={"chunks": chunks}).raise_for_status()
            elapsed += time.perf_counter() - began
    return size / elapsed


# --- the API replicas ---------------------------------------------------------------------


@dataclass
class Replica:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    ready_s: float
    headers: dict[str, str] = field(default_factory=dict)
    peak_rss: float = 0.0

    def sample_rss(self) -> float:
        self.peak_rss = max(self.peak_rss, rss_mib(self.proc.pid))
        return self.peak_rss


def write_users(path: Path, tree: Path) -> None:
    hashed = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from api.auth import hash_password; print(hash_password({PASSWORD!r}, rounds=4))",
        ],
        cwd=tree,
        env={**base_env(), "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    user = {"username": "bench", "password_hash": hashed, "scopes": ["query", "ingest", "admin"]}
    path.write_text(json.dumps({"users": [user]}))


def start_replica(
    procs: Processes, name: str, tree: Path, work: Path, env: dict[str, str]
) -> Replica:
    port = free_port()
    data = work / f"api-{name}"
    data.mkdir()
    # As a pod and tests/support/api_process.py start it, but run from `tree` (its cwd
    # comes first on sys.path, which is how the baseline's packages win over this tree's).
    app = "api.serve:app_from_environment"
    serve = ["--factory", "--no-access-log", "--log-level", "warning"]
    command = [sys.executable, "-m", "uvicorn", app, *serve, "--port", str(port)]
    log = work / f"api-{name}.log"
    replica_env = {**env, "DATA_DIR": str(data), "PYTHONPATH": str(tree)}
    proc = procs.start(command, log, tree, replica_env)
    url = f"http://127.0.0.1:{port}"
    ready = wait_http(f"{url}/ready", proc, log, 1800)
    login = httpx.post(f"{url}/auth/login", data={"username": "bench", "password": PASSWORD})
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    replica = Replica(name, url, proc, ready, headers)
    replica.sample_rss()
    return replica


# --- measurements -------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def timed_queries(
    client: httpx.AsyncClient, replica: Replica, queries: Sequence[str], until: float | None
) -> tuple[list[float], int]:
    """Sequential POST /query on `replica`: through every query, or cycling until `until`."""
    latencies: list[float] = []
    errors = 0
    position = 0
    while True:
        if until is None and position >= len(queries):
            break
        if until is not None and time.monotonic() >= until:
            break
        query = queries[position % len(queries)]
        position += 1
        began = time.perf_counter()
        response = await client.post(
            f"{replica.url}/query",
            json={"query": query, "max_results": 5},
            headers=replica.headers,
            timeout=600,
        )
        latencies.append(time.perf_counter() - began)
        errors += response.status_code != 200
        if position % 20 == 0:
            replica.sample_rss()
    return latencies, errors


def documents(corpus: Corpus, start: int, count: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {"id": r["document_id"], "content": r["text"], "metadata": r["metadata"]}
        for r in corpus.batch(start, count, prefix)
    ]


async def ingest(client: httpx.AsyncClient, replica: Replica, docs: list[dict[str, Any]]) -> float:
    began = time.perf_counter()
    response = await client.post(
        f"{replica.url}/documents", json={"documents": docs}, headers=replica.headers, timeout=1800
    )
    if response.status_code != 201:
        raise SystemExit(f"ingest answered {response.status_code}: {response.text[:500]}")
    return time.perf_counter() - began


async def steady_ingest(
    client: httpx.AsyncClient, replica: Replica, corpus: Corpus, rate: float, until: float
) -> tuple[int, float]:
    """Writes `rate` chunks a second until `until`: a request of rate/2 one-chunk documents
    every half second, up to four requests in flight (one request takes longer than its slot
    on a loaded machine). Returns the chunks written and the seconds it took."""
    per_request = max(1, round(rate / 2))
    in_flight: set[asyncio.Task[float]] = set()
    written = 0
    began = time.monotonic()
    next_at = began
    while time.monotonic() < until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if len(in_flight) >= 4:
            _, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        docs = documents(corpus, written, per_request, "load")
        in_flight.add(asyncio.create_task(ingest(client, replica, docs)))
        written += per_request
        next_at += 0.5
    if in_flight:
        await asyncio.wait(in_flight)
    return written, time.monotonic() - began


@dataclass
class Figures:
    values: dict[str, float] = field(default_factory=dict)

    def __setitem__(self, key: str, value: float) -> None:
        self.values[key] = value


async def measure_replicas(
    a: Replica, b: Replica, corpus: Corpus, args: argparse.Namespace, figures: Figures
) -> None:
    queries = corpus.queries(args.queries)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16)) as client:
        await timed_queries(client, b, queries[:10], None)  # warm-up
        idle, idle_errors = await timed_queries(client, b, queries, None)
        figures["query idle p50 ms"] = statistics.median(idle) * 1000
        figures["query idle p99 ms"] = percentile(idle, 0.99) * 1000

        until = time.monotonic() + args.load_seconds
        load_task = asyncio.create_task(steady_ingest(client, a, corpus, args.rate, until))
        busy, busy_errors = await timed_queries(client, b, queries, until)
        written, seconds = await load_task
        figures["query during ingest p50 ms"] = statistics.median(busy) * 1000
        figures["query during ingest p99 ms"] = percentile(busy, 0.99) * 1000
        figures["query during ingest max ms"] = max(busy) * 1000
        figures["queries answered during ingest"] = len(busy)
        figures["ingest rate reached (chunks/s)"] = written / seconds
        figures["query errors"] = idle_errors + busy_errors
        a.sample_rss()

        writes = [
            await ingest(client, a, documents(corpus, n, 1, "write")) for n in range(args.writes)
        ]
        figures["one-document write p50 ms"] = statistics.median(writes) * 1000
        figures["one-document write max ms"] = max(writes) * 1000

        bulk_docs = 500
        elapsed = 0.0
        for n in range(args.bulk_batches):
            elapsed += await ingest(client, a, documents(corpus, n * bulk_docs, bulk_docs, "bulk"))
        figures["bulk ingest via API (chunks/s)"] = args.bulk_batches * bulk_docs / elapsed
        await timed_queries(client, b, queries[:20], None)
    figures["API start-to-ready s (A)"] = a.ready_s
    figures["API start-to-ready s (B)"] = b.ready_s
    figures["API RSS peak MiB (A, writer)"] = a.sample_rss()
    figures["API RSS peak MiB (B, reader)"] = b.sample_rss()


def run_design(
    design: str, size: int, seed_chroma: Path, corpus: Corpus, args: argparse.Namespace, work: Path
) -> Figures:
    """One design at one size: its own copy of the Chroma data, two replicas, every figure."""
    figures = Figures()
    tree = args.baseline_tree if design == "old" else ROOT
    here = work / design
    here.mkdir()
    shutil.copytree(seed_chroma, here / "chroma")
    procs = Processes()
    embed_port = free_port()
    try:
        embedder = procs.start(
            [sys.executable, __file__, "--serve-embeddings", str(embed_port)],
            here / "embeddings.log",
            ROOT,
            base_env(),
        )
        chroma, chroma_port = start_chroma(procs, here / "chroma", here)
        users = here / "users.json"
        write_users(users, tree)
        env = {
            **base_env(),
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(chroma_port),
            "CHROMA_COLLECTION_NAME": COLLECTION,
            "CHROMA_TIMEOUT_SECONDS": "600",
            "EMBEDDINGS_PROVIDER": "openai-compatible",
            "EMBEDDINGS_MODEL": "stand-in",
            "LLM_PROVIDER": "extractive",
            "LLM_BASE_URL": f"http://127.0.0.1:{embed_port}/v1",
            "RETRIEVAL_MODE": "hybrid",
            "USERS_FILE": str(users),
            "JWT_SECRET_KEY": "s" * 48,
            "RATE_LIMIT_REQUESTS": "100000000",
            "ANSWER_CACHE_TTL_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "HTTP_MAX_CONCURRENCY": "1000",
        }
        index = None
        if design == "new":
            index, index_url = start_index_server(procs, here / "lexical", here)
            figures["index server bulk write (chunks/s)"] = fill_index_server(
                index_url, corpus, size
            )
            env.update(LEXICAL_INDEX_URL=index_url, LEXICAL_INDEX_TOKEN=INDEX_TOKEN)
        wait_http(f"http://127.0.0.1:{embed_port}/health", embedder, here / "embeddings.log", 30)
        a = start_replica(procs, "a", tree, here, env)
        b = start_replica(procs, "b", tree, here, env)
        asyncio.run(measure_replicas(a, b, corpus, args, figures))
        figures["Chroma RSS MiB"] = rss_mib(chroma.pid)
        figures["Chroma disk MiB"] = disk_mib(here / "chroma")
        if index is not None:
            figures["index server RSS MiB"] = rss_mib(index.pid)
            figures["index server disk MiB"] = disk_mib(here / "lexical")
        figures["API data dir disk MiB (A+B)"] = disk_mib(here / "api-a") + disk_mib(here / "api-b")
    finally:
        procs.stop_all()
    shutil.rmtree(here / "chroma", ignore_errors=True)
    shutil.rmtree(here / "lexical", ignore_errors=True)
    return figures


def print_table(size: int, results: dict[str, Figures]) -> None:
    keys = list(dict.fromkeys(k for f in results.values() for k in f.values))
    print(f"\n{size:,} chunks")
    print(f"{'figure':<38} {'old':>10} {'new':>10} {'new/old':>8}")
    for key in keys:
        old = results.get("old", Figures()).values.get(key)
        new = results.get("new", Figures()).values.get(key)
        ratio = f"{new / old:.2f}" if old and new is not None else ""
        cells = [f"{v:>10.1f}" if v is not None else f"{'-':>10}" for v in (old, new)]
        print(f"{key:<38} {cells[0]} {cells[1]} {ratio:>8}")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated chunk counts")
    parser.add_argument("--designs", default="old,new", help="old (d001554), new, or both")
    parser.add_argument("--baseline-tree", type=Path, default=DEFAULT_BASELINE_TREE)
    parser.add_argument("--queries", type=int, default=200, help="idle queries per design")
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=50.0, help="chunks/s written on replica A")
    parser.add_argument("--writes", type=int, default=5, help="one-document writes timed")
    parser.add_argument("--bulk-batches", type=int, default=4, help="500-document requests")
    parser.add_argument("--allow-1m", action="store_true", help="allow sizes of 1M and over")
    parser.add_argument("--serve-embeddings", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_embeddings is not None:
        serve_embeddings(args.serve_embeddings)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(s >= LARGE_SIZE for s in sizes) and not args.allow_1m:
        parser.error("sizes of 1M chunks and over take about an hour: add --allow-1m")
    designs = [d for d in args.designs.split(",") if d]
    if "old" in designs and not (args.baseline_tree / "api" / "serve.py").exists():
        parser.error(
            f"no baseline tree at {args.baseline_tree}: "
            f"git worktree add --detach {args.baseline_tree} {BASELINE_COMMIT}"
        )
    print(f"load before: {Path('/proc/loadavg').read_text().split()[:3]}")
    corpus = Corpus(vocabulary())
    with tempfile.TemporaryDirectory(prefix="ragkube-scale-") as tmp:
        work = Path(tmp)
        for size in sizes:
            seed = work / f"seed-{size}"
            seed.mkdir()
            procs = Processes()
            try:
                _, port = start_chroma(procs, seed / "chroma", seed)
                rate = fill_chroma(port, corpus, size)
            finally:
                procs.stop_all()
            print(f"{size:,} chunks written straight into Chroma at {rate:,.0f} chunks/s")
            results: dict[str, Figures] = {}
            for design in designs:
                if design == "old" and size > BASELINE_MAX_SIZE:
                    continue
                began = time.monotonic()
                run = work / f"{design}-{size}"
                run.mkdir()
                results[design] = run_design(design, size, seed / "chroma", corpus, args, run)
                load = Path("/proc/loadavg").read_text().split()[:3]
                print(f"  {design}: {time.monotonic() - began:.0f}s, load average {load}")
                sys.stdout.flush()
            print_table(size, results)
            shutil.rmtree(seed, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
