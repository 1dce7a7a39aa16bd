"""Reading and judging measured values: the parsing of what an inspector enters and the
verdict of each characteristic (numbers are written back by `core.formatting`).

- A record is judged from its measurements: a measured value passes when
  ``nominal - lower_tolerance <= value <= nominal + upper_tolerance`` (Decimal, limits
  inclusive: 49.90 and 50.10 pass a 50.00 ± 0.10 bore, 49.8999 fails); an attribute passes
  when it is ok. The record passes when every characteristic passes.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.formatting import quantity_format
from core.lists import list_text
from core.texts import Text

from .models import Characteristic, InspectionPlan, Measurement

_VALUE_FIELD = Measurement._meta.get_field("value")
VALUE_PLACES = _VALUE_FIELD.decimal_places
VALUE_LIMIT = Decimal(10) ** (_VALUE_FIELD.max_digits - _VALUE_FIELD.decimal_places)
TRUE_WORDS = {"true", "ok", "pass", "yes", "y", "1", "good"}
FALSE_WORDS = {"false", "nok", "not ok", "fail", "no", "n", "0", "bad"}

# A failed record's reason when the inspector gives none (stored by id: core/texts.py).
OUTSIDE = gettext_noop("%(name)s %(value)s outside %(lower)s–%(upper)s")
NOT_OK = gettext_noop("%(name)s: not ok")
FAILURES = gettext_noop("%(first)s; %(rest)s")  # 中文: a full-width semicolon


def _values_dict(values) -> dict:
    """{name: value} from a dict, or a list of {"characteristic": name, "value"/"ok": …}."""
    if values is None:
        return {}
    if isinstance(values, dict):
        return {str(k).strip(): v for k, v in values.items()}
    if isinstance(values, list | tuple):
        out = {}
        for index, row in enumerate(values, start=1):
            if not isinstance(row, dict) or not str(row.get("characteristic") or "").strip():
                raise ValidationError(
                    {
                        "values": _("Row %(row)s: name the characteristic and give its value.")
                        % {"row": index}
                    }
                )
            name = str(row["characteristic"]).strip()
            if name in out:
                raise ValidationError({"values": _("%(name)s: given twice.") % {"name": name}})
            out[name] = row["value"] if "value" in row else row.get("ok")
        return out
    raise ValidationError(
        {"values": _("Give the values as {characteristic: value} or a list of them.")}
    )


def _parse_number(raw) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError
    value = Decimal(str(raw).strip().replace(",", ".") if isinstance(raw, str) else str(raw))
    if not value.is_finite():
        raise ValueError
    return value


def _parse_ok(raw) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError


@dataclass
class Verdict:
    """One characteristic judged."""

    characteristic: Characteristic
    value: Decimal | None
    ok: bool | None
    passed: bool

    def describe(self) -> str:
        """Why it failed, in the active language."""
        return self.reason().render()

    def reason(self) -> Text:
        """Why it failed, as a stored text (core/texts.py): a record keeps it by id."""
        c = self.characteristic
        if c.kind == Characteristic.Kind.VARIABLE:
            unit = f" {c.unit}" if c.unit else ""
            return Text(
                OUTSIDE,
                name=c.name,
                value=f"{quantity_format(self.value)}{unit}",
                lower=quantity_format(c.lower_limit),
                upper=f"{quantity_format(c.upper_limit)}{unit}",
            )
        return Text(NOT_OK, name=c.name)


def failures_reason(verdicts: list[Verdict]) -> Text:
    """The failed characteristics of a record, one after the other, as one stored text."""
    reasons = [v.reason() for v in verdicts if not v.passed]
    text = reasons[-1]
    for reason in reversed(reasons[:-1]):
        text = Text(FAILURES, first=reason, rest=text)
    return text


def judge(characteristic: Characteristic, raw) -> Verdict:
    """Judge one value against its characteristic; raises ValueError for unreadable input."""
    if characteristic.kind == Characteristic.Kind.VARIABLE:
        value = _parse_number(raw)
        passed = characteristic.lower_limit <= value <= characteristic.upper_limit
        return Verdict(characteristic, value, None, passed)
    ok = _parse_ok(raw)
    return Verdict(characteristic, None, ok, ok)


def measurements_judge(plan: InspectionPlan, values) -> list[Verdict]:
    """Every characteristic of the plan judged from `values`; every problem is reported at
    once under `values`, each message naming its characteristic."""
    given = _values_dict(values)
    chars = list(plan.characteristics.all())
    by_name = {c.name.lower(): c for c in chars}
    problems: list[str] = []
    for name in given:
        if name.lower() not in by_name:
            known = list_text(c.name for c in chars)
            problems.append(
                _("%(name)s: unknown characteristic; %(plan)s checks %(known)s.")
                % {"name": name, "plan": plan, "known": known}
            )
    normalized = {name.lower(): raw for name, raw in given.items()}
    verdicts = []
    for char in chars:
        raw = normalized.get(char.name.lower())
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            problems.append(_("%(name)s: a value is needed.") % {"name": char.name})
            continue
        try:
            verdict = judge(char, raw)
        except (ValueError, InvalidOperation, ArithmeticError):
            if char.kind == Characteristic.Kind.VARIABLE:
                problems.append(
                    _("%(name)s: %(raw)s is not a number.") % {"name": char.name, "raw": repr(raw)}
                )
            else:
                problems.append(
                    _("%(name)s: answer ok or not ok (true/false), not %(raw)s.")
                    % {"name": char.name, "raw": repr(raw)}
                )
            continue
        if verdict.value is not None:
            if verdict.value.as_tuple().exponent < -VALUE_PLACES:
                problems.append(
                    _("%(name)s: at most %(places)s decimal places (%(raw)s has more).")
                    % {"name": char.name, "places": VALUE_PLACES, "raw": repr(raw)}
                )
                continue
            if abs(verdict.value) >= VALUE_LIMIT:
                problems.append(
                    _("%(name)s: %(raw)s is out of range.") % {"name": char.name, "raw": repr(raw)}
                )
                continue
        verdicts.append(verdict)
    if problems:
        raise ValidationError({"values": problems})
    return verdicts
