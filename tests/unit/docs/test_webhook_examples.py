"""The verification examples of docs/webhooks.md accept the API's signatures and nothing else.

The code blocks are taken from the page itself, so the documentation cannot drift from what
is tested. Signatures are made by the API's own signing code (`api.webhooks.signing`).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from api.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "docs" / "webhooks.md"
TYPESCRIPT = ROOT / "clients" / "typescript"
SECRET = "whsec-test-key"
BODY = b'{"id":"d1","event":"query.completed","created_at":1.5,"data":{"query":"caf\xc3\xa9"}}'


def code_block(language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert match, f"no {language} block in {PAGE}"
    return match.group(1)


def cases() -> list[tuple[str, dict[str, str], bytes, bool]]:
    """(what, headers, body, expected verdict): one genuine delivery, then forgeries."""
    now = int(time.time())
    good = {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: sign(SECRET, now, BODY)}
    stale = now - 3600
    return [
        ("genuine", good, BODY, True),
        ("body changed", good, BODY.replace(b"d1", b"d2"), False),
        ("re-serialised body", good, json.dumps(json.loads(BODY)).encode(), False),
        ("other key", {**good, SIGNATURE_HEADER: sign("other", now, BODY)}, BODY, False),
        ("timestamp changed", {**good, TIMESTAMP_HEADER: str(now + 1)}, BODY, False),
        (
            "replayed an hour later",
            {TIMESTAMP_HEADER: str(stale), SIGNATURE_HEADER: sign(SECRET, stale, BODY)},
            BODY,
            False,
        ),
        ("no signature", {TIMESTAMP_HEADER: str(now)}, BODY, False),
        ("garbage timestamp", {**good, TIMESTAMP_HEADER: "soon"}, BODY, False),
    ]


def test_python_example_accepts_only_genuine_deliveries() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(code_block("python"), str(PAGE), "exec"), namespace)  # noqa: S102 - our docs
    verify = namespace["verify_webhook"]
    verdicts = {what: verify(SECRET, headers, body) for what, headers, body, _ in cases()}
    assert verdicts == {what: expected for what, _, _, expected in cases()}


def test_typescript_example_compiles_strictly_and_accepts_only_genuine_deliveries(
    tmp_path: Path,
) -> None:
    (tmp_path / "verify.ts").write_text(code_block("typescript"))
    (tmp_path / "package.json").write_text('{"type": "module"}')
    options = {
        "--target": "es2022",
        "--module": "nodenext",
        "--moduleResolution": "nodenext",
        "--types": "node",
        "--typeRoots": str(TYPESCRIPT / "node_modules" / "@types"),
        "--outDir": str(tmp_path),
    }
    tsc = str(TYPESCRIPT / "node_modules" / ".bin" / "tsc")
    arguments = [part for pair in options.items() for part in pair]
    compiled = subprocess.run(
        [tsc, "--strict", *arguments, str(tmp_path / "verify.ts")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    payload = [
        {"what": what, "headers": {k.lower(): v for k, v in headers.items()}, "body": body.hex()}
        for what, headers, body, _ in cases()
    ]
    (tmp_path / "run.mjs").write_text(
        "import { verifyWebhook } from './verify.js';\n"
        "const cases = JSON.parse(process.argv[2]);\n"
        "const verdicts = Object.fromEntries(cases.map((c) => [c.what, "
        f"verifyWebhook({json.dumps(SECRET)}, c.headers, Buffer.from(c.body, 'hex'))]));\n"
        "console.log(JSON.stringify(verdicts));\n"
    )
    ran = subprocess.run(
        ["node", str(tmp_path / "run.mjs"), json.dumps(payload)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {what: expected for what, _, _, expected in cases()}
