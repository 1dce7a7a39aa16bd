"""devices_load and the device map service: the issue's example loads; bad entries are named
by path with nothing written; a second load changes nothing; a changed map updates in place."""

import copy
import json

import pytest
from django.core.management import CommandError, call_command

from devices.engines.devicemap import DeviceMapError
from devices.models import Counter, Endpoint, EquipmentLink, Signal
from devices.services.devicemap import device_map_export, device_map_load, endpoint_save
from tests.factories import EquipmentFactory

pytestmark = pytest.mark.django_db

STATE_MAP = {"0": "stopped", "1": "running", "2": "fault", "3": "maintenance"}
ISSUE_MAP = {
    "endpoints": [
        {
            "name": "line1-opc",
            "protocol": "opcua",
            "url": "opc.tcp://127.0.0.1:4840",
            "security": {"policy": "None", "mode": "None"},
            "publishing_ms": 500,
            "equipment": {
                "CNC-01": {
                    "state": {"node": "ns=2;s=CNC-01.State", "map": STATE_MAP},
                    "part_count": {"node": "ns=2;s=CNC-01.PartCount"},
                    "good_count": {"node": "ns=2;s=CNC-01.GoodCount"},
                    "spindle_speed": {"node": "ns=2;s=CNC-01.SpindleSpeed"},
                    "temperature": {"node": "ns=2;s=CNC-01.Temperature"},
                    "fault": {"node": "ns=2;s=CNC-01.Fault"},
                }
            },
        },
        {
            "name": "line1-modbus",
            "protocol": "modbus",
            "host": "127.0.0.1",
            "port": 5020,
            "poll_ms": 1000,
            "equipment": {
                "CNC-02": {
                    "unit": 2,
                    "state": {"table": "holding", "address": 0, "type": "uint16", "map": STATE_MAP},
                    "part_count": {
                        "table": "holding",
                        "address": 1,
                        "type": "uint32",
                        "word_order": "little",
                    },
                    "good_count": {"table": "holding", "address": 5, "type": "uint16"},
                    "spindle_speed": {"table": "holding", "address": 3, "type": "uint16"},
                    "temperature": {
                        "table": "holding",
                        "address": 4,
                        "type": "int16",
                        "scale": 0.1,
                    },
                    "fault": {"table": "coil", "address": 0},
                }
            },
        },
    ]
}


@pytest.fixture
def machines():
    return {code: EquipmentFactory(code=code) for code in ("CNC-01", "CNC-02", "CMM-01")}


