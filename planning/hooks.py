"""Registries that let downstream apps act inside planning's transactions.

Planning cannot import execution or quality. Where a planning service must have downstream
work done atomically with its own change (releasing an order creates its shop-floor tasks
and material requirements in the same transaction), the downstream app registers a function
here in its AppConfig.ready(). Reactions that may happen later go through domain events.
"""

from collections import defaultdict
from collections.abc import Callable

# status → functions(order, by) run inside the transition's transaction, after the change.
_transition_hooks: dict[str, list[Callable]] = defaultdict(list)


def on_transition(status: str) -> Callable[[Callable], Callable]:
    def register(fn: Callable) -> Callable:
        if fn not in _transition_hooks[status]:
            _transition_hooks[status].append(fn)
        return fn

    return register


def transition_hooks(status: str) -> list[Callable]:
    return list(_transition_hooks.get(status, ()))
