"""Metadata filters of a query: the one place their shape and their size are checked.

A filter is `{"field": value}` or `{"field": {"$in": [values]}}`, fields ANDed. Every
retrieval mode (dense in Chroma, lexical in the BM25 index, hybrid in both) runs a filter
only after `validate_filters` accepted it, so each mode gives the same answer to the same
filter, and neither store ever sees one it would fail on in its own words.

The size bounds exist because a filter's cost grows with it in both stores: Chroma turns
every value into an SQL variable (SQLite fails past 32,766 with "too many SQL variables",
which used to come back as a retryable 503), and the lexical index does work per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rag_core.documents import is_storable_metadata_value, is_valid_unicode
from rag_core.errors import InvalidQuery, LimitExceeded

if TYPE_CHECKING:  # rag_core.settings takes its defaults from here
    from rag_core.settings import RagSettings

#: Filter fields per query. Real metadata has a handful of fields (team, topic, source,
#: document_id); 16 leaves room for any sensible AND of them.
DEFAULT_MAX_FILTER_KEYS = 16
#: Values in a query's filters altogether (an equality counts one, an `$in` its list's
#: length). 256 holds an access list of a few hundred documents or teams; past that, a
#: metadata field that groups them is the better filter.
DEFAULT_MAX_FILTER_VALUES = 256
#: Longest field name, as for the metadata keys a document may carry.
MAX_FIELD_CHARS = 200
#: Chroma's own namespaces: `#document`, `#embedding` and the like name its internal columns,
#: `$and`, `$in` its operators. No document can carry such a key (see METADATA_KEY_PATTERN).
RESERVED_FIELD_PREFIXES = ("#", "$")


def is_filter_field(field: object) -> bool:
    """True for a name a document's metadata can hold (and so a filter can test)."""
    return (
        isinstance(field, str)
        and 0 < len(field) <= MAX_FIELD_CHARS
        and not field.startswith(RESERVED_FIELD_PREFIXES)
        and is_valid_unicode(field)
    )


def validate_filters(
    filters: Mapping[str, Any] | None, settings: RagSettings | None = None
) -> None:
    """Accept scalar equalities and same-typed `$in` lists within the deployment's limits;
    otherwise raise `InvalidQuery` (a field or value no metadata can hold) or `LimitExceeded`.

    Cheap whatever the input (it stops at the first limit crossed), so callers run it before
    anything that costs in proportion to the filters, such as hashing them for a cache key.
    """
    if not filters:
        return
    max_keys = settings.max_filter_keys if settings else DEFAULT_MAX_FILTER_KEYS
    max_values = settings.max_filter_values if settings else DEFAULT_MAX_FILTER_VALUES
    if len(filters) > max_keys:
        raise LimitExceeded(
            f"The filters name {len(filters)} fields; at most {max_keys} are allowed.",
            limit="max_filter_keys",
            maximum=max_keys,
        )
    total = 0
    for field, condition in filters.items():
        if not is_filter_field(field):
            raise InvalidQuery(
                f"Filter field {field!r} is not a metadata field name (1 to {MAX_FIELD_CHARS} "
                "characters, not starting with '#' or '$')."
            )
        values = _values(field, condition)
        total += len(values)
        if total > max_values:
            raise LimitExceeded(
                f"The filters hold more than {max_values} values; at most {max_values} are "
                "allowed altogether.",
                limit="max_filter_values",
                maximum=max_values,
            )
        # Only values a document's metadata can hold: anything else (a 65-bit integer, NaN,
        # a lone surrogate) can match nothing, and the vector store fails on some of them.
        if not all(is_storable_metadata_value(v) for v in values):
            raise InvalidQuery(
                f"Filter on {field!r} must be a string, a finite 64-bit number or a boolean"
                + (" in each value." if isinstance(condition, Mapping) else ".")
            )
        # Chroma refuses an `$in` whose values differ in type (1 and 2.5 included); the lexical
        # index would have matched them, so both modes refuse it alike.
        if len({type(v) for v in values}) > 1:
            raise InvalidQuery(
                f"The $in list of filter {field!r} mixes value types; use strings only, "
                "integers only, decimals only or booleans only."
            )


def _values(field: str, condition: object) -> list[Any]:
    """The values a condition allows: one for an equality, the list of an `$in`."""
    if not isinstance(condition, Mapping):
        return [condition]
    values = condition.get("$in")
    if set(condition) != {"$in"} or not isinstance(values, list | tuple):
        raise InvalidQuery(f"Filter on {field!r} must be a value or {{'$in': [values]}}.")
    if not values:
        raise InvalidQuery(f"The $in list of filter {field!r} is empty; it would match nothing.")
    return list(values)
