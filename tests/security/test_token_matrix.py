"""Every protected route refuses every untrustworthy token, and enforces its scope.

Routes are enumerated from the app itself: a route added later is covered without editing
this file, and a new route that forgets authentication fails
`test_only_probes_login_and_docs_are_public`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from jose import jwt

from api.auth import SCOPES
from api.deps import current_principal
from tests.support.api_harness import JWT_SECRET, Api

#: Routes anyone may call: probes, the scrape endpoint, login, and the API's own docs.
PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("POST", "/auth/login"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the template, e.g. /documents/{document_id}

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", "probe-id", self.path)


def _needs_principal(dependant: Dependant) -> bool:
    return any(d.call is current_principal or _needs_principal(d) for d in dependant.dependencies)


def _endpoints(app: FastAPI) -> tuple[list[Endpoint], list[Endpoint]]:
    """(protected, public) endpoints of the app, one per route and method."""
    protected: list[Endpoint] = []
    public: list[Endpoint] = []
    # Included routers are resolved to the routes they contribute, with their full paths.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        for method in sorted(context.methods or ()):
            if method in {"HEAD", "OPTIONS"}:
                continue
            endpoint = Endpoint(method, context.path or "")
            if isinstance(route, APIRoute) and _needs_principal(route.dependant):
                protected.append(endpoint)
            else:
                public.append(endpoint)
    return protected, public


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(api: Api, **overrides: object) -> dict[str, object]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims: dict[str, object] = {
        "sub": "admin",
        "scopes": list(SCOPES),
        "iat": now,
        "exp": now + 600,
        "iss": api.settings.app_name,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _untrustworthy_tokens(api: Api) -> dict[str, str]:
    """Tokens that would grant every scope if the service trusted them."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    good = _claims(api)
    unsigned = f"{_b64(good)}."
    return {
        "forged (another key)": jwt.encode(good, "not-the-server-key" * 3, algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{unsigned}",
        "alg None": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{unsigned}",
        "alg none with signature": f"{_b64({'alg': 'none'})}.{unsigned}c2ln",
        "another HMAC algorithm": jwt.encode(good, JWT_SECRET, algorithm="HS512"),
        "RS256 header over the HMAC key": (
            f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(good)}."
            + jwt.encode(good, JWT_SECRET, algorithm="HS256").rsplit(".", 1)[1]
        ),
        "expired": jwt.encode(
            _claims(api, iat=now - 7200, exp=now - 60), JWT_SECRET, algorithm="HS256"
        ),
        "another issuer": jwt.encode(_claims(api, iss="elsewhere"), JWT_SECRET, algorithm="HS256"),
        "no exp": jwt.encode(_claims(api, exp=None), JWT_SECRET, algorithm="HS256"),
        "no scopes claim": jwt.encode(_claims(api, scopes=None), JWT_SECRET, algorithm="HS256"),
        "tampered payload": (
            jwt.encode(_claims(api, scopes=["query"]), JWT_SECRET, algorithm="HS256").split(".")[0]
            + f".{_b64(good)}."
            + jwt.encode(_claims(api, scopes=["query"]), JWT_SECRET, algorithm="HS256").split(".")[
                2
            ]
        ),
        "garbage with two dots": "not.a.token",
    }


async def _call(api: Api, endpoint: Endpoint, headers: dict[str, str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = await api.client.request(
        endpoint.method,
        endpoint.url,
        headers=headers,
        json={} if endpoint.method == "POST" else None,
    )
    body = response.json() if response.content else {}
    if response.status_code == 401:
        assert "WWW-Authenticate" in response.headers, (endpoint, response.text)
    return response.status_code, body


async def test_only_probes_login_and_docs_are_public(api: Api) -> None:
    protected, public = _endpoints(api.app)
    assert {(e.method, e.path) for e in public} == PUBLIC_ROUTES
    # The enumeration found the resources the API is made of.
    paths = {e.path for e in protected}
    assert {"/query", "/documents", "/webhooks", "/stats", "/v1/chat/completions"} <= paths


async def test_untrustworthy_tokens_get_401_on_every_protected_route(api: Api) -> None:
    protected, _ = _endpoints(api.app)
    for case, token in _untrustworthy_tokens(api).items():
        for endpoint in protected:
            status, body = await _call(api, endpoint, {"Authorization": f"Bearer {token}"})
            assert status == 401, (case, endpoint, body)
            assert body["error"] == "unauthorized", (case, endpoint)


async def test_missing_and_unknown_credentials_get_401_on_every_protected_route(
    api: Api,
) -> None:
    protected, _ = _endpoints(api.app)
    for headers in (
        {},
        {"X-API-Key": "rk_not-a-key-anyone-was-given-0123456789"},
        {"Authorization": "Bearer rk_not-a-key-anyone-was-given-0123456789"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ):
        for endpoint in protected:
            status, body = await _call(api, endpoint, headers)
            assert status == 401, (headers, endpoint, body)


async def test_every_protected_route_enforces_its_scope(api: Api) -> None:
    protected, _ = _endpoints(api.app)
    no_scope = {"Authorization": f"Bearer {api.services.tokens.issue('admin', [])}"}
    scoped = 0
    for endpoint in protected:
        status, body = await _call(api, endpoint, no_scope)
        if endpoint.path == "/stats":
            assert status == 200, body  # any authenticated caller may read statistics
            continue
        assert status == 403, (endpoint, body)
        needed = body["details"]["scope"]
        assert needed in SCOPES
        # Every other scope together is still not enough (admin would imply all of them).
        others = [s for s in SCOPES if s not in (needed, "admin")]
        wrong = {"Authorization": f"Bearer {api.services.tokens.issue('admin', others)}"}
        status, body = await _call(api, endpoint, wrong)
        assert status == 403, (endpoint, others, body)
        assert body["error"] == "forbidden"
        scoped += 1
    assert scoped >= 10
