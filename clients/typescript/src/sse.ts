/** Server-sent events: decoding a fetch body stream into typed stream events. */

import { RagkubeError, errorFromEnvelope } from "./errors.js";
import type { ErrorEnvelope, StreamEvent } from "./models.js";

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

/** The typed event, undefined for event types this SDK does not know; throws for `error`. */
export function toStreamEvent(raw: ServerSentEvent): StreamEvent | undefined {
  let data: Record<string, unknown>;
  try {
    data = raw.data ? (JSON.parse(raw.data) as Record<string, unknown>) : {};
  } catch (cause) {
    throw new RagkubeError(`The server sent a malformed '${raw.event}' event.`, { cause });
  }
  switch (raw.event) {
    case "error":
      throw errorFromEnvelope(data as unknown as ErrorEnvelope, undefined);
    case "sources":
    case "token":
    case "final":
      return { ...data, type: raw.event } as StreamEvent;
    default:
      return undefined;
  }
}
