/**
 * Checking that a successful answer has the shape the API promises.
 *
 * A 200 may come from something other than the API (a proxy, a login page, a newer or
 * older server), so every JSON body is read through the check of the type the call
 * returns. Like the Python SDK's models (pydantic, `extra="ignore"`), unknown fields are
 * accepted and dropped, except on `Stats`, which keeps them (`extra="allow"`); fields with
 * a default there (`token_type`, `status`, `error`, `Stats.index`) take it when absent.
 * Unlike pydantic's lax mode, nothing is coerced: "0.5" is not a number.
 */

import type {
  Document,
  DocumentDetail,
  DocumentOriginal,
  DocumentPage,
  FinalEvent,
  Health,
  IndexIdentity,
  IngestResponse,
  IngestResult,
  QueryResponse,
  Readiness,
  Source,
  SourcesEvent,
  Stats,
  Token,
  TokenEvent,
  Webhook,
  WebhookCreated,
} from "./models.js";

/** A JSON value that does not fit its type; the message names where, never the value. */
export class ShapeError extends Error {
  constructor(
    /** Where the value sits, e.g. `sources[0].similarity`; "" for the whole body. */
    readonly path: string,
    problem: string,
  ) {
    super(`${path || "the body"} ${problem}`);
    this.name = "ShapeError";
  }
}

/** Reads `value` (found at `path`) as a T, or throws `ShapeError`. */
export type Check<T> = (value: unknown, path: string) => T;

/** A type a call returns, and its check. */
export interface Shape<T> {
  /** The type as messages name it, with its article ("an IngestResponse"). */
  readonly what: string;
  readonly check: Check<T>;
}

// --- primitives ------------------------------------------------------------------------------

/** What a value is, in words that never quote it (it may be a secret, or huge). */
function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number" && !Number.isInteger(value)) return "a fractional number";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function mismatch(path: string, expected: string, value: unknown): ShapeError {
  return new ShapeError(path, `must be ${expected}, not ${kindOf(value)}`);
}

/** `parent.name`, or `parent["odd key"]` for a key that is not an identifier (cut if long). */
function join(parent: string, name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return parent ? `${parent}.${name}` : name;
  const key = name.length > 40 ? `${name.slice(0, 40)}…` : name;
  return `${parent}[${JSON.stringify(key)}]`;
}

const string: Check<string> = (value, path) => {
  if (typeof value === "string") return value;
  throw mismatch(path, "a string", value);
};

const number: Check<number> = (value, path) => {
  if (typeof value === "number") return value;
  throw mismatch(path, "a number", value);
};

const integer: Check<number> = (value, path) => {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  throw mismatch(path, "an integer", value);
};

const boolean: Check<boolean> = (value, path) => {
  if (typeof value === "boolean") return value;
  throw mismatch(path, "a boolean", value);
};

/** One of a few fixed strings (an enum of the API). */
function literal<const T extends string>(...allowed: T[]): Check<T> {
  const expected = allowed.map((s) => JSON.stringify(s)).join(" or ");
  return (value, path) => {
    const found = allowed.find((s) => s === value);
    if (found !== undefined) return found;
    if (typeof value === "string") throw new ShapeError(path, `must be ${expected}, not another string`);
    throw mismatch(path, expected, value);
  };
}

/** `check`, or null: a field that must be present but may be null (`str | None`). */
function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

/** A JSON object (not null, not an array). */
function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw mismatch(path, "an object", value);
}

/** An array whose every item passes `check`. */
function arrayOf<T>(check: Check<T>): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw mismatch(path, "an array", value);
    return value.map((item: unknown, i) => check(item, `${path}[${i}]`));
  };
}

/** An object whose every value passes `check` (a `dict[str, T]`). */
function recordOf<T>(check: Check<T>): Check<Record<string, T>> {
  return (value, path) =>
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    Object.fromEntries(Object.entries(object(value, path)).map(([key, item]) => [key, check(item, join(path, key))]));
}

/** Any JSON object, kept as it is (a `dict[str, Any]` such as `metadata`). */
const anyObject: Check<Record<string, unknown>> = object;

