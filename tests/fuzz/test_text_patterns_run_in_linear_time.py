"""Every regular expression rag_core and the API apply to user text runs in linear time.

Each target below is a real function that applies patterns to text a caller controls (a
document, a query, an answer, a log line). Hypothesis builds adversarial texts for it from
the pieces its patterns care about: a prefix, one short unit repeated, a suffix — the shape
of every backtracking blow-up (`"# a" + "#" * n + "b"` took 22 s in the old heading rule).
Each text is timed at sizes growing fourfold; a pattern fails when a size costs more than a
generous linear allowance, or when growing fourfold costs more than tenfold once the time
is large enough to measure. Quadratic patterns fail at 16,000 characters within seconds
(cubic ones at 1,000), so a regression never hangs the suite.

The guardrails' patterns are imported, not copied, so the test covers whatever they are.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from api.logging import redact_secrets
from api.routes.documents import sanitize_filename
from rag_core.answers import Source
from rag_core.chunking import ChunkingOptions, chunk_documents
from rag_core.documents import DocumentInput, LoadedDocument
from rag_core.embeddings import bundled_model_dir
from rag_core.grounding import cited_numbers, grounding_score, split_sentences
from rag_core.guardrails import BUILT_IN_PATTERNS, Guardrails
from rag_core.lexical_index import Analyzer
from rag_core.loading import load_document, markdown_title

SIZES = (1_000, 4_000, 16_000, 64_000)
#: Seconds per character a linear target may take at any size (the slowest, chunking with
#: the real tokenizer, takes about a tenth of this), plus a fixed allowance for noise.
SECONDS_PER_CHAR = 25e-6
SLACK_SECONDS = 0.05
#: Growing the text fourfold may cost at most this factor (linear is 4, quadratic 16) ...
MAX_GROWTH = 10.0
#: ... once the larger run takes long enough for the ratio to mean something.
MEASURABLE_SECONDS = 0.1

MARKDOWN = ["#", "# ", "## ", " ", "\t", "\n", "\n\n", "a", "b", ".", ")", '"', "!", "- "]
HTML = ["<", "<a", "</", ">", "<!--", "-->", "&", "&#", ";", "<p>", "<div>", "=", '"', "'", " "]
SECRETS = ["eyJ", "a", ".", "rk_", "-", "_", "bearer", " ", "redis://", "rediss://", ":", "@"]
QUERY = [
    "show",
    "reveal",
    "ignore",
    "previous",
    "act",
    "as",
    "if",
    "you",
    "are",
    "how to",
    "api keys",
    "password",
    "1",
    "-",
    " ",
    "\n",
    "\t",
    "\u200b",
    ".",
    "new instructions",
    "<",
    "[",
    "INST",
]
ANSWER = ["[", "1", "]", ".", " ", "\n", ")", '"', "A", "a", "!", "?", "(", "'"]
FILE_NAMES = ["a", ".", " ", "/", "\\", "\u202e", "é", "*", "-"]


@functools.cache
def _tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(bundled_model_dir()))


def _chunk(text: str) -> object:
    document = LoadedDocument("d", text, None, None, {}, "h")
    return chunk_documents([document], _tokenizer(), ChunkingOptions())


def _load(content_type: str) -> Callable[[str], object]:
    return lambda text: load_document(DocumentInput(text, content_type=content_type), 0, 1 << 30)


def _search_all(text: str) -> object:
    return [pattern.search(text) for pattern in BUILT_IN_PATTERNS]


def _ground(text: str) -> object:
    sources = [Source(text, 1.0, {})]
    return cited_numbers(text), split_sentences(text), grounding_score(text, sources)


TARGETS = [
    pytest.param(_chunk, MARKDOWN, id="chunking (headings, breaks)"),
    pytest.param(markdown_title, MARKDOWN, id="markdown title"),
    pytest.param(_load("text/plain"), MARKDOWN, id="plain text whitespace"),
    pytest.param(_load("text/markdown"), MARKDOWN, id="markdown document"),
    pytest.param(_load("text/html"), HTML, id="html document"),
    pytest.param(_search_all, QUERY, id="guardrail patterns"),
    pytest.param(Guardrails().check_input, QUERY, id="guardrails on a query"),
    pytest.param(_ground, ANSWER, id="citations and sentences"),
    pytest.param(Analyzer().terms, QUERY, id="lexical analyzer"),
    pytest.param(lambda t: redact_secrets(None, "info", {"event": t}), SECRETS, id="log scrub"),
    pytest.param(sanitize_filename, FILE_NAMES, id="upload file names"),
]


def _text(prefix: str, unit: str, suffix: str, size: int) -> str:
    repeats = max(1, (size - len(prefix) - len(suffix)) // len(unit))
    return prefix + unit * repeats + suffix


def _seconds(run: Callable[[str], object], text: str) -> float:
    started = time.perf_counter()
    run(text)
    return time.perf_counter() - started


def _pieces(alphabet: list[str], min_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), min_size=min_size, max_size=4).map("".join)


@pytest.mark.parametrize(("run", "alphabet"), TARGETS)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    # A failing example is already small; shrinking would rerun slow inputs many times.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
@example(data=("# a", "#", "b"))
@example(data=("# a", " ", "b"))
@example(data=("", "eyJ", ""))
@example(data=("redis://", ":", ""))
@example(data=("", "<a", ""))
@example(data=("act", " ", "x"))
@example(data=("[", "1", "]"))
def test_time_grows_linearly_with_the_text(
    run: Callable[[str], object], alphabet: list[str], data: Any
) -> None:
    if isinstance(data, tuple):
        prefix, unit, suffix = data
    else:
        prefix = data.draw(_pieces(alphabet, 0), label="prefix")
        unit = data.draw(_pieces(alphabet, 1), label="unit")
        suffix = data.draw(_pieces(alphabet, 0), label="suffix")
    previous = None
    for size in SIZES:
        text = _text(prefix, unit, suffix, size)
        seconds = _seconds(run, text)
        # A slow run is measured twice more and the best counts: on a shared machine one run
        # can lose a core for a while, but a superlinear pattern is slow every time.
        for _ in range(2):
            if _slowness(seconds, previous, len(text)) is None:
                break
            seconds = min(seconds, _seconds(run, text))
        slowness = _slowness(seconds, previous, len(text))
        assert slowness is None, f"{prefix!r} + {unit!r} * n + {suffix!r}: {slowness}"
        previous = max(seconds, 1e-6)


def _slowness(seconds: float, previous: float | None, chars: int) -> str | None:
    """What is wrong with taking `seconds` for `chars` characters, if anything."""
    if seconds > SECONDS_PER_CHAR * chars + SLACK_SECONDS:
        return f"{seconds:.3f} s for {chars} characters"
    if previous is not None and seconds > MEASURABLE_SECONDS and seconds / previous > MAX_GROWTH:
        return f"{seconds:.3f} s for {chars} characters, {seconds / previous:.0f}x a quarter"
    return None
