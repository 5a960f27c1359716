"""The API fixtures (apps against real Redis, Chroma and the model) from tests.support."""

from tests.support.api_fixtures import api, make_api, receiver, settings_for, users_file

__all__ = ["api", "make_api", "receiver", "settings_for", "users_file"]
