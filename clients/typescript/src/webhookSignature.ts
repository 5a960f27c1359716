/**
 * Verifying a webhook delivery's signature on the receiving side (Web Crypto, no dependency).
 *
 * Each delivery carries `X-Webhook-Timestamp` (Unix seconds) and `X-Webhook-Signature:
 * sha256=<hex>`, the HMAC-SHA256 of `${timestamp}.${rawBody}` under the webhook's secret.
 */

export interface VerifyOptions {
  /** Refuse deliveries signed longer ago than this (replay protection); default 300 s. */
  toleranceSeconds?: number;
  /** Current time in Unix seconds (tests). */
  now?: number;
}

function toHex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** True when `signature` signs exactly `body` (the raw bytes) at `timestamp`, recently. */
export async function verifyWebhookSignature(
  secret: string,
  timestamp: string,
  signature: string,
  body: Uint8Array | string,
  options: VerifyOptions = {},
): Promise<boolean> {
  if (!/^\d+$/.test(timestamp)) return false;
  const sentAt = Number(timestamp);
  const now = options.now ?? Date.now() / 1000;
  if (Math.abs(now - sentAt) > (options.toleranceSeconds ?? 300)) return false;
  const encoder = new TextEncoder();
  const bodyBytes = typeof body === "string" ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${sentAt}.`);
  const message = new Uint8Array(prefix.length + bodyBytes.length);
  message.set(prefix);
  message.set(bodyBytes, prefix.length);
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const digest = await crypto.subtle.sign("HMAC", key, message);
  return constantTimeEqual(`sha256=${toHex(digest)}`, signature);
}
