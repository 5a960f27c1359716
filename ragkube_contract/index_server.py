"""What the lexical index server offers, and what its clients (the API pods) need to reach it.

The index server is the storage tier's lexical half: one authoritative tantivy index per
RagDeployment, beside Chroma, reached over HTTP with the deployment's generated token. The
server (`ragkube_index`), its client (`rag_core.lexical_client`) and the operator all read
these names from here.
"""

from typing import Final

#: Port the index server listens on (HTTP).
INDEX_PORT: Final = 8100
#: Liveness: the process answers. Readiness: the index is open and answers a search.
INDEX_LIVENESS_PATH: Final = "/health"
INDEX_READINESS_PATH: Final = "/ready"
#: Every index route is under one collection (the RagDeployment's Chroma collection name), so
#: one server can hold several deployments' or tests' indexes side by side.
COLLECTION_PREFIX: Final = "/v1/collections/{collection}"
#: POST {"chunks": [{"id", "text", "metadata"}]} -> {"upserted": n}
CHUNKS_PATH: Final = COLLECTION_PREFIX + "/chunks"
#: POST {"document_id", "from_position"} -> {"deleted": true}
DELETE_PATH: Final = COLLECTION_PREFIX + "/documents/delete"
#: POST {"ids": [...]} -> {"deleted": n}
DELETE_CHUNKS_PATH: Final = COLLECTION_PREFIX + "/chunks/delete"
#: POST {"query", "k", "filters"}
#:   -> {"hits": [{"id", "score"}], "keyword_query", "all_terms_matches"}
SEARCH_PATH: Final = COLLECTION_PREFIX + "/search"
#: GET -> {"chunk_ids": [...]} (what the consistency check compares)
DOCUMENT_CHUNKS_PATH: Final = COLLECTION_PREFIX + "/documents/{document_id}/chunk-ids"
#: GET -> {"chunks": n}
STATS_PATH: Final = COLLECTION_PREFIX + "/stats"
#: GET -> {"identity": {...} | null}; PUT {"identity": {...}} -> {"identity": {...}}: the
#: manifest of what built the collection's index (rag_core.index_identity), kept with it.
IDENTITY_PATH: Final = COLLECTION_PREFIX + "/identity"
#: A collection name the server accepts (also its directory name on the volume).
COLLECTION_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

#: The index server's settings (environment variables of its container).
INDEX_DATA_DIR_ENV: Final = "INDEX_DATA_DIR"
INDEX_AUTH_TOKEN_ENV: Final = "INDEX_AUTH_TOKEN"  # noqa: S105 (a variable name)
INDEX_HOST_ENV: Final = "INDEX_HOST"
INDEX_PORT_ENV: Final = "INDEX_PORT"
#: An API pod's settings for reaching it (unset: the index runs in-process under DATA_DIR).
LEXICAL_INDEX_URL_ENV: Final = "LEXICAL_INDEX_URL"
LEXICAL_INDEX_TOKEN_ENV: Final = "LEXICAL_INDEX_TOKEN"  # noqa: S105 (a variable name)
#: Upper bounds a request to the index server must keep (the server refuses more with 413/422).
MAX_CHUNKS_PER_WRITE: Final = 5000
MAX_SEARCH_RESULTS: Final = 1000
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