def write(tmp_path, data, name="map.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def history_rows() -> int:
    return sum(m.history.count() for m in (Endpoint, EquipmentLink, Signal))


def snapshot():
    return (
        list(Endpoint.objects.order_by("pk").values()),
        list(EquipmentLink.objects.order_by("pk").values()),
        list(Signal.objects.order_by("pk").values()),
    )


def test_the_issues_example_loads(machines, tmp_path, capsys):
    call_command("devices_load", str(write(tmp_path, ISSUE_MAP)))
    out = capsys.readouterr().out
    assert "2 endpoints, 2 machines, 12 signals" in out
    opc = Endpoint.objects.get(name="line1-opc")
    assert opc.protocol == "opcua" and opc.url == "opc.tcp://127.0.0.1:4840"
    assert opc.loaded_at is not None
    link = EquipmentLink.objects.get(equipment__code="CNC-02")
    assert link.endpoint.name == "line1-modbus" and link.unit == 2
    assert link.since is not None
    part = Signal.objects.get(link=link, name="part_count")
    assert (part.table, part.address, part.data_type, part.word_order) == (
        "holding",
        1,
        "uint32",
        "little",
    )
    assert Signal.objects.get(link=link, name="temperature").scale == 0.1
    assert Signal.objects.get(link=link, name="fault").data_type == ""
    state = Signal.objects.get(link__equipment__code="CNC-01", name="state")
    assert state.node == "ns=2;s=CNC-01.State" and state.state_map == STATE_MAP


def test_yaml_loads_too(machines, tmp_path):
    yaml = pytest.importorskip("yaml")
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(ISSUE_MAP))
    call_command("devices_load", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Signal.objects.count() == 12


def test_loading_twice_changes_nothing(machines, tmp_path, capsys):
    path = write(tmp_path, ISSUE_MAP)
    call_command("devices_load", str(path))
    before, rows = snapshot(), history_rows()
    capsys.readouterr()
    call_command("devices_load", str(path))
    assert "nothing changed" in capsys.readouterr().out
    assert snapshot() == before
    assert history_rows() == rows


BAD_ENTRIES = [
    # (change to the map, the path printed)
    (
        lambda m: m["endpoints"][1]["equipment"]["CNC-02"]["part_count"].pop("address"),
        "endpoints[1].equipment.CNC-02.part_count.address",
    ),
    (
        lambda m: m["endpoints"][1]["equipment"]["CNC-02"]["state"].update(table="register"),
        "endpoints[1].equipment.CNC-02.state.table",
    ),
    (
        lambda m: m["endpoints"][1]["equipment"]["CNC-02"]["good_count"].update(type="int64"),
        "endpoints[1].equipment.CNC-02.good_count.type",
    ),
    (
        lambda m: m["endpoints"][1]["equipment"]["CNC-02"]["good_count"].update(address=2),
        "endpoints[1].equipment.CNC-02.good_count.address",
    ),
    (
        lambda m: m["endpoints"][0]["equipment"]["CNC-01"]["state"]["map"].update({"4": "party"}),
        "endpoints[0].equipment.CNC-01.state.map.4",
    ),
    (lambda m: m["endpoints"][0].update(url="http://plc"), "endpoints[0].url"),
    (lambda m: m["endpoints"][1].update(protocol="profinet"), "endpoints[1].protocol"),
    (
        lambda m: m["endpoints"][1]["equipment"].update(
            {"NOPE-9": {"fault": {"table": "coil", "address": 3}}}
        ),
        "endpoints[1].equipment.NOPE-9",
    ),
]


@pytest.mark.parametrize(("change", "path"), BAD_ENTRIES)
def test_a_bad_entry_is_named_and_nothing_is_written(machines, tmp_path, capsys, change, path):
    bad = copy.deepcopy(ISSUE_MAP)
    change(bad)
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("devices_load", str(write(tmp_path, bad)))
    err = capsys.readouterr().err
    assert f"{path}: " in err
    assert Endpoint.objects.count() == EquipmentLink.objects.count() == Signal.objects.count() == 0
    assert history_rows() == 0


def test_a_bad_change_leaves_the_loaded_map_as_it_was(machines, tmp_path):
    device_map_load(data=ISSUE_MAP)
    before = snapshot()
    bad = copy.deepcopy(ISSUE_MAP)
    bad["endpoints"][0]["publishing_ms"] = 250  # a good change ...
    bad["endpoints"][1]["equipment"]["GHOST"] = {"fault": {"table": "coil", "address": 1}}
    with pytest.raises(DeviceMapError) as raised:
        device_map_load(data=bad)
    assert raised.value.errors == [
        ("endpoints[1].equipment.GHOST", "no equipment GHOST in the plant's equipment list")
    ]
    assert snapshot() == before  # ... is not written either


def test_the_command_exits_non_zero(machines, tmp_path):
    """Run as a process: the exit status is what a deployment script sees."""
    import subprocess
    import sys

    bad = copy.deepcopy(ISSUE_MAP)
    bad["endpoints"][1]["equipment"]["CNC-02"]["part_count"]["address"] = -1
    result = subprocess.run(
        [sys.executable, "manage.py", "devices_load", str(write(tmp_path, bad))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "endpoints[1].equipment.CNC-02.part_count.address: " in result.stderr


def test_unreadable_files_are_refused(machines, tmp_path, capsys):
    path = tmp_path / "map.json"
    path.write_text('{"endpoints": [')
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("devices_load", str(path))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("devices_load", str(tmp_path / "missing.json"))
    with pytest.raises(CommandError, match="1 bad entry"):
        call_command("devices_load", str(write(tmp_path, ["not", "a", "map"])))
    assert 'endpoints: the file is an object with a list "endpoints"' in capsys.readouterr().err


def test_a_changed_map_updates_in_place_and_keeps_counts(machines, tmp_path, capsys):
    first = device_map_load(data=ISSUE_MAP)
    assert not first.unchanged
    link = EquipmentLink.objects.get(equipment__code="CNC-02")
    since, link_pk = link.since, link.pk
    Counter.objects.create(equipment=machines["CNC-02"], signal="part_count", total=1234)
    Counter.objects.create(equipment=machines["CNC-01"], signal="part_count", total=77)
    temp_pk = Signal.objects.get(link=link, name="temperature").pk

    changed = copy.deepcopy(ISSUE_MAP)
    cnc02 = changed["endpoints"][1]["equipment"]["CNC-02"]
    cnc02["temperature"]["scale"] = 0.01
    del cnc02["spindle_speed"]
    changed["endpoints"][1]["poll_ms"] = 500
    changed["endpoints"][1]["equipment"]["CMM-01"] = {
        "unit": 3,
        "state": {"table": "input", "address": 0, "map": {"0": "idle", "1": "running"}},
    }
    del changed["endpoints"][0]  # CNC-01's endpoint goes
    call_command("devices_load", str(write(tmp_path, changed)))
    out = capsys.readouterr().out
    assert "removed 1 endpoints: line1-opc" in out
    assert "removed 1 links: CNC-01" in out
    assert "removed 1 signals: CNC-02.spindle_speed" in out
    assert "CNC-01.part_count" in out  # its counter goes with it

    link.refresh_from_db()
    assert (link.pk, link.since) == (link_pk, since)
    assert Counter.objects.get(equipment=machines["CNC-02"], signal="part_count").total == 1234
    assert not Counter.objects.filter(equipment=machines["CNC-01"]).exists()
    temp = Signal.objects.get(link=link, name="temperature")
    assert (temp.pk, temp.scale) == (temp_pk, 0.01)
    assert not Signal.objects.filter(link=link, name="spindle_speed").exists()
    assert Endpoint.objects.get(name="line1-modbus").poll_ms == 500
    assert list(Endpoint.objects.values_list("name", flat=True)) == ["line1-modbus"]
    assert EquipmentLink.objects.get(equipment__code="CMM-01").unit == 3


def test_a_machine_moved_to_another_endpoint_keeps_its_since(machines):
    device_map_load(data=ISSUE_MAP)
    link = EquipmentLink.objects.get(equipment__code="CNC-01")
    Counter.objects.create(equipment=machines["CNC-01"], signal="part_count", total=9)
    moved = copy.deepcopy(ISSUE_MAP)
    moved["endpoints"][0]["name"] = "line1-opc-new"  # renamed: a new endpoint takes CNC-01
    summary = device_map_load(data=moved)
    assert summary.removed["endpoints"] == ["line1-opc"]
    assert summary.added["endpoints"] == ["line1-opc-new"]
    again = EquipmentLink.objects.get(equipment__code="CNC-01")
    assert (again.pk, again.since, again.endpoint.name) == (link.pk, link.since, "line1-opc-new")
    assert Counter.objects.get(equipment=machines["CNC-01"]).total == 9


def test_export_round_trips(machines):
    device_map_load(data=ISSUE_MAP)
    before, rows = snapshot(), history_rows()
    exported = device_map_export()
    assert [ep["name"] for ep in exported["endpoints"]] == ["line1-modbus", "line1-opc"]
    assert exported["endpoints"][0]["equipment"]["CNC-02"]["part_count"] == {
        "table": "holding",
        "address": 1,
        "type": "uint32",
        "word_order": "little",
    }
    assert device_map_load(data=json.loads(json.dumps(exported))).unchanged
    assert snapshot() == before and history_rows() == rows


def test_export_command_prints_the_map(machines, capsys):
    device_map_load(data=ISSUE_MAP)
    call_command("devices_load", "--export")
    assert json.loads(capsys.readouterr().out) == device_map_export()


def test_one_endpoint_saved_alone_names_paths_inside_it(machines):
    device_map_load(data=ISSUE_MAP)
    entry = copy.deepcopy(ISSUE_MAP["endpoints"][1])
    entry["name"] = "line2-modbus"
    with pytest.raises(DeviceMapError) as raised:
        endpoint_save(data=entry)
    assert raised.value.errors == [
        ("equipment.CNC-02", "CNC-02 is already served by endpoint line1-modbus")
    ]
    entry["equipment"] = {"CMM-01": {"fault": {"table": "coil", "address": "x"}}}
    with pytest.raises(DeviceMapError) as raised:
        endpoint_save(data=entry)
    assert [p for p, _m in raised.value.errors] == ["equipment.CMM-01.fault.address"]
    entry["equipment"]["CMM-01"]["fault"]["address"] = 7
    created = endpoint_save(data=entry)
    assert created.links.get().equipment.code == "CMM-01"
