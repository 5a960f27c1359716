/**
 * The client against a real loopback server that answers badly on purpose: every failure is
 * one typed `RagkubeError`, and none outlasts the timeout.
 */

import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  ApiConnectionError,
  ApiTimeoutError,
  InvalidResponseError,
  NotFoundError,
  RagkubeClient,
  RagkubeError,
  RateLimitedError,
  ServerError,
  parseRetryAfter,
} from "../src/index.js";

type Answer = (socket: Socket) => void;

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A raw HTTP/1.1 server answering each request with `answers[n]` (the last repeats). */
async function serve(...answers: Answer[]): Promise<{ url: string; hits: () => number; heads: string[] }> {
  let hits = 0;
  const heads: string[] = [];
  const server = createServer((socket) => {
    let buffer = "";
    let answered = false;
    socket.on("error", () => undefined);
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      if (answered || !buffer.includes("\r\n\r\n")) return;
      answered = true;
      heads.push(buffer.slice(0, buffer.indexOf("\r\n\r\n")));
      const answer = answers[Math.min(hits, answers.length - 1)];
      hits++;
      answer?.(socket);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, heads };
}

function response(status: string, body = "", headers: string[] = [], contentType = "application/json"): Answer {
  const head = [
    `HTTP/1.1 ${status}`,
    `content-length: ${Buffer.byteLength(body)}`,
    `content-type: ${contentType}`,
    "connection: close",
    ...headers,
  ];
  return (socket) => socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}

function eventStream(events: string[], finish = true): Answer {
  return (socket) => {
    socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    for (const event of events) socket.write(`${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`);
    if (finish) socket.end("0\r\n\r\n");
    else socket.destroy();
  };
}

const silence: Answer = () => undefined;
const SOURCES = 'event: sources\ndata: {"sources":[]}\n\n';
const TOKEN = 'event: token\ndata: {"text":"Hel"}\n\n';
const FINAL = 'event: final\ndata: {"confidence":0.5,"answer":"Hel"}\n\n';

async function failure(promise: Promise<unknown>): Promise<RagkubeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RagkubeError);
    return error as RagkubeError;
  }
  throw new Error("the call did not fail");
}

async function drain(client: RagkubeClient): Promise<string[]> {
  const types: string[] = [];
  for await (const event of client.queryStream("q")) types.push(event.type);
  return types;
}

const client = (url: string, timeoutMs = 5000): RagkubeClient =>
  new RagkubeClient(url, { apiKey: "rk_test-key", timeoutMs, retry: { maxRetries: 0 } });

describe("bodies that are not what the API promises", () => {
  it("turns a proxy's HTML error page into a one-line ServerError", async () => {
    const page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body></html>";
    const { url } = await serve(response("502 Bad Gateway", page, ["x-request-id: edge-7"], "text/html"));
    const error = await failure(client(url).stats());
    expect(error).toBeInstanceOf(ServerError);
    expect([error.message, error.requestId]).toEqual(["502 Bad Gateway", "edge-7"]);
  });

  it("uses a non-envelope JSON body's detail as the message", async () => {
    const { url } = await serve(response("404 Not Found", '{"detail":"Not Found"}'));
    const error = await failure(client(url).stats());
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe("Not Found");
  });

  it.each([
    ["truncated", '{"documents": 3, "chunks"'],
    ["empty", ""],
    ["html", "<html><body>Please log in</body></html>"],
  ])("raises InvalidResponseError for a %s 200", async (_name, body) => {
    const { url } = await serve(response("200 OK", body, ["x-request-id: rq-200"]));
    const error = await failure(client(url).stats());
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect([error.status, error.requestId]).toEqual([200, "rq-200"]);
  });

  it("does not follow a redirect (the API key would go along) but names its target", async () => {
    const { url, hits } = await serve(response("301 Moved Permanently", "", ["location: https://api.example/"]));
    const error = await failure(client(url).stats());
    expect(error.message).toContain("https://api.example/");
    expect(hits()).toBe(1);
  });
});

/** A 200 carrying `body` as JSON, as the API (or something in its place) would send it. */
const ok = (body: unknown): Answer => response("200 OK", JSON.stringify(body), ["x-request-id: rq-shape"]);

/** `value` without the field `name`. */
function without<T extends object>(value: T, name: keyof T): Partial<T> {
  const copy: Partial<T> = { ...value };
  delete copy[name];
  return copy;
}

const SOURCE = { content: "A Deployment manages ReplicaSets.", similarity: 0.91, metadata: { source: "k8s.md" } };
const QUERY = {
  request_id: "rq-1",
  query: "What does a Deployment do?",
  answer: "It manages ReplicaSets.",
  sources: [SOURCE],
  confidence: 0.8,
  processing_time: 0.12,
  timestamp: "2025-01-01T12:00:00.123456Z",
  guardrails_triggered: [],
};
const STATS = { documents: 3, chunks: 9, index_version: "v1", uptime_seconds: 12.5, rag: { mode: "hybrid" } };
const LOGIN = { access_token: "eyJ.tok-secret.sig", token_type: "bearer", expires_in: 3600, scopes: ["query"] };
const WEBHOOK = { id: "wh-1", url: "https://hooks.example/in", events: ["query.completed"], source: "runtime", description: "" };

