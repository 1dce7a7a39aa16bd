"""B2MML V0701 (ISA-95) documents as element trees: building and reading them. Pure: plain
values in, `xml.etree.ElementTree` elements out, and back.

Element order inside a B2MML type is fixed by the schema's `xsd:sequence`, so the builders
append children in schema order; every document they build is checked against the official
schemas before it leaves (integration/schemas.py).
"""

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.formatting import quantity_format

NS = "http://www.mesa.org/xml/B2MML"
RELEASE_ID = "0701"
_Q = "{" + NS + "}"
# Older releases name their version in the namespace (B2MML-V0600, B2MML-V0500, ...).
VERSIONED_NS = re.compile(r"^http://www\.mesa\.org/xml/B2MML-V(\d+)$")

ET.register_namespace("", NS)


def q(name: str) -> str:
    """An element name in the B2MML namespace (Clark notation)."""
    return _Q + name


def local(tag: str) -> str:
    """`{ns}Name` → `Name`."""
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def path_plain(path: str) -> str:
    """An element path without its namespaces: /ProcessOperationsSchedule/DataArea/..."""
    return re.sub(r"\{[^}]*\}", "", path or "")


# --- writing -----------------------------------------------------------------------------


def sub(parent: ET.Element, name: str, text=None, **attrs) -> ET.Element:
    element = ET.SubElement(parent, q(name), {k: str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = str(text)
    return element


def sub_opt(parent: ET.Element, name: str, text) -> ET.Element | None:
    """A child only when there is a value (optional elements are left out, never empty)."""
    if text is None or text == "":
        return None
    return sub(parent, name, text)


def instant(value: datetime | None) -> str | None:
    """xsd:dateTime with its offset (an aware datetime's ISO form)."""
    return value.isoformat() if value is not None else None


def quantity(parent: ET.Element, value: Decimal | int, uom: str = "", name: str = "Quantity"):
    element = sub(parent, name)
    sub(element, "QuantityString", quantity_format(value))
    sub(element, "DataType", "decimal")
    if uom:
        sub(element, "UnitOfMeasure", uom)
    return element


def value_string(parent: ET.Element, name: str, id_: str, text: str, data_type: str = "string"):
    """A `…Property` or `SegmentParameter`: ID, then Value/ValueString + DataType."""
    element = sub(parent, name)
    sub(element, "ID", id_)
    value = sub(element, "Value")
    sub(value, "ValueString", text)
    sub(value, "DataType", data_type)
    return element


def duration_seconds(seconds: int) -> str:
    """xsd:duration of whole seconds (minutes in xsd:duration take no fraction)."""
    return f"PT{max(int(seconds), 0)}S"


@dataclass(frozen=True)
class Area:
    """A BOD's ApplicationArea: who sends, when, and the message id."""

    sender: str
    created: datetime
    bodid: str
    component: str = ""


def bod(verb: str, noun: str, area: Area, **verb_attrs) -> tuple[ET.Element, ET.Element]:
    """`<{Verb}{Noun} releaseID="0701">` with its ApplicationArea and the verb element;
    returns the root and its DataArea (append the nouns there)."""
    root = ET.Element(q(f"{verb}{noun}"), {"releaseID": RELEASE_ID})
    application_area(root, "ApplicationArea", area)
    data_area = sub(root, "DataArea")
    sub(data_area, verb, **verb_attrs)
    return root, data_area


def application_area(parent: ET.Element, name: str, area: Area) -> ET.Element:
    element = sub(parent, name)
    sender = sub(element, "Sender")
    sub(sender, "LogicalID", area.sender)
    sub_opt(sender, "ComponentID", area.component)
    sub(element, "CreationDateTime", instant(area.created))
    sub(element, "BODID", area.bodid)
    return element


def serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# --- reading -----------------------------------------------------------------------------


def child(element: ET.Element | None, *names: str) -> ET.Element | None:
    """The first element down a path of child names, or None."""
    for name in names:
        if element is None:
            return None
        element = element.find(q(name))
    return element


def children(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else element.findall(q(name))


def text(element: ET.Element | None, *names: str) -> str | None:
    """The stripped text down a path of child names; None when absent or empty."""
    found = child(element, *names) if names else element
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def texts(element: ET.Element | None, name: str) -> list[str]:
    return [t for t in (text(c) for c in children(element, name)) if t]


def properties(element: ET.Element | None, name: str) -> dict[str, str]:
    """`…Property` children as {ID: first ValueString}."""
    found = {}
    for prop in children(element, name):
        key = text(prop, "ID")
        if key:
            found[key] = text(prop, "Value", "ValueString") or ""
    return found


def trailing_number(value: str | None) -> int | None:
    """The number a segment id ends with: "OPSEG-010" → 10, "20" → 20; None without one."""
    if not value:
        return None
    match = re.search(r"(\d+)\s*$", value)
    return int(match.group(1)) if match else None


def material_use(element: ET.Element) -> str:
    """MaterialUse as one word: Produced, Consumed, ..., or the OtherValue of `Other`
    (the scrap convention: `<MaterialUse OtherValue="Scrap">Other</MaterialUse>`)."""
    use = child(element, "MaterialUse")
    if use is None:
        return ""
    value = (use.text or "").strip()
    if value == "Other" and use.get("OtherValue"):
        return use.get("OtherValue").strip()
    return value


def elements_copy(elements: Iterable[ET.Element], parent: ET.Element) -> None:
    for element in elements:
        parent.append(element)
