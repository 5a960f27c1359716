"""The stand-in OpenAI-compatible server now lives in tests.support.llm_stand_in (shared)."""

from tests.support.llm_stand_in import StandInLLM, running_stand_in

__all__ = ["StandInLLM", "running_stand_in"]