type Call = (client: RagkubeClient) => Promise<unknown>;

describe("JSON answers of the wrong shape", () => {
  const cases: [string, Call, unknown, string][] = [
    [
      "a query answer without its answer",
      (c) => c.query("What does a Deployment do?"),
      without(QUERY, "answer"),
      "the server's answer is not a QueryResponse: answer is missing",
    ],
    [
      "a source whose similarity is a string",
      (c) => c.query("What does a Deployment do?"),
      { ...QUERY, sources: [SOURCE, { ...SOURCE, similarity: "0.9" }] },
      "the server's answer is not a QueryResponse: sources[1].similarity must be a number, not a string",
    ],
    [
      "a document page whose items are not an array",
      (c) => c.listDocuments(),
      { items: { id: "d1" }, total: 1, offset: 0, limit: 50 },
      "the server's answer is not a DocumentPage: items must be an array, not an object",
    ],
    [
      "a login answer without an access token",
      (c) => c.login("alice", "pw"),
      without(LOGIN, "access_token"),
      "the server's answer is not a Token: access_token is missing",
    ],
    [
      "statistics whose document count is a string",
      (c) => c.stats(),
      { ...STATS, documents: "3" },
      "the server's answer is not a Stats: documents must be an integer, not a string",
    ],
    [
      "statistics whose index identity has a string dimension",
      (c) => c.stats(),
      {
        ...STATS,
        index: {
          embedding_provider: "local",
          embedding_model: "all-MiniLM-L6-v2",
          dimension: "384",
          normalized: true,
          chunk_size: 256,
          chunk_overlap: 32,
          analyzer: "english-snowball-bm25s-stopwords-v1",
          built_at: "2026-12-07T16:00:00+00:00",
        },
      },
      "the server's answer is not a Stats: index.dimension must be an integer, not a string",
    ],
    [
      "a webhook list with an unknown source",
      (c) => c.listWebhooks(),
      [WEBHOOK, { ...WEBHOOK, source: "elsewhere" }],
      `the server's answer is not a list of Webhook: [1].source must be "runtime" or "operator", not another string`,
    ],
    [
      "an array where an object belongs",
      (c) => c.health(),
      [{ status: "ok" }],
      "the server's answer is not a Health: the body must be an object, not an array",
    ],
  ];

  it.each(cases)("raises InvalidResponseError naming the field for %s", async (_name, call, body, message) => {
    const { url } = await serve(ok(body));

    const error = await failure(call(client(url)));

    expect(error).toBeInstanceOf(InvalidResponseError);
    expect([error.status, error.code, error.requestId]).toEqual([200, "invalid_response", "rq-shape"]);
    expect(error.message).toBe(message);
  });

  it("neither quotes a malformed token nor starts using it", async () => {
    const { url } = await serve(ok({ ...LOGIN, access_token: [LOGIN.access_token] }));
    const sdk = client(url);

    const error = await failure(sdk.login("alice", "pw"));

    expect(error.message).toBe("the server's answer is not a Token: access_token must be a string, not an array");
    expect(error.message).not.toContain("tok-secret");
    expect([sdk.token, sdk.apiKey]).toEqual([undefined, "rk_test-key"]);
  });

  it("accepts fields it does not know, as from a newer server", async () => {
    const newer = { ...QUERY, reranked: true, sources: [{ ...SOURCE, rerank_score: 0.7 }] };
    const { url } = await serve(ok(newer));

    const answer = await client(url).query("What does a Deployment do?");

    expect(answer).toEqual(QUERY);
  });

  it("keeps statistics it does not know, as the Python SDK does", async () => {
    const { url } = await serve(ok({ ...STATS, cache_hits: 7 }));

    const stats = await client(url).stats();

    // An older server sends no index identity: it reads as null, as the Python SDK's default.
    expect(stats).toEqual({ ...STATS, cache_hits: 7, index: null });
  });

  it("fills the fields the API gives a default when they are absent", async () => {
    const { url } = await serve(ok(without(LOGIN, "token_type")));

    const token = await client(url).login("alice", "pw");

    expect(token.token_type).toBe("bearer");
  });
});

