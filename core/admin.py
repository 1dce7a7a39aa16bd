from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKey

from .lists import list_text
from .models import ApiToken, AuditEntry, DocumentCounter, OutboxEvent, ServiceAccount, Signature
from .roles import Role, role_label
from .tokens import (
    api_token_issue,
    api_token_revoke,
    service_account_create,
    service_account_roles_set,
    token_default_expiry,
    token_expiry_check,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledgers and decisions are written by the services (pages, API), never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    """Electronic signatures on decisions: shown, never edited (core.signatures)."""

    list_display = (
        "signed_at",
        "signer_username",
        "meaning",
        "content_type",
        "object_id",
        "reason",
        "verified",
    )
    list_filter = ("meaning", "content_type")
    search_fields = ("signer_username", "reason", "object_id", "signature_hash")
    date_hierarchy = "signed_at"

    @admin.display(boolean=True, description=_("verifies"))
    def verified(self, signature) -> bool:
        from .signatures import signature_verify

        return signature_verify(signature)


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "topic", "created_at", "dispatched_at", "attempts")
    list_filter = ("topic", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("topic",)
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail is append-only: shown, never changed or deleted."""

    list_display = ("at", "actor", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "action")


@admin.register(DocumentCounter)
class DocumentCounterAdmin(ReadOnlyAdmin):
    """The last document number of each series: moved only by core.numbering, under a lock."""

    list_display = ("key", "last_value")
    search_fields = ("key",)


# The library's own key table is unused: API tokens are core.ApiToken (core/tokens.py).
admin.site.unregister(APIKey)


class ServiceAccountForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        choices=[(r, Role.LABELS[r]) for r in Role.ALL if r not in (Role.INTEGRATION, Role.ADMIN)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Roles beyond Integration, for what this system may do besides (rarely needed)."
        ),
    )

    class Meta:
        model = ServiceAccount
        fields = ["username", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["roles"] = list(self.instance.groups.values_list("name", flat=True))


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    fk_name = "user"
    fields = ["prefix", "name", "created", "expiry_date", "last_used_at", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # issued on the token's own page, where its key is shown once


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    """Accounts of other systems and machines: no password, they sign in with API tokens.
    Deactivate one to stop all its tokens at once; accounts are never deleted."""

    form = ServiceAccountForm
    list_display = ["username", "is_active", "role_names", "token_count", "last_used"]
    list_filter = ["is_active"]
    search_fields = ["username"]
    inlines = [ApiTokenInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("groups")
            .annotate(token_count=Count("api_tokens"), last_used=Max("api_tokens__last_used_at"))
        )

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return list_text(role_label(g.name) for g in obj.groups.all())

    @admin.display(description=_("tokens"), ordering="token_count")
    def token_count(self, obj):
        return obj.token_count

    @admin.display(description=_("last used"), ordering="last_used")
    def last_used(self, obj):
        return obj.last_used

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        roles = form.cleaned_data["roles"]
        if change:
            obj.save()
            service_account_roles_set(account=obj, roles=roles, changed_by=request.user)
            return
        created = service_account_create(
            username=obj.username, roles=roles, created_by=request.user, is_active=obj.is_active
        )
        # The admin goes on with its own instance (the change message, the redirect).
        obj.pk, obj.password = created.pk, created.password
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # Roles are set in save_model; the form has no many-to-many fields of its own.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def response_add(self, request, obj, post_url_continue=None):
        url = reverse("admin:core_apitoken_add") + f"?user={obj.pk}"
        self.message_user(
            request,
            format_html(
                gettext('Next: <a href="{url}">issue an API token for {name}</a>.'),
                url=url,
                name=obj.username,
            ),
            messages.INFO,
        )
        return super().response_add(request, obj, post_url_continue)


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "expiry_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = ServiceAccount.objects.filter(is_active=True)
        self.fields["user"].help_text = "Tokens sign in as this account and act with its roles."
        self.fields["name"].help_text = "Which integration or machine uses it, e.g. ERP sync."
        self.fields["expiry_date"].initial = token_default_expiry

    def clean_expiry_date(self):
        expires = self.cleaned_data["expiry_date"]
        try:
            token_expiry_check(expires)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["expiry_date"]) from None
        return expires


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens of service accounts. The key is shown once, right after the token is
    issued; afterwards only its prefix is known. Revoked tokens stay listed."""

    list_display = [
        "prefix",
        "name",
        "user",
        "created",
        "expiry_date",
        "last_used_at",
        "status",
    ]
    list_filter = ["revoked", "created"]
    search_fields = ["prefix", "name", "user__username"]
    STATUS_LABELS = {
        "active": pgettext_lazy("API token", "active"),
        "expired": pgettext_lazy("API token", "expired"),
        "revoked": pgettext_lazy("API token", "revoked"),
        "account deactivated": pgettext_lazy("API token", "account deactivated"),
    }
    list_select_related = ["user"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "expiry_date"]
        return [
            "prefix",
            "name",
            "user",
            "created",
            "issued_by",
            "expiry_date",
            "last_used_at",
            "revoked",
            "revoked_at",
            "revoked_by",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fields = self.get_fields(request, obj)
        # Only revoking is a change; a revoked token cannot be brought back.
        return [f for f in fields if f != "revoked" or obj.revoked]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row records who used what, and when

    def save_model(self, request, obj, form, change):
        if not change:
            key = api_token_issue(token=obj, issued_by=request.user)
            self.message_user(
                request,
                format_html(
                    gettext(
                        "The key of “{name}” is <code>{key}</code> — copy it now into the system "
                        "that uses it: it is shown only this once."
                    ),
                    name=obj.name,
                    key=key,
                ),
                messages.WARNING,
            )
        elif form.cleaned_data.get("revoked") and "revoked" in form.changed_data:
            api_token_revoke(token=obj, revoked_by=request.user)

    @admin.display(description=_("status"))
    def status(self, token) -> str:
        return str(self.STATUS_LABELS.get(token.status, token.status))

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked=False))
        for token in tokens:
            api_token_revoke(token=token, revoked_by=request.user)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens))
            % {"count": len(tokens)},
            messages.SUCCESS,
        )


# People's accounts are deactivated, never deleted: their name stays on everything they did
# (the audit trail keeps a copy of it too, and records point at users with PROTECT or
# SET_NULL). The admin offers "Deactivate" instead of delete.
admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    """People's accounts: deactivate someone who leaves; an account is never deleted."""

    actions = ["deactivate"]
    list_display = (*UserAdmin.list_display, "is_active")

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Deactivate the selected accounts"), permissions=["change"])
    def deactivate(self, request, queryset):
        people = list(queryset.filter(is_active=True).exclude(pk=request.user.pk))
        for person in people:
            person.is_active = False
            person.save(update_fields=["is_active"])
        done = ngettext(
            "%(count)d account deactivated.", "%(count)d accounts deactivated.", len(people)
        ) % {"count": len(people)}
        if queryset.filter(pk=request.user.pk).exists():
            done += " " + gettext("Your own account was left active.")
        self.message_user(request, done, messages.SUCCESS)
