"""Webhooks in the admin: endpoints (secrets shown once, rotated) and deliveries (replayed)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from engine.admin.json_input import JSON_INPUT_FIELDS
from engine.admin.priority_field import RunPriorityField
from engine.inbound.webhook_endpoints import (
    endpoint_problems,
    new_secret,
    rotate_secret,
    secret_problem,
)
from engine.inbound.webhooks import WebhookError, replay_delivery
from engine.models import WebhookDelivery, WebhookEndpoint

ROTATION_OVERLAP = 86_400


class EndpointForm(forms.ModelForm):  # type: ignore[type-arg]
    """The endpoint's settings, checked as the API checks them; the secret is never shown."""

    sender_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        label="Sender's secret",
        help_text="Only when the sender makes the secret (Stripe, Slack): paste it here. It "
        "replaces the current secret at once. Left empty, the secret stays (or, for a new "
        "endpoint, one is made and shown once).",
    )
    priority = RunPriorityField()

    class Meta:
        model = WebhookEndpoint
        fields = [
            "slug",
            "title",
            "active",
            "event_type",
            "workflow",
            "input",
            "priority",
            "verification",
            "secret_header",
            "tolerance_seconds",
            "max_body_bytes",
        ]
        help_texts = {
            "event_type": "Deliveries become events of this type, e.g. Payment.received.",
            "workflow": "Deliveries start this workflow (code or graph).",
            "input": 'Templates over `event` (the body), e.g. {"order": "{{ event.data.id }}"}. '
            "Empty: the body as it is.",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = endpoint_problems(
            event_type=data.get("event_type") or "",
            workflow=data.get("workflow") or "",
            input=data.get("input"),
            priority=data.get("priority", 0),
            tolerance_seconds=data.get("tolerance_seconds", 300),
            max_body_bytes=data.get("max_body_bytes", 1_000_000),
            verification=data.get("verification"),
            secret_header=data.get("secret_header"),
        )
        self._check_secret(data.get("verification") or "", data.get("sender_secret") or "")
        for problem in problems:
            field = problem.field.split(".")[0]
            if field in self.fields and field not in self.errors:
                self.add_error(field, problem.message)
        return data

    def _check_secret(self, verification: str, given: str) -> None:
        """The secret given, or else the one kept, must serve the chosen profile."""
        if given:
            if mismatch := secret_problem(verification, given):
                self.add_error("sender_secret", mismatch)
            return
        kept = self.instance.secret if self.instance.pk is not None else ""
        mismatch = secret_problem(verification, kept) if kept else None
        if mismatch and "verification" not in self.errors:
            self.add_error("verification", f"the endpoint's secret: {mismatch}")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    form = EndpointForm
    formfield_overrides = JSON_INPUT_FIELDS
    list_display = ["slug", "title", "url", "event_type", "workflow", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["slug", "title", "event_type", "workflow"]
    readonly_fields = ["url", "secret_rotation", "deliveries_link", "created_at"]
    actions = ["rotate_with_overlap", "rotate_at_once"]

    @admin.display(description="URL")
    def url(self, endpoint: WebhookEndpoint) -> str:
        return f"/hooks/{endpoint.slug}"

    @admin.display(description="Previous secret")
    def secret_rotation(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.previous_secret and endpoint.previous_secret_until:
            return f"still accepted until {endpoint.previous_secret_until:%Y-%m-%d %H:%M:%S %Z}"
        return "none"

    @admin.display(description="Deliveries")
    def deliveries_link(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return "-"
        link = reverse("admin:engine_webhookdelivery_changelist")
        return format_html(
            '<a href="{}?endpoint__id__exact={}">{} deliveries</a>',
            link,
            endpoint.pk,
            endpoint.deliveries.count(),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The slug is in every sender's configuration: fixed once created.
        fixed = ["slug"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        given = form.cleaned_data.get("sender_secret") or ""
        if not change:
            obj.secret = given or new_secret()
            obj.created_at = timezone.now()
            if not given:
                # Kept on the instance for response_add only; never logged or stored elsewhere.
                obj._shown_once = obj.secret  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)
        if change and given:
            rotate_secret(obj, 0, given)

    def response_add(
        self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        secret = getattr(obj, "_shown_once", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._show_secrets(request, [(obj, secret)], "Endpoint created")

    @admin.action(
        description="Rotate the secret (the old one stays valid for 24 hours)",
        permissions=["change"],
    )
    def rotate_with_overlap(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> HttpResponse:
        return self._rotate(request, queryset, ROTATION_OVERLAP)

    @admin.action(
        description="Rotate the secret now (the old one stops working at once)",
        permissions=["change"],
    )
    def rotate_at_once(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> HttpResponse:
        return self._rotate(request, queryset, 0)

    def _rotate(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint], overlap: float
    ) -> HttpResponse:
        rotated = []
        for endpoint in queryset.order_by("slug"):
            rotated.append((endpoint, rotate_secret(endpoint, overlap)))
            self.log_change(request, endpoint, "Rotated the secret.")
        return self._show_secrets(request, rotated, "Secrets rotated")

    def _show_secrets(
        self,
        request: HttpRequest,
        secrets: list[tuple[WebhookEndpoint, str]],
        title: str,
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "secrets": secrets,
            "changelist": reverse("admin:engine_webhookendpoint_changelist"),
        }
        response = TemplateResponse(request, "admin/engine/webhookendpoint/secret.html", context)
        # Shown once: no cache may keep the page.
        response["Cache-Control"] = "no-store"
        return response


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = [
        "delivery_id",
        "endpoint",
        "status",
        "received_at",
        "processed_at",
        "run_link",
        "replays",
    ]
    list_filter = ["status", "endpoint", "received_at"]
    search_fields = ["delivery_id", "endpoint__slug", "error"]
    date_hierarchy = "received_at"
    list_select_related = ["endpoint"]
    readonly_fields = [
        "endpoint",
        "delivery_id",
        "status",
        "received_at",
        "processed_at",
        "error",
        "event",
        "run",
        "replays",
        "headers",
        "body",
    ]
    actions = ["replay"]

    @admin.display(description="Run")
    def run_link(self, delivery: WebhookDelivery) -> str:
        if delivery.run_id is None:
            return "-"
        link = reverse("admin:engine_run_change", args=[delivery.run_id])
        return format_html('<a href="{}">{}</a>', link, delivery.run_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("engine.change_webhookdelivery")

    @admin.action(
        description="Replay the selected deliveries (their workflows run again)",
        permissions=["replay"],
    )
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        for delivery in queryset:
            try:
                replay_delivery(delivery.pk)
                done += 1
            except WebhookError as error:
                self.message_user(request, str(error), level=messages.WARNING)
        if done:
            self.message_user(
                request, f"{done} deliver{'y' if done == 1 else 'ies'} queued to be replayed."
            )
