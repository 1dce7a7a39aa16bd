"""The receiver's signature check printed in docs/integration.md ("Verifying the signature"),
run as an integrator copies it: against real deliveries signed by ClosedLoop's own sending
code (a webhook on 127.0.0.1, a Redis stream), a tampered body, another secret, an old or
future timestamp and broken headers. If the sample changes, these tests run the new one."""

import re
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from core.events import emit, outbox_dispatch_pending
from integration.engines.outbound import signature_header, signature_verify
from integration.services.outbound import deliveries_send_due, subscription_create

from .conftest import SECRET

pytestmark = pytest.mark.django_db

DOC = Path(settings.BASE_DIR) / "docs" / "integration.md"
SECTION = "### Verifying the signature"
REDIS_URL = "redis://127.0.0.1:6379/7"


def python_blocks(text: str, heading: str) -> list[str]:
    """The ```python blocks of one section: from its heading to the next heading of the
    same or a higher level."""
    start = text.index(heading + "\n") + len(heading) + 1
    level = len(heading) - len(heading.lstrip("#"))
    following = re.search(rf"^#{{1,{level}}} ", text[start:], re.MULTILINE)
    section = text[start : start + following.start()] if following else text[start:]
    return re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def verify():
    """`verify` as the documentation defines it, executed from the page's own text."""
    blocks = python_blocks(DOC.read_text(encoding="utf-8"), SECTION)
    assert blocks, f"{DOC.name} has no Python block under {SECTION!r}"
    namespace: dict = {"__name__": "integration_md_sample"}
    for index, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[{SECTION} #{index}]", "exec"), namespace)  # noqa: S102
    assert callable(namespace.get("verify")), "the sample defines no verify()"
    return namespace["verify"]


def test_the_sample_is_read_from_the_page():
    blocks = python_blocks(DOC.read_text(encoding="utf-8"), SECTION)
    assert len(blocks) == 1
    assert "def verify(secret: str, headers, body: bytes, tolerance: int = 300)" in blocks[0]
    # Only that section's blocks: the page's other code is no part of the sample.
    assert "POST /api/v1/integration/subscriptions/" not in blocks[0]


def delivered(subscribe, receiver, path: str = "/erp"):
    """One real delivery: an order released, fanned out and POSTed to the local receiver
    by the project's sending code, as the beat job does."""
    subscribe("erp", path)
    emit(
        "planning.production_order.released",
        {"order_id": 42, "order": "MO-2026-00042", "from": "planned", "to": "released"},
    )
    outbox_dispatch_pending()
    assert deliveries_send_due()["sent"] == 1
    [got] = receiver.at(path)
    return got


def test_accepts_a_real_webhook_delivery(verify, subscribe, receiver):
    got = delivered(subscribe, receiver)

    assert verify(SECRET, got.headers, got.body)
    # A plain dict of the headers as they came over the wire (ClosedLoop's client sends
    # `X-closedloop-signature`): the sample ignores the letter case of the names.
    as_sent = dict(got.headers.items())
    assert "X-ClosedLoop-Signature" not in as_sent
    assert verify(SECRET, as_sent, got.body)
    assert verify(SECRET, {k.lower(): v for k, v in as_sent.items()}, got.body)


def test_rejects_a_tampered_body_or_another_secret(verify, subscribe, receiver):
    got = delivered(subscribe, receiver)
    assert b'"order_id":42' in got.body

    assert not verify(SECRET, got.headers, got.body.replace(b'"order_id":42', b'"order_id":43'))
    assert not verify(SECRET, got.headers, got.body + b"\n")
    assert not verify(SECRET, got.headers, b"")
    assert not verify("another-secret-0123456789", got.headers, got.body)
    # The signature of one delivery does not cover another's body.
    other = dict(got.headers.items())
    other_body = got.body.replace(b"order.released", b"order.cancelled")
    assert not verify(SECRET, other, other_body)


def test_rejects_the_delivery_once_it_is_old(verify, subscribe, receiver, pinned_now):
    got = delivered(subscribe, receiver)
    assert verify(SECRET, got.headers, got.body)

    pinned_now.shift(280)  # still within the five minutes
    assert verify(SECRET, got.headers, got.body)
    pinned_now.shift(30)  # a captured request replayed after 310 s
    assert not verify(SECRET, got.headers, got.body)
    # A receiver that allows longer (a queue consumer) passes its own tolerance.
    assert verify(SECRET, got.headers, got.body, tolerance=3600)


def test_a_correct_signature_with_an_old_or_future_timestamp_is_refused(verify):
    body = b'{"id":"evt-1","type":"order.released"}'
    now = int(time.time())
    for stamp, accepted in ((now, True), (now - 299, True), (now - 301, False), (now + 301, False)):
        headers = {"X-ClosedLoop-Signature": signature_header(SECRET, stamp, body)}
        assert verify(SECRET, headers, body) is accepted, stamp
        # The project's own check agrees with the page's.
        assert signature_verify(SECRET, headers["X-ClosedLoop-Signature"], body, now=now) is (
            accepted
        )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=,v1=",
        "t=abc,v1=00",
        "v1=" + "0" * 64,
        "t={now}",
        "t={now},v1=" + "0" * 64,
        "t={now},v1=héllo",
    ],
)
def test_broken_headers_are_refused_without_an_error(verify, header):
    body = b"{}"
    headers = (
        {} if header is None else {"X-ClosedLoop-Signature": header.format(now=int(time.time()))}
    )
    assert verify(SECRET, headers, body) is False


def test_accepts_a_redis_stream_entry(verify):
    """A broker subscriber checks the same signature on the entry's fields."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    stream = f"closedloop-docs-{uuid.uuid4().hex}"
    try:
        subscription_create(
            name="lake",
            kind="redis_stream",
            url=f"{REDIS_URL}?stream={stream}",
            secret=SECRET,
            topics=["order.*"],
        )
        emit("planning.production_order.released", {"order_id": 7})
        outbox_dispatch_pending()
        assert deliveries_send_due()["sent"] == 1
        [(_entry, raw)] = client.xrange(stream)
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        body = fields["body"].encode()

        assert verify(SECRET, fields, body)
        assert not verify(SECRET, fields, body.replace(b'"order_id":7', b'"order_id":8'))
    finally:
        client.delete(stream)
        client.close()