describe("connections that fail or never finish", () => {
  it("times out a server that never answers", async () => {
    const { url } = await serve(silence);
    const started = Date.now();
    expect(await failure(client(url, 500).stats())).toBeInstanceOf(ApiTimeoutError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("times out a stream whose server never answers", async () => {
    const { url } = await serve(silence);
    expect(await failure(drain(client(url, 500)))).toBeInstanceOf(ApiTimeoutError);
  });

  it("times out a stream that stalls after its first event", async () => {
    const { url } = await serve((socket) => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
      socket.write(`${Buffer.byteLength(SOURCES).toString(16)}\r\n${SOURCES}\r\n`);
    });
    expect(await failure(drain(client(url, 500)))).toBeInstanceOf(ApiTimeoutError);
  });

  it("reports a body cut short as a connection error", async () => {
    const { url } = await serve((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"status"');
      socket.destroy();
    });
    expect(await failure(client(url).health())).toBeInstanceOf(ApiConnectionError);
  });

  it("refuses base URLs without an http scheme, or with a password, before any call", () => {
    for (const url of ["localhost:8000", "127.0.0.1:8000", "ftp://host", "http://admin:hunter2@127.0.0.1:9"]) {
      expect(() => new RagkubeClient(url)).toThrow(/base URL/);
      expect(() => new RagkubeClient(url)).not.toThrow(/hunter2/);
    }
  });

  it("refuses a credential no header can carry without quoting it", () => {
    for (const key of ["rk_bad key", "rk_ключ", "rk_a\r\nX-Injected: 1"]) {
      expect(() => new RagkubeClient("http://127.0.0.1:1", { apiKey: key })).toThrow(/API key contains/);
      expect(() => new RagkubeClient("http://127.0.0.1:1", { apiKey: key })).not.toThrow(/rk_/);
    }
  });

  it("sends a key read with a trailing newline without it", async () => {
    const { url, heads } = await serve(response("200 OK", '{"status":"ok"}'));
    await new RagkubeClient(url, { apiKey: "rk_from-a-file\n" }).health();
    expect(heads[0]?.toLowerCase().split("\r\n")).toContain("x-api-key: rk_from-a-file");
  });
});

describe("retries", () => {
  it.each(["-5", "nan", "soon 1", "1e9"])("falls back to backoff for Retry-After %j", async (value) => {
    const refused = response("429 Too Many Requests", '{"error":"rate_limited","message":"slow"}', [
      `retry-after: ${value}`,
    ]);
    const { url, hits } = await serve(refused);
    const started = Date.now();
    const retrying = new RagkubeClient(url, { retry: { maxRetries: 2, backoffSeconds: 0.2 } });
    const error = await failure(retrying.stats());
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAfter).toBeUndefined();
    expect(hits()).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it("reads the three HTTP date forms and nothing looser", () => {
    const now = Date.parse("Sun, 06 Nov 1994 08:49:27 GMT");
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(10);
    expect(parseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(10);
    expect(parseRetryAfter("Sun Nov  6 08:49:37 1994", now)).toBe(10);
    expect(parseRetryAfter("soon 1", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
  });
});

describe("streams", () => {
  it("raises when the stream ends before its final event", async () => {
    const { url } = await serve(eventStream([SOURCES, TOKEN]));
    const error = await failure(drain(client(url)));
    expect(error).toBeInstanceOf(ApiConnectionError);
    expect(error.message).toContain("before its final event");
  });

  it("raises a connection error when the stream is cut mid-chunk", async () => {
    const { url } = await serve(eventStream([SOURCES, TOKEN], false));
    expect(await failure(drain(client(url)))).toBeInstanceOf(ApiConnectionError);
  });

  it.each([
    ["missing-field", 'event: token\ndata: {"nottext": 1}\n\n'],
    ["not-an-object", "event: sources\ndata: [1, 2]\n\n"],
    ["malformed-json", 'event: token\ndata: {"text":\n\n'],
  ])("raises InvalidResponseError for a %s event", async (_name, bad) => {
    const { url } = await serve(eventStream([SOURCES, bad, FINAL]));
    expect(await failure(drain(client(url)))).toBeInstanceOf(InvalidResponseError);
  });

  it("names the field of an event whose nested value has the wrong type", async () => {
    const bad = 'event: sources\ndata: {"sources":[{"content":"c","similarity":"high","metadata":{}}]}\n\n';
    const { url } = await serve(eventStream([bad, FINAL]));
    const error = await failure(drain(client(url)));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toBe(
      "The server sent a malformed 'sources' event: sources[0].similarity must be a number, not a string",
    );
  });

  it("fills a final event's optional fields as the Python SDK does", async () => {
    const { url } = await serve(eventStream([SOURCES, 'event: final\ndata: {"confidence":0.25}\n\n']));
    const events = [];
    for await (const event of client(url).queryStream("q")) events.push(event);
    expect(events.at(-1)).toEqual({
      type: "final",
      answer: "",
      confidence: 0.25,
      guardrails_triggered: [],
      timings: {},
      blocked: false,
    });
  });

  it.each(["null", "[1]", ""])("raises a ServerError for an error event with data %j", async (data) => {
    const { url } = await serve(eventStream([SOURCES, data ? `event: error\ndata: ${data}\n\n` : "event: error\n\n"]));
    const error = await failure(drain(client(url)));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toBe("the server reported an error mid-stream");
  });

  it("raises InvalidResponseError for a 200 that is not an event stream", async () => {
    const { url } = await serve(response("200 OK", "<html>captive portal</html>", [], "text/html"));
    const error = await failure(drain(client(url)));
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect(error.message).toContain("not an event stream");
  });

  it("ignores comments and unknown lines", async () => {
    const { url } = await serve(eventStream([": keep-alive\n\n", "garbage\n", SOURCES, "retry: 10\n\n", TOKEN, FINAL]));
    expect(await drain(client(url))).toEqual(["sources", "token", "final"]);
  });
});
