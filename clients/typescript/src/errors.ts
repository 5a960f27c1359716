/** Typed errors for every way a call can fail, each carrying the server's request id. */

import type { ErrorEnvelope } from "./models.js";

export interface RagkubeErrorInit {
  status?: number;
  code?: string;
  requestId?: string;
  details?: unknown;
  retryAfter?: number;
  cause?: unknown;
}

/** Base class of every error the SDK throws. */
export class RagkubeError extends Error {
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The envelope's stable machine-readable code (`rate_limited`, `not_found`, ...). */
  readonly code: string | undefined;
  /** The server's request id: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  readonly details: unknown;
  /** Seconds the server asked to wait (429/503). */
  readonly retryAfter: number | undefined;

  constructor(message: string, init: RagkubeErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.details = init.details;
    this.retryAfter = init.retryAfter;
  }
}

/** The server could not be reached, or the connection broke. */
export class ApiConnectionError extends RagkubeError {}
/** The server did not answer (or stopped sending) within the client's timeout. */
export class ApiTimeoutError extends ApiConnectionError {}
/**
 * The server answered, but not as the API promises: not JSON, not an event stream, or an
 * event without its fields. Usually a proxy or another service answered in its place.
 */
export class InvalidResponseError extends RagkubeError {}
/** 401: credentials are missing, wrong or expired. */
export class AuthenticationError extends RagkubeError {}
/** 403: the credentials lack the scope the operation needs. */
export class PermissionDeniedError extends RagkubeError {}
/** 404: no such document, webhook or route. */
export class NotFoundError extends RagkubeError {}
/** 400, 409, 413, 415 or 422: the request was refused as invalid; `details` says why. */
export class ValidationError extends RagkubeError {}
/** 429: too many requests; `retryAfter` says how many seconds to wait. */
export class RateLimitedError extends RagkubeError {}
/** 5xx: the service (or something behind it) failed; retrying later may help. */
export class ServerError extends RagkubeError {}

function classFor(status: number): typeof RagkubeError {
  if (status === 401) return AuthenticationError;
  if (status === 403) return PermissionDeniedError;
  if (status === 404) return NotFoundError;
  if (status === 429) return RateLimitedError;
  if ([400, 409, 413, 415, 422].includes(status)) return ValidationError;
  if (status >= 500) return ServerError;
  return RagkubeError;
}

/** The most of a non-envelope error body quoted in a message. */
const QUOTED_BODY_CHARS = 300;

function isEnvelope(value: unknown): value is ErrorEnvelope {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "error" in value;
}

/** `value` when it is a non-empty string (a hostile body may put anything anywhere). */
function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** A non-envelope body as one short line: an HTML page's title, else its text. */
export function summariseBody(body: string): string {
  let content = body;
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(content);
  if (title) content = title[1] ?? "";
  else if (content.includes("<") && content.includes(">")) content = content.replace(/<[^>]*>/g, " ");
  const flat = content.split(/\s+/).filter(Boolean).join(" ");
  return flat.length > QUOTED_BODY_CHARS ? `${flat.slice(0, QUOTED_BODY_CHARS)} …` : flat;
}

/** The error an envelope describes; the status decides the class when known. */
export function errorFromEnvelope(
  body: ErrorEnvelope,
  status: number | undefined,
  fallbackRequestId?: string,
  retryAfter?: number,
): RagkubeError {
  const code = text(body.error) ?? "error";
  const effective = status ?? (code === "rate_limited" ? 429 : 500);
  const Cls = classFor(effective);
  const init: RagkubeErrorInit = { status: effective, code, details: body.details };
  const requestId = body.request_id ? String(body.request_id) : fallbackRequestId;
  if (requestId) init.requestId = requestId;
  if (retryAfter !== undefined) init.retryAfter = retryAfter;
  return new Cls(text(body.message) ?? code, init);
}

/**
 * The error for a failed response, read from its envelope when it has one. Anything else
 * (a proxy's HTML page, an empty body, another framework's JSON) still gives the class
 * its status implies, with a one-line message.
 */
export function errorFromResponse(
  status: number,
  headers: Headers,
  body: string,
  retryAfter?: number,
): RagkubeError {
  const requestId = headers.get("x-request-id") ?? undefined;
  if (status >= 300 && status < 400) {
    // Redirects are not followed: that would send the API key on to wherever the server
    // points. Say where it pointed, so the caller can fix the base URL.
    const location = headers.get("location");
    const init: RagkubeErrorInit = { status, code: "redirect" };
    if (requestId) init.requestId = requestId;
    return new RagkubeError(
      location
        ? `the server redirected to ${location}; use that address as the base URL`
        : `the server answered with a redirect (HTTP ${status})`,
      init,
    );
  }
  let parsed: unknown;
  try {
    parsed = body ? JSON.parse(body) : undefined;
  } catch {
    parsed = undefined;
  }
  let envelope: ErrorEnvelope;
  if (isEnvelope(parsed)) envelope = parsed;
  else {
    const stated =
      typeof parsed === "object" && parsed !== null
        ? (text((parsed as Record<string, unknown>).detail) ?? text((parsed as Record<string, unknown>).message))
        : undefined;
    envelope = { error: "http_error", message: stated ?? (summariseBody(body) || `HTTP ${status}`) };
  }
  return errorFromEnvelope(envelope, status, requestId, retryAfter);
}
