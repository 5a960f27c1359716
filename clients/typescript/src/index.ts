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

export { RagkubeClient, type ClientOptions } from "./client.js";
export {
  ApiConnectionError,
  AuthenticationError,
  NotFoundError,
  PermissionDeniedError,
  RagkubeError,
  RateLimitedError,
  ServerError,
  ValidationError,
  errorFromEnvelope,
  errorFromResponse,
} from "./errors.js";
export type * from "./models.js";
export { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelay, type RetryPolicy } from "./retry.js";
export { SSEDecoder, lines, toStreamEvent, type ServerSentEvent } from "./sse.js";
export { verifyWebhookSignature, type VerifyOptions } from "./webhookSignature.js";
