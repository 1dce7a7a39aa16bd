"""Tabu search on the critical path (N5 moves) for makespan, in the spirit of Nowicki and
Smutnicki (1996): a fast start for the large-neighbourhood search on job shops.

It applies where each free operation has one machine and no machine has a calendar (the
classic job shop, with releases, ``now``, general precedences and fixed operations allowed):
the schedule is then fully given by the order of the operations on each machine, and every
operation starts at its *head*, the longest path to it in the disjunctive graph.

One iteration: compute heads and tails, walk one critical path back from the operation that
ends last, cut it into *blocks* (consecutive operations of the path on one machine), and
consider the N5 moves: swap the first two or the last two operations of a block (not the
first two of the first block nor the last two of the last one: those cannot shorten the
path). Each move is estimated from heads and tails in constant time; the best move that is
not tabu is made (a tabu move is allowed when its estimate beats the best makespan). The
reverse swap stays tabu for a randomised tenure. Swapping two adjacent operations of a
critical path never creates a cycle, so every schedule visited is feasible. When the search
has not improved for a while it restarts from the best schedule with a random move.
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from operator import add

from .heuristic import Schedule
from .prepared import Prepared


def tabu_applies(prep: Prepared) -> bool:
    """Single-machine operations, no calendars, makespan objective: the classic job shop
    (no changeovers: the moves and their evaluation assume fixed durations)."""
    if prep.has_due_dates or prep.has_setups or any(prep.has_calendar):
        return False
    return all(op.fixed is None and len(op.modes) == 1 for op in prep.ops)


class _Graph:
    def __init__(self, prep: Prepared, sched: Schedule):
        self.prep = prep
        n = len(prep.ops)
        self.p = [sched.end[i] - sched.start[i] for i in range(n)]
        self.fixed = [op.fixed is not None for op in prep.ops]
        self.floor = [op.floor for op in prep.ops]
        self.preds = [op.preds for op in prep.ops]
        self.succs = [op.succs for op in prep.ops]
        machines = max(sched.machine, default=-1) + 1
        self.seq: list[list[int]] = [[] for _ in range(machines)]
        for i in sorted(range(n), key=lambda i: (sched.start[i], sched.end[i], i)):
            self.seq[sched.machine[i]].append(i)
        self.machine = list(sched.machine)

    def links(self) -> tuple[list[int], list[int]]:
        n = len(self.p)
        mp, ms = [-1] * n, [-1] * n
        for ops in self.seq:
            for a, b in zip(ops, ops[1:], strict=False):
                mp[b], ms[a] = a, b
        return mp, ms

    def evaluate(self) -> tuple[list[int], list[int], list[int], list[int]] | None:
        """(heads, tails, machine predecessor, machine successor), None on a cycle; computed
        from scratch, and kept (with a topological order) for `swap` to update."""
        n = len(self.p)
        mp, ms = self.links()
        preds, succs = self.preds, self.succs
        indeg = [len(preds[i]) + (mp[i] >= 0) for i in range(n)]
        order = [i for i in range(n) if indeg[i] == 0]
        head = [0] * n
        for i in order:
            for s in succs[i]:
                indeg[s] -= 1
                if indeg[s] == 0:
                    order.append(s)
            s = ms[i]
            if s >= 0:
                indeg[s] -= 1
                if indeg[s] == 0:
                    order.append(s)
        if len(order) < n:
            return None
        self.mp, self.ms = mp, ms
        for i in order:
            head[i] = self._head_of(i, head)
        tail = [0] * n
        for i in reversed(order):
            tail[i] = self._tail_of(i, tail)
        self.head, self.tail = head, tail
        self.pos = [0] * n
        for k, i in enumerate(order):
            self.pos[i] = k
        return head, tail, mp, ms

    def swap(self, u: int, v: int) -> None:
        """Swap ``u`` and the operation right after it on their machine (``v``), and update
        heads, tails and the topological order in place: only the operations after the pair
        can start at another time and only those before it can have another tail, and the
        search visits them alone (a swap on a 2,000-operation job shop touches a few dozen).
        The swap must keep the graph acyclic, as a swap on a critical path does."""
        mp, ms = self.mp, self.ms
        assert ms[u] == v
        seq = self.seq[self.machine[u]]
        k = seq.index(u)
        seq[k], seq[k + 1] = v, u
        a, b = mp[u], ms[v]
        if a >= 0:
            ms[a] = v
        mp[v], ms[v] = a, u
        mp[u], ms[u] = v, b
        if b >= 0:
            mp[b] = u
        self._reorder(v, u)
        self._heads_from((v, u))
        self._tails_from((u, v))

    def _reorder(self, x: int, y: int) -> None:
        """Keep `pos` topological after the new arc x -> y where pos[y] < pos[x] (the dynamic
        ordering of Pearce and Kelly: only the operations between the two are moved)."""
        pos = self.pos
        lower, upper = pos[y], pos[x]
        if lower > upper:
            return
        forward, stack, seen = [], [y], {y}
        while stack:
            i = stack.pop()
            forward.append(i)
            for s in (*self.succs[i], self.ms[i]):
                if s >= 0 and s not in seen and pos[s] <= upper:
                    if s == x:
                        raise ValueError("the swap would make a cycle")
                    seen.add(s)
                    stack.append(s)
        backward, stack, seen_b = [], [x], {x}
        while stack:
            i = stack.pop()
            backward.append(i)
            for q in (*self.preds[i], self.mp[i]):
                if q >= 0 and q not in seen_b and pos[q] >= lower:
                    seen_b.add(q)
                    stack.append(q)
        forward.sort(key=pos.__getitem__)
        backward.sort(key=pos.__getitem__)
        slots = sorted(pos[i] for i in (*backward, *forward))
        for slot, i in zip(slots, (*backward, *forward), strict=True):
            pos[i] = slot

    def _head_of(self, i: int, head: list[int]) -> int:
        """Earliest start of ``i``: its floor, after its predecessors in the routing and on
        its machine (a fixed operation stays at its floor)."""
        h = self.floor[i]
        if self.fixed[i]:
            return h
        p = self.p
        for q in self.preds[i]:
            if head[q] + p[q] > h:
                h = head[q] + p[q]
        q = self.mp[i]
        if q >= 0 and head[q] + p[q] > h:
            h = head[q] + p[q]
        return h

    def _tail_of(self, i: int, tail: list[int]) -> int:
        """Longest work after ``i`` through its successors in the routing and on its machine."""
        p, t = self.p, 0
        for s in self.succs[i]:
            if tail[s] + p[s] > t:
                t = tail[s] + p[s]
        s = self.ms[i]
        if s >= 0 and tail[s] + p[s] > t:
            t = tail[s] + p[s]
        return t

    def _heads_from(self, starts) -> None:
        """Heads again from ``starts`` forward, in topological order, as far as they change."""
        self._propagate(starts, self.head, self._head_of, 1, lambda i: (*self.succs[i], self.ms[i]))

    def _tails_from(self, starts) -> None:
        """Tails again from ``starts`` backward, as far as they change."""
        self._propagate(
            starts, self.tail, self._tail_of, -1, lambda i: (*self.preds[i], self.mp[i])
        )

    def _propagate(self, starts, values, value_of, direction, next_of) -> None:
        pos = self.pos
        heap = [(direction * pos[i], i) for i in starts]
        heapq.heapify(heap)
        queued = set(starts)
        while heap:
            _, i = heapq.heappop(heap)
            queued.discard(i)
            value = value_of(i, values)
            if value == values[i] and i not in starts:
                continue
            values[i] = value
            for j in next_of(i):
                if j >= 0 and j not in queued:
                    queued.add(j)
                    heapq.heappush(heap, (direction * pos[j], j))

    def schedule(self, head: list[int]) -> Schedule:
        return Schedule(
            machine=list(self.machine),
            start=list(head),
            end=[h + d for h, d in zip(head, self.p, strict=True)],
            rule="tabu",
        )


def tabu_search(
    prep: Prepared,
    start: Schedule,
    deadline: float,
    seed: int = 0,
    stop: Callable[[], bool] | None = None,
) -> tuple[Schedule, int]:
    """The best schedule found before ``deadline`` (or ``stop()``) and the number of moves."""
    rng = random.Random(seed)
    g = _Graph(prep, start)
    n = len(g.p)
    state = g.evaluate()
    if state is None or n < 2:
        return start, 0
    head, tail, mp, ms = state
    p = g.p

    def makespan_of(head: list[int]) -> int:
        return max(map(add, head, p), default=0)

    best_value = makespan_of(head)
    best = g.schedule(head)
    best_seq = [list(s) for s in g.seq]
    tabu: dict[tuple[int, int], int] = {}
    base_tenure = 8 + n // max(1, len(g.seq)) // 2
    moves = 0
    stale = 0
    while time.monotonic() < deadline:
        if stop is not None and moves % 64 == 0 and stop():
            break
        moves += 1
        current = makespan_of(head)
        # One critical path, walked back from an operation that ends last.
        ends = list(map(add, head, p))
        last = max(ends)
        i = rng.choice([k for k, e in enumerate(ends) if e == last])
        path = [i]
        while True:
            links = [q for q in g.preds[i] if head[q] + p[q] == head[i]]
            if mp[i] >= 0 and head[mp[i]] + p[mp[i]] == head[i]:
                links.append(mp[i])
            if not links:
                break
            i = rng.choice(links)
            path.append(i)
        path.reverse()
        blocks: list[list[int]] = []
        for i in path:
            if blocks and g.machine[blocks[-1][-1]] == g.machine[i] and mp[i] == blocks[-1][-1]:
                blocks[-1].append(i)
            else:
                blocks.append([i])
        candidates: list[tuple[int, int]] = []
        for b, block in enumerate(blocks):
            if len(block) < 2:
                continue
            if b > 0:
                candidates.append((block[0], block[1]))
            if b < len(blocks) - 1 and (len(block) > 2 or b == 0):
                candidates.append((block[-2], block[-1]))
        candidates = [(u, v) for u, v in candidates if not (g.fixed[u] or g.fixed[v])]
        if not candidates:
            break
        chosen = None
        chosen_value = None
        for u, v in candidates:
            # Estimate after swapping u -> v into v -> u (Taillard's formula).
            a, b = mp[u], ms[v]
            rv = g.floor[v]
            for q in g.preds[v]:
                rv = max(rv, head[q] + p[q])
            if a >= 0:
                rv = max(rv, head[a] + p[a])
            ru = g.floor[u]
            for q in g.preds[u]:
                ru = max(ru, head[q] + p[q])
            ru = max(ru, rv + p[v])
            qu = 0
            for s in g.succs[u]:
                qu = max(qu, tail[s] + p[s])
            if b >= 0:
                qu = max(qu, tail[b] + p[b])
            qv = 0
            for s in g.succs[v]:
                qv = max(qv, tail[s] + p[s])
            qv = max(qv, qu + p[u])
            value = max(rv + p[v] + qv, ru + p[u] + qu)
            is_tabu = tabu.get((u, v), -1) >= moves
            if is_tabu and value >= best_value:
                continue
            if (
                chosen_value is None
                or value < chosen_value
                or (value == chosen_value and rng.random() < 0.5)
            ):
                chosen, chosen_value = (u, v), value
        if chosen is None:
            chosen = rng.choice(candidates)
        u, v = chosen
        g.swap(u, v)  # heads, tails, mp and ms (the lists bound above) updated in place
        tabu[(v, u)] = moves + base_tenure + rng.randrange(base_tenure // 2 + 1)
        value = makespan_of(head)
        if value < best_value:
            best_value, best = value, g.schedule(head)
            best_seq = [list(s) for s in g.seq]
            stale = 0
        else:
            stale += 1
        if stale > 200 + 2 * n and value >= current:
            # Back to the best schedule, with a fresh tabu list.
            g.seq = [list(s) for s in best_seq]
            state = g.evaluate()
            assert state is not None
            head, tail, mp, ms = state
            tabu.clear()
            stale = 0
    return best, moves
