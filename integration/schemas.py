"""The official B2MML V0701 schemas, loaded once per process, and reading a document sent
from outside: well-formed, in the V0701 namespace, valid against the schemas.

The XSDs are MESA International's, unmodified, in the directory `B2MML_SCHEMA_DIR` names
(docs/b2mml.md, "Schemas"). Building the schema set takes a second or two (34 files), so it
is built at the first document and kept for the life of the process; validating a document
then takes milliseconds. One schema object built from B2MML-OperationsSchedule.xsd knows
every root element but ConfirmBOD (its include chain pulls in the rest); ConfirmBOD has a
file of its own.
"""

import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

import xmlschema
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from xmlschema import XMLSchemaChildrenValidationError, XMLSchemaDecodeError
from xmlschema.validators import (
    XsdAttributeGroup,
    XsdElement,
    XsdEnumerationFacets,
    XsdGroup,
    XsdPatternFacets,
)

from .engines.b2mml import NS, VERSIONED_NS, local, namespace, path_plain

MAIN_XSD = "B2MML-OperationsSchedule.xsd"
CONFIRM_XSD = "B2MML-ConfirmBOD.xsd"
MAX_ERRORS = 20

_schemas: dict[tuple[str, str], xmlschema.XMLSchema] = {}
_lock = threading.Lock()


