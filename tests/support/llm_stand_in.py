"""A stand-in OpenAI-compatible HTTP server for LLM tests (rag_core, API reliability).

It is a real HTTP server on a free loopback port, driven by the real openai client. Tests
choose how it behaves next: "ok" (a grounded answer quoting source [1]), "slow" (answers after
the client's timeout), "rate_limited" (429 with Retry-After) or "error" (500).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StandInLLM:
    """Handle on the running stand-in: its URL, what it should do next, what it received."""

    base_url: str
    behaviour: str = "ok"
    delay_seconds: float = 3.0
    retry_after: str = "7"
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: Length of the vectors `/embeddings` returns: 3 (length, 1, 0) by default; any other
    #: length gives a deterministic vector per text, like another embedding model would.
    embedding_dimension: int = 3

    def embedding_for(self, text: str) -> list[float]:
        if self.embedding_dimension == 3:
            return [float(len(text)), 1.0, 0.0]
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
        generator = random.Random(seed)
        return [generator.uniform(-1.0, 1.0) for _ in range(self.embedding_dimension)]

    def answer_for(self, body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        if prompt.startswith("Conversation:"):
            last = prompt.rsplit("Last question:", 1)[1].strip()
            first_question = re.search(r"User: (.+)", prompt)
            earlier = first_question.group(1) if first_question else ""
            return f"{earlier.rstrip('?')} — {last}"
        match = re.search(r"\[1\][^\n]*\n(.+?)(?:\n\n\[2\]|\n\nQuestion:)", prompt, re.DOTALL)
        quoted = match.group(1).strip().split("\n")[0] if match else "nothing"
        return f"According to the documents, {quoted} [1]"


def _handler(llm: StandInLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def _json(self, status: int, payload: dict[str, Any], **headers: str) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            llm.requests.append(
                {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
            )
            if llm.behaviour == "slow":
                time.sleep(llm.delay_seconds)
            if llm.behaviour == "rate_limited":
                error = {"error": {"message": "slow down", "type": "rate_limit"}}
                self._json(429, error, Retry_After=llm.retry_after)
                return
            if llm.behaviour == "error":
                self._json(500, {"error": {"message": "boom", "type": "server_error"}})
                return
            if self.path.endswith("/embeddings"):
                inputs = body["input"]
                data = [
                    {"object": "embedding", "index": i, "embedding": llm.embedding_for(t)}
                    for i, t in enumerate(inputs)
                ]
                self._json(
                    200,
                    {
                        "object": "list",
                        "data": data,
                        "model": body["model"],
                        "usage": {"prompt_tokens": 1, "total_tokens": 1},
                    },
                )
                return
            answer = llm.answer_for(body)
            if body.get("stream"):
                self._stream(body, answer)
                return
            self._json(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": answer},
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )

        def _stream(self, body: dict[str, Any], answer: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in re.findall(r"\S+\s*", answer):
                chunk = {
                    "id": "chatcmpl-1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


@contextmanager
def running_stand_in() -> Iterator[StandInLLM]:
    """Start the stand-in on a free loopback port; stop it on exit."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(StandInLLM("")))
    llm = StandInLLM(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    server.RequestHandlerClass = _handler(llm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield llm
    finally:
        server.shutdown()
        server.server_close()
