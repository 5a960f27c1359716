"""The API process tunes glibc malloc for a flat RSS under load; explicit settings win."""

from __future__ import annotations

import os

import pytest

from api.serve import MALLOC_TUNING, tune_malloc


def test_malloc_is_tuned_here_and_for_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, _, _ in MALLOC_TUNING:
        monkeypatch.delenv(variable, raising=False)

    applied = tune_malloc()

    assert applied is True  # the images and CI run on glibc (Debian)
    assert os.environ["MALLOC_ARENA_MAX"] == "2"
    assert os.environ["MALLOC_MMAP_THRESHOLD_"] == str(512 * 1024)


def test_an_explicit_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "6")

    tune_malloc()

    assert os.environ["MALLOC_ARENA_MAX"] == "6"
