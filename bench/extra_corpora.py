"""More BEIR-format corpora, built from text this machine already has, to check fusion off SciFact.

    .venv/bin/python bench/extra_corpora.py OUT_DIR
    .venv/bin/ragkube eval --dataset OUT_DIR/<name>        # for each folder it writes

The fusion rule is "never more than 0.01 nDCG@10 below the better of dense and lexical on
the same corpus"; bench/fusion_robustness.py weakens one side of SciFact, and these are real
corpora of other kinds, each query judged against the one document it was taken from:

- debian-descriptions: a package's one-line synopsis finds its long description (titled
  with the package name);
- debian-names: the package name, as words, finds its long description (untitled);
- debian-keywords: three rare words of a description find it (short keyword queries for
  rare terms, where BM25 is far stronger than the dense model);
- debian-synopsis-words: three content words of the synopsis, in random order, find the
  description of debian-descriptions (keyword queries whose words the description may not
  contain, so BM25 has no sure match);
- python-docstrings: a docstring's summary line finds the rest of it (titled with the
  qualified name), from the standard library and packages installed in the environment.

Debian descriptions come from apt's English translation index; when it is missing, run
`apt-get update -o Acquire::Languages=en` first. Documents whose text (or query) is shared
with another are left out, so every query has exactly one right answer.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import inspect
import json
import pkgutil
import random
import re
import subprocess
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

DOCUMENTS = 5000
QUERIES = 300
APT_LISTS = Path("/var/lib/apt/lists")
#: Packages whose docstrings join the standard library's (when installed).
PYTHON_PACKAGES = ("numpy", "torch", "pydantic", "httpx", "starlette", "fastapi", "redis", "kopf")


@dataclass(frozen=True)
class Item:
    """One document and the query judged against it."""

    id: str
    title: str
    text: str
    query: str


def write_beir(folder: Path, corpus: list[Item], queries: list[Item]) -> None:
    """corpus.jsonl, queries.jsonl and qrels/test.tsv, one relevant document per query."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for item in corpus:
            out.write(json.dumps({"_id": item.id, "title": item.title, "text": item.text}) + "\n")
    with (
        (folder / "queries.jsonl").open("w", encoding="utf-8") as out,
        (folder / "qrels" / "test.tsv").open("w", encoding="utf-8") as qrels,
    ):
        qrels.write("query-id\tcorpus-id\tscore\n")
        for number, item in enumerate(queries):
            out.write(json.dumps({"_id": f"q{number}", "text": item.query}) + "\n")
            qrels.write(f"q{number}\t{item.id}\t1\n")


def unique(items: Iterable[Item], seed: int) -> list[Item]:
    """Items whose text opening and query no other item shares, in a seeded random order."""
    items = list(items)
    openings = collections.Counter(item.text[:150] for item in items)
    queries = collections.Counter(item.query.lower() for item in items)
    kept = sorted(
        (i for i in items if openings[i.text[:150]] == 1 and queries[i.query.lower()] == 1),
        key=lambda item: item.id,
    )
    random.Random(seed).shuffle(kept)
    return kept


