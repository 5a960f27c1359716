"""Answer generation: a grounded prompt for an OpenAI-compatible chat model, or extractive.

Both generators share one shape: `agenerate` returns the whole answer and `astream` yields it
piece by piece. OpenAI SDK errors become rag_core's `LLMTimeout`, `LLMRateLimited` and
`LLMUnavailable`.

Time bound: `timeout_seconds` covers one whole call to the model, retries and the waits
between them included (until the first token, for a stream). Retries are made here, not by the
SDK, so that the SDK's own waits (a provider's Retry-After of up to a minute) cannot stretch it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, cast

import openai

from rag_core.answers import Source
from rag_core.errors import LLMRateLimited, LLMTimeout, LLMUnavailable
from rag_core.extractive import NO_ANSWER, extractive_answer

#: The longest Retry-After honoured between attempts; a provider asking for more ends the
#: retries at once (the caller gets `LLMRateLimited` carrying the provider's value).
MAX_RETRY_AFTER_SECONDS = 2.0
#: First wait between attempts when the provider names none; doubles on each retry.
BACKOFF_SECONDS = 0.5
_RETRIED_STATUSES = frozenset({408, 409, 429})

SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources you are given. "
    "Cite every claim with the number of its source in square brackets, like [1] or [2][3]. "
    "If the sources do not contain the answer, say that the documents do not contain the "
    "information; never invent facts, numbers or citations. Be concise."
)


class Generator(Protocol):
    async def agenerate(self, query: str, sources: Sequence[Source]) -> str: ...

    def astream(self, query: str, sources: Sequence[Source]) -> AsyncIterator[str]: ...

    async def acondense(self, history: Sequence[tuple[str, str]], question: str) -> str: ...

    async def aclose(self) -> None: ...


def grounded_messages(query: str, sources: Sequence[Source]) -> list[dict[str, str]]:
    """Chat messages asking for an answer from the numbered sources, with [n] citations."""
    blocks = []
    for number, source in enumerate(sources, start=1):
        title = source.metadata.get("title") or source.metadata.get("source") or ""
        heading = f"[{number}] {title}".rstrip()
        blocks.append(f"{heading}\n{source.content.strip()}")
    context = "\n\n".join(blocks)
    user = f"Sources:\n\n{context}\n\nQuestion: {query}\n\nAnswer with [n] citations:"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def condense_messages(history: Sequence[tuple[str, str]], question: str) -> list[dict[str, str]]:
    """Chat messages asking to rewrite a follow-up as a standalone question."""
    turns = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in history)
    return [
        {
            "role": "system",
            "content": "Rewrite the user's last question so it can be understood without the "
            "conversation. Reply with the rewritten question only.",
        },
        {"role": "user", "content": f"Conversation:\n{turns}\n\nLast question: {question}"},
    ]


class ExtractiveGenerator:
    """The offline default: no model call, answers are source sentences with citations."""

    async def agenerate(self, query: str, sources: Sequence[Source]) -> str:
        return extractive_answer(query, sources)

    async def astream(self, query: str, sources: Sequence[Source]) -> AsyncIterator[str]:
        answer = extractive_answer(query, sources)
        words = answer.split(" ")
        for index, word in enumerate(words):
            yield word if index == len(words) - 1 else word + " "

    async def acondense(self, history: Sequence[tuple[str, str]], question: str) -> str:
        return heuristic_condense(history, question)

    async def aclose(self) -> None:
        return None


_FOLLOW_UP_WORDS = frozenset(
    {
        "it",
        "its",
        "it's",
        "that",
        "this",
        "those",
        "these",
        "they",
        "them",
        "their",
        "he",
        "she",
        "his",
        "her",
        "there",
        "one",
        "ones",
        "same",
        "also",
        "else",
        "more",
    }
)
_FOLLOW_UP_OPENERS = ("and ", "what about", "how about", "why", "also", "then ", "so ")


def heuristic_condense(history: Sequence[tuple[str, str]], question: str) -> str:
    """Without a model: a short question that leans on earlier turns gets the last question
    prepended, so retrieval sees what "it" or "that" refers to."""
    if not history:
        return question
    words = {w.strip("?,.!").lower() for w in question.split()}
    lower = question.lower().lstrip()
    is_follow_up = (bool(words & _FOLLOW_UP_WORDS) or lower.startswith(_FOLLOW_UP_OPENERS)) and len(
        words
    ) <= 12
    if not is_follow_up:
        return question
    return f"{history[-1][0].rstrip()} {question}"


class OpenAICompatibleGenerator:
    """A chat model behind an OpenAI-compatible API (OpenAI, vLLM, Ollama, LiteLLM, ...)."""

    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key: str | None,
        timeout_seconds: float = 30.0,
        max_retries: int = 2,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> None:
        self._model = model
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "unused",
            timeout=timeout_seconds,
            max_retries=0,  # retried in `_create`, within the time budget
        )
        self._timeout = timeout_seconds
        self._max_retries = max_retries
        self._max_tokens = max_tokens
        self._temperature = temperature

    async def _create(self, messages: list[dict[str, str]], stream: bool = False) -> Any:
        """One chat completion request, retried on transient failures, all of it (until the
        response starts) within `timeout_seconds`."""
        deadline = time.monotonic() + self._timeout
        attempt = 0
        while True:
            remaining = max(deadline - time.monotonic(), 0.001)
            try:
                return await asyncio.wait_for(
                    self._client.chat.completions.create(
                        model=self._model,
                        messages=messages,  # type: ignore[arg-type]
                        max_tokens=self._max_tokens,
                        temperature=self._temperature,
                        stream=stream,
                        timeout=remaining,
                    ),
                    remaining,
                )
            except TimeoutError as error:
                raise LLMTimeout(
                    f"The language model did not answer within {self._timeout:g} s."
                ) from error
            except openai.OpenAIError as error:
                wait = retry_wait(error, attempt)
                attempt += 1
                if (
                    wait is None
                    or attempt > self._max_retries
                    or time.monotonic() + wait >= deadline
                ):
                    raise llm_error(error) from error
                await asyncio.sleep(wait)

    async def _complete(self, messages: list[dict[str, str]]) -> str:
        response = await self._create(messages)
        if not response.choices:
            raise LLMUnavailable("The language model returned no choices.")
        return (response.choices[0].message.content or "").strip()

    async def agenerate(self, query: str, sources: Sequence[Source]) -> str:
        if not sources:
            return NO_ANSWER
        return await self._complete(grounded_messages(query, sources))

    async def astream(self, query: str, sources: Sequence[Source]) -> AsyncIterator[str]:
        if not sources:
            yield NO_ANSWER
            return
        stream = await self._create(grounded_messages(query, sources), stream=True)
        try:
            async for event in cast("AsyncIterator[Any]", stream):
                if event.choices and event.choices[0].delta.content:
                    yield event.choices[0].delta.content
        except openai.OpenAIError as error:
            raise llm_error(error) from error

    async def acondense(self, history: Sequence[tuple[str, str]], question: str) -> str:
        if not history:
            return question
        rewritten = await self._complete(condense_messages(history, question))
        return rewritten or question

    async def aclose(self) -> None:
        await self._client.close()


def llm_error(error: openai.OpenAIError) -> LLMUnavailable:
    """rag_core's error for an OpenAI SDK failure."""
    if isinstance(error, openai.APITimeoutError):
        return LLMTimeout(f"The language model did not answer in time: {error}")
    if isinstance(error, openai.RateLimitError):
        return LLMRateLimited(
            f"The language model is rate limited: {error}", _retry_after(error.response)
        )
    if isinstance(error, openai.APIStatusError):
        return LLMUnavailable(
            f"The language model answered HTTP {error.status_code}: {error.message}"
        )
    return LLMUnavailable(f"The language model could not be reached: {error}")


def retry_wait(error: openai.OpenAIError, attempt: int) -> float | None:
    """Seconds to wait before retrying after `error` (attempt 0 failed first), or None when
    retrying cannot help: a client error, or a provider asking to wait too long."""
    backoff = BACKOFF_SECONDS * 2.0**attempt * random.uniform(0.75, 1.0)  # noqa: S311 (jitter)
    if isinstance(error, openai.APIConnectionError):  # timeouts included
        return backoff
    if not isinstance(error, openai.APIStatusError):
        return None
    if error.status_code not in _RETRIED_STATUSES and error.status_code < 500:
        return None
    retry_after = _retry_after(error.response)
    if retry_after is None:
        return backoff
    return retry_after if retry_after <= MAX_RETRY_AFTER_SECONDS else None


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
