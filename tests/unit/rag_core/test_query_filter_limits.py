"""Filters are checked in one place, for shape and for size, before any store sees them."""

from __future__ import annotations

from typing import Any

import pytest

from rag_core.errors import InvalidQuery, LimitExceeded
from rag_core.filters import (
    DEFAULT_MAX_FILTER_KEYS,
    DEFAULT_MAX_FILTER_VALUES,
    validate_filters,
)
from rag_core.settings import RagSettings


def test_filters_at_the_default_limits_are_accepted() -> None:
    validate_filters({f"k{n}": "v" for n in range(DEFAULT_MAX_FILTER_KEYS)})
    validate_filters({"team": {"$in": [f"t{n}" for n in range(DEFAULT_MAX_FILTER_VALUES)]}})


def test_one_field_too_many_names_the_limit_and_its_value() -> None:
    with pytest.raises(LimitExceeded) as caught:
        validate_filters({f"k{n}": "v" for n in range(DEFAULT_MAX_FILTER_KEYS + 1)})
    assert (caught.value.limit, caught.value.maximum) == ("max_filter_keys", 16)
    assert "16" in str(caught.value)


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param({"team": {"$in": list(range(257))}}, id="one long $in"),
        pytest.param(
            {"a": {"$in": list(range(200))}, "b": {"$in": list(range(57))}}, id="two $in lists"
        ),
        pytest.param({"team": {"$in": list(range(800_000))}}, id="800k values"),
    ],
)
def test_values_are_counted_across_the_whole_filter(filters: dict[str, Any]) -> None:
    with pytest.raises(LimitExceeded) as caught:
        validate_filters(filters)
    assert (caught.value.limit, caught.value.maximum) == ("max_filter_values", 256)


def test_the_limits_are_settable() -> None:
    with pytest.raises(LimitExceeded) as caught:
        validate_filters({"a": 1, "b": 2, "c": 3}, RagSettings(max_filter_keys=2))
    assert caught.value.maximum == 2
    with pytest.raises(LimitExceeded):
        validate_filters({"a": {"$in": [1, 2, 3]}}, RagSettings(max_filter_values=2))
    validate_filters({"a": {"$in": list(range(1000))}}, RagSettings(max_filter_values=1000))


@pytest.mark.parametrize("field", ["#document", "#embedding", "$and", "", "x" * 201], ids=repr)
def test_fields_no_document_can_carry_are_refused_in_our_own_words(field: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        validate_filters({field: "x"})
    assert not isinstance(caught.value, LimitExceeded)
    assert "is not a metadata field name" in str(caught.value)


@pytest.mark.parametrize(
    "values",
    [[1, "x"], [1, 2.5], [True, 1], ["a", False]],
    ids=["number and text", "integer and decimal", "boolean and integer", "text and boolean"],
)
def test_an_in_list_mixing_value_types_is_refused(values: list[object]) -> None:
    with pytest.raises(InvalidQuery, match="mixes value types"):
        validate_filters({"k": {"$in": values}})


@pytest.mark.parametrize(
    "filters",
    [
        {"k": {"$in": []}},
        {"k": {"$gt": 3}},
        {"k": {"$in": [1], "$nin": [2]}},
        {"k": ["a"]},
        {"k": float("nan")},
        {"k": 2**64},
        {"k": {"$in": ["\ud800"]}},
    ],
    ids=repr,
)
def test_conditions_no_metadata_can_satisfy_are_invalid_queries(filters: dict[str, Any]) -> None:
    with pytest.raises(InvalidQuery):
        validate_filters(filters)
