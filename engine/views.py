"""The engine's one page-less view: signed webhook deliveries at /hooks/<slug>."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.api_refusals import refusal
from engine.inbound.signatures import WebhookRejected
from engine.inbound.webhooks import accept_delivery, receivable_endpoint


@csrf_exempt
@login_not_required
def webhook(request: HttpRequest, slug: str) -> JsonResponse:
    """Accept a signed delivery (202) or refuse it with a reason, having changed nothing."""
    if request.method != "POST":
        refused = JsonResponse(refusal("method", "webhooks are delivered with POST"), status=405)
        refused["Allow"] = "POST"
        return refused
    try:
        endpoint = receivable_endpoint(slug)
        limit = endpoint.max_body_bytes
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > limit:
            raise WebhookRejected(
                413, "body", f"larger than this endpoint's limit of {limit} bytes"
            )
        # One byte more than the limit is enough to know the body is too large.
        body = request.read(limit + 1)
        delivery = accept_delivery(endpoint, request.headers, body)
    except WebhookRejected as rejected:
        return JsonResponse(refusal(rejected.field, rejected.reason), status=rejected.status)
    return JsonResponse({"delivery": delivery.delivery_id, "status": "accepted"}, status=202)