/**
 * The field `name` of `obj` (at `path`) read with `check`. A missing field is an error
 * unless `fallback` is given, which stands in for it, as a pydantic default does.
 */
function field<T>(obj: Record<string, unknown>, name: string, check: Check<T>, path: string, fallback?: T): T {
  const at = join(path, name);
  if (!Object.hasOwn(obj, name)) {
    if (fallback !== undefined) return fallback;
    throw new ShapeError(at, "is missing");
  }
  return check(obj[name], at);
}

// --- the API's response types ----------------------------------------------------------------

const source: Check<Source> = (value, path) => {
  const o = object(value, path);
  return {
    content: field(o, "content", string, path),
    similarity: field(o, "similarity", number, path),
    metadata: field(o, "metadata", anyObject, path),
  };
};

const queryResponse: Check<QueryResponse> = (value, path) => {
  const o = object(value, path);
  return {
    request_id: field(o, "request_id", string, path),
    query: field(o, "query", string, path),
    answer: field(o, "answer", string, path),
    sources: field(o, "sources", arrayOf(source), path),
    confidence: field(o, "confidence", number, path),
    processing_time: field(o, "processing_time", number, path),
    timestamp: field(o, "timestamp", string, path),
    guardrails_triggered: field(o, "guardrails_triggered", arrayOf(string), path),
  };
};

const ingestResult: Check<IngestResult> = (value, path) => {
  const o = object(value, path);
  return {
    document_id: field(o, "document_id", nullable(string), path),
    source: field(o, "source", nullable(string), path),
    ok: field(o, "ok", boolean, path),
    chunks: field(o, "chunks", integer, path),
    error: field(o, "error", nullable(string), path, null),
  };
};

const ingestResponse: Check<IngestResponse> = (value, path) => {
  const o = object(value, path);
  return {
    request_id: field(o, "request_id", string, path),
    ingested: field(o, "ingested", integer, path),
    failed: field(o, "failed", integer, path),
    results: field(o, "results", arrayOf(ingestResult), path),
  };
};

const storedDocument: Check<Document> = (value, path) => {
  const o = object(value, path);
  return {
    id: field(o, "id", string, path),
    source: field(o, "source", nullable(string), path),
    metadata: field(o, "metadata", anyObject, path),
    chunks: field(o, "chunks", integer, path),
  };
};

const documentOriginal: Check<DocumentOriginal> = (value, path) => {
  const o = object(value, path);
  return {
    text: field(o, "text", string, path),
    source: field(o, "source", nullable(string), path),
    title: field(o, "title", nullable(string), path),
    metadata: field(o, "metadata", anyObject, path),
    content_hash: field(o, "content_hash", string, path),
    stored_at: field(o, "stored_at", string, path),
  };
};

const documentDetail: Check<DocumentDetail> = (value, path) => ({
  ...storedDocument(value, path),
  // Absent from servers that keep no originals, as null is for a document kept without one.
  original: field(object(value, path), "original", nullable(documentOriginal), path, null),
});

const documentPage: Check<DocumentPage> = (value, path) => {
  const o = object(value, path);
  return {
    items: field(o, "items", arrayOf(storedDocument), path),
    total: field(o, "total", integer, path),
    offset: field(o, "offset", integer, path),
    limit: field(o, "limit", integer, path),
  };
};

const token: Check<Token> = (value, path) => {
  const o = object(value, path);
  return {
    access_token: field(o, "access_token", string, path),
    token_type: field(o, "token_type", literal("bearer"), path, "bearer"),
    expires_in: field(o, "expires_in", integer, path),
    scopes: field(o, "scopes", arrayOf(string), path),
  };
};

const webhook: Check<Webhook> = (value, path) => {
  const o = object(value, path);
  return {
    id: field(o, "id", string, path),
    url: field(o, "url", string, path),
    events: field(o, "events", arrayOf(string), path),
    source: field(o, "source", literal("runtime", "operator"), path),
    description: field(o, "description", string, path),
  };
};

const webhookCreated: Check<WebhookCreated> = (value, path) => {
  const o = object(value, path);
  return { ...webhook(o, path), secret: field(o, "secret", string, path) };
};

