"""What the B2MML tests share: reading documents the way the shared validator does."""

import xml.etree.ElementTree as ET

from integration.engines.b2mml import local
from integration.schemas import validation_errors


def valid(data: bytes) -> ET.Element:
    """The document, after the official schemas accepted it (as validate.py checks it)."""
    root = ET.fromstring(data)
    errors = validation_errors(root)
    assert errors == [], errors
    return root


def root_name(data: bytes) -> str:
    return local(ET.fromstring(data).tag)
