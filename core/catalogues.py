"""Translation catalogues (docs/translation.md): reading a .po file and writing its .mo, in
plain Python, so a machine with Python alone (no GNU gettext's msgfmt) builds them.

Each app keeps its catalogue in <app>/locale/<lang>/LC_MESSAGES/django.po, the shared
templates theirs in locale/ (settings.LOCALE_PATHS); `manage.py compilemessages` (core's)
compiles every one of them with `mo_write`.
"""

import ast
import os
import re
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# printf-style placeholders as Python formats them: %(name)s, %s, %d, %.1f; "%%" is none.
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%")
# Django's template placeholders in {% blocktranslate %}: %(name)s only.


@dataclass
class Entry:
    """One message of a catalogue: its id (and plural id, context), its translations, its
    flags (`fuzzy`, `python-format`) and the line it starts on."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0
    obsolete: bool = False

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr.values())

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def _unquote(text: str, path: Path, line: int) -> str:
    text = text.strip()
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        raise ValueError(f"{path}:{line}: a quoted string expected, found {text!r}")
    # A PO string is a C string: the escapes Python's literal syntax reads the same way.
    return ast.literal_eval(text)


def po_read(path: Path | str) -> list[Entry]:
    """Every entry of a .po file, the header (msgid "") first; obsolete ones (#~) left out."""
    path = Path(path)
    entries: list[Entry] = []
    current = Entry()
    key: tuple[str, int | None] | None = None
    started = False

    def finish():
        nonlocal current, started, key
        if started:
            entries.append(current)
        current, started, key = Entry(), False, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if started and key is not None and key[0] == "msgstr":
                finish()
            current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith("#"):
            if started and key is not None and key[0] == "msgstr":
                finish()
            continue
        if line.startswith('"'):
            if key is None:
                raise ValueError(f"{path}:{number}: a continued string with nothing before it")
            text = _unquote(line, path, number)
            name, index = key
            if name == "msgstr":
                current.msgstr[index or 0] += text
            else:
                setattr(current, name, getattr(current, name) + text)
            continue
        word, _, rest = line.partition(" ")
        if word in ("msgctxt", "msgid") and started and key is not None and key[0] == "msgstr":
            finish()
        if not started:
            current.line = number
            started = True
        text = _unquote(rest, path, number)
        if word in ("msgctxt", "msgid", "msgid_plural"):
            setattr(current, word, text)
            key = (word, None)
        elif word == "msgstr":
            current.msgstr[0] = text
            key = ("msgstr", 0)
        elif m := re.fullmatch(r"msgstr\[(\d+)\]", word):
            current.msgstr[int(m.group(1))] = text
            key = ("msgstr", int(m.group(1)))
        else:
            raise ValueError(f"{path}:{number}: unknown keyword {word!r}")
    finish()
    return entries


def placeholders(text: str) -> list[str]:
    """The printf placeholders of a message, sorted (a translation must keep the same)."""
    return sorted(m.group(0) for m in _PLACEHOLDER.finditer(text) if m.group(0) != "%%")


def mo_bytes(entries: list[Entry]) -> bytes:
    """The GNU .mo form of these entries: the header and every translated, non-fuzzy
    message (what msgfmt keeps), keys sorted as gettext's binary search needs."""
    messages: dict[bytes, bytes] = {}
    for entry in entries:
        if entry.obsolete or (entry.msgid and (entry.fuzzy or not entry.translated)):
            continue
        key = entry.msgid
        if entry.msgid_plural is not None:
            key += "\0" + entry.msgid_plural
        if entry.msgctxt is not None:
            key = entry.msgctxt + "\x04" + key
        value = "\0".join(entry.msgstr[i] for i in sorted(entry.msgstr))
        messages[key.encode("utf-8")] = value.encode("utf-8")
    keys = sorted(messages)
    header_size = 7 * 4
    ids_start = header_size
    strs_start = ids_start + len(keys) * 8
    data_start = strs_start + len(keys) * 8
    ids, strs, data = [], [], b""
    for k in keys:
        ids.append((len(k), data_start + len(data)))
        data += k + b"\0"
    for k in keys:
        v = messages[k]
        strs.append((len(v), data_start + len(data)))
        data += v + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, len(keys), ids_start, strs_start, 0, 0)
    for length, offset in ids + strs:
        out += struct.pack("<2I", length, offset)
    return out + data


def mo_write(po_path: Path | str) -> Path:
    """Compile one .po into the .mo beside it (written whole, then moved into place, so a
    reader in another process never sees half a file); returns the .mo's path."""
    po_path = Path(po_path)
    mo_path = po_path.with_suffix(".mo")
    payload = mo_bytes(po_read(po_path))
    handle, temporary = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
    with os.fdopen(handle, "wb") as out:
        out.write(payload)
    os.replace(temporary, mo_path)
    return mo_path


def catalogues(root: Path | str) -> list[Path]:
    """Every django.po under the project: locale/ and each app's <app>/locale/."""
    root = Path(root)
    found = list((root / "locale").glob("*/LC_MESSAGES/django.po"))
    found += root.glob("*/locale/*/LC_MESSAGES/django.po")
    return sorted(set(found))


def stale(po_path: Path) -> bool:
    """Is the .mo beside this .po missing or older than it?"""
    mo_path = po_path.with_suffix(".mo")
    return not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime
