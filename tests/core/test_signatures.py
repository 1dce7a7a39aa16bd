"""Electronic signatures (core.signatures): a wrong password or a missing reason refuses and
writes nothing; a stored signature verifies against its record; changing the record or the
signature row afterwards makes it fail to verify; a wrong password counts for the lockout."""

from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from core.models import Signature
from core.signatures import (
    SignatureError,
    SignatureFieldsMixin,
    record_content,
    signature_api_error,
    signature_check,
    signature_guard,
    signature_sign,
    signature_verify,
    signatures_for,
    signatures_verified,
)
from resources.models import Item
from tests.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-1"  # tests.factories.UserFactory's


@pytest.fixture
def signer():
    return UserFactory(username="qianqi", first_name="Qi", last_name="Qian")


@pytest.fixture
def item():
    return ItemFactory(code="EB-500", standard_cost=Decimal("80"))


def sign(
    signer, item, *, password=PASSWORD, reason="Cost agreed with finance.", meaning="approved"
):
    """A decision as a service makes it: the change, then the signature, in one transaction."""
    with transaction.atomic():
        Item.objects.filter(pk=item.pk).update(standard_cost=Decimal("81.5"))
        item.refresh_from_db()
        return signature_sign(
            user=signer, password=password, meaning=meaning, reason=reason, record=item
        )


def test_a_signature_is_stored_with_who_when_meaning_reason_and_verifies(signer, item):
    signature = sign(signer, item)
    signature.refresh_from_db()
    assert signature.signer == signer
    assert (signature.signer_username, signature.signer_name) == ("qianqi", "Qi Qian")
    assert signature.meaning == Signature.Meaning.APPROVED
    assert signature.reason == "Cost agreed with finance."
    assert abs(signature.signed_at - timezone.now()) < timedelta(seconds=5)
    assert len(signature.record_hash) == len(signature.signature_hash) == 64
    assert signature_verify(signature) is True
    assert list(signatures_for(item)) == [signature]
    # The decision was written before the signature: the hash covers the final state.
    assert record_content(Item.objects.get(pk=item.pk))["standard_cost"] == "81.5000"


def test_the_record_content_is_canonical_fields_with_ids_and_text(item):
    content = record_content(item)
    assert list(content) == sorted(content)
    assert content["code"] == "EB-500"
    assert isinstance(content["standard_cost"], str)
    # A value in memory hashes like the same value read back from the database.
    item.standard_cost = Decimal("80")
    assert record_content(item) == record_content(Item.objects.get(pk=item.pk))


@pytest.mark.parametrize(
    ("password", "reason", "meaning", "field"),
    [
        ("wrong", "Cost agreed.", "approved", "password"),
        ("", "Cost agreed.", "approved", "password"),
        (None, "Cost agreed.", "approved", "password"),
        (PASSWORD, "", "approved", "reason"),
        (PASSWORD, "   ", "approved", "reason"),
        (PASSWORD, "Cost agreed.", "liked", "meaning"),
    ],
)
def test_a_refused_signature_names_the_field_and_writes_nothing(
    signer, item, password, reason, meaning, field
):
    with pytest.raises(SignatureError) as refused:
        sign(signer, item, password=password, reason=reason, meaning=meaning)
    assert list(refused.value.message_dict) == [field]
    if field == "password" and password == "wrong":
        assert refused.value.message_dict["password"] == ["The password is not correct."]
    assert not Signature.objects.exists()
    item.refresh_from_db()
    assert item.standard_cost == Decimal("80")  # the decision rolled back with it


def test_a_deactivated_account_cannot_sign(signer, item):
    signer.is_active = False
    signer.save()
    with pytest.raises(SignatureError) as refused:
        signature_check(user=signer, password=PASSWORD, meaning="approved", reason="x")
    assert list(refused.value.message_dict) == ["password"]


def test_another_persons_password_does_not_sign(signer, item):
    UserFactory(username="other")
    with pytest.raises(SignatureError):
        signature_check(user=signer, password="not-" + PASSWORD, meaning="approved", reason="x")


