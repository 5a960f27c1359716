"""Documents: ingest (JSON batch or multipart upload), list, read, delete."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.deps import IngestCaller, QueryCaller, RagDep, RequestInfoDep, ServicesDep
from api.errors import ApiError
from api.models import (
    METADATA_KEY_PATTERN,
    DocumentBatch,
    DocumentDetail,
    DocumentOriginalOut,
    DocumentOut,
    DocumentPage,
    IngestResponse,
    IngestResultOut,
)
from rag_core.documents import (
    DocumentInput,
    DocumentOriginal,
    MetadataValue,
    is_storable_metadata_value,
    is_valid_unicode,
)

router = APIRouter(prefix="/documents", tags=["documents"])

MAX_UPLOAD_FILES = 50
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ \-]+")

#: The two request bodies POST /documents accepts, for /openapi.json.
INGEST_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/DocumentBatch"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["files"],
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "metadata": {
                        "type": "string",
                        "description": "JSON object of metadata applied to every file.",
                    },
                },
            }
        },
    },
}


def sanitize_filename(name: str | None) -> str:
    """A file name safe to store and show: no directories, control or odd characters."""
    if not name:
        return "upload"
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base)
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    return base[:200] or "upload"


def _metadata(raw: str | None) -> dict[str, MetadataValue]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError(422, "validation_error", "The 'metadata' field is not valid JSON.") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str)
        and re.match(METADATA_KEY_PATTERN, k)
        and is_valid_unicode(k)
        and is_storable_metadata_value(v)
        for k, v in data.items()
    ):
        raise ApiError(
            422,
            "validation_error",
            "The 'metadata' field must be a JSON object of strings, finite 64-bit numbers or "
            "booleans, with keys that are not empty and do not start with '#' or '$'.",
        )
    return data


async def _from_multipart(request: Request, max_bytes: int) -> list[DocumentInput]:
    form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=MAX_UPLOAD_FILES)
    metadata_field = form.get("metadata")
    metadata = _metadata(metadata_field if isinstance(metadata_field, str) else None)
    uploads = [item for item in form.getlist("files") if isinstance(item, UploadFile)]
    if not uploads:
        raise ApiError(422, "validation_error", "Send one or more files in the 'files' field.")
    documents = []
    for upload in uploads:
        content = await upload.read(max_bytes + 1)
        documents.append(
            DocumentInput(
                content=content,
                source=sanitize_filename(upload.filename),
                content_type=upload.content_type
                if upload.content_type not in (None, "application/octet-stream")
                else None,
                metadata=metadata,
            )
        )
    return documents


async def _from_json(request: Request) -> list[DocumentInput]:
    try:
        raw = await request.json()
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and UnicodeDecodeError; RecursionError is what
        # json.loads raises on a few thousand nested brackets, a cheap way to ask for a 500.
        raise ApiError(400, "bad_request", "The request body is not valid JSON.") from exc
    try:
        batch = DocumentBatch.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        ) from exc
    return [
        DocumentInput(
            content=d.content,
            id=d.id,
            source=d.source,
            content_type=d.content_type,
            metadata=d.metadata,
        )
        for d in batch.documents
    ]


@router.post(
    "",
    status_code=201,
    response_model=IngestResponse,
    openapi_extra={"requestBody": INGEST_REQUEST_BODY},
    responses={
        207: {"model": IngestResponse, "description": "Some documents failed; see results."},
        413: {"description": "The request body is too large."},
        415: {"description": "Neither JSON nor multipart."},
    },
)
async def ingest(
    request: Request,
    rag: RagDep,
    services: ServicesDep,
    info: RequestInfoDep,
    _caller: IngestCaller,
) -> JSONResponse:
    """Add documents: a JSON batch, or files uploaded as multipart form data.

    Every document gets its own result; one bad document never loses the others.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "multipart/form-data":
        documents = await _from_multipart(request, services.settings.max_document_bytes)
    elif content_type == "application/json" or content_type.endswith("+json"):
        documents = await _from_json(request)
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send application/json (a document batch) or multipart/form-data (files).",
        )
    results = await rag.aingest(documents)
    ok = [r for r in results if r.ok]
    failed = len(results) - len(ok)
    services.metrics.documents.labels("ingested").inc(len(ok))
    services.metrics.documents.labels("rejected").inc(failed)
    for result in ok:
        await services.webhooks.publish(
            "document.ingested",
            {"document_id": result.document_id, "source": result.source, "chunks": result.chunks},
        )
    info.extra["documents"] = len(results)
    body = IngestResponse(
        request_id=info.request_id,
        ingested=len(ok),
        failed=failed,
        results=[
            IngestResultOut(
                document_id=r.document_id,
                source=r.source,
                ok=r.ok,
                chunks=r.chunks,
                error=r.error,
            )
            for r in results
        ],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=201 if failed == 0 else 207)


@router.get("", response_model=DocumentPage)
async def list_documents(
    rag: RagDep,
    _caller: QueryCaller,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DocumentPage:
    """Stored documents, a page at a time."""
    items, total = await rag.alist_documents(offset=offset, limit=limit)
    return DocumentPage(
        items=[
            DocumentOut(id=d.id, source=d.source, metadata=d.metadata, chunks=d.chunks)
            for d in items
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


def _not_found(document_id: str) -> ApiError:
    return ApiError(404, "not_found", f"No document with id {document_id!r}.")


@router.get(
    "/{document_id}",
    response_model=DocumentDetail,
    responses={404: {"description": "No such document."}},
)
async def get_document(document_id: str, rag: RagDep, _caller: QueryCaller) -> DocumentDetail:
    """One stored document's source, metadata and chunk count, and its original (text,
    source, title, metadata, content hash) or null where it is not kept."""
    document = await rag.aget_document(document_id)
    if document is None:
        raise _not_found(document_id)
    return DocumentDetail(
        id=document.id,
        source=document.source,
        metadata=document.metadata,
        chunks=document.chunks,
        original=_original_out(document.original),
    )


def _original_out(kept: DocumentOriginal | None) -> DocumentOriginalOut | None:
    if kept is None:
        return None
    original = kept.document
    return DocumentOriginalOut(
        text=original.text,
        source=original.source,
        title=original.title,
        metadata=dict(original.metadata),
        content_hash=original.content_hash,
        stored_at=kept.stored_at,
    )


@router.delete(
    "/{document_id}", status_code=204, responses={404: {"description": "No such document."}}
)
async def delete_document(
    document_id: str, rag: RagDep, services: ServicesDep, _caller: IngestCaller
) -> Response:
    """Remove a document and all its chunks."""
    if not await rag.adelete_document(document_id):
        raise _not_found(document_id)
    services.metrics.documents.labels("deleted").inc()
    await services.webhooks.publish("document.deleted", {"document_id": document_id})
    return Response(status_code=204)