class B2mmlError(Exception):
    """A document refused: the HTTP status, one sentence, and (path, reason) pairs naming
    the failing elements. Raised before anything is written, or inside the import's
    transaction, which then writes nothing."""

    def __init__(self, message: str, *, status: int = 400, errors=None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.errors: list[tuple[str, str]] = list(errors or [])


def labelled(label: str, message: str) -> str:
    """`path: message`, with the colon of the reader's language (Chinese: full width)."""
    return pgettext("an error's field or row, then its message", "%(label)s: %(message)s") % {
        "label": label,
        "message": message,
    }


def listed(items) -> str:
    """Names joined as the reader's language lists them (Chinese: 、)."""
    return pgettext("between the items of a list", ", ").join(items)


class SchemasMissing(B2mmlError):
    def __init__(self, directory: Path):
        super().__init__(
            _(
                "The B2MML V0701 schemas are not installed: no %(file)s in %(directory)s "
                "(set B2MML_SCHEMA_DIR)."
            )
            % {"file": MAIN_XSD, "directory": directory},
            status=503,
            code="schemas_missing",
        )


def schema_dir() -> Path:
    return Path(settings.B2MML_SCHEMA_DIR)


def schema(name: str = MAIN_XSD) -> xmlschema.XMLSchema:
    """The schema built from one of the official files, built once per process."""
    directory = schema_dir()
    key = (str(directory), name)
    found = _schemas.get(key)
    if found is not None:
        return found
    path = directory / name
    if not path.is_file():
        raise SchemasMissing(directory)
    with _lock:
        if key not in _schemas:
            _schemas[key] = xmlschema.XMLSchema(str(path))
        return _schemas[key]


def schema_for(root_name: str) -> xmlschema.XMLSchema:
    return schema(CONFIRM_XSD if root_name == "ConfirmBOD" else MAIN_XSD)


def validation_errors(root: ET.Element) -> list[tuple[str, str]]:
    """(element path, reason) of every schema error of a document, at most MAX_ERRORS; the
    reason in the reader's language (see `schema_reason`)."""
    found = []
    for error in schema_for(local(root.tag)).iter_errors(root):
        found.append((path_plain(error.path) or f"/{local(root.tag)}", schema_reason(error)))
        if len(found) >= MAX_ERRORS:
            break
    return found


# --- a schema error's and the XML parser's reason, in the reader's language ------------------
#
# xmlschema and expat explain in English. Their errors carry what the sentence needs (the
# element found and those expected, the value and the facet or type it fails, the parser's
# error code and position), so the common cases are written here in the reader's words,
# naming the element; a rare case keeps the library's English (without namespaces) inside
# our sentence.

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# Values shown in a reason are cut to this many characters.
VALUE_SHOWN = 60
# What a value of a built-in type looks like, for the types B2MML documents use most.
TYPE_EXAMPLES = {
    "xs:dateTime": "2026-12-09T10:00:00+08:00",
    "xs:date": "2026-12-09",
    "xs:duration": "PT8H30M",
    "xs:decimal": "12.5",
    "xs:integer": "12",
    "xs:boolean": "true",
}


def _shown(value) -> str:
    value = str(value)
    if len(value) > VALUE_SHOWN:
        value = value[: VALUE_SHOWN - 1] + "…"
    return repr(value)


def _valued(error: xmlschema.XMLSchemaValidationError) -> str:
    """What a value error is about: the element's name, or `@name` for one of its attributes
    (the error holds the element and the value; an attribute is the one holding that value
    when the element's text does not)."""
    elem = error.elem
    if elem is None or not isinstance(elem.tag, str):
        return ""
    value = str(error.obj).strip()
    if (elem.text or "").strip() != value:
        for name, attribute in elem.attrib.items():
            if attribute.strip() == value:
                return f"@{local(name)}"
    return local(elem.tag)


def _children_reason(error: XMLSchemaChildrenValidationError) -> str | None:
    expected = listed(local(tag) for tag in error.expected_tags if tag)
    several = len([tag for tag in error.expected_tags if tag]) > 1
    if error.invalid_tag is None:  # the element ends before a required child
        if not expected:
            return None
        if several:
            return _("a required element is missing: one of %(names)s") % {"names": expected}
        return _("the required element %(name)s is missing") % {"name": expected}
    found = local(error.invalid_tag)
    particle = error.particle
    allowed = (
        {local(e.name) for e in error.validator.iter_elements() if e.name}
        if isinstance(error.validator, XsdGroup)
        else set()
    )
    if (
        not several
        and expected
        and found in allowed
        and isinstance(particle, XsdElement)
        and (error.occurs or 0) < particle.min_occurs
    ):
        # An element the type has, but a required one before it is not there.
        return _("the required element %(name)s is missing before %(found)s") % {
            "name": expected,
            "found": found,
        }
    values = {"found": found, "position": (error.index or 0) + 1, "expected": expected}
    if not expected:
        return _("the element %(found)s (child %(position)d) is not allowed here") % values
    if several:
        return (
            _(
                "the element %(found)s (child %(position)d) is not allowed here; one of "
                "%(expected)s expected"
            )
            % values
        )
    return (
        _("the element %(found)s (child %(position)d) is not allowed here; %(expected)s expected")
        % values
    )


def _attributes_reason(error: xmlschema.XMLSchemaValidationError) -> str | None:
    """An attribute the element's type does not have, or a required one it lacks."""
    elem, group = error.elem, error.validator
    if elem is None or not isinstance(elem.tag, str):
        return None
    values = {"element": local(elem.tag)}
    # xsi:* attributes are the schema instance's own; a wildcard (key None) admits others.
    unknown = [
        local(name)
        for name in elem.attrib
        if name not in group and namespace(name) != XSI_NS and None not in group
    ]
    if unknown:
        return _("%(element)s does not take the attribute %(names)s") % {
            **values,
            "names": listed(unknown),
        }
    missing = [
        local(name)
        for name, attribute in group.items()
        if name and getattr(attribute, "use", "") == "required" and name not in elem.attrib
    ]
    if missing:
        return _("%(element)s needs the attribute %(names)s") % {**values, "names": listed(missing)}
    return None


def _value_reason(error: xmlschema.XMLSchemaValidationError) -> str | None:
    if isinstance(error.validator, XsdAttributeGroup):
        return _attributes_reason(error)
    name = _valued(error)
    if not name:
        return None
    validator = error.validator
    values = {"name": name, "value": _shown(error.obj)}
    if isinstance(validator, XsdEnumerationFacets):
        allowed = listed(str(v) for v in validator.enumeration)
        return _("%(name)s %(value)s is not one of %(allowed)s") % {**values, "allowed": allowed}
    if isinstance(validator, XsdPatternFacets):
        patterns = listed(validator.regexps)
        return _("%(name)s %(value)s does not match the pattern %(patterns)s") % {
            **values,
            "patterns": patterns,
        }
    if isinstance(error, XMLSchemaDecodeError):
        primitive = getattr(validator, "primitive_type", None)
        kind = getattr(validator, "prefixed_name", None) or getattr(
            primitive, "prefixed_name", None
        )
        if not kind:
            return None
        example = TYPE_EXAMPLES.get(kind)
        if example:
            return _("%(name)s %(value)s is not a valid %(type)s (e.g. %(example)s)") % {
                **values,
                "type": kind,
                "example": example,
            }
        return _("%(name)s %(value)s is not a valid %(type)s") % {**values, "type": kind}
    return None


def schema_reason(error: xmlschema.XMLSchemaValidationError) -> str:
    """Why the schemas refuse an element: a required child missing, a child not allowed, a
    value outside its enumeration, pattern or type in the reader's words; else the library's
    reason (English), its namespaces left out."""
    if isinstance(error, XMLSchemaChildrenValidationError):
        reason = _children_reason(error)
    else:
        reason = _value_reason(error)
    return reason or path_plain(error.reason or error.message)


def document_check(root: ET.Element) -> None:
    """Refuse a document of another namespace or version, an unknown root, or one that the
    schemas do not accept, naming the failing paths."""
    ns, name = namespace(root.tag), local(root.tag)
    if ns != NS:
        version = VERSIONED_NS.match(ns)
        if version:
            message = _(
                "The document is in B2MML V%(version)s (namespace %(namespace)s); ClosedLoop "
                "takes B2MML V0701 documents, in the namespace %(expected)s."
            ) % {"version": version.group(1), "namespace": ns, "expected": NS}
        else:
            message = _(
                "The document is in namespace %(namespace)s; ClosedLoop takes B2MML V0701 "
                "documents, in the namespace %(expected)s."
            ) % {"namespace": repr(ns), "expected": NS}
        raise B2mmlError(
            message,
            errors=[
                (
                    f"/{name}",
                    _("namespace %(namespace)s; expected %(expected)s")
                    % {"namespace": ns or _("(none)"), "expected": NS},
                )
            ],
            code="wrong_version",
        )
    if name not in schema().elements and name != "ConfirmBOD":
        raise B2mmlError(
            _("%(name)s is not a B2MML V0701 document.") % {"name": name},
            errors=[(f"/{name}", _("not a global element of B2MML V0701"))],
            code="unknown_document",
        )
    errors = validation_errors(root)
    if errors:
        first = labelled(*errors[0])
        more = len(errors) - 1
        if more:
            message = ngettext(
                "The document is not valid B2MML V0701: %(error)s (and %(more)d more)",
                "The document is not valid B2MML V0701: %(error)s (and %(more)d more)",
                more,
            ) % {"error": first, "more": more}
        else:
            message = _("The document is not valid B2MML V0701: %(error)s") % {"error": first}
        raise B2mmlError(message, errors=errors, code="schema")


def document_read(data: bytes) -> ET.Element:
    """Parse a document sent from outside and check it (see `document_check`).

    A DTD is refused outright: B2MML has none, and entity declarations are how XML bombs
    and external-entity reads come in."""
    if not data or not data.strip():
        raise B2mmlError(_("The request has no XML document."), errors=[("/", _("empty body"))])
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise B2mmlError(
            _("The document declares a DTD or entities; B2MML documents have none."),
            errors=[("/", _("DTD or entity declaration"))],
        )
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise _not_well_formed(data, exc) from None
    except LookupError:  # an encoding declared that Python has no codec for
        declared = ENCODING_DECLARED.search(data[:200])
        encoding = declared.group(1).decode("ascii", "replace") if declared else "?"
        raise B2mmlError(
            _(
                "The document declares the encoding %(encoding)s, which is not known here; send it as UTF-8."
            )
            % {"encoding": repr(encoding)},
            errors=[("/", _("unknown encoding %(encoding)s") % {"encoding": repr(encoding)})],
            code="xml",
        ) from None
    document_check(root)
    return root


ENCODING_DECLARED = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([^"']*)["']""")
# An end tag's name where expat stops at it (`</` just before the position).
END_TAG_NAME = re.compile(r"[^\s/>]+")


def _open_elements(data: bytes) -> list[str]:
    """The elements open where the parser stopped (outermost first), read again event by
    event: only for a refused document, to name the element an error is about."""
    parser = ET.XMLPullParser(events=("start", "end"))
    opened: list[str] = []

    def follow() -> None:
        for event, element in parser.read_events():
            if event == "start":
                opened.append(local(element.tag))
            elif opened:
                opened.pop()

    try:
        parser.feed(data)
        follow()
        parser.close()
    except (ET.ParseError, LookupError):
        pass
    follow()
    return opened


def _end_tag_at(data: bytes, line: int, column: int) -> str:
    """The name of the end tag at a parser's position (line from 1, column from 0), if
    there is one there."""
    lines = data.decode("utf-8", "replace").splitlines()
    if not 0 < line <= len(lines):
        return ""
    text = lines[line - 1]
    if text[max(column - 2, 0) : column] != "</":
        return ""
    found = END_TAG_NAME.match(text, column)
    return found.group(0) if found else ""


def _parser_reason(data: bytes, code: int, line: int, column: int) -> str:
    """expat's error, in the reader's words, naming the element where it can."""
    errors = expat.errors
    name = expat.ErrorString(code)
    opened = _open_elements(data)
    if name == errors.XML_ERROR_TAG_MISMATCH and opened:
        found = _end_tag_at(data, line, column)
        if found:
            return _("the end tag </%(found)s> does not close <%(open)s>") % {
                "found": found,
                "open": opened[-1],
            }
        return _("an end tag does not close <%(open)s>") % {"open": opened[-1]}
    if name == errors.XML_ERROR_NO_ELEMENTS:
        if opened:
            return _("the document ends before <%(open)s> is closed") % {"open": opened[-1]}
        return _("there is no element")
    reasons = {
        errors.XML_ERROR_SYNTAX: _("syntax error: this is not XML"),
        errors.XML_ERROR_INVALID_TOKEN: _("a character or markup that XML does not allow"),
        errors.XML_ERROR_UNCLOSED_TOKEN: _("a tag or markup that is not closed"),
        errors.XML_ERROR_PARTIAL_CHAR: _("an incomplete character (is it UTF-8?)"),
        errors.XML_ERROR_DUPLICATE_ATTRIBUTE: _("an attribute given twice"),
        errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: _("content after the end of the root element"),
        errors.XML_ERROR_UNDEFINED_ENTITY: _("an entity that is not defined"),
        errors.XML_ERROR_BAD_CHAR_REF: _("a character reference to no allowed character"),
        errors.XML_ERROR_UNBOUND_PREFIX: _("a namespace prefix that is not declared"),
        errors.XML_ERROR_MISPLACED_XML_PI: _("the XML declaration is not at the very start"),
    }
    return reasons.get(name, name)


def _not_well_formed(data: bytes, exc: ET.ParseError) -> B2mmlError:
    """The refusal of a document the XML parser stops at: where (line, and column counted
    from 1 as editors do; expat counts from 0) and why."""
    line, column = exc.position
    where = _("line %(line)d, column %(column)d") % {"line": line, "column": column + 1}
    reason = _parser_reason(data, exc.code, line, column)
    return B2mmlError(
        _("The document is not well-formed XML (%(where)s): %(reason)s.")
        % {"where": where, "reason": reason},
        errors=[(where, reason)],
        code="xml",
    )
