/** `RagkubeClient`: the ragkube API over the global `fetch`. */

import { ApiConnectionError, RagkubeError, errorFromResponse } from "./errors.js";
import type {
  Document,
  DocumentIn,
  DocumentPage,
  FileUpload,
  Health,
  IngestResponse,
  MetadataValue,
  QueryOptions,
  QueryResponse,
  Readiness,
  Stats,
  StreamEvent,
  Token,
  Webhook,
  WebhookCreated,
} from "./models.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, parseRetryAfter, retryDelay } from "./retry.js";
import { SSEDecoder, lines, toStreamEvent } from "./sse.js";

export interface ClientOptions {
  /** Sent as `X-API-Key`. */
  apiKey?: string;
  /** A JWT from `login`, sent as a bearer token. */
  token?: string;
  /** Retries of 429 and 503 answers; merged over the defaults. */
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout in milliseconds (not applied to reading a stream); default 60 s. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof fetch;
}

interface RequestSpec {
  method: string;
  path: string;
  body?: BodyInit;
  json?: unknown;
  headers?: Record<string, string>;
  retry?: boolean;
  signal?: AbortSignal | undefined;
  stream?: boolean;
}

const sleep = (seconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function queryBody(query: string, options: QueryOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {
    query,
    max_results: options.maxResults ?? 5,
    use_guardrails: options.useGuardrails ?? true,
  };
  if (options.threshold !== undefined) body.threshold = options.threshold;
  if (options.conversationId !== undefined) body.conversation_id = options.conversationId;
  if (options.filters !== undefined) body.filters = options.filters;
  if (options.mode !== undefined) body.mode = options.mode;
  return body;
}

function segment(id: string): string {
  if (id === "") throw new RagkubeError("an id must not be empty");
  return encodeURIComponent(id);
}

/**
 * A ragkube API client.
 *
 * Authenticate with `apiKey` (sent as `X-API-Key`), `token` (a JWT), or `login()`. 429 and
 * 503 answers are retried honouring `Retry-After`; every other failure throws a typed
 * `RagkubeError` carrying the server's `requestId`.
 */
export class RagkubeClient {
  readonly baseUrl: string;
  apiKey: string | undefined;
  token: string | undefined;
  readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.token = options.token;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.headers = { ...options.headers };
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private authHeaders(): Record<string, string> {
    if (this.apiKey) return { "X-API-Key": this.apiKey };
    if (this.token) return { Authorization: `Bearer ${this.token}` };
    return {};
  }

  private async request(spec: RequestSpec): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        ...this.headers,
        ...this.authHeaders(),
        ...spec.headers,
      };
      let body = spec.body;
      if (spec.json !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(spec.json);
      }
      const signals: AbortSignal[] = spec.signal ? [spec.signal] : [];
      if (!spec.stream) signals.push(AbortSignal.timeout(this.timeoutMs));
      const init: RequestInit = { method: spec.method, headers };
      if (body !== undefined) init.body = body;
      if (signals.length > 0) init.signal = AbortSignal.any(signals);
      let response: Response;
      try {
        response = await this.fetchImpl(`${this.baseUrl}${spec.path}`, init);
      } catch (cause) {
        if (spec.signal?.aborted) throw cause;
        throw new ApiConnectionError(`cannot reach ${this.baseUrl}: ${String(cause)}`, { cause });
      }
      if (response.ok) return response;
      const text = await response.text();
      const delay =
        spec.retry === false ? undefined : retryDelay(this.retry, attempt, response.status, response.headers);
      if (delay === undefined) {
        throw errorFromResponse(
          response.status,
          response.headers,
          text,
          parseRetryAfter(response.headers.get("retry-after")),
        );
      }
      await sleep(delay);
    }
  }

  private async json<T>(spec: RequestSpec): Promise<T> {
    const response = await this.request(spec);
    return (await response.json()) as T;
  }

  // --- authentication ------------------------------------------------------------------------

  /** Exchange a username and password for a token, and use it from now on. */
  async login(username: string, password: string, scopes?: string[]): Promise<Token> {
    const form = new URLSearchParams({ grant_type: "password", username, password });
    if (scopes && scopes.length > 0) form.set("scope", scopes.join(" "));
    const token = await this.json<Token>({ method: "POST", path: "/auth/login", body: form });
    this.token = token.access_token;
    this.apiKey = undefined;
    return token;
  }

  // --- querying ------------------------------------------------------------------------------

  /** Ask a question; the answer with its sources. */
  async query(query: string, options: QueryOptions = {}): Promise<QueryResponse> {
    return this.json<QueryResponse>({
      method: "POST",
      path: "/query",
      json: queryBody(query, options),
      signal: options.signal,
    });
  }

  /**
   * Ask a question and receive the answer as it is written: a `sources` event, `token`
   * events, then one `final` event. Failures before the stream starts are retried like any
   * call; an `error` event after it throws the typed error.
   */
  async *queryStream(query: string, options: QueryOptions = {}): AsyncGenerator<StreamEvent> {
    const response = await this.request({
      method: "POST",
      path: "/query/stream",
      json: queryBody(query, options),
      headers: { Accept: "text/event-stream" },
      signal: options.signal,
      stream: true,
    });
    if (response.body === null) throw new RagkubeError("the server sent an empty stream");
    const decoder = new SSEDecoder();
    try {
      for await (const line of lines(response.body)) {
        const raw = decoder.feed(line);
        if (raw === undefined) continue;
        const event = toStreamEvent(raw);
        if (event !== undefined) yield event;
      }
    } catch (cause) {
      if (cause instanceof RagkubeError || options.signal?.aborted) throw cause;
      throw new ApiConnectionError(`the stream from ${this.baseUrl} broke: ${String(cause)}`, { cause });
    }
  }

  /** Stream a question's answer and return its full text (a convenience). */
  async answer(query: string, options: QueryOptions = {}): Promise<string> {
    let text = "";
    for await (const event of this.queryStream(query, options)) {
      if (event.type === "token") text += event.text;
    }
    return text;
  }

  // --- documents -----------------------------------------------------------------------------

  /** Add documents given as text; per-document results (some may have failed). */
  async ingest(documents: DocumentIn[]): Promise<IngestResponse> {
    return this.json<IngestResponse>({ method: "POST", path: "/documents", json: { documents } });
  }

  /** Upload files (text, Markdown, HTML, PDF, JSON); per-file results. */
  async ingestFiles(files: FileUpload[], metadata?: Record<string, MetadataValue>): Promise<IngestResponse> {
    if (files.length === 0) throw new RagkubeError("give at least one file to upload");
    const form = new FormData();
    for (const file of files) {
      const type = file.contentType ?? "application/octet-stream";
      const content = file.content;
      let blob: Blob;
      if (content instanceof Blob) blob = content;
      else if (typeof content === "string") blob = new Blob([content], { type });
      else blob = new Blob([new Uint8Array(content)], { type }); // a copy backed by an ArrayBuffer
      form.append("files", blob, file.name);
    }
    if (metadata) form.set("metadata", JSON.stringify(metadata));
    return this.json<IngestResponse>({ method: "POST", path: "/documents", body: form });
  }

  /** One page of stored documents. */
  async listDocuments(options: { offset?: number; limit?: number } = {}): Promise<DocumentPage> {
    const params = new URLSearchParams({
      offset: String(options.offset ?? 0),
      limit: String(options.limit ?? 50),
    });
    return this.json<DocumentPage>({ method: "GET", path: `/documents?${params}` });
  }

  /** One stored document; `NotFoundError` when there is none. */
  async getDocument(id: string): Promise<Document> {
    return this.json<Document>({ method: "GET", path: `/documents/${segment(id)}` });
  }

  /** Remove a document and its chunks; `NotFoundError` when there is none. */
  async deleteDocument(id: string): Promise<void> {
    await this.request({ method: "DELETE", path: `/documents/${segment(id)}` });
  }

  // --- webhooks ------------------------------------------------------------------------------

  /** Subscribe `url` to `events`; the result holds the signing secret (shown once). */
  async createWebhook(
    url: string,
    events: string[],
    options: { secret?: string; description?: string } = {},
  ): Promise<WebhookCreated> {
    const body: Record<string, unknown> = { url, events, description: options.description ?? "" };
    if (options.secret !== undefined) body.secret = options.secret;
    return this.json<WebhookCreated>({ method: "POST", path: "/webhooks", json: body });
  }

  /** Every webhook of the deployment (runtime and operator-managed). */
  async listWebhooks(): Promise<Webhook[]> {
    return this.json<Webhook[]>({ method: "GET", path: "/webhooks" });
  }

  /** Remove a runtime webhook. */
  async deleteWebhook(id: string): Promise<void> {
    await this.request({ method: "DELETE", path: `/webhooks/${segment(id)}` });
  }

  // --- service -------------------------------------------------------------------------------

  /** Liveness (no retries). */
  async health(): Promise<Health> {
    return this.json<Health>({ method: "GET", path: "/health", retry: false });
  }

  /** Readiness; `ServerError` (with `details`) when a check fails. No retries. */
  async ready(): Promise<Readiness> {
    return this.json<Readiness>({ method: "GET", path: "/ready", retry: false });
  }

  /** Collection statistics. */
  async stats(): Promise<Stats> {
    return this.json<Stats>({ method: "GET", path: "/stats" });
  }
}
