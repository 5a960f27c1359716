/**
 * The ragkube TypeScript SDK.
 *
 * ```ts
 * import { RagkubeClient } from "@ragkube/client";
 * const client = new RagkubeClient("http://localhost:8000", { apiKey: "rk_..." });
 * const { answer, sources } = await client.query("What does a Deployment do?");
 * for await (const event of client.queryStream("What is Chroma?")) { ... }
 * ```
 */

export { MAX_ERROR_BYTES, MAX_RESPONSE_BYTES, RagkubeClient, safeUrl, type ClientOptions } from "./client.js";
export {
  ApiConnectionError,
  ApiTimeoutError,
  AuthenticationError,
  InvalidResponseError,
  NotFoundError,
  PermissionDeniedError,
  RagkubeError,
  RateLimitedError,
  ServerError,
  ValidationError,
  errorFromEnvelope,
  errorFromResponse,
  summariseBody,
} from "./errors.js";
export type * from "./models.js";
export { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelay, type RetryPolicy } from "./retry.js";
export { EventStreamReader, SSEDecoder, lines, toStreamEvent, type ServerSentEvent } from "./sse.js";
export { verifyWebhookSignature, type VerifyOptions } from "./webhookSignature.js";
