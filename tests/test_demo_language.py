"""The demo plant's data in one language (settings.DEMO_LANGUAGE, `load_demo --language`): a
Shanghai plant in Chinese by default, the same plant in English on request, codes alike."""

import csv
import re
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import models
from django.utils import translation

from devices.models import SEEDED_REASON_NAMES, DowntimeReason
from planning.models import ProductionOrder, RoutingStep
from quality.models import Characteristic, DefectCode
from resources.models import Equipment, Item, Operator, ShiftPattern, Site, WorkCenter

pytestmark = pytest.mark.django_db

SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Two English words in a row: a sentence or a name the demo wrote in English.
ENGLISH = re.compile(r"\b[A-Za-z][a-z]{2,}[ ,]+[a-z]{2,}\b")
# Stored in English by design: machine makers' model names and what is not read as text
# (identifiers, addresses, hashes, JSON payloads, file names).
MODEL_NAMES = {"Engel victory 350", "Contura G2", "DMU 65", "LPD-800"}


def test_the_demo_loads_in_chinese_by_default():
    assert settings.DEMO_LANGUAGE == "zh-hans"
    call_command("load_demo", "--quiet-logins", stdout=StringIO())
    assert Site.objects.get(code="SH-01").name == "上海汽车零部件厂"
    assert Item.objects.get(code="EB-500").name == "发动机缸体"
    assert WorkCenter.objects.get(code="CNC").name == "数控加工"
    assert Equipment.objects.get(code="CNC-01").name == "五轴加工中心 1"
    steps = RoutingStep.objects.filter(routing__item__code="EB-500").order_by("step_no")
    assert [s.name for s in steps] == ["铸造", "机加工", "检验", "装配"]
    assert set(ShiftPattern.objects.values_list("name", flat=True)) == {"早班", "中班"}
    assert DefectCode.objects.get(code="BORE-OOT").name == "孔径超差"
    assert set(Characteristic.objects.values_list("name", flat=True)) == {
        "孔径",
        "无划伤",
        "无缺料",
    }
    assert Operator.objects.get(badge="OP-001").name == "张三"
    assert ProductionOrder.objects.get(number="MO-2026-00001").note == "SO-2026-0001 首批"


def test_the_english_demo_is_the_same_plant(demo_plant):
    assert Item.objects.get(code="EB-500").name == "Engine block"
    assert WorkCenter.objects.get(code="CNC").name == "CNC machining"
    assert ProductionOrder.objects.get(number="MO-2026-00001").note == (
        "First batch of SO-2026-0001"
    )


def test_loading_in_another_language_renames_what_is_keyed_on_a_code():
    call_command("load_demo", "--quiet-logins", stdout=StringIO())
    call_command("load_demo", "--quiet-logins", "--language=en", stdout=StringIO())
    assert Item.objects.get(code="EB-500").name == "Engine block"
    assert Equipment.objects.get(code="INJ-01").name == "Injection moulding machine 350 t"
    assert DefectCode.objects.get(code="SCRATCH").name == "Scratch on a visible surface"


def _english_texts() -> list[str]:
    found = []
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "admin", "contenttypes", "auth", "axes"}:
            continue
        names = {f.name for f in model._meta.concrete_fields}
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
            and not isinstance(f, models.EmailField | models.URLField | models.SlugField)
            and not f.choices
            # a stored sentence's English copy and its message id: shown through the id in
            # the reader's language (core/texts.py)
            and f"{f.name}_id" not in names
            and not (f.name.endswith("_id") and f.name.removesuffix("_id") in names)
        ]
        for name in fields:
            for value in model.objects.values_list(name, flat=True).distinct():
                if value in SEEDED_REASON_NAMES and model is DowntimeReason:
                    continue  # read in the reader's language: test_the_seeded_reasons_…
                if value and value not in MODEL_NAMES and ENGLISH.search(value):
                    found.append(f"{model._meta.label}.{name}: {value!r}")
    return found


def test_a_chinese_demo_with_its_history_writes_no_english_text():
    """Every text column of every table after `load_demo --history` in Chinese: no two
    English words in a row (what a plant's people would read as the demo's data)."""
    call_command("load_demo", "--quiet-logins", "--history", stdout=StringIO())
    assert _english_texts() == []
    # A stored sentence's English copy without its message id would be shown in English:
    # only what a person typed (in Chinese here) may go without one.
    without_id = []
    for model in apps.get_models():
        names = {f.name for f in model._meta.concrete_fields}
        for name in sorted(n for n in names if {f"{n}_id", f"{n}_params"} <= names):
            rows = model.objects.filter(**{f"{name}_id": ""}).exclude(**{name: ""})
            without_id += [
                f"{model._meta.label}.{name}: {v!r}"
                for v in rows.values_list(name, flat=True)
                if ENGLISH.search(v)
            ]
    assert without_id == []


def test_the_chinese_samples_are_the_english_rows_with_their_names_in_chinese():
    for name in ("items.csv", "boms.csv", "routings.csv"):
        with (SAMPLES / name).open(encoding="utf-8") as f:
            english = list(csv.DictReader(f))
        with (SAMPLES / "zh-hans" / name).open(encoding="utf-8") as f:
            chinese = list(csv.DictReader(f))
        assert len(chinese) == len(english), name
        for en, zh in zip(english, chinese, strict=True):
            assert en.keys() == zh.keys(), name
            for column in en:
                if column == "name":
                    assert CJK.search(zh[column]), (name, zh)
                else:
                    assert zh[column] == en[column], (name, column, zh)


def test_the_seeded_downtime_reasons_read_in_the_readers_language_until_renamed():
    reason = DowntimeReason.objects.get(code="BRK-MECH")
    with translation.override("zh-hans"):
        assert reason.label == "机械故障" and str(reason) == "BRK-MECH 机械故障"
        reason.name = "Spindle crash"  # the plant's own words stay as typed
        assert reason.label == "Spindle crash"
    with translation.override("en"):
        assert DowntimeReason.objects.get(code="JAM").label == "Part jam or misfeed"
    with translation.override("zh-hans"):
        labels = [r.label for r in DowntimeReason.objects.all()]
    assert labels and all(CJK.search(label) for label in labels)
