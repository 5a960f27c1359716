"""Chunks respect the token budget of the model, break at structure, and overlap."""

from __future__ import annotations

import itertools

import pytest

from rag_core.chunking import ChunkingOptions, chunk_documents
from rag_core.documents import LoadedDocument
from rag_core.embeddings import LocalEmbedder


def document(text: str, title: str | None = None) -> LoadedDocument:
    return LoadedDocument(
        id="doc",
        text=text,
        source="doc.md",
        title=title,
        metadata={"team": "ops"},
        content_hash="h",
    )


def tokens(embedder: LocalEmbedder, text: str) -> int:
    return len(embedder.tokenizer(text, add_special_tokens=False)["input_ids"])


def test_a_short_document_is_one_chunk_with_full_metadata(embedder: LocalEmbedder) -> None:
    [chunks] = chunk_documents(
        [document("Pods run containers.", title="Workloads")], embedder.tokenizer, ChunkingOptions()
    )
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.id == "doc::0"
    assert chunk.text == "Pods run containers."
    assert chunk.embed_text == "Workloads\nPods run containers."
    assert chunk.metadata == {
        "team": "ops",
        "document_id": "doc",
        "source": "doc.md",
        "title": "Workloads",
        "position": 0,
        "chunks": 1,
        "section": "",
        "title_prefixed": True,
        "content_hash": "h",
    }


def test_chunks_never_exceed_the_token_budget_including_the_title(
    embedder: LocalEmbedder,
) -> None:
    sentences = " ".join(
        f"Sentence number {n} talks about replicas and probes." for n in range(200)
    )
    options = ChunkingOptions(chunk_size=64, chunk_overlap=8)
    [chunks] = chunk_documents(
        [document(sentences, title="Long title")], embedder.tokenizer, options
    )
    assert len(chunks) > 10
    for chunk in chunks:
        assert tokens(embedder, chunk.embed_text) <= 64 + 1  # +1: the joining newline
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.metadata["chunks"] == len(chunks) for c in chunks)


def test_chunks_break_at_sentence_ends_and_overlap(embedder: LocalEmbedder) -> None:
    sentences = " ".join(f"Fact {n} is about scheduling pods on nodes." for n in range(60))
    options = ChunkingOptions(chunk_size=48, chunk_overlap=12)
    [chunks] = chunk_documents([document(sentences)], embedder.tokenizer, options)
    for chunk in chunks[:-1]:
        assert chunk.text.endswith(".")
    for earlier, later in itertools.pairwise(chunks):
        first_sentence = later.text.split(". ")[0]
        assert first_sentence in earlier.text  # the overlap repeats the previous sentence


def test_headings_start_new_chunks_and_name_their_section(embedder: LocalEmbedder) -> None:
    body = " ".join(["Autoscaling adds replicas when load grows."] * 6)
    text = (
        f"# Guide\n\n## Scaling\n\n{body}\n\n## Storage\n\n{body.replace('Autoscaling', 'Storage')}"
    )
    options = ChunkingOptions(chunk_size=80, chunk_overlap=0)
    [chunks] = chunk_documents([document(text)], embedder.tokenizer, options)
    storage = [c for c in chunks if c.metadata["section"] == "Storage"]
    assert storage
    assert storage[0].text.startswith("## Storage")


def test_text_without_breaks_is_still_cut_within_budget(embedder: LocalEmbedder) -> None:
    text = "word " * 500
    [chunks] = chunk_documents([document(text)], embedder.tokenizer, ChunkingOptions(32, 4))
    assert all(tokens(embedder, c.text) <= 32 for c in chunks)
    assert chunks[-1].text.endswith("word")


@pytest.mark.parametrize(("size", "overlap"), [(8, 0), (64, 40), (64, -1)])
def test_impossible_options_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="chunk"):
        ChunkingOptions(size, overlap)


@pytest.mark.parametrize(
    "text",
    [
        "aGVsbG8gd29ybGQ" * 400,  # one 6,000-character "word" (a base64 blob)
        "ภาษาไทยไม่เว้นวรรคระหว่างคำ" * 200 + ". จบ",  # Thai: no spaces between words
    ],
    ids=["blob", "thai"],
)
def test_text_the_tokenizer_cannot_split_still_makes_bounded_chunks(
    embedder: LocalEmbedder, text: str
) -> None:
    # The tokenizer maps a word of over 100 characters to one [UNK] token spanning all of it;
    # counted as one token, the whole document would be one chunk of any length.
    options = ChunkingOptions(chunk_size=64, chunk_overlap=8)
    [chunks] = chunk_documents([document(text)], embedder.tokenizer, options)
    assert len(chunks) > 1
    assert max(len(chunk.text) for chunk in chunks) <= 64 * 4
    assert chunks[0].text == text[: len(chunks[0].text)]
    assert text.endswith(chunks[-1].text)
    assert sum(len(chunk.text) for chunk in chunks) >= len(text)  # nothing left out