const health: Check<Health> = (value, path) => ({
  status: field(object(value, path), "status", literal("ok"), path, "ok"),
});

const readiness: Check<Readiness> = (value, path) => {
  const o = object(value, path);
  return {
    status: field(o, "status", literal("ready"), path, "ready"),
    checks: field(o, "checks", recordOf(boolean), path),
  };
};

const indexIdentity: Check<IndexIdentity> = (value, path) => {
  const o = object(value, path);
  return {
    embedding_provider: field(o, "embedding_provider", string, path),
    embedding_model: field(o, "embedding_model", string, path),
    dimension: field(o, "dimension", integer, path),
    normalized: field(o, "normalized", boolean, path),
    chunk_size: field(o, "chunk_size", integer, path),
    chunk_overlap: field(o, "chunk_overlap", integer, path),
    analyzer: field(o, "analyzer", string, path),
    built_at: field(o, "built_at", string, path),
  };
};

const stats: Check<Stats> = (value, path) => {
  const o = object(value, path);
  return {
    ...o, // the server may add statistics; they are kept, as the Python SDK keeps them
    documents: field(o, "documents", integer, path),
    chunks: field(o, "chunks", integer, path),
    index_version: field(o, "index_version", string, path),
    uptime_seconds: field(o, "uptime_seconds", number, path),
    rag: field(o, "rag", anyObject, path),
    index: field(o, "index", nullable(indexIdentity), path, null),
  };
};

// A stream's events, as the Python SDK's models read them (with the same defaults).

const sourcesEvent: Check<SourcesEvent> = (value, path) => {
  const o = object(value, path);
  return {
    type: "sources",
    sources: field(o, "sources", arrayOf(source), path),
    standalone_query: field(o, "standalone_query", nullable(string), path, null),
  };
};

const tokenEvent: Check<TokenEvent> = (value, path) => ({
  type: "token",
  text: field(object(value, path), "text", string, path),
});

const finalEvent: Check<FinalEvent> = (value, path) => {
  const o = object(value, path);
  const event: FinalEvent = {
    type: "final",
    answer: field(o, "answer", string, path, ""),
    confidence: field(o, "confidence", number, path),
    guardrails_triggered: field(o, "guardrails_triggered", arrayOf(string), path, []),
    timings: field(o, "timings", recordOf(number), path, {}),
    blocked: field(o, "blocked", boolean, path, false),
  };
  const requestId = field(o, "request_id", nullable(string), path, null);
  if (requestId !== null) event.request_id = requestId;
  const processingTime = field(o, "processing_time", nullable(number), path, null);
  if (processingTime !== null) event.processing_time = processingTime;
  return event;
};

/** The types `RagkubeClient` reads from a JSON body. */
export const shapes = {
  QueryResponse: { what: "a QueryResponse", check: queryResponse },
  IngestResponse: { what: "an IngestResponse", check: ingestResponse },
  Document: { what: "a Document", check: storedDocument },
  DocumentDetail: { what: "a DocumentDetail", check: documentDetail },
  DocumentPage: { what: "a DocumentPage", check: documentPage },
  Token: { what: "a Token", check: token },
  WebhookList: { what: "a list of Webhook", check: arrayOf(webhook) },
  WebhookCreated: { what: "a WebhookCreated", check: webhookCreated },
  Health: { what: "a Health", check: health },
  Readiness: { what: "a Readiness", check: readiness },
  Stats: { what: "a Stats", check: stats },
} as const satisfies Record<string, Shape<unknown>>;

/** The stream events `RagkubeClient.queryStream` yields, by SSE event name. */
export const eventShapes: Record<string, Shape<SourcesEvent | TokenEvent | FinalEvent>> = {
  sources: { what: "a 'sources' event", check: sourcesEvent },
  token: { what: "a 'token' event", check: tokenEvent },
  final: { what: "a 'final' event", check: finalEvent },
};

/** `value` read as `shape`'s type; throws `ShapeError` naming the first field that does not fit. */
export function validate<T>(shape: Shape<T>, value: unknown): T {
  return shape.check(value, "");
}
