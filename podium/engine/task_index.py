"""What a run state knows of its tasks besides the tasks: where each one is, which may be
active, which it may change in place, and what changed since the store last committed it.

``RunState`` inherits this. Task objects are shared between a state and its clones, sealed;
a state changes a task only through ``edit``, which gives it a copy of its own, and adds or
removes tasks only through ``add_task`` and ``remove_tasks``. So it knows what changed (the
store writes only that) and keeps its indexes (the engine looks tasks up without walking
every task on every step). The attributes are slots of this base class, not dataclass
fields: ``to_json`` (orjson reads the fields), ``to_dict`` and ``header_dict`` never see them.
"""

from __future__ import annotations

from collections.abc import Callable

from podium.engine.task_state import TaskChanges, TaskState, TaskStatus, copy_task, seal

__all__ = ["TaskIndex"]


class TaskIndex:
    __slots__ = (
        "_added",
        "_changed",
        "_committed",
        "_count",
        "_def_pos",
        "_hints",
        "_indexed",
        "_moving",
        "_open",
        "_owned",
        "_pos",
        "_ref_pos",
        "_removed",
    )
    run_id: str
    tasks: list[TaskState]
    """Both fields of the dataclass that inherits this."""

    _indexed: list[TaskState]
    """The list the indexes describe: a list replaced or grown behind their back is re-read."""
    _count: int
    _pos: _Positions
    """task id -> position in ``tasks``."""
    _ref_pos: _Positions
    """ref -> position of the latest task with that reference name."""
    _def_pos: dict[str, int]
    """definition ref -> position of the latest task in a loop with that definition ref."""
    _open: set[str]
    """Ids of every task that is open (active, or not yet ``advanced``: the decider may still
    move it) or may become so: a superset, pruned on read."""
    _moving: set[str]
    """Of ``_open``, the tasks a decision may move: every open one but those merely running
    (a SCHEDULED or IN_PROGRESS task nothing but its result moves, not a JOIN or a loop
    waiting on others). A superset too, pruned on read: a wide fork's running branches are
    not walked by every decision that one of them ends."""
    _hints: dict[str, int]
    """Where a scan that most often stops at the same place last stopped (see ``hint``)."""
    _owned: set[str]
    """Ids of the tasks only this state holds, unsealed: it may change them in place."""
    _changed: set[str]
    """Ids of tasks added or edited since the last commit; kept only once committed (before,
    the store rewrites every task anyway)."""
    _added: set[str]
    """Of ``_changed``, the ids no committed state had: removing one leaves nothing to delete."""
    _removed: set[str]
    _committed: bool

    def _start_tracking(self) -> None:
        # A state made from its fields (new, or decoded from one document) was never
        # committed: the store must write it whole. ``from_parts`` marks its states committed.
        self._committed = False
        self._changed, self._added, self._removed = set(), set(), set()
        # Indexed on first use, not here: a run decoded only to be shown (the API's reads)
        # never pays for indexes it does not use.
        self._indexed, self._count = _NOT_INDEXED, -1
        self._hints = {}

    def _share_into(self, copy: TaskIndex) -> None:
        """Make ``copy`` (a clone under way) share this state's tasks, sealed, and carry its
        indexes and changes: pointer copies, no walk over the tasks."""
        self._in_step()
        self._seal_owned()
        copy._indexed = list(self.tasks)
        copy.tasks = copy._indexed  # type: ignore[misc]  # a slot of the dataclass below
        copy._count = self._count
        copy._pos = self._pos.copy()
        copy._ref_pos = self._ref_pos.copy()
        copy._def_pos = dict(self._def_pos)
        copy._open = set(self._open)
        copy._moving = set(self._moving)
        copy._hints = self._hints  # shared on purpose: a hint is right whoever last set it
        copy._owned = set()
        # Carried by value: the changes of units not yet committed add up.
        copy._changed = set(self._changed)
        copy._added = set(self._added)
        copy._removed = set(self._removed)
        copy._committed = self._committed

    # ---- changing tasks -----------------------------------------------------------------

    def edit(self, task: TaskState) -> TaskState:
        """The task with ``task``'s id as this state may change it: its own unsealed copy,
        which takes the shared one's place. Write to a task only through what this returns."""
        self._in_step()
        task_id = task.task_id
        position = self._pos.get(task_id)
        if position is None:
            raise KeyError(f"task {task_id} is not in run {self.run_id}")
        if task_id in self._owned:
            return self.tasks[position]
        mine = copy_task(self.tasks[position])
        self.tasks[position] = mine
        self._owned.add(task_id)
        if self._committed:
            self._changed.add(task_id)
        self._open.add(task_id)
        self._moving.add(task_id)
        return mine

    def add_task(self, task: TaskState) -> None:
        """Append a new task (this state owns it) and index it."""
        self._in_step()
        position = len(self.tasks)
        self.tasks.append(task)
        self._count += 1
        task_id = task.task_id
        self._pos[task_id] = self._ref_pos[task.ref] = position
        if task.scope_iterations:
            self._def_pos[task.def_ref] = position
        self._open.add(task_id)
        self._moving.add(task_id)
        if type(task) is TaskState:
            self._owned.add(task_id)
        if not self._committed:
            return
        self._changed.add(task_id)
        if task_id in self._removed:
            self._removed.discard(task_id)  # its committed row is overwritten, not new
        else:
            self._added.add(task_id)

    def remove_tasks(self, removed: Callable[[TaskState], bool]) -> None:
        """Drop every task ``removed`` is true of. The list is replaced (code holding the
        old one can tell) and indexed again: removing is rare (a rerun, ``keepLastN``)."""
        self._in_step()
        kept: list[TaskState] = []
        for task in self.tasks:
            if not removed(task):
                kept.append(task)
                continue
            if not self._committed:
                continue
            task_id = task.task_id
            self._changed.discard(task_id)
            if task_id in self._added:
                self._added.discard(task_id)
            else:
                self._removed.add(task_id)
        self.tasks = kept  # type: ignore[misc]  # a slot of the dataclass below
        self._reindex()

    # ---- reading tasks ------------------------------------------------------------------

    def task(self, task_id: str) -> TaskState | None:
        self._in_step()
        position = self._pos.get(task_id)
        return None if position is None else self.tasks[position]

    def latest(self, ref: str) -> TaskState | None:
        """The last task with reference name ``ref``."""
        self._in_step()
        position = self._ref_pos.get(ref)
        return None if position is None else self.tasks[position]

    def latest_named(self, name: str) -> TaskState | None:
        """The task ``${name}`` reads: the last whose reference name is ``name`` or, for a
        task in a loop, whose definition reference name is."""
        self._in_step()
        position = self._ref_pos.get(name)
        looped = self._def_pos.get(name)
        if looped is not None and (position is None or looped > position):
            position = looped
        return None if position is None else self.tasks[position]

    def touched(self) -> list[TaskState]:
        """The tasks this state added or edited since it was cloned, in order (every task, for
        a state made from its fields): the only ones that may differ from its source's."""
        self._in_step()
        tasks, positions = self.tasks, self._pos
        return [tasks[p] for p in sorted(positions[task_id] for task_id in self._owned)]

    def tasks_from(self, seq: int) -> list[TaskState]:
        """The tasks numbered ``seq`` or later: those added since a state whose ``next_seq``
        it was. New tasks are appended in ``seq`` order, so this looks at them only."""
        tasks = self.tasks
        start = len(tasks)
        while start and tasks[start - 1].seq >= seq:
            start -= 1
        return tasks[start:]

    def refs(self) -> set[str]:
        """The reference name of every task (a walk: for a dynamic fork or slip naming its
        steps, never a look-up)."""
        self._in_step()
        return self._ref_pos.keys()

    def names(self) -> list[str]:
        """Every name ``latest_named`` knows, in the order of the tasks they name (a walk:
        only for reading a run's whole context, never a look-up)."""
        self._in_step()
        positions = self._ref_pos.as_dict()
        for name, position in self._def_pos.items():
            positions[name] = max(position, positions.get(name, -1))
        return sorted(positions, key=positions.__getitem__)

    def active_tasks(self) -> list[TaskState]:
        """The SCHEDULED and IN_PROGRESS tasks, in order, from the open tasks' index."""
        return [task for _, task in self._open_tasks() if task.status.is_active]

    def has_active(self) -> bool:
        """Whether any task is SCHEDULED or IN_PROGRESS: the first one found answers."""
        self._in_step()
        tasks, positions = self.tasks, self._pos
        for task_id in self._open:
            position = positions.get(task_id)
            if position is not None and tasks[position].status.is_active:
                return True
        return False

    def moving_positions(self) -> list[int]:
        """Where the tasks a decision may move are, in order (see ``_moving``)."""
        self._in_step()
        tasks, positions, owned = self.tasks, self._pos, self._owned
        candidates: set[str] = set()
        closed: list[str] = []
        found: list[int] = []
        for task_id in self._moving:
            position = positions.get(task_id)
            if position is None:
                closed.append(task_id)
                continue
            task = tasks[position]
            if _may_move(task):
                found.append(position)
                candidates.add(task_id)
            elif task_id in owned:
                candidates.add(task_id)  # this state may still change it: keep looking
            elif not task.status.is_active:
                closed.append(task_id)
        # Replaced, as ``_open`` is in ``_open_tasks``. A task closes only once edited, which
        # puts it here: pruning ``_open`` of it now keeps that set as small as the run's
        # open tasks without a walk over them.
        self._moving = candidates
        if closed:
            self._open = self._open.difference(closed)
        found.sort()
        return found

    def hint(self, key: str) -> int:
        """Where the scan named ``key`` last stopped (0 at first): a hint, never a fact. It is
        kept by neither the store nor the API, and shared with clones; a scan that starts
        from it must still look at everything it needs before it concludes anything."""
        return self._hints.get(key, 0)

    def set_hint(self, key: str, at: int) -> None:
        self._hints[key] = at

    def drop_hint(self, key: str) -> None:
        """Forget a hint no scan needs again (a JOIN that completed)."""
        self._hints.pop(key, None)

    def _open_tasks(self) -> list[tuple[int, TaskState]]:
        self._in_step()
        tasks, positions, owned = self.tasks, self._pos, self._owned
        candidates: set[str] = set()
        found: list[tuple[int, TaskState]] = []
        for task_id in self._open:
            position = positions.get(task_id)
            if position is None:
                continue
            task = tasks[position]
            if task.status.is_active or not task.advanced:
                found.append((position, task))
                candidates.add(task_id)
            elif task_id in owned:
                candidates.add(task_id)  # this state may still change it: keep looking
        # Replaced, not pruned in place: a state a cache shares may be read on other threads.
        self._open = candidates
        found.sort(key=_first)
        return found

    # ---- the store's seam ---------------------------------------------------------------

    def task_changes(self) -> TaskChanges:
        """The tasks a store must write since the run was last committed: all of them, to
        rewrite, for a state never committed."""
        self._in_step()
        if not self._committed:
            return TaskChanges(tuple(self.tasks), (), True)
        tasks, positions = self.tasks, self._pos
        changed = sorted((tasks[positions[i]] for i in self._changed), key=_seq)
        return TaskChanges(tuple(changed), tuple(sorted(self._removed)), False)

    def mark_committed(self) -> None:
        """The store committed this state: later changes are counted from it."""
        self._in_step()
        self._seal_owned()
        self._changed, self._added, self._removed = set(), set(), set()
        self._committed = True

    # ---- keeping the indexes ------------------------------------------------------------

    def _in_step(self) -> None:
        """Index again a task list replaced or grown without ``add_task``/``remove_tasks``
        (code outside the engine, tests); what changed in it is then unknown."""
        if self.tasks is not self._indexed or len(self.tasks) != self._count:
            self._reindex()
            self._committed = False

    def _reindex(self) -> None:
        tasks = self.tasks
        positions: dict[str, int] = {}
        refs: dict[str, int] = {}
        def_refs: dict[str, int] = {}
        active: set[str] = set()
        moving: set[str] = set()
        owned: set[str] = set()
        for position, task in enumerate(tasks):
            task_id = task.task_id
            positions[task_id] = refs[task.ref] = position
            if task.scope_iterations:
                def_refs[task.def_ref] = position
            if type(task) is TaskState:
                owned.add(task_id)
                active.add(task_id)
                moving.add(task_id)
            elif task.status.is_active or not task.advanced:
                active.add(task_id)
                if _may_move(task):
                    moving.add(task_id)
        self._pos, self._ref_pos = _Positions(positions), _Positions(refs)
        self._def_pos = def_refs
        self._open, self._moving, self._owned = active, moving, owned
        # Last: a cached state may be first read on two threads at once, and the other one
        # must not take the indexes for built before they all are.
        self._indexed, self._count = tasks, len(tasks)

    def _seal_owned(self) -> None:
        owned = self._owned
        if not owned:
            return
        # Replaced before sealing, never emptied in place: clones on other threads of a
        # state a cache shares may be reading the old set.
        self._owned = set()
        tasks, positions = self.tasks, self._pos
        for task_id in owned:
            seal(tasks[positions[task_id]])


