"""A refusal the code raises to a person or an API client is marked for translation: no
`raise StateConflict("…")`, `PermissionDenied(f"…")` or `ValidationError({"field": "…"})`
with an English literal. The messages of the pages and the catalogues are checked elsewhere
(tests/core/test_translation.py); this finds the sentences written in Python."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from core.roles import Role
from tests.errors import error_messages
from tests.factories import ItemFactory, LocationFactory, UserFactory
from tests.test_table_owners import APPS

# What reaches a reader: a 409, a 403, a field's 400, a B2MML refusal.
USER_FACING = {"StateConflict", "PermissionDenied", "ValidationError", "B2mmlError"}
# Not read by a plant's people: engines (no Django), migrations, operator commands.
SKIPPED_PARTS = {"migrations", "engines", "management"}


def _literal(node: ast.AST) -> bool:
    """English written in place: a string, an f-string, or a dict or list holding one."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and any(c.isalpha() for c in node.value)
    if isinstance(node, ast.Dict):
        return any(_literal(v) for v in node.values if v is not None)
    if isinstance(node, ast.List | ast.Tuple):
        return any(_literal(v) for v in node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left) or _literal(node.right)
    return False


def _raised_literals(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
            continue
        func = node.exc.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        message = node.exc.args[0] if node.exc.args else None
        if name in USER_FACING and message is not None and _literal(message):
            yield node.lineno, name, ast.unparse(message)[:80]


def test_no_refusal_is_raised_in_english_written_in_place():
    root = Path(settings.BASE_DIR)
    found = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if SKIPPED_PARTS & set(path.relative_to(root).parts):
                continue
            for line, name, message in _raised_literals(path):
                found.append(f"{path.relative_to(root)}:{line} {name}({message})")
    assert not found, "\n".join(found)


def test_the_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(x):\n"
        "    raise StateConflict(f'Order {x} is closed.')\n"
        "def g():\n"
        "    raise ValidationError({'quantity': 'Must be positive.'})\n"
        "def h():\n"
        "    raise StateConflict(_('Order %(x)s is closed.') % {'x': 1})\n"
        "def i():\n"
        "    raise PermissionDenied(gettext('Only planners.'))\n"
    )
    assert [line for line, _name, _message in _raised_literals(sample)] == [2, 4]


@pytest.mark.django_db
def test_a_refusal_answers_in_the_readers_language():
    """A stock move the ledger refuses (more than is on hand, a lot-tracked item without its
    lot), posted by a client that reads 简体中文 and by one that reads English: the same 400,
    each in its reader's language."""
    client = APIClient()
    client.force_authenticate(UserFactory(username="storeman", roles=[Role.SUPPLY_CHAIN_DIRECTOR]))
    ItemFactory(code="STEEL")
    ItemFactory(code="RESIN", tracking="lot")
    LocationFactory(code="RAW")
    over = {"item": "STEEL", "location": "RAW", "quantity": "-5", "kind": "issue"}
    no_lot = {"item": "RESIN", "location": "RAW", "quantity": "5", "kind": "receipt"}
    zh = {"format": "json", "HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    en = {"format": "json", "HTTP_ACCEPT_LANGUAGE": "en"}

    refused = client.post("/api/v1/stock-moves/", over, **zh)
    assert refused.status_code == 400
    assert error_messages(refused, "quantity") == "RAW 的 STEEL 在库只有 0 pcs；无法取出 5.0000。"
    refused = client.post("/api/v1/stock-moves/", no_lot, **zh)
    assert refused.status_code == 400
    assert error_messages(refused, "lot") == "RESIN 按批次追踪：请写明批次。"
    refused = client.post("/api/v1/stock-moves/", over, **en)
    assert error_messages(refused, "quantity") == (
        "Only 0 pcs of STEEL on hand at RAW; cannot take 5.0000."
    )
