"""A batch of samples and link changes with a stable id, and its one-line JSON form."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from ..engines.samples import LinkChange, Sample


def batch_id_new() -> str:
    return uuid.uuid4().hex


@dataclass
class Batch:
    """What the gateway hands the sink in one call; `id` makes a replay change nothing."""

    samples: list[Sample] = field(default_factory=list)
    changes: list[LinkChange] = field(default_factory=list)
    id: str = field(default_factory=batch_id_new)

    def __len__(self) -> int:
        return len(self.samples) + len(self.changes)

    def to_line(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "samples": [
                    [s.endpoint, s.equipment, s.signal, s.raw, s.at.isoformat()]
                    for s in self.samples
                ],
                "changes": [
                    [c.endpoint, list(c.equipment), c.connected, c.at.isoformat(), c.reason]
                    for c in self.changes
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_line(cls, line: str) -> Batch:
        data = json.loads(line)
        return cls(
            id=data["id"],
            samples=[
                Sample(endpoint=e, equipment=q, signal=s, raw=r, at=datetime.fromisoformat(a))
                for e, q, s, r, a in data["samples"]
            ],
            changes=[
                LinkChange(
                    endpoint=e,
                    equipment=tuple(q),
                    connected=c,
                    at=datetime.fromisoformat(a),
                    reason=r,
                )
                for e, q, c, a, r in data["changes"]
            ],
        )
