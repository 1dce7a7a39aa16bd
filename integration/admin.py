"""Subscribers of outbound events, and their deliveries with the dead-letter list."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from .models import (
    Delivery,
    LegacyFile,
    LegacyRejectedRow,
    LegacySource,
    LegacySyncRun,
    Subscription,
)
from .services.legacy_sync import (
    SOURCE_EDITABLE,
    legacy_source_create,
    legacy_source_delete,
    legacy_source_update,
    legacy_source_validate,
)
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
        help_text=_("At least 16 characters; leave empty to keep the current one."),
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

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:80]

    @admin.action(description=_("Replay the selected dead letters"), permissions=["replay"])
    def replay(self, request, queryset):
        dead = queryset.filter(status=Delivery.Status.DEAD)
        count = deliveries_replay(deliveries=list(dead), by=request.user)
        skipped = queryset.count() - count
        done = ngettext(
            "%(count)d dead letter queued to be sent again.",
            "%(count)d dead letters queued to be sent again.",
            count,
        ) % {"count": count}
        if skipped:
            done += " " + ngettext(
                "%(count)d not dead, left as it was.",
                "%(count)d not dead, left as they were.",
                skipped,
            ) % {"count": skipped}
        self.message_user(request, done, messages.SUCCESS if count else messages.WARNING)

    def has_replay_permission(self, request):
        from core.policy import may

        return may(request.user, "integration.delivery", "replay")


# --- legacy sync (docs/integration.md, "Legacy sync") -----------------------------------------

LEGACY_FIELDS = SOURCE_EDITABLE


class LegacySourceForm(forms.ModelForm):
    class Meta:
        model = LegacySource
        fields = LEGACY_FIELDS
        help_texts = {"watermark": "The last value read; clear it to read the table again."}

    def clean(self):
        data = super().clean()
        probe = LegacySource(**{f: data.get(f) for f in LEGACY_FIELDS if f in data})
        probe.pk = self.instance.pk
        if not probe.watermark:
            probe.watermark_type = ""
        try:
            legacy_source_validate(probe)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


class LegacyRejectedRowInline(admin.TabularInline):
    model = LegacyRejectedRow
    fields = ("file_name", "line", "watermark", "field", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LegacySource)
class LegacySourceAdmin(admin.ModelAdmin):
    form = LegacySourceForm
    list_display = ("name", "kind", "target", "active", "interval_minutes", "last_run_at")
    list_filter = ("kind", "target", "active")
    search_fields = ("name",)
    readonly_fields = ("last_run_at",)
    actions = ["run_now"]

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in LEGACY_FIELDS}
        if change:
            saved = legacy_source_update(source=obj, by=request.user, **fields)
        else:
            saved = legacy_source_create(by=request.user, **fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        legacy_source_delete(source=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            legacy_source_delete(source=obj, by=request.user)

    @admin.action(description=_("Run the selected sources now"), permissions=["run"])
    def run_now(self, request, queryset):
        from .tasks import legacy_sync_source

        ids = list(queryset.values_list("pk", flat=True))
        user_id = request.user.pk
        transaction.on_commit(
            lambda: [
                legacy_sync_source.delay(pk, LegacySyncRun.Trigger.ADMIN, user_id) for pk in ids
            ]
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d source queued to run; see its runs.",
                "%(count)d sources queued to run; see their runs.",
                len(ids),
            )
            % {"count": len(ids)},
            messages.SUCCESS,
        )

    def has_run_permission(self, request):
        from core.policy import may

        return may(request.user, "integration.legacysource", "run")


@admin.register(LegacySyncRun)
class LegacySyncRunAdmin(admin.ModelAdmin):
    """Runs of the legacy sources; a run's rejected rows are listed on its page."""

    list_display = (
        "source",
        "started_at",
        "trigger",
        "status",
        "rows_read",
        "rows_accepted",
        "rows_rejected",
        "files_read",
        "files_skipped",
        "short_error",
    )
    list_filter = ("status", "trigger", "source")
    list_select_related = ("source",)
    readonly_fields = [f.name for f in LegacySyncRun._meta.fields]
    inlines = [LegacyRejectedRowInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("error"))
    def short_error(self, obj):
        return obj.error[:80]


@admin.register(LegacyRejectedRow)
class LegacyRejectedRowAdmin(admin.ModelAdmin):
    list_display = ("run", "row_ref", "field", "reason")
    list_filter = ("run__source", "field")
    search_fields = ("reason", "file_name", "watermark")
    list_select_related = ("run__source",)
    readonly_fields = [f.name for f in LegacyRejectedRow._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=pgettext_lazy("a rejected row of a legacy file", "row"))
    def row_ref(self, obj):
        return obj.row_ref


@admin.register(LegacyFile)
class LegacyFileAdmin(admin.ModelAdmin):
    """CSV files taken from drop folders, known by their content's SHA-256."""

    list_display = ("name", "source", "status", "rows_done", "rows_accepted", "created_at")
    list_filter = ("status", "source")
    search_fields = ("name", "sha256")
    list_select_related = ("source",)
    readonly_fields = [f.name for f in LegacyFile._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
