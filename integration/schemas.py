"""The official B2MML V0701 schemas, loaded once per process, and reading a document sent
from outside: well-formed, in the V0701 namespace, valid against the schemas.

The XSDs are MESA International's, unmodified, in the directory `B2MML_SCHEMA_DIR` names
(docs/b2mml.md, "Schemas"). Building the schema set takes a second or two (34 files), so it
is built at the first document and kept for the life of the process; validating a document
then takes milliseconds. One schema object built from B2MML-OperationsSchedule.xsd knows
every root element but ConfirmBOD (its include chain pulls in the rest); ConfirmBOD has a
file of its own.
"""

import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import xmlschema
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

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
    """(element path, reason) of every schema error of a document, at most MAX_ERRORS."""
    found = []
    for error in schema_for(local(root.tag)).iter_errors(root):
        found.append(
            (path_plain(error.path) or f"/{local(root.tag)}", error.reason or error.message)
        )
        if len(found) >= MAX_ERRORS:
            break
    return found


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
        raise B2mmlError(
            _("The document is not well-formed XML: %(error)s.") % {"error": exc},
            errors=[("/", str(exc))],
            code="xml",
        ) from None
    document_check(root)
    return root
