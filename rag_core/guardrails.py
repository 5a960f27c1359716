"""Input and output guardrails; every rule that fires is reported by name.

Input rules refuse a query before any retrieval: `query_empty`, `query_too_long`,
`blocked_pattern:<name>`, `toxic_language`, `prompt_injection`. Output rules judge an answer:
`invalid_citation` (a [n] that matches no source), `ungrounded_answer` (too few of the
answer's sentences are supported by the sources) and `low_confidence` (confidence under the
floor; the answer is then replaced by a refusal).

The input patterns read the query as sent and as a reader sees it (`judged_forms`): a
phrase split by a newline, a tab or padding, or spelled in look-alike characters, still fires.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag_core.answers import Source
from rag_core.grounding import cited_numbers, grounding_score

#: Built-in blocked patterns (name, regular expression): data that must not go into a query.
DEFAULT_BLOCKED_PATTERNS: tuple[tuple[str, str], ...] = (
    ("credit_card_number", r"\b(?:\d[ -]?){13,16}\b"),
    ("us_social_security_number", r"\b\d{3}-\d{2}-\d{4}\b"),
    ("private_key", r"-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----"),
    (
        "credential_request",
        r"\b(?:show|give|tell|reveal|list|dump)\b.{0,30}"
        r"\b(?:passwords?|api[ _-]?keys?|secret keys?|credentials)\b",
    ),
    ("attack_request", r"\bhow (?:do i|to|can i)\b.{0,20}\b(?:hack|exploit|ddos|break into)\b"),
)

#: Words that make a query abusive (matched as whole words, case-insensitively).
DEFAULT_TOXIC_KEYWORDS: tuple[str, ...] = (
    "idiot",
    "stupid",
    "moron",
    "kill yourself",
    "hate you",
    "retard",
    "scum",
)

_INJECTION_PATTERNS: tuple[str, ...] = (
    r"\b(?:ignore|disregard|forget|override)\b.{0,30}\b(?:previous|prior|above|earlier|all|your)\b.{0,20}\b(?:instructions?|prompts?|rules|directions|context)\b",
    r"\b(?:reveal|show|print|repeat|output)\b.{0,20}\b(?:system|hidden|initial)\s+(?:prompt|instructions?|message)\b",
    r"\byou are now\b",
    r"\b(?:act|pretend|behave)\s+as\s+(?:if\s+you\s+(?:are|were)\s+)?(?:an?\s+)?(?:unrestricted|unfiltered|jailbroken|dan)\b",
    r"\b(?:jailbreak|developer mode|do anything now)\b",
    r"\bnew instructions?\s*:",
    r"</?(?:system|assistant)>|\[/?INST\]|<\|im_start\|>",
)

#: A query's lines are one text: `.` crosses newlines, so a rule cannot be split over two.
_FLAGS = re.IGNORECASE | re.DOTALL


def _keyword_pattern(words: Sequence[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", _FLAGS)


#: The built-in rules, compiled once. Every one runs in time linear in the query's length
#: (bounded repetitions only, no nested unbounded quantifiers).
BLOCKED_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, _FLAGS)) for name, pattern in DEFAULT_BLOCKED_PATTERNS
)
TOXIC_RULE: re.Pattern[str] = _keyword_pattern(DEFAULT_TOXIC_KEYWORDS)
INJECTION_RULES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, _FLAGS) for pattern in _INJECTION_PATTERNS
)
#: Every built-in compiled pattern that is matched against user text.
BUILT_IN_PATTERNS: tuple[re.Pattern[str], ...] = (
    *(rule for _, rule in BLOCKED_RULES),
    TOXIC_RULE,
    *INJECTION_RULES,
)


def judged_forms(query: str) -> tuple[str, ...]:
    """The texts the input rules read: the query as sent, and the form a reader sees
    (compatibility characters folded, invisible format characters dropped, every run of
    whitespace one space) — so newlines, tabs, padding or look-alike letters cannot split
    or disguise a blocked phrase."""
    folded = unicodedata.normalize("NFKC", query)
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    seen = " ".join(visible.split())
    return (query,) if seen == query else (query, seen)


@dataclass(frozen=True)
class GuardrailVerdict:
    """What the input rules decided; `triggered` names every rule that fired."""

    triggered: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.triggered)


class Guardrails:
    """The configured rule set; cheap to evaluate, safe to share between tasks."""

    def __init__(
        self,
        extra_blocked_patterns: Sequence[str] = (),
        toxic_keywords: Sequence[str] = (),
        max_query_chars: int = 1000,
        confidence_floor: float = 0.15,
        grounding_floor: float = 0.5,
    ) -> None:
        try:
            custom = [
                (f"custom_{n}", re.compile(p, _FLAGS))
                for n, p in enumerate(extra_blocked_patterns, start=1)
            ]
        except re.error as error:
            raise ValueError(
                f"A blocked pattern is not a valid regular expression: {error}"
            ) from error
        self._blocked = [*BLOCKED_RULES, *custom]
        self._toxic = _keyword_pattern(toxic_keywords) if toxic_keywords else TOXIC_RULE
        self._injection = INJECTION_RULES
        self.max_query_chars = max_query_chars
        self.confidence_floor = confidence_floor
        self.grounding_floor = grounding_floor

    def check_input(self, query: str) -> GuardrailVerdict:
        """Every input rule the query breaks (an empty list lets it through); a pattern
        fires when it matches any of the query's `judged_forms`."""
        forms = judged_forms(query)

        def found(rule: re.Pattern[str]) -> bool:
            return any(rule.search(form) for form in forms)

        fired: list[str] = []
        if not query.strip():
            fired.append("query_empty")
        if len(query) > self.max_query_chars:
            fired.append("query_too_long")
        fired += [f"blocked_pattern:{name}" for name, rule in self._blocked if found(rule)]
        if found(self._toxic):
            fired.append("toxic_language")
        if any(found(rule) for rule in self._injection):
            fired.append("prompt_injection")
        return GuardrailVerdict(fired)

    def check_output(self, answer: str, sources: Sequence[Source], confidence: float) -> list[str]:
        """Every output rule the answer breaks."""
        fired: list[str] = []
        if any(n < 1 or n > len(sources) for n in cited_numbers(answer)):
            fired.append("invalid_citation")
        if sources and grounding_score(answer, sources) < self.grounding_floor:
            fired.append("ungrounded_answer")
        if confidence < self.confidence_floor:
            fired.append("low_confidence")
        return fired
