"""OPC UA adapter (asyncua): a subscription per endpoint, polling as the fallback.

The adapter subscribes to every mapped node with the endpoint's `publishing_ms`; each data
change becomes a `Sample` stamped with the server's source timestamp (the instant the PLC
saw the value, not when it reached us). When the server refuses subscriptions (some embedded
servers have none, or have run out) or a node cannot be monitored, those nodes are read
every `poll_ms` instead; a polled value whose value and source timestamp did not change is
not a new sample.

Security (docs/devices.md, "Security and certificates"): the endpoint's `security` dict names
`policy` (None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss), `mode` (None,
Sign, SignAndEncrypt), the client's `certificate` (DER or PEM) and `private_key` (PEM) files,
optionally `private_key_password`, `server_certificate` (else taken from the server's
endpoint list) and `application_uri` (must match the URI in the client certificate).

A value that is not a number (a string, an array, a bad status, NaN) is logged and skipped.
A lost connection (asyncua's watchdog or a failed read) ends `serve()`, and the base class
reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from datetime import UTC, datetime

from asyncua import Client, ua
from asyncua.crypto import security_policies
from asyncua.ua import status_codes

from ..engines.devicemap import EndpointSpec
from ..engines.samples import Sample
from .base import Adapter, ConnectionLost, cancel_check, utcnow

POLICIES = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
MODES = {
    "Sign": ua.MessageSecurityMode.Sign,
    "SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt,
}


class MalformedValue(ValueError):
    pass


def number_of(value) -> int | float:
    """The plain number an OPC UA value stands for; MalformedValue if it is none."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MalformedValue(f"{value} is not a reading")
        return value
    raise MalformedValue(f"{type(value).__name__} {value!r:.60} is not a number")


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def security_apply(client: Client, security: dict) -> None:
    """Set the client's security policy, mode and certificates from an endpoint's dict."""
    policy = (security or {}).get("policy", "None")
    if policy == "None":
        return
    if policy not in POLICIES:
        raise ValueError(f"unknown OPC UA security policy {policy!r}")
    if security.get("application_uri"):
        client.application_uri = security["application_uri"]
    await client.set_security(
        POLICIES[policy],
        certificate=security["certificate"],
        private_key=security["private_key"],
        private_key_password=security.get("private_key_password") or None,
        server_certificate=security.get("server_certificate") or None,
        mode=MODES[security.get("mode", "SignAndEncrypt")],
    )


class _Handler:
    """asyncua's subscription callback: data changes become samples."""

    def __init__(self, adapter: OpcUaAdapter, lost: asyncio.Event):
        self.adapter = adapter
        self.lost = lost

    def datachange_notification(self, node, val, data):
        dv = data.monitored_item.Value
        self.adapter._take([(node.nodeid.to_string(), dv)])

    def status_change_notification(self, status):
        if not status.Status.is_good():
            self.lost.set()


