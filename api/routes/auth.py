"""POST /auth/login: the OAuth2 password flow, issuing JWTs."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import ServicesDep
from api.errors import ApiError
from api.models import TokenResponse

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=TokenResponse,
    responses={401: {"description": "Unknown user or wrong password."}},
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], services: ServicesDep
) -> TokenResponse:
    """Exchange a username and password for an access token.

    Requested scopes (space-separated `scope` form field) are narrowed to the user's own;
    without a request, the token carries all of the user's scopes.
    """
    # bcrypt takes ~0.1-0.3 s of CPU by design; keep it off the event loop.
    principal = await asyncio.to_thread(
        services.credentials.authenticate_password, form.username, form.password
    )
    if principal is None:
        raise ApiError(
            401,
            "invalid_credentials",
            "The username or password is not correct.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    granted = set(principal.scopes)
    if form.scopes:
        wanted = set(form.scopes)
        if "admin" not in granted:
            granted &= wanted
        else:
            granted = wanted & {"query", "ingest", "admin"}
        if not granted:
            raise ApiError(
                403, "forbidden", "None of the requested scopes is granted to this user."
            )
    token = services.tokens.issue(principal.name, granted)
    return TokenResponse(
        access_token=token, expires_in=services.tokens.expires_in_seconds, scopes=sorted(granted)
    )
