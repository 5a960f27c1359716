"""Authentication: bcrypt users, hashed API keys, and HS256 JWTs with scopes.

Users and API keys come from one JSON file (`USERS_FILE`, mounted from a Secret in a cluster);
there is no built-in account. The file is re-read when it changes, so rotating a password
needs no restart:

    {
      "users":    [{"username": "alice", "password_hash": "$2b$12$...", "scopes": ["query"]}],
      "api_keys": [{"name": "ingester", "key_sha256": "<hex sha256 of the key>",
                    "scopes": ["ingest", "query"]}]
    }

API keys are long random strings, so a fast SHA-256 is enough to store them safely (bcrypt's
slowness protects guessable passwords, and would cost every request ~100 ms). Callers send
an API key as `X-API-Key: KEY` or `Authorization: Bearer KEY` (so OpenAI SDKs work unchanged);
a bearer value made of three dot-separated parts is treated as a JWT.

Scopes: `query` (ask and read), `ingest` (add and delete documents), `admin` (webhooks and
everything else). `admin` implies the other two.

A token carries the scopes it was issued with, but every request is held to what the users
file grants its user now: a user removed from the file gets 401 and a scope taken away gets
403 on the next request. The file is checked (one `stat`) on every request, so the bound on
revocation is how fast the file itself changes — for a mounted Secret, the kubelet's sync
period (about a minute).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import structlog
from jose import JWTError, jwt

SCOPES = ("query", "ingest", "admin")
API_KEY_PREFIX = "rk_"
log = structlog.get_logger("api.auth")


class AuthError(Exception):
    """The credentials are missing or not acceptable; the message says which, for the client."""


@dataclass(frozen=True)
class Principal:
    """Who is calling and what they may do."""

    kind: str  # "user" or "api_key"
    name: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        """True when the caller holds `scope` (admin holds every scope)."""
        return scope in self.scopes or "admin" in self.scopes

    def limited_to(self, granted: frozenset[str]) -> Principal:
        """This principal holding only the scopes that `granted` also holds (as `has` reads
        them: `admin` on either side implies the others)."""
        holder = Principal(self.kind, self.name, granted)
        kept = frozenset(s for s in SCOPES if self.has(s) and holder.has(s))
        return Principal(self.kind, self.name, kept)

    @property
    def label(self) -> str:
        """`user:NAME` or `key:NAME`, used in logs and as the rate-limit identity."""
        return f"{'user' if self.kind == 'user' else 'key'}:{self.name}"


def hash_password(password: str, rounds: int = 12) -> str:
    """A bcrypt hash of `password` for the users file."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """True when `password` matches the bcrypt hash (constant time inside bcrypt)."""
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:  # a malformed hash in the file never matches
        return False


def hash_api_key(key: str) -> str:
    """The hex SHA-256 under which an API key is stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> str:
    """A new random API key (shown once to its owner; only its hash is stored)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def _scopes(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ValueError(f"{where}: scopes must be a list of strings")
    unknown = set(value) - set(SCOPES)
    if unknown:
        raise ValueError(f"{where}: unknown scopes {sorted(unknown)}; known: {list(SCOPES)}")
    return frozenset(value)


@dataclass(frozen=True)
class UserRecord:
    """One user line of the users file."""

    username: str
    password_hash: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class ApiKeyRecord:
    """One API key line of the users file."""

    name: str
    key_sha256: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class Credentials:
    """The parsed users file."""

    users: dict[str, UserRecord] = field(default_factory=dict)
    api_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)  # by hash


def parse_credentials(data: Any, source: str = "users file") -> Credentials:
    """Validate and index the users file's JSON content."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a JSON object with 'users' and 'api_keys'")
    users: dict[str, UserRecord] = {}
    for i, item in enumerate(data.get("users", [])):
        where = f"{source}: users[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("username"), str):
            raise ValueError(f"{where}: needs a 'username' string")
        password_hash = item.get("password_hash")
        if not isinstance(password_hash, str) or not password_hash.startswith("$2"):
            raise ValueError(f"{where}: 'password_hash' must be a bcrypt hash ($2b$...)")
        users[item["username"]] = UserRecord(
            item["username"], password_hash, _scopes(item.get("scopes", ["query"]), where)
        )
    keys: dict[str, ApiKeyRecord] = {}
    for i, item in enumerate(data.get("api_keys", [])):
        where = f"{source}: api_keys[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f"{where}: needs a 'name' string")
        digest = item.get("key_sha256")
        if not isinstance(digest, str) or len(digest) != 64:
            raise ValueError(f"{where}: 'key_sha256' must be the hex SHA-256 of the key")
        keys[digest.lower()] = ApiKeyRecord(
            item["name"], digest.lower(), _scopes(item.get("scopes", ["query"]), where)
        )
    return Credentials(users, keys)


