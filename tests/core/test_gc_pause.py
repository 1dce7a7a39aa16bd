"""core.gc_pause.gc_paused: the collector off for the block, then back as it was."""

import ast
import gc
from pathlib import Path

import pytest

import core.gc_pause
from core.gc_pause import gc_paused


@pytest.fixture
def collector():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_the_collector_is_off_inside_and_back_on_after(collector):
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_comes_back_on_after_an_error(collector):
    with pytest.raises(ZeroDivisionError), gc_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_nested_blocks_leave_it_to_the_outermost(collector):
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off and leaves it off
    assert gc.isenabled()


def test_a_collector_already_off_stays_off(collector):
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_the_module_imports_no_django():
    """The pure engines import it, so it must not pull Django in."""
    tree = ast.parse(Path(core.gc_pause.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= {"gc", "collections", "contextlib"}
