"""The device map file's parser: the issue's example loads; every bad entry is named by path."""

import copy
import json

import pytest

from devices.engines.devicemap import DeviceMapError, device_map_parse

EXAMPLE = json.loads(
    """
{"endpoints": [
  {"name": "line1-opc", "protocol": "opcua", "url": "opc.tcp://127.0.0.1:4840",
   "security": {"policy": "None", "mode": "None"}, "publishing_ms": 500,
   "equipment": {"CNC-01": {
      "state":       {"node": "ns=2;s=CNC-01.State", "map": {"0": "stopped", "1": "running", "2": "fault", "3": "maintenance"}},
      "part_count":  {"node": "ns=2;s=CNC-01.PartCount"},
      "good_count":  {"node": "ns=2;s=CNC-01.GoodCount"},
      "spindle_speed": {"node": "ns=2;s=CNC-01.SpindleSpeed"},
      "temperature": {"node": "ns=2;s=CNC-01.Temperature"},
      "fault":       {"node": "ns=2;s=CNC-01.Fault"}}}},
  {"name": "line1-modbus", "protocol": "modbus", "host": "127.0.0.1", "port": 5020, "poll_ms": 1000,
   "equipment": {"CNC-02": {"unit": 2,
      "state":       {"table": "holding", "address": 0, "type": "uint16", "map": {"0": "stopped", "1": "running", "2": "fault", "3": "maintenance"}},
      "part_count":  {"table": "holding", "address": 1, "type": "uint32", "word_order": "little"},
      "good_count":  {"table": "holding", "address": 5, "type": "uint16"},
      "spindle_speed": {"table": "holding", "address": 3, "type": "uint16"},
      "temperature": {"table": "holding", "address": 4, "type": "int16", "scale": 0.1},
      "fault":       {"table": "coil", "address": 0}}}}
]}
"""
)


def _errors(data) -> dict[str, str]:
    with pytest.raises(DeviceMapError) as caught:
        device_map_parse(data)
    return dict(caught.value.errors)


def test_the_documented_example_parses_into_endpoints_machines_and_signals():
    parsed = device_map_parse(EXAMPLE)
    opc, modbus = parsed.endpoints
    assert (opc.name, opc.protocol, opc.publishing_ms) == ("line1-opc", "opcua", 500)
    assert opc.equipment["CNC-01"].signals["state"].state_map["2"] == "fault"
    cnc2 = modbus.equipment["CNC-02"]
    assert (modbus.host, modbus.port, modbus.poll_ms, cnc2.unit) == ("127.0.0.1", 5020, 1000, 2)
    count = cnc2.signals["part_count"]
    assert (count.table, count.address, count.data_type, count.word_order) == (
        "holding",
        1,
        "uint32",
        "little",
    )
    assert count.words == 2 and count.modulus == 1 << 32
    assert cnc2.signals["temperature"].scale == pytest.approx(0.1)
    assert cnc2.signals["fault"].table == "coil" and cnc2.signals["fault"].modulus is None
    assert parsed.equipment_codes() == ["CNC-01", "CNC-02"]


def test_any_signal_may_be_left_out():
    data = copy.deepcopy(EXAMPLE)
    data["endpoints"][1]["equipment"]["CNC-02"] = {
        "unit": 2,
        "part_count": {"table": "input", "address": 7},
    }
    spec = device_map_parse(data).endpoints[1].equipment["CNC-02"]
    assert list(spec.signals) == ["part_count"] and spec.signals["part_count"].data_type == "uint16"


@pytest.mark.parametrize(
    ("where", "value", "path"),
    [
        (("part_count", "address"), "x", "endpoints[1].equipment.CNC-02.part_count.address"),
        (("part_count", "address"), -1, "endpoints[1].equipment.CNC-02.part_count.address"),
        (("part_count", "type"), "uint64", "endpoints[1].equipment.CNC-02.part_count.type"),
        (
            ("part_count", "word_order"),
            "middle",
            "endpoints[1].equipment.CNC-02.part_count.word_order",
        ),
        (("part_count", "table"), "register", "endpoints[1].equipment.CNC-02.part_count.table"),
        (("state", "map"), {"1": "spinning"}, "endpoints[1].equipment.CNC-02.state.map.1"),
        (("fault", "type"), "uint16", "endpoints[1].equipment.CNC-02.fault.type"),
        (("good_count", "address"), 2, "endpoints[1].equipment.CNC-02.good_count.address"),
        (("unit",), 300, "endpoints[1].equipment.CNC-02.unit"),
    ],
)
def test_a_bad_modbus_entry_is_named_by_its_path(where, value, path):
    data = copy.deepcopy(EXAMPLE)
    target = data["endpoints"][1]["equipment"]["CNC-02"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert path in _errors(data)


def test_bad_opcua_entries_and_endpoint_fields_are_all_named_at_once():
    data = copy.deepcopy(EXAMPLE)
    data["endpoints"][0]["url"] = "http://127.0.0.1:4840"
    data["endpoints"][0]["equipment"]["CNC-01"]["part_count"] = {"node": "CNC-01.PartCount"}
    data["endpoints"][0]["security"] = {"policy": "Basic256Sha256", "mode": "SignAndEncrypt"}
    data["endpoints"][1]["port"] = 70000
    errors = _errors(data)
    assert {
        "endpoints[0].url",
        "endpoints[0].equipment.CNC-01.part_count.node",
        "endpoints[0].security.certificate",
        "endpoints[0].security.private_key",
        "endpoints[1].port",
    } <= set(errors)


def test_a_machine_served_twice_and_a_repeated_endpoint_name_are_refused():
    data = copy.deepcopy(EXAMPLE)
    data["endpoints"].append(copy.deepcopy(data["endpoints"][1]))
    errors = _errors(data)
    assert "endpoints[2].name" in errors
    assert "endpoints[2].equipment.CNC-02" in errors


@pytest.mark.parametrize("data", [None, [], {"endpoints": {}}, {"machines": []}])
def test_a_file_without_an_endpoint_list_is_refused(data):
    assert "endpoints" in _errors(data)