class CredentialStore:
    """Users and API keys from the users file, re-read whenever the file changes."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._stamp: tuple[int, int, int] | None = None
        self._credentials = Credentials()

    @property
    def path(self) -> Path | None:
        """The users file, if one is configured."""
        return self._path

    def credentials(self) -> Credentials:
        """The current credentials (a stat per call; re-parsed only when the file changed).

        A file that becomes unreadable or invalid keeps the last good credentials: a bad
        edit must not lock everyone out or, worse, let everyone in.
        """
        if self._path is None:
            return self._credentials
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return self._credentials
        # The inode too: a Secret volume swaps in a new file, possibly of the same size within
        # the same clock tick (scopes ["query"] replaced by ["admin"]).
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp:
            try:
                self._credentials = parse_credentials(
                    json.loads(self._path.read_text()), str(self._path)
                )
            except (OSError, ValueError) as error:
                if self._stamp is None:
                    raise  # the first read: the start-up reports it
                log.warning("users_file_invalid_keeping_last_good", error=str(error))
            # Remembered even when invalid: parsed again only once the file changes again.
            self._stamp = stamp
        return self._credentials

    def load_or_raise(self) -> None:
        """Read the file now, so a broken users file stops the start-up with its reason."""
        self.credentials()

    def authenticate_password(self, username: str, password: str) -> Principal | None:
        """The user when the password matches (blocking: bcrypt; call it off the loop)."""
        record = self.credentials().users.get(username)
        if record is None:
            # Spend the same time as a real check so response timing does not reveal users.
            verify_password(password, _dummy_hash())
            return None
        if not verify_password(password, record.password_hash):
            return None
        return Principal("user", record.username, record.scopes)

    def authenticate_api_key(self, key: str) -> Principal | None:
        """The API key's principal, or None for an unknown key."""
        digest = hash_api_key(key)
        for stored, record in self.credentials().api_keys.items():
            if hmac.compare_digest(stored, digest):
                return Principal("api_key", record.name, record.scopes)
        return None

    def user_exists(self, username: str) -> bool:
        """True when the users file lists `username`."""
        return username in self.credentials().users

    def user_scopes(self, username: str) -> frozenset[str] | None:
        """The scopes the users file grants `username` now; None when it lists no such user."""
        record = self.credentials().users.get(username)
        return record.scopes if record is not None else None


@functools.cache
def _dummy_hash() -> str:
    """A real hash of a random password, to spend bcrypt's time on unknown user names."""
    return hash_password(secrets.token_urlsafe(16))


class TokenService:
    """Issues and verifies the API's JWTs."""

    def __init__(self, secret: str, algorithm: str, expire_minutes: int, issuer: str) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._expire = dt.timedelta(minutes=expire_minutes)
        self._issuer = issuer

    @property
    def expires_in_seconds(self) -> int:
        """Lifetime of an issued token."""
        return int(self._expire.total_seconds())

    def issue(self, subject: str, scopes: Iterable[str], now: dt.datetime | None = None) -> str:
        """A signed token for `subject` with `scopes`, valid for JWT_EXPIRE_MINUTES."""
        issued = now or dt.datetime.now(dt.UTC)
        claims = {
            "sub": subject,
            "scopes": sorted(scopes),
            "iat": int(issued.timestamp()),
            "exp": int((issued + self._expire).timestamp()),
            "iss": self._issuer,
        }
        return str(jwt.encode(claims, self._secret, algorithm=self._algorithm))

    def verify(self, token: str) -> Principal:
        """The principal a token names; raises AuthError for any token not to be trusted."""
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise AuthError("The token is malformed.") from exc
        if header.get("alg") != self._algorithm:
            raise AuthError("The token is signed with an algorithm this service does not accept.")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "require_iss": True,
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("The token has expired.") from exc
        except JWTError as exc:
            raise AuthError("The token is not valid.") from exc
        scopes = claims.get("scopes")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise AuthError("The token carries no scopes claim.")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthError("The token carries no subject.")
        return Principal("user", subject, frozenset(scopes) & frozenset(SCOPES))


def looks_like_jwt(value: str) -> bool:
    """True for `header.payload.signature` values (API keys never contain dots)."""
    return value.count(".") == 2
