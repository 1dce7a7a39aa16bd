"""A person's own preferences: the language of the pages (docs/translation.md).

The choice is kept on the account (UserPreference) and copied into the session at sign-in,
so that every request applies it without a query (core.middleware.LocaleMiddleware); a
person with no choice, and everyone before signing in, gets the browser's Accept-Language.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from .lists import list_text
from .models import UserPreference

# The session's copy of the chosen language ("" or missing: the browser decides).
SESSION_LANGUAGE = "closedloop_language"


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def language_clean(language: str | None) -> str:
    """One of settings.LANGUAGES, or "" for the browser's; anything else names the field."""
    language = (language or "").strip().lower()
    if language and language not in language_codes():
        raise ValidationError(
            {
                "language": gettext("Choose one of: %(codes)s.")
                % {"codes": list_text(language_codes())}
            }
        )
    return language


def preference_language(user) -> str:
    """The language this person chose, or "" (none, or not signed in)."""
    if not getattr(user, "is_authenticated", False):
        return ""
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""


def preference_language_set(*, user, language: str | None) -> UserPreference:
    """Keep `language` ("" for the browser's) as this person's choice."""
    language = language_clean(language)
    with transaction.atomic():
        preference, _ = UserPreference.objects.select_for_update().get_or_create(user=user)
        preference.language = language
        preference.full_clean()
        preference.save(update_fields=["language", "updated_at"])
    return preference


def session_language_start(sender, request, user, **kwargs) -> None:
    """On sign-in (user_logged_in): the person's language into the session. A person with no
    choice keeps what the session had (a language picked on the login page) or none."""
    session = getattr(request, "session", None)
    if session is None:
        return
    language = preference_language(user)
    if language:
        session[SESSION_LANGUAGE] = language
