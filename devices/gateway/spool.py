"""Store-and-forward: while the database is unreachable, batches wait in a local file.

The spool is a directory (CLOSEDLOOP_VAR_DIR/spool/<name>/) holding

- `batches.jsonl`  one batch per line (`Batch.to_line`), appended and fsync'd before
                   the batch counts as stored;
- `done`           the byte offset up to which the sink has accepted the batches
                   (written to a temporary file, fsync'd and renamed: never half written);
- `rejected.jsonl` batches the sink refused for a reason other than an unreachable database
                   (a bug, bad data): kept for an engineer, never retried in a loop;
- `lock`           held (flock) by the one process that owns the spool.

Order: while the spool is not empty every new batch goes behind it, and replay sends the
batches in file order, advancing `done` only after the sink accepted each one. A crash
between the sink's commit and the `done` write sends that batch again on the next replay;
the sink is idempotent per batch id, so that changes nothing. Nothing lost, nothing doubled.
When every batch is accepted the file is truncated.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..adapters.base import BackoffPolicy
from .batch import Batch

log = logging.getLogger("devices.gateway")

Sink = Callable[[list, list, str], object]  # (samples, changes, batch_id)


class SpoolBusy(RuntimeError):
    """Another process owns this spool (two gateways must not share one)."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "batches.jsonl"
        self.done_path = self.directory / "done"
        self.rejected_path = self.directory / "rejected.jsonl"
        self._lock = open(self.directory / "lock", "a")  # noqa: SIM115 - held for the spool's life
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SpoolBusy(f"{self.directory} is in use by another process") from None
        self.path.touch()
        self._repair()

    def close(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def _repair(self) -> None:
        """A crash in the middle of an append leaves a line without its newline: cut it."""
        size = self.path.stat().st_size
        if not size:
            return
        with open(self.path, "rb+") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) == b"\n":
                return
            fh.seek(0)
            content = fh.read()
            keep = content.rfind(b"\n") + 1
            log.error("spool %s: cutting a half-written batch (%s bytes)", self.path, size - keep)
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())

    @property
    def done(self) -> int:
        try:
            return int(self.done_path.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _done_write(self, offset: int) -> None:
        tmp = self.done_path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            fh.write(str(offset))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.done_path)
        _fsync_dir(self.directory)

    def size(self) -> int:
        return self.path.stat().st_size

    def empty(self) -> bool:
        return self.done >= self.size()

    def append(self, batch: Batch) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(batch.to_line() + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def pending(self) -> Iterator[tuple[int, Batch]]:
        """The batches not yet accepted, in order, each with the offset just past it."""
        with open(self.path, "rb") as fh:
            fh.seek(self.done if self.done <= self.size() else 0)
            while line := fh.readline():
                if not line.endswith(b"\n"):
                    return  # being written right now (cannot happen with one owner) or torn
                yield fh.tell(), Batch.from_line(line.decode("utf-8"))

    def count(self) -> int:
        return sum(1 for _ in self.pending())

    def ack(self, offset: int) -> None:
        """The sink accepted every batch up to `offset`."""
        if offset >= self.size():
            # All delivered: empty the file first, then the offset (a crash between the two
            # leaves done > size, which reads as empty).
            with open(self.path, "rb+") as fh:
                fh.truncate(0)
                os.fsync(fh.fileno())
            self._done_write(0)
        else:
            self._done_write(offset)

    def reject(self, batch: Batch, reason: str) -> None:
        with open(self.rejected_path, "a", encoding="utf-8") as fh:
            fh.write(batch.to_line() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        log.error(
            "batch %s rejected by the sink (%s); kept in %s", batch.id, reason, self.rejected_path
        )


def transient_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "the database is unreachable now": spool and retry."""
    from django.db import InterfaceError, OperationalError

    return (OperationalError, InterfaceError)


class Forwarder:
    """Send batches to the sink, or spool them; replay the spool in order with backoff.

    Synchronous and single-threaded by design: the gateway runs it in its one sink thread,
    the Celery poll calls it directly, so the spool always has exactly one writer.
    """

    def __init__(
        self,
        sink: Sink,
        spool: Spool,
        *,
        backoff: BackoffPolicy | None = None,
        transient: tuple[type[BaseException], ...] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.sink = sink
        self.spool = spool
        self.backoff = backoff or BackoffPolicy(initial=1.0, cap=60.0)
        self.transient = transient if transient is not None else transient_errors()
        self.clock = clock
        self._delays = self.backoff.delays()
        self.retry_at = 0.0
        self.sent = 0  # batches the sink accepted (directly or by replay)
        self.spooled = 0
        self.rejected = 0

    def _send(self, batch: Batch) -> None:
        try:
            self.sink(batch.samples, batch.changes, batch.id)
        except self.transient:
            raise
        except Exception as exc:  # not a reachability problem: retrying would fail for ever
            log.exception("sink refused batch %s", batch.id)
            self.spool.reject(batch, f"{type(exc).__name__}: {exc}")
            self.rejected += 1
            return
        self.sent += 1

    def _failed(self, exc: BaseException) -> None:
        delay = next(self._delays)
        self.retry_at = self.clock() + delay
        log.warning("database unreachable (%s); spooling, next try in %.1f s", exc, delay)

    def deliver(self, batch: Batch) -> str:
        """Send `batch`, or spool it behind the batches already waiting. Returns what happened."""
        if not self.spool.empty():
            self.spool.append(batch)
            self.spooled += 1
            self.replay()
            return "spooled"
        try:
            self._send(batch)
        except self.transient as exc:
            self.spool.append(batch)
            self.spooled += 1
            self._failed(exc)
            return "spooled"
        return "sent"

    def replay(self, *, force: bool = False) -> int:
        """Send the spooled batches in order until one fails; returns how many were accepted."""
        if self.spool.empty() or (not force and self.clock() < self.retry_at):
            return 0
        accepted = 0
        for offset, batch in self.spool.pending():
            try:
                self._send(batch)
            except self.transient as exc:
                self._failed(exc)
                return accepted
            self.spool.ack(offset)
            accepted += 1
        self._delays = self.backoff.delays()
        self.retry_at = 0.0
        if accepted:
            log.info("spool replayed: %s batches", accepted)
        return accepted
