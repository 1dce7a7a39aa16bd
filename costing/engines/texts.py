"""Stored texts written by the engines, without importing Django: a sentence is a message id
(the English msgid, marked for makemessages by the name `gettext_noop`) and JSON-ready
parameters; a nested sentence is `{"text": msgid, "params": {...}}` and a list of names a
list, as core/texts.py stores and renders them in the reader's language. The engines give
the English too, for the stored text column."""

from __future__ import annotations


def gettext_noop(message: str) -> str:
    """Marks a message for makemessages (by this name) without importing Django: the
    engine stays pure; pages translate the message (core/texts.py)."""
    return message


def part(msgid: str, **params) -> dict:
    """A sentence inside another one's parameters (a nested text of core/texts.py)."""
    return {"text": msgid, "params": params}


def _english_value(value):
    if isinstance(value, dict):
        return english(value["text"], value.get("params", {}))
    if isinstance(value, list | tuple):
        # A list of names, as core/texts.py lists them in English.
        return ", ".join(str(_english_value(v)) for v in value)
    return value


def english(msgid: str, params: dict) -> str:
    """The message in English with its parameters, nested ones rendered too (a list: its
    items joined with commas; a page lists them in the reader's language)."""
    return msgid % {k: _english_value(v) for k, v in params.items()}


def problem(msgid: str, **params) -> dict:
    """A problem of a stored list (a roll-up's `problems`): {"text": its English, "id": its
    message id, "params": its parameters}. Such a list may also hold plain strings, written
    before problems had message ids: they are shown as stored (costing.models.problem_shown)."""
    return {"text": english(msgid, params), "id": msgid, "params": params}
