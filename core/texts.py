"""Stored texts: sentences the system writes into the database, shown in the reader's language.

A sentence the system writes (an exception's timeline step, a hold's reason, a cost's basis,
a notification) is kept as its message id — the English msgid, marked where it is defined
with `gettext_noop` so that makemessages collects it — and JSON parameters; it is rendered
when read, in the active language (the reader's) or a given one (an e-mail's recipient's):

    RAISED = gettext_noop("%(description)s (raised by %(via)s)")
    text = Text(RAISED, description=alert.description, via=choice(WorkAlert, "raised_via", v))
    row.text_id, row.text_params, row.text = text.msgid, text.params, text.english()
    ...
    text_render(row.text_id, row.text_params)   # 中文 for a Chinese reader

Parameters are plain values (names, numbers, codes people type: shown as they are) or
values that have a label in every language, rendered in the reader's language too:
- `choice(Model, "field", value)`: a code of a field's choices (a severity, a status);
- `role(code)`: a role (core.roles);
- a list of these: joined with commas (、 in Chinese);
- a nested `Text`: a stored sentence inside another (an exception's description inside its
  notification).
Free text a person typed (a supervisor's comment) is never given a message id: it is shown
as typed. A message id with no translation is shown in English; parameters that do not fit
the message (a row written by an older version) never raise: the English message is tried,
then the message id with its placeholders left blank.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps
from django.utils import translation
from django.utils.translation import gettext, pgettext

from .formatting import quantity_format
from .lists import list_text
from .roles import role_label

# The language the stored English column is written in (search, exports, older readers).
ENGLISH = "en"
# How a msgid with a context is stored: gettext's own separator between context and msgid.
CONTEXT_SEPARATOR = "\x04"


def _param_store(value: Any) -> Any:
    """A parameter as JSON keeps it."""
    if isinstance(value, Text):
        return {"text": value.msgid, "params": value.params}
    if isinstance(value, Decimal):
        return quantity_format(value)
    if isinstance(value, list | tuple):
        return [_param_store(v) for v in value]
    if isinstance(value, dict | str | int | float | bool) or value is None:
        return value
    return str(value)


class Text:
    """A sentence to store: its message id and parameters (JSON-ready), rendered on demand.
    `context` disambiguates a msgid shared with another meaning (pgettext)."""

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, context: str = "", /, **params: Any) -> None:
        self.msgid = f"{context}{CONTEXT_SEPARATOR}{msgid}" if context else str(msgid)
        self.params = {key: _param_store(value) for key, value in params.items()}

    def render(self, language: str | None = None) -> str:
        return text_render(self.msgid, self.params, language)

    def english(self) -> str:
        """The sentence in English, for the stored text column."""
        return self.render(ENGLISH)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Text({self.msgid!r}, {self.params!r})"


def choice(model, field: str, value: str, *, lower: bool = False) -> dict:
    """A parameter that is a code of `model.field`'s choices, shown by its label (in lower
    case inside a sentence: `lower`)."""
    found = {"choice": f"{model._meta.label}.{field}", "value": value}
    return {**found, "lower": True} if lower else found


def role(code: str, *, lower: bool = False) -> dict:
    """A parameter that is a role, shown by its name in the reader's language."""
    return {"role": code, "lower": True} if lower else {"role": code}


def _choice_label(path: str, value: Any) -> str:
    try:
        app_label, model_name, field_name = path.split(".")
        field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
        label = dict(field.flatchoices).get(value)
    except (LookupError, ValueError, AttributeError):
        label = None
    return str(label) if label is not None else str(value)


def _param_render(value: Any) -> Any:
    """A stored parameter in the active language."""
    if isinstance(value, dict):
        if "choice" in value or "role" in value:
            label = (
                _choice_label(str(value["choice"]), value.get("value", ""))
                if "choice" in value
                else role_label(str(value["role"]))
            )
            return label.lower() if value.get("lower") else label
        if "text" in value:
            params = value.get("params")
            return _render(str(value["text"]), params if isinstance(params, dict) else {})
        return ""
    if isinstance(value, list):
        # Chinese lists names with 、, not with a comma.
        return list_text(_param_render(v) for v in value)
    return "" if value is None else value


class _Params(dict):
    """Parameters for %-formatting: a placeholder with no parameter is left blank."""

    def __missing__(self, key):
        return ""


def _translate(msgid: str) -> str:
    if CONTEXT_SEPARATOR in msgid:
        context, _sep, message = msgid.partition(CONTEXT_SEPARATOR)
        return pgettext(context, message)
    return gettext(msgid)


def _english(msgid: str) -> str:
    return msgid.partition(CONTEXT_SEPARATOR)[2] if CONTEXT_SEPARATOR in msgid else msgid


def _render(msgid: str, params: dict) -> str:
    if not msgid:
        return ""  # gettext("") is the catalogue's header
    try:
        values = _Params({str(k): _param_render(v) for k, v in params.items()})
    except Exception:  # noqa: BLE001 — a stored row always reads: its placeholders blank then
        values = _Params()
    # The reader's language; a translation whose placeholders do not fit, English.
    for template in (_translate(msgid), _english(msgid)):
        try:
            return template % values
        except (ValueError, TypeError):
            continue
    return _english(msgid)


def text_render(msgid: str, params: dict | None = None, language: str | None = None) -> str:
    """The stored sentence `msgid` with `params`, in `language` or the active one."""
    params = params if isinstance(params, dict) else {}
    if language:
        with translation.override(language):
            return _render(str(msgid), params)
    return _render(str(msgid), params)


def text_columns(field: str, value: Text | str, max_length: int | None = None) -> dict:
    """The columns a stored text `field` is kept in: `field` (the English, cut to
    `max_length`), `field_id` and `field_params`. A `Text` keeps its message id and
    parameters; a string (typed by a person) is kept as it is, with a blank id."""
    written = isinstance(value, Text)
    english = value.english() if written else (value or "")
    return {
        field: english[:max_length] if max_length else english,
        f"{field}_id": value.msgid if written else "",
        f"{field}_params": value.params if written else {},
    }


def text_shown(text_id: str, params: dict | None, stored: str) -> str:
    """What a page shows for a stored text column: the sentence in the reader's language
    when the row has a message id, else the text as stored (typed by a person, or written
    before stored texts had ids)."""
    return text_render(text_id, params) if text_id else stored
