/** The TypeScript client against a live ragkube API. */

import { describe, expect, inject, it } from "vitest";
import {
  AuthenticationError,
  NotFoundError,
  PermissionDeniedError,
  RagkubeClient,
  RateLimitedError,
  ValidationError,
  type StreamEvent,
} from "../src/index.js";

const live = inject("live");

async function exhaust(client: RagkubeClient, requests: number): Promise<void> {
  for (let i = 0; i < requests; i++) await client.listDocuments({ limit: 1 });
}

describe("querying", () => {
  it("answers with sources when called with an API key", async () => {
    const client = new RagkubeClient(live.url, { apiKey: live.api_key });
    const response = await client.query("What does a Deployment do?", { maxResults: 2 });
    expect(response.answer).toContain("Deployment");
    expect(response.sources.length).toBeGreaterThanOrEqual(1);
    expect(response.sources[0]?.metadata.source).toBe("kubernetes.md");
    expect(response.request_id).toBeTruthy();
  });

  it("streams sources, then tokens, then a final event", async () => {
    const client = new RagkubeClient(live.url, { apiKey: live.api_key });
    const events: StreamEvent[] = [];
    for await (const event of client.queryStream("What is BM25?", { maxResults: 2 })) events.push(event);
    const first = events[0];
    const last = events[events.length - 1];
    expect(first?.type).toBe("sources");
    if (first?.type === "sources") expect(first.sources[0]?.metadata.source).toBe("bm25.md");
    const text = events.map((e) => (e.type === "token" ? e.text : "")).join("");
    expect(text.length).toBeGreaterThan(0);
    expect(last?.type).toBe("final");
    if (last?.type === "final") {
      expect(last.answer.trim()).toBe(text.trim());
      expect(last.request_id).toBeTruthy();
    }
  });
});

describe("authentication", () => {
  it("logs in with a password and uses the token", async () => {
    const client = new RagkubeClient(live.url);
    const token = await client.login(live.username, live.password);
    expect(token.token_type).toBe("bearer");
    expect([...token.scopes].sort()).toEqual(["ingest", "query"]);
    expect(client.token).toBe(token.access_token);
    const stats = await client.stats();
    expect(stats.documents).toBeGreaterThanOrEqual(3);
    const reuse = new RagkubeClient(live.url, { token: token.access_token });
    expect((await reuse.query("What is Chroma?")).sources.length).toBeGreaterThan(0);
  });

  it("throws AuthenticationError with the request id for a wrong password", async () => {
    const client = new RagkubeClient(live.url);
    const error = await client.login(live.username, "wrong-password").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    const auth = error as AuthenticationError;
    expect(auth.status).toBe(401);
    expect(auth.code).toBe("invalid_credentials");
    expect(auth.requestId).toMatch(/^[0-9a-zA-Z-]{16,}$/);
  });

  it("throws AuthenticationError for an unknown API key", async () => {
    const client = new RagkubeClient(live.url, { apiKey: "rk_not-a-real-key" });
    await expect(client.query("What is Chroma?")).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("throws PermissionDeniedError when the key lacks the scope", async () => {
    const client = new RagkubeClient(live.url, { apiKey: live.query_only_key });
    const error = await client.ingest([{ content: "Forbidden." }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect((error as PermissionDeniedError).details).toEqual({ scope: "ingest" });
  });
});

describe("documents and errors", () => {
  it("uploads, reads and deletes a file", async () => {
    const client = new RagkubeClient(live.url, { apiKey: live.api_key });
    const uploaded = await client.ingestFiles(
      [{ name: "raft.md", content: "# Raft\n\nRaft elects a leader that replicates a log.", contentType: "text/markdown" }],
      { team: "storage" },
    );
    expect([uploaded.ingested, uploaded.failed]).toEqual([1, 0]);
    const id = uploaded.results[0]?.document_id;
    expect(id).toBeTruthy();
    const stored = await client.getDocument(id as string);
    expect(stored.source).toBe("raft.md");
    expect(stored.metadata.team).toBe("storage");
    expect(stored.original?.text).toBe("# Raft\n\nRaft elects a leader that replicates a log.");
    expect(stored.original?.metadata).toEqual({ team: "storage" });
    await client.deleteDocument(id as string);
    await expect(client.getDocument(id as string)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("reports an invalid request as ValidationError naming the field", async () => {
    const client = new RagkubeClient(live.url, { apiKey: live.api_key });
    const error = await client.query("ab").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([
      expect.objectContaining({ loc: ["body", "query"] }),
    ]);
  });

  it("registers, lists and removes a webhook", async () => {
    const client = new RagkubeClient(live.url, { apiKey: live.admin_key });
    const created = await client.createWebhook("http://127.0.0.1:9/hook", ["query.completed"]);
    expect(created.secret.length).toBeGreaterThanOrEqual(16);
    expect((await client.listWebhooks()).map((h) => h.id)).toContain(created.id);
    await client.deleteWebhook(created.id);
    expect((await client.listWebhooks()).map((h) => h.id)).not.toContain(created.id);
  });
});

describe("rate limits", () => {
  it("retries a 429 after the server's Retry-After and succeeds", async () => {
    const client = new RagkubeClient(live.limited_url, { apiKey: live.limited_keys[5] as string });
    await exhaust(client, live.limited_requests);
    const started = performance.now();
    const page = await client.listDocuments({ limit: 1 });
    const waited = (performance.now() - started) / 1000;
    expect(page.total).toBeGreaterThanOrEqual(3);
    expect(waited).toBeGreaterThanOrEqual(0.9 * live.limited_window_seconds);
  });

  it("throws RateLimitedError with retryAfter when retries are off", async () => {
    const client = new RagkubeClient(live.limited_url, {
      apiKey: live.limited_keys[6] as string,
      retry: { maxRetries: 0 },
    });
    await exhaust(client, live.limited_requests);
    const error = await client.listDocuments({ limit: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    const limited = error as RateLimitedError;
    expect(limited.retryAfter).toBeGreaterThanOrEqual(1);
    expect(limited.requestId).toBeTruthy();
  });

  it("retries a rate-limited stream before it starts", async () => {
    const client = new RagkubeClient(live.limited_url, { apiKey: live.limited_keys[7] as string });
    await exhaust(client, live.limited_requests);
    expect(await client.answer("What is Chroma?")).toContain("Chroma");
  });
});
