/** How the client reads the wire: SSE framing, Retry-After, error envelopes, signatures. */

import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_POLICY,
  NotFoundError,
  RagkubeError,
  SSEDecoder,
  ServerError,
  errorFromResponse,
  lines,
  parseRetryAfter,
  retryDelay,
  toStreamEvent,
  verifyWebhookSignature,
} from "../src/index.js";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe("server-sent events", () => {
  it("splits lines across chunk boundaries and line-ending styles", async () => {
    const out: string[] = [];
    for await (const line of lines(streamOf("event: tok", "en\r\ndata: {}\n", "\r\n", "last"))) out.push(line);
    expect(out).toEqual(["event: token", "data: {}", "", "last"]);
  });

  it("joins data lines, skips comments and types the events", () => {
    const decoder = new SSEDecoder();
    const raw = [": ping", "event: token", 'data: {"text":', 'data: "hi"}', ""]
      .map((line) => decoder.feed(line))
      .filter((e) => e !== undefined);
    expect(raw).toEqual([{ event: "token", data: '{"text":\n"hi"}' }]);
    expect(toStreamEvent(raw[0]!)).toEqual({ type: "token", text: "hi" });
    expect(toStreamEvent({ event: "heartbeat", data: "{}" })).toBeUndefined();
  });

  it("throws the envelope of an error event", () => {
    const event = { event: "error", data: '{"error":"llm_timeout","message":"slow","request_id":"r9"}' };
    expect(() => toStreamEvent(event)).toThrow(ServerError);
    try {
      toStreamEvent(event);
    } catch (error) {
      expect((error as RagkubeError).requestId).toBe("r9");
    }
  });
});

describe("retries", () => {
  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("Wed, 01 Jan 2025 12:00:00 GMT");
    expect(parseRetryAfter("3", now)).toBe(3);
    expect(parseRetryAfter("Wed, 01 Jan 2025 12:00:10 GMT", now)).toBe(10);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("bounds retries in number and in wait", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, maxRetries: 2, maxWaitSeconds: 5 };
    const after = (value: string) => new Headers({ "retry-after": value });
    expect(retryDelay(policy, 0, 429, after("2"))).toBe(2);
    expect(retryDelay(policy, 1, 503, new Headers())).toBe(1);
    expect(retryDelay(policy, 2, 429, after("1"))).toBeUndefined();
    expect(retryDelay(policy, 0, 429, after("60"))).toBeUndefined();
    expect(retryDelay(policy, 0, 500, new Headers())).toBeUndefined();
  });
});

describe("errors", () => {
  it("maps the envelope to a typed error with its request id", () => {
    const error = errorFromResponse(404, new Headers(), '{"error":"not_found","message":"gone","request_id":"abc"}');
    expect(error).toBeInstanceOf(NotFoundError);
    expect([error.message, error.code, error.requestId, error.status]).toEqual(["gone", "not_found", "abc", 404]);
  });

  it("still types a body that is not an envelope", () => {
    const error = errorFromResponse(502, new Headers({ "x-request-id": "proxy-1" }), "<html>Bad gateway</html>");
    expect(error).toBeInstanceOf(ServerError);
    expect(error.requestId).toBe("proxy-1");
  });
});

describe("webhook signatures", () => {
  const secret = "a-webhook-secret-of-some-length";
  const body = '{"event":"query.completed"}';
  const sign = (timestamp: number) =>
    "sha256=" + createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");

  it("accepts a fresh, correct signature", async () => {
    expect(await verifyWebhookSignature(secret, "1700000000", sign(1700000000), body, { now: 1700000010 })).toBe(true);
  });

  it("refuses a tampered body, a wrong secret and an old timestamp", async () => {
    const signature = sign(1700000000);
    expect(await verifyWebhookSignature(secret, "1700000000", signature, body + " ", { now: 1700000010 })).toBe(false);
    expect(await verifyWebhookSignature("other-secret", "1700000000", signature, body, { now: 1700000010 })).toBe(false);
    expect(await verifyWebhookSignature(secret, "1700000000", signature, body, { now: 1700009999 })).toBe(false);
  });
});
