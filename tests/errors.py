"""Reading the API's error body (docs/api-errors.md) in tests."""


def error_fields(response) -> set[str]:
    """The fields the error entries name (top-level names of dotted paths as well)."""
    named = {e["field"] for e in response.json()["errors"] if "field" in e}
    return named | {name.split(".", 1)[0] for name in named}


def error_messages(response, field: str) -> str:
    """The messages about a field and what is under it, as one text."""
    return " ".join(
        e["message"]
        for e in response.json()["errors"]
        if e.get("field") == field or e.get("field", "").startswith(f"{field}.")
    )
