from integration.engines import outbound as engine


def test_backoff_doubles_and_is_capped():
    waits = [engine.backoff_seconds(n, base=5, cap=60) for n in range(0, 7)]
    assert waits == [0, 5, 10, 20, 40, 60, 60]


def test_patterns():
    assert engine.pattern_known("order.*")
    assert engine.pattern_known("*")
    assert engine.pattern_known("progress")
    assert not engine.pattern_known("orders.*")
    assert engine.patterns_match(["exception.*"], "exception.raised")
    assert not engine.patterns_match(["exception.*"], "order.released")


def test_signature_round_trip():
    header = engine.signature_header("k" * 20, 1_700_000_000, b'{"a":1}')
    assert engine.signature_verify("k" * 20, header, b'{"a":1}', now=1_700_000_100)
    assert not engine.signature_verify("k" * 20, header, b'{"a":2}', now=1_700_000_100)
    assert not engine.signature_verify("x" * 20, header, b'{"a":1}', now=1_700_000_100)
    # Too old: a replayed capture is refused.
    assert not engine.signature_verify("k" * 20, header, b'{"a":1}', now=1_700_001_000)


def test_one_public_event_per_outbox_row_with_a_stable_id():
    events = engine.public_events(
        9,
        "execution.events.recorded",
        {"events": [{"kind": "start"}, {"kind": "report"}, {"kind": "complete"}]},
    )
    # An operation's start and completion are planning's events, not derived from progress.
    assert [(e.id, e.type) for e in events] == [("evt-9", "progress")]
    [started] = engine.public_events(10, "planning.operation.started", {"operation_id": 2})
    assert (started.id, started.type) == ("evt-10", "operation.started")
    [completed] = engine.public_events(11, "planning.operation.completed", {"operation_id": 2})
    assert (completed.id, completed.type) == ("evt-11", "operation.completed")
    [acknowledged] = engine.public_events(12, "execution.alert.acknowledged", {"alert_id": 1})
    assert acknowledged.type == "exception.acknowledged"
    assert engine.public_events(9, "execution.tasks.created", {}) == []


def test_a_burst_queues_one_send_until_it_starts(db, monkeypatch):
    from integration import tasks
    from integration.services import outbound

    queued = []
    monkeypatch.setattr(tasks.deliveries_send, "delay", lambda: queued.append(1))
    outbound.send_soon()
    outbound.send_soon()
    assert len(queued) == 1
    outbound.send_started()  # the task began: what commits next needs another
    outbound.send_soon()
    assert len(queued) == 2
