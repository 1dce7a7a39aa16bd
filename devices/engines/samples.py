"""What an adapter hands the gateway: samples read from machines and changes of connection.

Adapters (OPC UA, Modbus) decode the protocol's types into a plain number and stop there;
the ingest service applies the device map's meaning (scale, state map, counters). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Sample:
    """One value of one signal at one instant, as read (a raw number; bits as 1/0).

    `at` is timezone-aware: the server's source timestamp where the protocol gives one
    (OPC UA), else the gateway's clock when the read answered (Modbus).
    """

    endpoint: str
    equipment: str
    signal: str
    raw: float | int
    at: datetime


@dataclass(frozen=True)
class LinkChange:
    """An endpoint's connection went down or came back, for the machines it serves."""

    endpoint: str
    equipment: tuple[str, ...]
    connected: bool
    at: datetime
    reason: str = ""
