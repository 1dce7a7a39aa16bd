"""Serve the device map's endpoints: subscriptions and fast polling, store-and-forward."""

from __future__ import annotations

import asyncio
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devices.adapters.base import BackoffPolicy
from devices.gateway.runner import Gateway, poll_once
from devices.gateway.sinks import django_sink
from devices.gateway.spool import Forwarder, Spool, SpoolBusy
from devices.selectors.devicemap import device_map_from_db, endpoint_link_states

log = logging.getLogger("devices.gateway")


class Command(BaseCommand):
    help = (
        "Run the device gateway: one asyncio task per enabled endpoint of the device map, "
        "samples forwarded in batches to the ingest service, spooled to disk while the "
        "database is unreachable. Stops cleanly on SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--endpoint", nargs="+", metavar="NAME", help="Serve only these endpoints."
        )
        parser.add_argument(
            "--once", action="store_true", help="Read every endpoint once, forward, and exit."
        )
        parser.add_argument(
            "--spool",
            default="gateway",
            help="Spool name under CLOSEDLOOP_VAR_DIR/spool/ (one per gateway process).",
        )
        parser.add_argument("--flush-ms", type=int, default=settings.DEVICES_FLUSH_MS)
        parser.add_argument("--max-batch", type=int, default=settings.DEVICES_MAX_BATCH)
        parser.add_argument(
            "--backoff-max",
            type=float,
            default=settings.DEVICES_BACKOFF_MAX_SECONDS,
            help="Longest wait between reconnects (seconds).",
        )

    def handle(self, *args, endpoint=None, once=False, spool="gateway", **options):
        device_map = device_map_from_db(names=endpoint)
        names = [ep.name for ep in device_map.endpoints]
        missing = sorted(set(endpoint or ()) - set(names))
        if missing:
            raise CommandError(f"no enabled endpoint named {', '.join(missing)}")
        if not names:
            raise CommandError(
                "the device map has no enabled endpoint (load one with devices_load)"
            )
        try:
            store = Spool(settings.DEVICES_SPOOL_DIR / spool)
        except SpoolBusy as exc:
            raise CommandError(str(exc)) from None
        forwarder = Forwarder(django_sink(), store)
        try:
            if once:
                batch, outcome = poll_once(
                    device_map.endpoints,
                    forwarder=forwarder,
                    known=endpoint_link_states(names=names),
                )
                self.stdout.write(
                    f"{len(batch.samples)} samples from {len(names)} endpoints: {outcome}"
                )
                return
            backoff = BackoffPolicy(cap=options["backoff_max"])
            gateway = Gateway(
                device_map.endpoints,
                forwarder=forwarder,
                flush_ms=options["flush_ms"],
                max_batch=options["max_batch"],
                backoff=backoff,
            )
            self.stdout.write(f"device gateway: serving {', '.join(names)}")
            self.stdout.flush()
            asyncio.run(self._serve(gateway))
            self.stdout.write(
                f"device gateway stopped: {gateway.samples} samples in {gateway.batches} batches, "
                f"{store.count()} batches waiting in the spool"
            )
        finally:
            store.close()

    async def _serve(self, gateway: Gateway) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await gateway.run(stop)
