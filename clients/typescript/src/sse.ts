/** Server-sent events: decoding a fetch body stream into typed stream events. */

import { ApiConnectionError, InvalidResponseError, errorFromEnvelope } from "./errors.js";
import type { ErrorEnvelope, StreamEvent } from "./models.js";
import { ShapeError, eventShapes, validate } from "./validate.js";

export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/** Decodes lines of an event stream (per the HTML standard) into events. */
export class SSEDecoder {
  private event = "";
  private data: string[] = [];
  private id: string | undefined;

  /** Take one line (without its line ending); an event when the line completes one. */
  feed(rawLine: string): ServerSentEvent | undefined {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (line === "") {
      if (this.data.length === 0 && this.event === "") return undefined;
      const out: ServerSentEvent = { event: this.event || "message", data: this.data.join("\n") };
      if (this.id !== undefined) out.id = this.id;
      this.event = "";
      this.data = [];
      return out;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") this.event = value;
    else if (name === "data") this.data.push(value);
    else if (name === "id") this.id = value;
    return undefined;
  }
}

/** Lines of a UTF-8 byte stream, split on \n, \r\n or \r. */
export async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let match: RegExpExecArray | null;
      const separator = /\r\n|\n|\r(?!$)/g;
      let start = 0;
      while ((match = separator.exec(buffer)) !== null) {
        yield buffer.slice(start, match.index);
        start = match.index + match[0].length;
      }
      buffer = buffer.slice(start);
    }
    buffer += decoder.decode();
    if (buffer.endsWith("\r")) buffer = buffer.slice(0, -1);
    if (buffer !== "") yield buffer;
  } finally {
    reader.releaseLock();
  }
}

/**
 * The typed event, undefined for event types this SDK does not know. An `error` event
 * throws the error it describes (a `ServerError` when it describes nothing usable); an
 * event without its promised fields throws `InvalidResponseError`.
 */
export function toStreamEvent(raw: ServerSentEvent): StreamEvent | undefined {
  const shape = eventShapes[raw.event];
  if (shape === undefined && raw.event !== "error") return undefined;
  let data: unknown;
  try {
    data = raw.data ? JSON.parse(raw.data) : {};
  } catch {
    data = undefined;
  }
  const isObject = typeof data === "object" && data !== null && !Array.isArray(data);
  if (raw.event === "error") {
    const envelope =
      isObject && Object.keys(data as object).length > 0
        ? (data as ErrorEnvelope)
        : { error: "stream_error", message: "the server reported an error mid-stream" };
    throw errorFromEnvelope(envelope, undefined);
  }
  if (data === undefined || shape === undefined) {
    throw new InvalidResponseError(`The server sent a malformed '${raw.event}' event.`, { code: "invalid_response" });
  }
  try {
    return validate(shape, data);
  } catch (cause) {
    if (!(cause instanceof ShapeError)) throw cause;
    // Named by field, never by value, as for every other answer.
    throw new InvalidResponseError(`The server sent a malformed '${raw.event}' event: ${cause.message}`, {
      code: "invalid_response",
    });
  }
}

/**
 * Lines of a query stream in, typed events out; knows whether the stream finished. The
 * API ends every stream with a `final` or an `error` event, so a stream that stops before
 * either was cut (a proxy's timeout, a restarted pod); `finish` says so instead of
 * letting a partial answer pass for a whole one.
 */
export class EventStreamReader {
  private readonly decoder = new SSEDecoder();
  finished = false;

  constructor(private readonly url: string) {}

  /** Take one line; the typed event it completes, if any. */
  feed(line: string): StreamEvent | undefined {
    const raw = this.decoder.feed(line);
    if (raw === undefined || this.finished) return undefined;
    const event = toStreamEvent(raw);
    if (event?.type === "final") this.finished = true;
    return event;
  }

  /** At the end of the body: `ApiConnectionError` unless the final event arrived. */
  finish(): void {
    // An event left without its closing blank line is discarded, as the standard says.
    if (this.finished) return;
    throw new ApiConnectionError(
      `the answer stream from ${this.url} ended before its final event; the connection was probably cut`,
    );
  }
}
