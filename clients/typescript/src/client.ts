/** `RagkubeClient`: the ragkube API over the global `fetch`. */

import {
  ApiConnectionError,
  ApiTimeoutError,
  InvalidResponseError,
  RagkubeError,
  errorFromResponse,
  summariseBody,
} from "./errors.js";
import type {
  DocumentDetail,
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
import { EventStreamReader, lines } from "./sse.js";
import { type Shape, ShapeError, shapes, validate } from "./validate.js";

export interface ClientOptions {
  /** Sent as `X-API-Key`. */
  apiKey?: string;
  /** A JWT from `login`, sent as a bearer token. */
  token?: string;
  /** Retries of 429 and 503 answers; merged over the defaults. */
  retry?: Partial<RetryPolicy>;
  /**
   * Milliseconds a call may take, answer included (default 60 s). A stream may run
   * longer, but fails when nothing arrives for this long.
   */
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

/** The largest successful answer read; the API's biggest (a page of documents) is far less. */
export const MAX_RESPONSE_BYTES = 64 * 2 ** 20;
/** The most of an error body read: an envelope is small, a proxy's page is only quoted. */
export const MAX_ERROR_BYTES = 64 * 2 ** 10;

/** `url` without a user name or password, fit for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString().replace(/\/+$/, "");
  } catch {
    return "(an invalid URL)";
  }
}

/**
 * `baseUrl` without trailing slashes; throws unless it is an http(s) URL with a host.
 * Checked up front so that "localhost:8000" fails here, not as an unreachable server.
 */
function checkBaseUrl(baseUrl: string): string {
  const url = baseUrl.trim().replace(/\/+$/, "");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RagkubeError(`the base URL '${safeUrl(url)}' is not a valid URL`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    // fetch refuses such URLs with a message that quotes them, password included.
    throw new RagkubeError(
      `the base URL '${safeUrl(url)}' must not contain a user name or password; pass apiKey or token instead`,
    );
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.hostname === "") {
    throw new RagkubeError(
      `the base URL '${safeUrl(url)}' must start with http:// or https:// and name a host, e.g. http://127.0.0.1:8000`,
    );
  }
  return url;
}

/**
 * A credential without surrounding whitespace; throws if a header cannot carry it. A key
 * read from a file often ends in a newline; fetch would refuse it with a message quoting
 * the key. This message never repeats the value.
 */
function credential(value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const cleaned = value.trim();
  if (cleaned === "") return undefined;
  if (!/^[\x21-\x7e]+$/.test(cleaned)) {
    throw new RagkubeError(
      `the ${what} contains characters an HTTP header cannot carry (spaces, control or non-ASCII characters); check how it was copied`,
    );
  }
  return cleaned;
}

/** Why a fetch failed, in words: undici hides the reason ("ECONNREFUSED") behind "fetch failed". */
function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = cause.cause;
  if (inner instanceof Error && inner.message) return inner.message;
  return cause.message || String(cause);
}

/**
 * Aborts a request after `ms` without progress: for a plain call the whole call (never
 * kicked), for a stream the wait for each next piece (kicked as data arrives).
 */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  fired = false;

  constructor(private readonly ms: number) {
    this.kick();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  kick(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new DOMException("the ragkube API did not answer in time", "TimeoutError"));
    }, this.ms);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

