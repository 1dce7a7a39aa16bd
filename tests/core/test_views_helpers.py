"""core.views_helpers.error_text: a refusal as one line for a page (the exception pages, the
import page, the operator terminal, the inspection page)."""

from django.core.exceptions import ValidationError

from core.views_helpers import error_text


def test_each_message_follows_its_field():
    refused = ValidationError({"quantity": ["must be a number ≥ 0."], "lot": "Unknown lot L-9."})
    assert error_text(refused) == "quantity: must be a number ≥ 0. lot: Unknown lot L-9."


def test_a_message_without_a_field_stands_alone():
    assert error_text(ValidationError("Nothing to do.")) == "Nothing to do."
    labels = {"quantity": "Quantity"}
    assert error_text(ValidationError(["One.", "Two."]), labels) == "One. Two."


def test_with_labels_a_field_shows_its_label_or_nothing():
    labels = {"quantity_good": "Good quantity"}
    refused = ValidationError({"quantity_good": "must be below 1,000,000.", "detail": "Refused."})
    assert error_text(refused, labels) == "Good quantity: must be below 1,000,000. Refused."


def test_a_plain_dict_of_errors_reads_the_same():
    errors = {"quantity_good": ["must be a number ≥ 0."], "event_id": "At most 100 characters."}
    labels = {"quantity_good": "Good quantity", "event_id": "Form"}
    assert error_text(errors, labels) == (
        "Good quantity: must be a number ≥ 0. Form: At most 100 characters."
    )
