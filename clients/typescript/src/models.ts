/** Request and response bodies of the ragkube API (they mirror the server's OpenAPI schema). */

export type MetadataValue = string | number | boolean;
export type RetrievalMode = "hybrid" | "dense" | "lexical";

/** A retrieved passage supporting the answer. */
export interface Source {
  content: string;
  similarity: number;
  metadata: Record<string, unknown>;
}

/** Options of `query` and `queryStream`; unset ones take the deployment's defaults. */
export interface QueryOptions {
  maxResults?: number;
  threshold?: number;
  useGuardrails?: boolean;
  conversationId?: string;
  filters?: Record<string, unknown>;
  mode?: RetrievalMode;
  /** Aborts the request (and a running stream). */
  signal?: AbortSignal;
}

/** An answer with the sources it rests on. */
export interface QueryResponse {
  request_id: string;
  query: string;
  answer: string;
  sources: Source[];
  confidence: number;
  processing_time: number;
  /** ISO 8601 date-time. */
  timestamp: string;
  guardrails_triggered: string[];
}

/** One document to ingest as JSON. */
export interface DocumentIn {
  content: string;
  id?: string;
  source?: string;
  content_type?: string;
  metadata?: Record<string, MetadataValue>;
}

/** What happened to one document of a batch. */
export interface IngestResult {
  document_id: string | null;
  source: string | null;
  ok: boolean;
  chunks: number;
  error?: string | null;
}

/** Per-document results of an ingestion request (some may have failed). */
export interface IngestResponse {
  request_id: string;
  ingested: number;
  failed: number;
  results: IngestResult[];
}

/** A file to upload: its name and its bytes. */
export interface FileUpload {
  name: string;
  content: Blob | Uint8Array | string;
  contentType?: string;
}

/** A stored document. */
export interface Document {
  id: string;
  source: string | null;
  metadata: Record<string, unknown>;
  chunks: number;
}

/** A document as it was ingested (its visible text, as chunked), kept for re-indexing. */
export interface DocumentOriginal {
  text: string;
  source: string | null;
  title: string | null;
  metadata: Record<string, unknown>;
  content_hash: string;
  stored_at: string;
}

/** One stored document with its original; `original` is null where it is not kept. */
export interface DocumentDetail extends Document {
  original: DocumentOriginal | null;
}

/** One page of the document list. */
export interface DocumentPage {
  items: Document[];
  total: number;
  offset: number;
  limit: number;
}

/** An access token from `POST /auth/login`. */
export interface Token {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  scopes: string[];
}

/** A webhook subscription (listed without its secret). */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  source: "runtime" | "operator";
  description: string;
}

/** A new runtime webhook with its signing secret, shown this once. */
export interface WebhookCreated extends Webhook {
  secret: string;
}

export interface Health {
  status: "ok";
}

export interface Readiness {
  status: "ready";
  checks: Record<string, boolean>;
}

/** What built the active index, as the index records it. */
export interface IndexIdentity {
  embedding_provider: string;
  embedding_model: string;
  dimension: number;
  normalized: boolean;
  chunk_size: number;
  chunk_overlap: number;
  analyzer: string;
  built_at: string;
}

export interface Stats {
  documents: number;
  chunks: number;
  index_version: string;
  uptime_seconds: number;
  rag: Record<string, unknown>;
  /** null while the index is empty and records no identity (and from older servers). */
  index: IndexIdentity | null;
  [extra: string]: unknown;
}

/** The body of every 4xx and 5xx answer. */
export interface ErrorEnvelope {
  error: string;
  message: string;
  request_id?: string | null;
  timestamp?: string;
  details?: unknown;
}

/** First event of a stream: the passages the answer will rest on. */
export interface SourcesEvent {
  type: "sources";
  sources: Source[];
  standalone_query?: string | null;
}

/** A piece of the answer's text. */
export interface TokenEvent {
  type: "token";
  text: string;
}

/** Last event of a stream: the judged answer and how it was reached. */
export interface FinalEvent {
  type: "final";
  answer: string;
  confidence: number;
  guardrails_triggered: string[];
  timings: Record<string, number>;
  blocked: boolean;
  request_id?: string;
  processing_time?: number;
}

export type StreamEvent = SourcesEvent | TokenEvent | FinalEvent;
