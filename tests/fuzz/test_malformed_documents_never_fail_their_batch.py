"""One bad document never fails its batch: malformed documents of every format, mixed into
batches of valid ones and uploaded to a real API process (real Chroma, Redis and model),
never get a 5xx, and every valid document of the batch is stored and readable.

Each format has its own generator of malformed input: bytes that are not text, Markdown
heading bombs, broken or deeply nested HTML, mutated and truncated PDFs and PDFs whose
stream has an unknown /Filter, JSON with numbers Python refuses, nesting past the limit,
ids that break the id rule, records that are not objects, and JSONL mixing all of these.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support.api_harness import SERVICE_KEY
from tests.support.api_process import ApiProcess, api_process, pod_env
from tests.support.hostile_documents import pdf_sharing_one_stream
from tests.support.services import ChromaServer

HEADERS = {"X-API-Key": SERVICE_KEY}
File = tuple[str, bytes, str]
VALID_PDF = pdf_sharing_one_stream(pages=1, lines=2)


@pytest.fixture(scope="module")
def document_api(
    chroma_server: ChromaServer,
    redis_url: str,
    users_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiProcess]:
    directory = tmp_path_factory.mktemp("malformed")
    env = pod_env(
        chroma_server,
        users_file,
        directory / "data",
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=f"bad:{uuid.uuid4().hex[:8]}",
        PARSE_TIMEOUT_SECONDS="5",
    )
    with api_process(env, directory) as api:
        yield api


@st.composite
def mutated_pdf(draw: st.DrawFn) -> bytes:
    """A valid PDF truncated, or with a few bytes overwritten."""
    if draw(st.booleans()):
        return VALID_PDF[: draw(st.integers(1, len(VALID_PDF) - 1))]
    out = bytearray(VALID_PDF)
    for _ in range(draw(st.integers(1, 8))):
        out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


@st.composite
def malformed_pdf(draw: st.DrawFn) -> File:
    data = draw(
        st.one_of(
            st.just(pdf_sharing_one_stream(1, 3, b"/NoSuchDecode")),
            mutated_pdf(),
            st.binary(max_size=200).map(lambda tail: b"%PDF-1.4\n" + tail),
        )
    )
    return ("broken.pdf", data, "application/pdf")


def _json_texts() -> st.SearchStrategy[str]:
    bad_ids = st.sampled_from(["../../etc/passwd", "a\nb", "x\u202ey", "z" * 5000, "..", ""])
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
    return st.one_of(
        st.integers(4301, 6000).map(lambda n: '{"text": "t", "n": ' + "7" * n + "}"),
        st.integers(257, 600).map(lambda n: '{"text": "t", "x": ' + "[" * n + "]" * n + "}"),
        bad_ids.map(lambda i: json.dumps({"id": i, "text": "bad id"})),
        st.lists(scalars, max_size=4).map(json.dumps),  # records that are not objects
        st.text(max_size=40).map(lambda t: '{"text": ' + t),  # broken JSON
        st.just('{"text": "\\ud800 lone surrogate"}'),
        st.dictionaries(st.text(max_size=8), scalars, max_size=4).map(json.dumps),
    )


@st.composite
def malformed_json(draw: st.DrawFn) -> File:
    if draw(st.booleans()):
        return ("records.json", draw(_json_texts()).encode(), "application/json")
    lines = draw(st.lists(_json_texts(), min_size=1, max_size=4))
    return ("records.jsonl", "\n".join(lines).encode(), "application/x-ndjson")


HTML_PIECES = ["<", "<a", "</", ">", "<!--", "&#", "&", "<p>", "<div>", "<script>", "x", " "]


@st.composite
def malformed_html(draw: st.DrawFn) -> File:
    text = draw(
        st.one_of(
            st.lists(st.sampled_from(HTML_PIECES), max_size=300).map("".join),
            st.integers(257, 3000).map(lambda n: "<div>" * n + "deep"),
            st.sampled_from(HTML_PIECES).map(lambda piece: piece * 20_000),
        )
    )
    return ("page.html", text.encode(), "text/html")


@st.composite
def malformed_text(draw: st.DrawFn) -> File:
    data = draw(
        st.one_of(
            st.binary(max_size=300),
            st.integers(100, 30_000).map(lambda n: ("# a" + "#" * n + "b").encode()),
            st.just(b"\xff\xfe\x00\x00broken"),
            st.just(b"   \n\t  "),
        )
    )
    name, kind = draw(st.sampled_from([("notes.txt", "text/plain"), ("notes.md", "text/markdown")]))
    return (name, data, kind)


MALFORMED = st.one_of(malformed_pdf(), malformed_json(), malformed_html(), malformed_text())


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    malformed=st.lists(MALFORMED, min_size=1, max_size=4),
    valid_count=st.integers(1, 3),
    order=st.randoms(use_true_random=False),
)
def test_valid_documents_are_stored_whatever_their_batch_holds(
    document_api: ApiProcess, malformed: list[File], valid_count: int, order: object
) -> None:
    marker = uuid.uuid4().hex
    valid: list[File] = [
        (
            f"valid-{marker}-{n}.txt",
            f"Rivers {marker} carry water, part {n}.".encode(),
            "text/plain",
        )
        for n in range(valid_count)
    ]
    files = valid + malformed
    order.shuffle(files)  # type: ignore[attr-defined]
    response = httpx.post(
        f"{document_api.url}/documents",
        files=[("files", file) for file in files],
        headers=HEADERS,
        timeout=120,
    )
    assert response.status_code in (201, 207), response.text
    results = {r["source"]: r for r in response.json()["results"] if r["source"]}
    for name, _, _ in valid:
        assert results[name]["ok"], results[name]
        document_id = results[name]["document_id"]
        stored = httpx.get(
            f"{document_api.url}/documents/{quote(document_id, safe='')}", headers=HEADERS
        )
        assert stored.status_code == 200, stored.text
    assert document_api.process.poll() is None  # the server is still up
