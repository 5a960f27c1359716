"""The index server's settings, from its container's environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ragkube_contract import index_server

#: A token shorter than this is refused in production (the operator generates 32 bytes).
MIN_TOKEN_BYTES = 32


class IndexSettings(BaseSettings):
    """INDEX_DATA_DIR, INDEX_AUTH_TOKEN, INDEX_HOST, INDEX_PORT and RAGKUBE_ENV."""

    model_config = SettingsConfigDict(env_file=None, case_sensitive=False, extra="ignore")

    ragkube_env: Literal["development", "production"] = "development"
    index_data_dir: Path = Path("./data/lexical")
    index_auth_token: SecretStr | None = None
    index_host: str = "127.0.0.1"
    index_port: int = Field(default=index_server.INDEX_PORT, ge=1, le=65535)
    #: Collections one server keeps open (each holds a writer and its buffer).
    index_max_collections: int = Field(default=64, ge=1, le=4096)

    @model_validator(mode="after")
    def _token_in_production(self) -> IndexSettings:
        if self.ragkube_env != "production":
            return self
        token = self.index_auth_token.get_secret_value() if self.index_auth_token else ""
        if len(token.encode()) < MIN_TOKEN_BYTES:
            raise ValueError(
                f"{index_server.INDEX_AUTH_TOKEN_ENV} must hold at least {MIN_TOKEN_BYTES} "
                "bytes when RAGKUBE_ENV=production (the operator generates one)."
            )
        return self
