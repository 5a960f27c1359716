"""Runtime webhook registration (admin scope); operator-managed ones are listed read-only."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import AdminCaller, ServicesDep
from api.errors import ApiError
from api.models import WebhookCreate, WebhookCreated, WebhookOut
from api.webhooks import EVENTS, UnsafeWebhookURL, Webhook

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def _out(hook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        source="operator" if hook.source == "operator" else "runtime",
        description=hook.description,
    )


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    responses={422: {"description": "Unknown event, or a URL the SSRF guard refuses."}},
)
async def register_webhook(
    body: WebhookCreate, services: ServicesDep, _caller: AdminCaller
) -> WebhookCreated:
    """Subscribe a URL to events; the signing secret is returned this once."""
    unknown = sorted(set(body.events) - set(EVENTS) - {"*"})
    if unknown:
        raise ApiError(
            422,
            "validation_error",
            f"Unknown events {unknown}.",
            details={"known_events": list(EVENTS)},
        )
    try:
        await services.url_guard.check(body.url)
    except UnsafeWebhookURL as exc:
        raise ApiError(422, "unsafe_webhook_url", str(exc)) from exc
    hook = await services.webhooks.registry.add(
        body.url, body.events, body.secret, body.description
    )
    return WebhookCreated(**_out(hook).model_dump(), secret=hook.secret)


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(services: ServicesDep, _caller: AdminCaller) -> list[WebhookOut]:
    """Every webhook this deployment delivers to."""
    return [_out(hook) for hook in await services.webhooks.registry.all()]


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses={
        404: {"description": "No such webhook."},
        409: {"description": "Operator-managed; delete the Webhook resource instead."},
    },
)
async def delete_webhook(webhook_id: str, services: ServicesDep, _caller: AdminCaller) -> Response:
    """Remove a runtime webhook."""
    hook = await services.webhooks.registry.get(webhook_id)
    if hook is None:
        raise ApiError(404, "not_found", f"No webhook with id {webhook_id!r}.")
    if hook.source == "operator":
        raise ApiError(
            409,
            "conflict",
            "This webhook is managed by the operator; delete its Webhook resource instead.",
        )
    await services.webhooks.registry.remove(webhook_id)
    return Response(status_code=204)
