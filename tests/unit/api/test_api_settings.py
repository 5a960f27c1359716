"""Settings: environment names, production secret checks, mapping into rag_core."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings
from ragkube_contract import api_image

STRONG = "k" * 40


def test_reads_contract_and_seed_names_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_NAME", "kb")
    monkeypatch.setenv("CHROMA_HOST", "chroma.ns.svc")
    monkeypatch.setenv("RETRIEVAL_MODE", "dense")
    monkeypatch.setenv("RETRIEVAL_FUSION_DENSE_WEIGHT", "0.3")
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("GUARDRAILS_BLOCKED_PATTERNS", '["secret\\\\s+plan"]')
    monkeypatch.setenv("RATE_LIMIT_REQUESTS", "7")
    monkeypatch.setenv("REDIS_URL", "redis://:pw@redis:6379/0")
    settings = Settings()
    assert settings.app_name == "kb"
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.guardrails_blocked_patterns == ["secret\\s+plan"]
    assert settings.rate_limit_requests == 7
    rag = settings.to_rag_settings()
    assert rag.chroma_host == "chroma.ns.svc"
    assert rag.retrieval_mode == "dense"
    assert rag.fusion_dense_weight == 0.3
    assert rag.redis_url == "redis://:pw@redis:6379/0"
    assert rag.blocked_patterns == ("secret\\s+plan",)


def test_every_contract_variable_is_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    missing = [name for name in api_image.CONFIG_ENV + api_image.SECRET_ENV if name not in fields]
    assert missing == []


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "JWT_SECRET_KEY is required"),
        ("your-secret-key-here", "placeholder"),
        ("your-super-secret-jwt-key-change-in-production", "placeholder"),
        ("short-but-not-placeholder", "at least 32 bytes"),
    ],
)
def test_production_refuses_weak_jwt_secrets(secret: str | None, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Settings(ragkube_env="production", jwt_secret_key=secret)


def test_production_accepts_a_strong_secret_and_defaults_to_json_logs() -> None:
    settings = Settings(ragkube_env="production", jwt_secret_key=STRONG)
    assert settings.effective_log_format == "json"


def test_development_allows_no_secret_and_uses_console_logs() -> None:
    settings = Settings(ragkube_env="development")
    assert settings.jwt_secret_key is None
    assert settings.effective_log_format == "console"


def test_openai_key_selects_the_remote_answerer_unless_told_otherwise() -> None:
    assert Settings().effective_llm_provider == "extractive"
    assert Settings(openai_api_key="sk-x").effective_llm_provider == "openai-compatible"
    assert (
        Settings(openai_api_key="sk-x", llm_provider="extractive").effective_llm_provider
        == "extractive"
    )


def test_seed_chroma_db_path_is_the_data_dir_when_data_dir_is_unset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert Settings(chroma_db_path=tmp_path).effective_data_dir == tmp_path
    other = tmp_path / "other"
    assert Settings(chroma_db_path=tmp_path, data_dir=other).effective_data_dir == other


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(trusted_proxies=["not-an-ip"])


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_fusion_dense_weight_is_a_share(weight: float) -> None:
    with pytest.raises(ValidationError, match="retrieval_fusion_dense_weight"):
        Settings(retrieval_fusion_dense_weight=weight)