CHECKED_WHILE_RUNNING: set[str] = set()
"""The task types a decision looks at while IN_PROGRESS: they wait on other tasks. Filled by
``engine/handlers/registry.py`` from each handler's ``waits_on_others`` (the engine package
imports the registry before any run is read)."""


def _may_move(task: TaskState) -> bool:
    """Whether a decision may move ``task``: finished and not yet followed, or in progress
    and waiting on others (``Decider._advance_once`` passes over any other running task)."""
    if task.status.is_active:
        return task.status == TaskStatus.IN_PROGRESS and task.type in CHECKED_WHILE_RUNNING
    return not task.advanced


def _first(item: tuple[int, TaskState]) -> int:
    return item[0]


def _seq(task: TaskState) -> int:
    return task.seq


class _Positions:
    """name -> position: a dict shared by a state and its clones, never changed once shared,
    under a small dict of the state's own changes. A clone copies only the small one, and
    folds it into a new shared one once it is larger than the square root of the shared
    one: O(sqrt n) a clone, amortised, where copying the whole index was O(n)."""

    __slots__ = ("_base", "_top")

    def __init__(self, base: dict[str, int]) -> None:
        self._base = base
        self._top: dict[str, int] = {}

    def get(self, key: str, default: int | None = None) -> int | None:
        position = self._top.get(key)
        if position is None:
            return self._base.get(key, default)
        return position

    def __getitem__(self, key: str) -> int:
        position = self._top.get(key)
        return self._base[key] if position is None else position

    def __setitem__(self, key: str, position: int) -> None:
        self._top[key] = position

    def copy(self) -> _Positions:
        copy = _Positions.__new__(_Positions)
        top, base = self._top, self._base
        if len(top) > _FOLD_AT and len(top) * len(top) > len(base):
            copy._base, copy._top = base | top, {}
        else:
            copy._base, copy._top = base, dict(top)
        return copy

    def keys(self) -> set[str]:
        return self._base.keys() | self._top.keys()

    def as_dict(self) -> dict[str, int]:
        return self._base | self._top


_NOT_INDEXED: list[TaskState] = []
"""What ``_indexed`` is until a state's first look-up: no state's task list."""

_FOLD_AT = 16
"""A state's own changes below this many are copied as they are, whatever the run's size."""