def test_changing_the_record_after_signing_makes_the_signature_fail(signer, item):
    signature = sign(signer, item)
    Item.objects.filter(pk=item.pk).update(standard_cost=Decimal("0.01"))
    assert signature_verify(signature) is False
    Item.objects.filter(pk=item.pk).update(standard_cost=Decimal("81.5"))
    assert signature_verify(signature) is True


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reason", "Cost forced by the planner."),
        ("meaning", Signature.Meaning.REJECTED),
        ("signer_username", "lisi"),
        ("record_hash", "0" * 64),
    ],
)
def test_editing_the_signature_row_makes_it_fail(signer, item, field, value):
    signature = sign(signer, item)
    Signature.objects.filter(pk=signature.pk).update(**{field: value})
    signature.refresh_from_db()
    assert signature_verify(signature) is False


def test_a_signature_moved_in_time_or_to_another_record_fails(signer, item):
    signature = sign(signer, item)
    Signature.objects.filter(pk=signature.pk).update(
        signed_at=signature.signed_at - timedelta(days=1)
    )
    signature.refresh_from_db()
    assert signature_verify(signature) is False

    signature = sign(signer, item)
    twin = ItemFactory(code="EB-501", standard_cost=Decimal("81.5"))
    Signature.objects.filter(pk=signature.pk).update(object_id=str(twin.pk))
    signature.refresh_from_db()
    assert signature_verify(signature) is False


def test_a_deleted_record_does_not_verify(signer, item):
    signature = sign(signer, item)
    Item.objects.filter(pk=item.pk).delete()
    assert signature_verify(signature) is False


def test_a_wrong_password_in_a_request_counts_for_the_lockout(signer, item, settings):
    settings.AXES_FAILURE_LIMIT = 3
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.9")
    request.user = signer
    for _ in range(3):
        with pytest.raises(SignatureError), signature_guard(request):
            sign(signer, item, password="wrong")
    assert AccessAttempt.objects.get(username="qianqi").failures_since_start == 3
    # Locked: even the right password is refused now, and nothing is written.
    with pytest.raises(SignatureError) as refused, signature_guard(request):
        sign(signer, item)
    assert "locked" in refused.value.message_dict["password"][0]
    assert not Signature.objects.exists()


def test_a_missing_reason_does_not_count_for_the_lockout(signer, item):
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.9")
    request.user = signer
    with pytest.raises(SignatureError), signature_guard(request):
        sign(signer, item, reason="")
    assert not AccessAttempt.objects.exists()


def test_the_api_fields_and_error(signer):
    class Fixed(SignatureFieldsMixin):
        signature_meaning = Signature.Meaning.RELEASED

    data = Fixed(data={"password": PASSWORD, "reason": "ok", "meaning": "rejected"})
    assert data.is_valid(), data.errors
    assert data.validated_data["meaning"] == "released"
    assert "password" not in Fixed(instance={"password": "x", "reason": "r"}).data

    # Shape only: the service judges a missing password or reason, after the role checks.
    # A missing password or reason is blank (never a KeyError in the view).
    shaped = SignatureFieldsMixin(data={"meaning": "approved"})
    assert shaped.is_valid()
    assert shaped.validated_data == {"meaning": "approved", "password": "", "reason": ""}
    unknown = SignatureFieldsMixin(data={"meaning": "liked"})
    assert not unknown.is_valid() and list(unknown.errors) == ["meaning"]

    error = signature_api_error(SignatureError("password", "The password is not correct."))
    assert error.detail == {"password": ["The password is not correct."]}


def test_the_partials_show_the_fields_and_the_signatures(signer, item):
    fields = render_to_string("core/_sign_fields.html", {"meaning": "released"})
    assert 'autocomplete="current-password"' in fields
    assert 'name="meaning" value="released"' in fields
    assert '<textarea name="reason"' in fields and "required" in fields

    good = sign(signer, item)
    bad = sign(signer, item, reason="Second look.")
    Signature.objects.filter(pk=bad.pk).update(reason="Edited afterwards.")
    page = render_to_string(
        "core/_signatures.html", {"signatures": signatures_verified(signatures_for(item))}
    )
    assert "qianqi" in page and "Cost agreed with finance." in page
    assert good.signature_hash[:12] in page
    assert page.count("does not verify") == 1 and "verified" in page
    # Shown in the plant's time (Asia/Shanghai, +08:00).
    assert "+08:00" in page