def debian_packages() -> dict[str, tuple[str, str]]:
    """Package name -> (synopsis, long description) from apt's English translation index."""
    indexes = sorted(APT_LISTS.glob("*_i18n_Translation-en*"))
    if not indexes:
        sys.exit("no apt Translation-en index: run `apt-get update -o Acquire::Languages=en`")
    packages: dict[str, tuple[str, str]] = {}
    for index in indexes:
        text = subprocess.run(
            ["/usr/lib/apt/apt-helper", "cat-file", str(index)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for block in text.split("\n\n"):
            name = re.search(r"^Package: (.+)$", block, re.MULTILINE)
            description = re.search(r"^Description-en: (.+)\n((?: .*\n?)*)", block, re.MULTILINE)
            if name is None or description is None:
                continue
            lines = description.group(2).splitlines()
            body = "\n".join("" if line.strip() == "." else line[1:] for line in lines).strip()
            if len(body.split()) >= 25:
                packages[name.group(1)] = (description.group(1).strip(), body)
    return packages


def rare_words(
    text: str, name: str, document_frequency: collections.Counter[str], limit: int
) -> str | None:
    """Three of the rarest words of `text` (in 2 to `limit` documents, not in `name`)."""
    candidates = set(re.findall(r"[a-z]{4,}", text.lower()))
    words = sorted(
        (w for w in candidates if 2 <= document_frequency[w] <= limit and w not in name),
        key=lambda word: (document_frequency[word], word),
    )
    return " ".join(words[1:4]) if len(words) >= 4 else None


def debian_corpora(out: Path) -> None:
    """The four Debian corpora."""
    packages = debian_packages()
    described = unique(
        (Item(name, name, body, synopsis) for name, (synopsis, body) in packages.items()), seed=7
    )[:DOCUMENTS]
    write_beir(out / "debian-descriptions", described, described[:QUERIES])

    untitled = [Item(i.id, "", i.text, i.id.replace("-", " ")) for i in described]
    named = [i for i in untitled if _name_word(i.id) in i.text.lower()]
    write_beir(out / "debian-names", untitled, named[:QUERIES])

    frequency: collections.Counter[str] = collections.Counter()
    for item in described:
        frequency.update(set(re.findall(r"[a-z]{4,}", item.text.lower())))
    keyword_items = []
    for item in described:
        words = rare_words(item.text, item.id.lower(), frequency, len(described) // 50)
        if words is not None:
            keyword_items.append(Item(item.id, "", item.text, words))
    corpus = [Item(i.id, "", i.text, i.query) for i in described]
    write_beir(out / "debian-keywords", corpus, keyword_items[:QUERIES])

    rnd = random.Random(3)
    worded = []
    for item in described[:QUERIES]:
        content = synopsis_words(item.query)
        picked = " ".join(rnd.sample(content, min(3, len(content))))
        worded.append(Item(item.id, item.title, item.text, picked))
    write_beir(out / "debian-synopsis-words", described, [i for i in worded if i.query])


def synopsis_words(synopsis: str) -> list[str]:
    """The distinct content words of a synopsis (no function words, no bare numbers)."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    words = re.findall(r"\w+", synopsis.lower())
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS_EN_PLUS and not w.isdigit()))


def _name_word(package: str) -> str:
    """The distinctive word of a package name (without lib, python3-, ... prefixes)."""
    stem = re.sub(r"^(lib|python3-|golang-|r-cran-|node-|ruby-)", "", package)
    return stem.split("-")[0].lower()


def _load(name: str) -> ModuleType | None:
    """The module, or None when it cannot be imported here (a missing optional dependency)."""
    try:
        return importlib.import_module(name)
    except Exception:
        return None


def python_modules() -> Iterator[str]:
    """Names of the standard library's and PYTHON_PACKAGES' public modules."""
    bases = [n for n in sorted(sys.stdlib_module_names) if not n.startswith("_")]
    for base in [*bases, *PYTHON_PACKAGES]:
        yield base
        module = _load(base)
        if module is None:
            continue
        for info in pkgutil.walk_packages(
            getattr(module, "__path__", []), base + ".", lambda _: None
        ):
            parts = info.name.split(".")[1:]
            if not any(p.startswith("_") or p in ("test", "tests", "testing") for p in parts):
                yield info.name


def docstring_items() -> Iterator[Item]:
    """(qualified name, summary line, rest) of documented public functions and classes."""
    skip = ("test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip", "antigravity")
    for name in dict.fromkeys(python_modules()):
        if name.startswith(skip) or name == "this":
            continue
        module = _load(name)
        if module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if attribute.startswith("_"):
                continue
            found = [(f"{name}.{attribute}", value)]
            if inspect.isclass(value) and getattr(value, "__module__", "") == name:
                found += [
                    (f"{name}.{attribute}.{member}", method)
                    for member, method in vars(value).items()
                    if not member.startswith("_") and callable(method)
                ]
            for qualified, obj in found:
                if getattr(obj, "__module__", name) != name:
                    continue
                item = _docstring_item(qualified, inspect.getdoc(obj))
                if item is not None:
                    yield item


def _docstring_item(qualified: str, doc: str | None) -> Item | None:
    summary, _, rest = (doc or "").partition("\n\n")
    summary, rest = " ".join(summary.split()), rest.strip()
    if len(summary.split()) < 4 or len(rest.split()) < 20:
        return None
    return Item(qualified, qualified, rest, summary)


def python_corpus(out: Path) -> None:
    """The Python docstrings corpus."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        items = unique(docstring_items(), seed=5)[:DOCUMENTS]
    write_beir(out / "python-docstrings", items, items[: QUERIES * 3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    debian_corpora(args.out)
    python_corpus(args.out)
    for folder in sorted(p for p in args.out.iterdir() if p.is_dir()):
        documents = sum(1 for _ in (folder / "corpus.jsonl").open())
        queries = sum(1 for _ in (folder / "queries.jsonl").open())
        print(f"{folder}: {documents} documents, {queries} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
