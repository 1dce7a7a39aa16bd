"""Subscribers of outbound events, and their deliveries with the dead-letter list."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from .models import Delivery, Subscription
from .services.outbound import (
    deliveries_replay,
    subscription_create,
    subscription_delete,
    subscription_update,
    subscription_validate,
)

FIELDS = ("name", "kind", "url", "secret", "topics", "active")


class SubscriptionForm(forms.ModelForm):
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="At least 16 characters; leave empty to keep the current one.",
    )

    class Meta:
        model = Subscription
        fields = FIELDS

    def clean(self):
        data = super().clean()
        if not data.get("secret") and self.instance.pk:
            data["secret"] = Subscription.objects.get(pk=self.instance.pk).secret
        probe = Subscription(**{f: data.get(f) for f in FIELDS if f in data})
        probe.pk = self.instance.pk
        try:
            subscription_validate(probe)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("name", "kind", "url", "topics", "active", "updated_at")
    list_filter = ("kind", "active")
    search_fields = ("name", "url")

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in FIELDS}
        if change:
            saved = subscription_update(subscription=obj, by=request.user, **fields)
        else:
            saved = subscription_create(by=request.user, **fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        subscription_delete(subscription=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            subscription_delete(subscription=obj, by=request.user)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Filter on status "Dead letter" for the dead-letter list; replay sends them again."""

    list_display = (
        "event_id",
        "event_type",
        "subscription",
        "status",
        "attempts",
        "response_code",
        "next_attempt_at",
        "short_error",
    )
    list_filter = ("status", "subscription", "event_type")
    search_fields = ("event_id", "last_error")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["replay"]
    list_select_related = ("subscription",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="last error")
    def short_error(self, obj):
        return obj.last_error[:80]

    @admin.action(description="Replay the selected dead letters", permissions=["replay"])
    def replay(self, request, queryset):
        dead = queryset.filter(status=Delivery.Status.DEAD)
        count = deliveries_replay(deliveries=list(dead), by=request.user)
        skipped = queryset.count() - count
        self.message_user(
            request,
            f"{count} dead letter(s) queued to be sent again"
            + (f"; {skipped} not dead, left as they were." if skipped else "."),
            messages.SUCCESS if count else messages.WARNING,
        )

    def has_replay_permission(self, request):
        from core.policy import may

        return may(request.user, "integration.delivery", "replay")
