"""docs/permissions.md is generated from core/policy.py and must not drift from it."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from core.policy import POLICY, policy_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "permissions.md"


def test_the_permissions_page_is_the_policy_as_generated():
    assert DOC.read_text(encoding="utf-8") == policy_markdown(), (
        "docs/permissions.md differs from core/policy.py: run `python manage.py policy_doc`."
    )


def test_the_page_has_a_row_for_every_resource_and_action():
    text = DOC.read_text(encoding="utf-8")
    for resource, actions in POLICY.items():
        for action in actions:
            assert f"| `{resource}` | {action} |" in text


def test_policy_doc_check_fails_on_a_stale_file(tmp_path, monkeypatch):
    import pytest

    from core.management.commands import policy_doc

    stale = tmp_path / "permissions.md"
    stale.write_text("# Permissions\n\nold\n", encoding="utf-8")
    monkeypatch.setattr(policy_doc, "DOC", stale)
    with pytest.raises(SystemExit, match="stale"):
        call_command("policy_doc", "--check")
    call_command("policy_doc")
    assert stale.read_text(encoding="utf-8") == policy_markdown()
    call_command("policy_doc", "--check")
