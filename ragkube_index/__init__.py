"""The lexical index server: the storage tier's one authoritative BM25 index of a deployment.

API pods reach it over HTTP (`rag_core.lexical_client`); it holds a tantivy index on its own
volume (`rag_core.tantivy_lexical_index`), so API pods keep no corpus-sized state and never
re-read the collection. Run it with `python -m ragkube_index`.
"""