class OpcUaAdapter(Adapter):
    protocol = "opcua"

    def __init__(
        self,
        endpoint: EndpointSpec,
        *,
        subscribe: bool = True,
        watchdog_seconds: float = 1.0,
        **kwargs,
    ):
        super().__init__(endpoint, **kwargs)
        self.subscribe = subscribe
        self.watchdog_seconds = watchdog_seconds
        # node id (as asyncua writes it) → (equipment code, signal name)
        self.nodes: dict[str, tuple[str, str]] = {}
        for code, eq in endpoint.equipment.items():
            for spec in eq.signals.values():
                try:
                    key = ua.NodeId.from_string(spec.node).to_string()
                except Exception as exc:  # a node id the map let through but asyncua cannot parse
                    self._skip("node %s of %s.%s: %s", spec.node, code, spec.name, exc)
                    continue
                self.nodes[key] = (code, spec.name)
        # Last (value, source timestamp) per node: a resent value (after a reconnect, or a poll
        # of a value that did not change) is not a new sample.
        self.last: dict[str, tuple] = {}
        self.polling: list[str] = []  # node ids read by polling (subscription refused)

    def _take(self, values: list[tuple[str, ua.DataValue]]) -> None:
        samples = []
        for key, dv in values:
            target = self.nodes.get(key)
            if target is None:
                continue
            code, signal = target
            if dv.StatusCode is not None and not dv.StatusCode.is_good():
                name = status_codes.get_name_and_doc(dv.StatusCode.value)[0]
                self._skip("%s.%s (%s): the server flags it %s", code, signal, key, name)
                continue
            try:
                raw = number_of(dv.Value.Value if dv.Value is not None else None)
            except MalformedValue as exc:
                self._skip("%s.%s (%s): %s", code, signal, key, exc)
                continue
            at = _aware(dv.SourceTimestamp) or _aware(dv.ServerTimestamp) or utcnow()
            stamp = (raw, at)
            if self.last.get(key) == stamp:
                continue
            self.last[key] = stamp
            samples.append(
                Sample(endpoint=self.endpoint.name, equipment=code, signal=signal, raw=raw, at=at)
            )
        if samples:
            self.on_samples(samples)

    async def _connect(self) -> tuple[Client, asyncio.Event]:
        timeout = self.endpoint.timeout_ms / 1000
        client = Client(
            self.endpoint.url, timeout=timeout, watchdog_intervall=self.watchdog_seconds
        )
        await security_apply(client, self.endpoint.security)
        lost = asyncio.Event()

        async def connection_lost(exc):
            lost.set()

        client.connection_lost_callback = connection_lost
        await asyncio.wait_for(client.connect(), timeout=timeout * 2)
        return client, lost

    async def _read(self, client: Client, keys: list[str]) -> list[tuple[str, ua.DataValue]]:
        try:
            dvs = await client.read_attributes([client.get_node(k) for k in keys])
        except (TimeoutError, OSError, ConnectionError) as exc:
            raise ConnectionLost(str(exc)) from exc
        return list(zip(keys, dvs, strict=True))

    async def _subscribe(self, client: Client, lost: asyncio.Event) -> list[str]:
        """Subscribe to every node; return those to poll instead."""
        keys = list(self.nodes)
        if not self.subscribe or not keys:
            return keys
        try:
            sub = await client.create_subscription(
                self.endpoint.publishing_ms, _Handler(self, lost)
            )
            results = await sub.subscribe_data_change([client.get_node(k) for k in keys])
        except (TimeoutError, ua.UaError, NotImplementedError) as exc:
            self.log.warning(
                "%s: subscription refused (%s); polling every %s ms",
                self.endpoint.name,
                exc,
                self.endpoint.poll_ms,
            )
            return keys
        poll = []
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, ua.StatusCode):
                if result.value in (
                    ua.StatusCodes.BadNodeIdUnknown,
                    ua.StatusCodes.BadNodeIdInvalid,
                ):
                    code, signal = self.nodes[key]
                    self._skip("%s.%s: node %s is unknown to the server", code, signal, key)
                else:
                    poll.append(key)
        if poll:
            self.log.warning(
                "%s: %s nodes cannot be monitored; polling them", self.endpoint.name, len(poll)
            )
        return poll

    async def serve(self, *, on_connected) -> None:
        client, lost = await self._connect()
        try:
            on_connected()
            self.polling = await self._subscribe(client, lost)
            period = self.endpoint.poll_ms / 1000
            while not lost.is_set():
                cancel_check()
                if self.polling:
                    self._take(await self._read(client, self.polling))
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=period)
            raise ConnectionLost("the server stopped answering")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), timeout=1)

    async def read_once(self) -> list[Sample]:
        client, _lost = await self._connect()
        out: list[Sample] = []
        handler = self.on_samples
        self.on_samples = out.extend
        try:
            self._take(await self._read(client, list(self.nodes)))
        finally:
            self.on_samples = handler
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), timeout=1)
        return out