/** A body read within `limit` bytes: refused when a success is larger, cut when an error is. */
async function readBody(response: Response, limit: number, success: boolean, url: string): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = limit - size;
      if (value.byteLength > room) {
        if (success) {
          throw new InvalidResponseError(
            `the answer from ${url} is larger than ${limit / 2 ** 20} MiB; refusing to read it`,
            { status: response.status, code: "invalid_response" },
          );
        }
        chunks.push(value.subarray(0, room));
        size = limit;
        await reader.cancel().catch(() => undefined);
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

function queryBody(query: string, options: QueryOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {
    query,
    use_guardrails: options.useGuardrails ?? true,
  };
  if (options.maxResults !== undefined) body.max_results = options.maxResults;
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

  /** Throws `RagkubeError` for a malformed `baseUrl` or credential, before any call. */
  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = checkBaseUrl(baseUrl);
    credential(options.apiKey, "API key");
    credential(options.token, "token");
    this.apiKey = options.apiKey;
    this.token = options.token;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 60_000;
    if (!(this.timeoutMs > 0)) throw new RagkubeError("timeoutMs must be a positive number");
    this.headers = { ...options.headers };
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private authHeaders(): Record<string, string> {
    const apiKey = credential(this.apiKey, "API key");
    if (apiKey) return { "X-API-Key": apiKey };
    const token = credential(this.token, "token");
    if (token) return { Authorization: `Bearer ${token}` };
    return {};
  }

  /** The SDK error for a failure to send a request or to receive its answer. */
  private transportError(cause: unknown, spec: RequestSpec, watchdog: Watchdog, sent: boolean): unknown {
    if (spec.signal?.aborted) return cause; // the caller cancelled: theirs to handle
    if (cause instanceof RagkubeError) return cause;
    const where = safeUrl(this.baseUrl);
    if (watchdog.fired) {
      return new ApiTimeoutError(`the ragkube API at ${where} did not answer within ${this.timeoutMs / 1000} s`, {
        cause,
      });
    }
    if (!sent) return new ApiConnectionError(`cannot reach the ragkube API at ${where}: ${describe(cause)}`, { cause });
    return new ApiConnectionError(`the connection to the ragkube API at ${where} broke: ${describe(cause)}`, { cause });
  }

  /**
   * A successful response, its body unread, with the watchdog still running (the caller
   * stops it); every failure as a typed error. Redirects are not followed: that would send
   * the API key to wherever the server points.
   */
  private async request(spec: RequestSpec): Promise<{ response: Response; watchdog: Watchdog }> {
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
      const watchdog = new Watchdog(this.timeoutMs);
      const signals: AbortSignal[] = [watchdog.signal];
      if (spec.signal) signals.push(spec.signal);
      const init: RequestInit = { method: spec.method, headers, redirect: "manual", signal: AbortSignal.any(signals) };
      if (body !== undefined) init.body = body;
      let response: Response;
      try {
        response = await this.fetchImpl(`${this.baseUrl}${spec.path}`, init);
      } catch (cause) {
        watchdog.stop();
        throw this.transportError(cause, spec, watchdog, false);
      }
      if (response.ok) return { response, watchdog };
      let text: string;
      try {
        text = await readBody(response, MAX_ERROR_BYTES, false, safeUrl(this.baseUrl));
      } catch (cause) {
        throw this.transportError(cause, spec, watchdog, true);
      } finally {
        watchdog.stop();
      }
      // A browser hides a manual redirect's status and headers ("opaqueredirect", status 0).
      const status = response.type === "opaqueredirect" ? 302 : response.status;
      const delay =
        spec.retry === false ? undefined : retryDelay(this.retry, attempt, status, response.headers);
      if (delay === undefined) {
        throw errorFromResponse(status, response.headers, text, parseRetryAfter(response.headers.get("retry-after")));
      }
      await sleep(delay);
    }
  }

  /**
   * The `shape` a successful call answers; `InvalidResponseError` when the body is not JSON
   * or not of that shape.
   */
  private async json<T>(spec: RequestSpec, shape: Shape<T>): Promise<T> {
    const { response, watchdog } = await this.request(spec);
    let text: string;
    try {
      text = await readBody(response, MAX_RESPONSE_BYTES, true, safeUrl(this.baseUrl));
    } catch (cause) {
      throw this.transportError(cause, spec, watchdog, true);
    } finally {
      watchdog.stop();
    }
    const init: { status: number; code: string; requestId?: string } = {
      status: response.status,
      code: "invalid_response",
    };
    const requestId = response.headers.get("x-request-id");
    if (requestId) init.requestId = requestId;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new InvalidResponseError(
        `the server's answer is not JSON: ${summariseBody(text) || "an empty body"}`,
        init,
      );
    }
    try {
      return validate(shape, body);
    } catch (cause) {
      if (!(cause instanceof ShapeError)) throw cause;
      // The message names the field, never its value: the body may hold a token or secret.
      throw new InvalidResponseError(`the server's answer is not ${shape.what}: ${cause.message}`, init);
    }
  }

  /** A call whose answer is not read (DELETE): the body is discarded, the watchdog stopped. */
  private async discard(spec: RequestSpec): Promise<void> {
    const { response, watchdog } = await this.request(spec);
    watchdog.stop();
    await response.body?.cancel().catch(() => undefined);
  }

  // --- authentication ------------------------------------------------------------------------

  /** Exchange a username and password for a token, and use it from now on. */
  async login(username: string, password: string, scopes?: string[]): Promise<Token> {
    const form = new URLSearchParams({ grant_type: "password", username, password });
    if (scopes && scopes.length > 0) form.set("scope", scopes.join(" "));
    const token = await this.json({ method: "POST", path: "/auth/login", body: form }, shapes.Token);
    this.token = token.access_token;
    this.apiKey = undefined;
    return token;
  }

  // --- querying ------------------------------------------------------------------------------

  /** Ask a question; the answer with its sources. */
  async query(query: string, options: QueryOptions = {}): Promise<QueryResponse> {
    return this.json(
      { method: "POST", path: "/query", json: queryBody(query, options), signal: options.signal },
      shapes.QueryResponse,
    );
  }

  /**
   * Ask a question and receive the answer as it is written: a `sources` event, `token`
   * events, then one `final` event. Failures before the stream starts are retried like any
   * call; an `error` event after it throws the typed error.
   */
  async *queryStream(query: string, options: QueryOptions = {}): AsyncGenerator<StreamEvent> {
    const spec: RequestSpec = {
      method: "POST",
      path: "/query/stream",
      json: queryBody(query, options),
      headers: { Accept: "text/event-stream" },
      signal: options.signal,
      stream: true,
    };
    const { response, watchdog } = await this.request(spec);
    try {
      const contentType = response.headers.get("content-type") ?? "";
      if (!contentType.toLowerCase().startsWith("text/event-stream") || response.body === null) {
        const init: { code: string; requestId?: string } = { code: "invalid_response" };
        const requestId = response.headers.get("x-request-id");
        if (requestId) init.requestId = requestId;
        throw new InvalidResponseError(
          `the answer from ${safeUrl(this.baseUrl)} is not an event stream (content type '${contentType || "missing"}')`,
          init,
        );
      }
      const reader = new EventStreamReader(safeUrl(this.baseUrl));
      try {
        for await (const line of lines(response.body)) {
          watchdog.kick(); // the timeout bounds each wait for data, not the whole answer
          const event = reader.feed(line);
          if (event !== undefined) yield event;
        }
      } catch (cause) {
        throw this.transportError(cause, spec, watchdog, true);
      }
      reader.finish();
    } finally {
      watchdog.stop();
      await response.body?.cancel().catch(() => undefined);
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
    return this.json({ method: "POST", path: "/documents", json: { documents } }, shapes.IngestResponse);
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
    return this.json({ method: "POST", path: "/documents", body: form }, shapes.IngestResponse);
  }

  /** One page of stored documents. */
  async listDocuments(options: { offset?: number; limit?: number } = {}): Promise<DocumentPage> {
    const params = new URLSearchParams({
      offset: String(options.offset ?? 0),
      limit: String(options.limit ?? 50),
    });
    return this.json({ method: "GET", path: `/documents?${params}` }, shapes.DocumentPage);
  }

  /** One stored document with its original; `NotFoundError` when there is none. */
  async getDocument(id: string): Promise<DocumentDetail> {
    return this.json({ method: "GET", path: `/documents/${segment(id)}` }, shapes.DocumentDetail);
  }

  /** Remove a document and its chunks; `NotFoundError` when there is none. */
  async deleteDocument(id: string): Promise<void> {
    await this.discard({ method: "DELETE", path: `/documents/${segment(id)}` });
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
    return this.json({ method: "POST", path: "/webhooks", json: body }, shapes.WebhookCreated);
  }

  /** Every webhook of the deployment (runtime and operator-managed). */
  async listWebhooks(): Promise<Webhook[]> {
    return this.json({ method: "GET", path: "/webhooks" }, shapes.WebhookList);
  }

  /** Remove a runtime webhook. */
  async deleteWebhook(id: string): Promise<void> {
    await this.discard({ method: "DELETE", path: `/webhooks/${segment(id)}` });
  }

  // --- service -------------------------------------------------------------------------------

  /** Liveness (no retries). */
  async health(): Promise<Health> {
    return this.json({ method: "GET", path: "/health", retry: false }, shapes.Health);
  }

  /** Readiness; `ServerError` (with `details`) when a check fails. No retries. */
  async ready(): Promise<Readiness> {
    return this.json({ method: "GET", path: "/ready", retry: false }, shapes.Readiness);
  }

  /** Collection statistics. */
  async stats(): Promise<Stats> {
    return this.json({ method: "GET", path: "/stats" }, shapes.Stats);
  }
}
