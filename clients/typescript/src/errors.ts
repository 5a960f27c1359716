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

function isEnvelope(value: unknown): value is ErrorEnvelope {
  return typeof value === "object" && value !== null && "error" in value;
}

/** The error an envelope describes; the status decides the class when known. */
export function errorFromEnvelope(
  body: ErrorEnvelope,
  status: number | undefined,
  fallbackRequestId?: string,
  retryAfter?: number,
): RagkubeError {
  const code = String(body.error || "error");
  const effective = status ?? (code === "rate_limited" ? 429 : 500);
  const Cls = classFor(effective);
  const init: RagkubeErrorInit = { status: effective, code, details: body.details };
  const requestId = body.request_id ?? fallbackRequestId;
  if (requestId) init.requestId = requestId;
  if (retryAfter !== undefined) init.retryAfter = retryAfter;
  return new Cls(String(body.message || code), init);
}

/** The error for a failed response, read from its envelope when it has one. */
export function errorFromResponse(
  status: number,
  headers: Headers,
  text: string,
  retryAfter?: number,
): RagkubeError {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const envelope: ErrorEnvelope = isEnvelope(body)
    ? body
    : { error: "http_error", message: text.trim().slice(0, 500) || `HTTP ${status}` };
  return errorFromEnvelope(envelope, status, headers.get("x-request-id") ?? undefined, retryAfter);
}
