"""An in-memory stand-in for ScyllaDB, for the offline tests of the Scylla store adapters.

No ScyllaDB can be installed here, so the adapters' flows (LWTs, logged batches, counters, the
outbox, paging) run over `FakeCql`: it implements the CqlSession interface (execute, lwt, batch)
for exactly the CQL the adapters write, and checks it the way the server would where it matters:

- a read names one partition (its whole key, by equality); `IN ?` only on a clustering column and
  with at most 100 values (ScyllaDB's default max_clustering_key_restrictions_per_query); a
  multi-column slice `(c1, c2) < (?, ?)` only on clustering columns, compared by value (what
  ScyllaDB does since CASSANDRA-7281), rows coming back in clustering order; a single-column slice
  (`c > ? AND c < ?`) only on the clustering column right after the equality-restricted prefix;
- a write names the whole primary key; no LWT inside a logged batch, and no custom timestamp on one;
- counters: a counter table holds nothing but counters; they change only by `c = c + ?` (or `-`),
  never inside a logged batch, never by INSERT, LWT or custom timestamp, and only in statements
  marked not idempotent (a driver retry of an idempotent counter update could count twice);
- values of the column's type; `IF c = null` true for a missing row; an LWT returns the row as it
  was (all of it in the ScyllaDB style, only the condition's columns in the Cassandra style);
- an UNLOGGED batch holds one partition's writes only; `DELETE ... WHERE <whole partition key>` is
  a partition tombstone (rows and static cells written before it go, older writes after it are
  shadowed); a DELETE leaves its tombstone even where nothing was written yet, as on a server; table options (`WITH ... AND default_time_to_live = ...`) are kept in `Table.options`.
  TTLs are checked and recorded (`ttls`), never applied: nothing expires here;
- write timestamps: every cell keeps the time it was written at (`USING TIMESTAMP ?`, or one clock
  tick per call, shared by a batch's statements); a write older than the cell, or than a deletion
  of its row, changes nothing, so replays and late deliveries behave as they do on a server.

Every call first yields to the event loop, so concurrent callers interleave at every statement.
It proves an adapter's logic, not its compatibility with a real server: that is what the contract
suites do when CHIRP_SCYLLA_HOSTS is set.
"""

from __future__ import annotations

import asyncio
import operator
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.runtime.scylla import LwtResult, Page, Statement

MAX_CLUSTERING_IN = 100


@dataclass
class Table:
    name: str
    columns: dict[str, str]  # name -> CQL type
    partition_key: list[str]
    clustering: list[str]
    static: set[str]
    descending: set[str] = field(default_factory=set)
    options: dict[str, str] = field(default_factory=dict)  # `WITH ... AND name = value`, as written

    @property
    def counters(self) -> set[str]:
        return {c for c, kind in self.columns.items() if kind == "counter"}


_TYPES: dict[str, tuple[type, ...]] = {
    "bigint": (int,), "int": (int,), "text": (str,), "double": (float, int), "boolean": (bool,),
    "blob": (bytes,), "timeuuid": (uuid.UUID,), "counter": (int,),
}


def parse_table(cql: str) -> Table:
    head, _, order = cql.strip().partition(" WITH CLUSTERING ORDER BY ")
    order, _, options_text = order.partition(" AND ")  # table options after the clustering order
    if not order and ") WITH " in head:  # table options without a clustering order
        head, _, options_text = head.rpartition(") WITH ")
        head += ")"
    options = dict(_option(item) for item in options_text.split(" AND ") if item.strip())
    m = re.fullmatch(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)", head, re.S)
    assert m, f"not a CREATE TABLE this parser knows: {cql}"
    name, body, order = m.group(1), m.group(2), order.strip("()")
    columns: dict[str, str] = {}
    static: set[str] = set()
    pk: list[str] = []
    ck: list[str] = []
    for line in [part.strip() for part in re.split(r",\n", body.strip())]:
        key = re.fullmatch(r"PRIMARY KEY \((.*)\)", line)
        if key:
            inner = key.group(1)
            composite = re.match(r"\(([^)]*)\)\s*(?:,\s*(.*))?$", inner)
            if composite:
                pk = [c.strip() for c in composite.group(1).split(",")]
                ck = [c.strip() for c in (composite.group(2) or "").split(",") if c.strip()]
            else:
                parts = [c.strip() for c in inner.split(",")]
                pk, ck = parts[:1], parts[1:]
            continue
        words = line.split()
        assert words[1] in _TYPES, f"unknown type in {line!r}"
        columns[words[0]] = words[1]
        if "STATIC" in words[2:]:
            static.add(words[0])
        if words[2:4] == ["PRIMARY", "KEY"]:
            pk = [words[0]]
    descending = set()
    for item in (order or "").split(","):
        if item.strip().endswith("DESC"):
            descending.add(item.split()[0])
    assert pk and all(c in columns for c in pk + ck)
    table = Table(name, columns, pk, ck, static, descending, options)
    if table.counters:
        assert table.counters == set(columns) - set(pk + ck), f"{name}: a counter table holds nothing but counters"
    return table


def _option(text: str) -> tuple[str, str]:
    m = re.fullmatch(r"\s*(\w+) = (.+?)\s*", text, re.S)
    assert m, f"not a table option this parser knows: {text!r}"
    return m.group(1), m.group(2)


def _order_value(value: Any) -> Any:
    return (value.time, value.bytes) if isinstance(value, uuid.UUID) else value


_MARKER = ""  # the row marker's entry in a row's timestamps
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@dataclass
class Partition:
    static: dict[str, Any] = field(default_factory=dict)
    rows: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    stamps: dict[tuple[Any, ...], dict[str, int]] = field(default_factory=dict)  # when each cell was written
    deleted: dict[tuple[Any, ...], int] = field(default_factory=dict)  # the latest deletion of each row
    dropped: int = -1  # the latest deletion of the whole partition (`DELETE ... WHERE <partition key>`)


@dataclass
class Executed:
    kind: str  # "execute", "lwt", "batch"
    statements: list[Statement]
    logged: bool = True  # for a batch: False for an UNLOGGED one (single-partition only)


@dataclass
class Using:
    ttl: int | None = None
    timestamp: int | None = None


class FakeCql:
    """See the module docstring. `lwt_style="cassandra"` returns only the condition's columns."""

    def __init__(self, schema: Sequence[str], *, lwt_style: str = "scylla") -> None:
        self.tables = {t.name: t for t in map(parse_table, schema)}
        self.data: dict[str, dict[tuple[Any, ...], Partition]] = {name: {} for name in self.tables}
        self.log: list[Executed] = []
        self.lwt_style = lwt_style
        self.fail_batches: list[BaseException] = []  # raised (in order) instead of applying a batch
        self.ttls: list[tuple[str, int]] = []
        self._last_us = 0

    # The CqlSession interface
    async def execute(self, statement: Statement, *, paging_state: bytes | None = None,
                      page_size: int | None = None) -> Page:
        await asyncio.sleep(0)
        self.log.append(Executed("execute", [statement]))
        if statement.cql.startswith("SELECT"):
            rows = self._select(statement)
            start = int(paging_state.decode()) if paging_state else 0
            if page_size is None:
                return Page(rows[start:])
            end = start + page_size
            return Page(rows[start:end], str(end).encode() if end < len(rows) else None)
        assert not statement.is_lwt, f"an LWT must go through lwt(): {statement.cql}"
        self._write(statement, self._tick())
        return Page([])

    async def lwt(self, statement: Statement) -> LwtResult:
        await asyncio.sleep(0)
        self.log.append(Executed("lwt", [statement]))
        assert statement.is_lwt and not statement.idempotent, statement.cql
        return LwtResult.of([self._write(statement, self._tick())])

    async def batch(self, statements: Sequence[Statement], *, logged: bool = True) -> None:
        await asyncio.sleep(0)
        self.log.append(Executed("batch", list(statements), logged))
        if not logged:  # UNLOGGED: only ever one partition's writes (one mutation on its replicas)
            assert len({self._written_partition(s) for s in statements}) == 1, (
                f"an unlogged batch spans partitions: {[s.cql for s in statements]}")
        for s in statements:
            assert not s.is_lwt, f"LWTs cannot share a logged batch across partitions: {s.cql}"
            assert not self.tables[_table_name(s.cql)].counters, f"counters cannot be in a logged batch: {s.cql}"
        if self.fail_batches:
            raise self.fail_batches.pop(0)
        stamp = self._tick()  # one timestamp for the batch, as a coordinator gives it
        for s in statements:  # all or nothing: no await in between
            self._write(s, stamp)

    # Parsing and evaluation
    def _tick(self) -> int:
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return self._last_us

    def _restrict(self, table: Table, where: str, params: list[Any]) -> tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]:
        """The equality-restricted key columns of a WHERE, and a filter for its IN or slice on clustering."""
        key: dict[str, Any] = {}
        checks: list[Callable[[dict[str, Any]], bool]] = []
        sliced: set[str] = set()
        for clause in (c.strip() for c in where.split(" AND ")):
            if m := re.fullmatch(r"(\w+) = \?", clause):
                column = m.group(1)
                assert column in table.partition_key + table.clustering, f"{column} is not a key column of {table.name}"
                key[column] = self._typed(table, column, params.pop(0))
            elif m := re.fullmatch(r"(\w+) IN \?", clause):
                column, values = m.group(1), params.pop(0)
                assert column in table.clustering, f"IN on {column}: only clustering columns here"
                assert isinstance(values, (list, tuple)) and 0 < len(values) <= MAX_CLUSTERING_IN, values
                wanted = {self._typed(table, column, v) for v in values}
                checks.append(lambda row, column=column, wanted=wanted: row[column] in wanted)
            elif m := re.fullmatch(r"\(([\w, ]+)\) (<=|>=|<|>) \(([?, ]+)\)", clause):
                columns = [c.strip() for c in m.group(1).split(",")]
                assert all(c in table.clustering for c in columns), f"a slice on clustering columns only: {clause}"
                bound = tuple(_order_value(self._typed(table, c, params.pop(0))) for c in columns)
                compare = _COMPARE[m.group(2)]
                checks.append(lambda row, columns=columns, bound=bound, compare=compare: compare(
                    tuple(_order_value(row[c]) for c in columns), bound))
            elif m := re.fullmatch(r"(\w+) (<=|>=|<|>) \?", clause):
                column = m.group(1)
                assert column in table.clustering, f"a slice on clustering columns only: {clause}"
                sliced.add(column)
                bound = _order_value(self._typed(table, column, params.pop(0)))
                compare = _COMPARE[m.group(2)]
                checks.append(lambda row, column=column, bound=bound, compare=compare: compare(
                    _order_value(row[column]), bound))
            else:
                raise AssertionError(f"a restriction FakeCql does not know: {clause!r}")
        assert all(c in key for c in table.partition_key), f"a query must name its partition: {where}"
        restricted = [c for c in table.clustering if c in key]
        assert restricted == table.clustering[:len(restricted)], f"clustering equality must be a prefix: {where}"
        if sliced:  # single-column slices (`c > ?`, `c < ?`, both): on the column after the equality prefix
            following = table.clustering[len(restricted):len(restricted) + 1]
            assert sliced == set(following), f"a single-column slice must follow the clustering equalities: {where}"
        return key, lambda row: all(check(row) for check in checks)

    def _where(self, table: Table, where: str, params: list[Any]) -> dict[str, Any]:
        """A write's WHERE: equalities on key columns only."""
        assert " IN " not in where and "(" not in where, f"a write names its rows by equality: {where}"
        assert not re.search(r"[<>]", where), f"a write names its rows by equality, never a slice: {where}"
        key, _ = self._restrict(table, where, params)
        return key

    def _typed(self, table: Table, column: str, value: Any) -> Any:
        if value is not None:
            expected = _TYPES[table.columns[column]]
            assert isinstance(value, expected) and not (bool in expected) ^ isinstance(value, bool), (
                f"{table.name}.{column} is {table.columns[column]}, got {value!r}")
        return value

    def _partition(self, table: Table, key: dict[str, Any], create: bool) -> Partition | None:
        pk = tuple(key[c] for c in table.partition_key)
        partitions = self.data[table.name]
        if pk not in partitions and create:
            partitions[pk] = Partition()
        return partitions.get(pk)

    def _rows(self, table: Table, key: dict[str, Any]) -> list[dict[str, Any]]:
        partition = self._partition(table, key, create=False)
        if partition is None:
            return []
        base = {c: key[c] for c in table.partition_key}
        rows = [{**base, **dict(zip(table.clustering, ck)), **partition.static, **cells}
                for ck, cells in partition.rows.items()
                if all(key.get(c, v) == v for c, v in zip(table.clustering, ck))]
        for column in reversed(table.clustering):
            rows.sort(key=lambda r: _order_value(r[column]), reverse=column in table.descending)
        if not rows and partition.static and not any(c in key for c in table.clustering):
            rows = [{**base, **partition.static}]
        return [{c: r.get(c) for c in table.columns} for r in rows]

    def _select(self, statement: Statement) -> list[dict[str, Any]]:
        m = re.fullmatch(r"SELECT (.+?) FROM (\w+) WHERE (.+?)( LIMIT \?)?", statement.cql)
        assert m, statement.cql
        table, params = self.tables[m.group(2)], list(statement.params)
        key, keep = self._restrict(table, m.group(3), params)
        rows = [r for r in self._rows(table, key) if keep(r)]
        if m.group(4):
            limit = params.pop(0)
            assert isinstance(limit, int) and limit > 0, f"LIMIT must be positive, got {limit!r}"
            rows = rows[:limit]
        assert not params, "every marker is bound"
        columns = m.group(1)
        if columns == "COUNT(*) AS n":
            return [{"n": len(rows)}]
        names = [c.strip() for c in columns.split(",")]
        assert all(n in table.columns for n in names), columns
        return [{n: r[n] for n in names} for r in rows]

    def _conditions(self, table: Table, text: str, params: list[Any]) -> list[tuple[str, Any]]:
        conditions = []
        for clause in text.split(" AND "):
            m = re.fullmatch(r"(\w+) = (\?|null)", clause.strip())
            assert m, f"unknown condition {clause!r}"
            conditions.append((m.group(1), None if m.group(2) == "null" else self._typed(table, m.group(1), params.pop(0))))
        return conditions

    def _using(self, table: Table, text: str | None, params: list[Any]) -> Using:
        using = Using()
        for option in (text.split(" AND ") if text else []):
            if option.strip() == "TTL ?":
                using.ttl = params.pop(0)
                assert isinstance(using.ttl, int) and 0 < using.ttl <= 630_720_000, using.ttl
                self.ttls.append((table.name, using.ttl))
            elif option.strip() == "TIMESTAMP ?":
                using.timestamp = params.pop(0)
                assert isinstance(using.timestamp, int) and not isinstance(using.timestamp, bool), using.timestamp
            else:
                raise AssertionError(f"unknown USING option {option!r}")
        return using

    def _current(self, table: Table, key: dict[str, Any]) -> dict[str, Any] | None:
        partition = self._partition(table, key, create=False)
        if partition is None:
            return None
        ck = tuple(key[c] for c in table.clustering)
        if ck not in partition.rows:
            return {**{c: None for c in table.columns}, **partition.static} if partition.static else None
        return {**{c: None for c in table.columns}, **key, **partition.static, **partition.rows[ck]}

    def _lwt_row(self, table: Table, applied: bool, current: dict[str, Any] | None,
                 condition_columns: list[str] | None) -> dict[str, Any]:
        old = current or {c: None for c in table.columns}
        if self.lwt_style == "cassandra":
            if applied:
                return {"[applied]": True}
            if condition_columns is None:  # IF NOT EXISTS: the existing row
                return {"[applied]": False, **old}
            return {"[applied]": False, **{c: old.get(c) for c in condition_columns}}
        return {"[applied]": applied, **old}

    def _write(self, statement: Statement, stamp: int) -> dict[str, Any]:
        cql, params = statement.cql, list(statement.params)
        if m := re.fullmatch(r"INSERT INTO (\w+) \((.+?)\) VALUES \((.+?)\)( IF NOT EXISTS)?(?: USING (.+))?", cql):
            table = self.tables[m.group(1)]
            assert not table.counters, f"counters change by UPDATE only: {cql}"
            columns = [c.strip() for c in m.group(2).split(",")]
            values = {c: self._typed(table, c, params.pop(0)) for c in columns}
            using = self._using(table, m.group(5), params)
            assert not params
            assert not (m.group(4) and using.timestamp is not None), "an LWT takes no custom timestamp"
            key = {c: values[c] for c in table.partition_key + table.clustering}
            current = self._current(table, key)
            exists = current is not None and (not table.clustering or any(
                current.get(c) is not None for c in table.clustering))
            if m.group(4) and exists:
                return self._lwt_row(table, False, current, None)
            self._set(table, key, {c: v for c, v in values.items() if c not in key}, marker=True,
                      stamp=stamp if using.timestamp is None else using.timestamp)
            return self._lwt_row(table, True, current, None)
        if m := re.fullmatch(r"UPDATE (\w+)(?: USING (.+?))? SET (.+?) WHERE (.+?)(?: IF (.+))?", cql):
            table = self.tables[m.group(1)]
            using = self._using(table, m.group(2), params)
            assignments: dict[str, Any] = {}
            increments: dict[str, int] = {}
            for item in m.group(3).split(", "):
                if c := re.fullmatch(r"(\w+) = (\w+) ([+-]) \?", item.strip()):
                    column = c.group(1)
                    assert c.group(2) == column and column in table.counters, f"only counters add: {item!r}"
                    delta = self._typed(table, column, params.pop(0))
                    increments[column] = delta if c.group(3) == "+" else -delta
                    continue
                a = re.fullmatch(r"(\w+) = (\?|true|false)", item.strip())
                assert a, f"unknown assignment {item!r}"
                literal = {"true": True, "false": False}.get(a.group(2))
                assignments[a.group(1)] = self._typed(table, a.group(1), params.pop(0) if a.group(2) == "?" else literal)
            assert not (set(assignments) & table.counters), "a counter is set by adding to it, never assigned"
            key = self._where(table, m.group(4), params)
            if not all(c in key for c in table.clustering):
                assert set(assignments) <= table.static, "only static columns may be set by partition key alone"
            conditions = self._conditions(table, m.group(5), params) if m.group(5) else None
            assert not params
            assert not (conditions is not None and using.timestamp is not None), "an LWT takes no custom timestamp"
            if increments:
                assert not assignments and conditions is None and using == Using(), f"a counter update only: {cql}"
                assert not statement.idempotent, f"a counter update must not be retried by the driver: {cql}"
                return self._add(table, key, increments)
            current = self._current(table, key)
            if conditions is not None:
                old = current or {}
                if not all(old.get(c) == v for c, v in conditions):
                    return self._lwt_row(table, False, current, [c for c, _ in conditions])
            self._set(table, key, assignments, marker=False, stamp=stamp if using.timestamp is None else using.timestamp)
            return self._lwt_row(table, True, current, [c for c, _ in conditions or []])
        if m := re.fullmatch(r"DELETE FROM (\w+)(?: USING (.+?))? WHERE (.+?)(?: IF (.+))?", cql):
            table = self.tables[m.group(1)]
            assert not table.counters, f"counters are never deleted here: {cql}"
            using = self._using(table, m.group(2), params)
            key = self._where(table, m.group(3), params)
            if table.clustering and not any(c in key for c in table.clustering) and not m.group(4):
                # A partition delete. It leaves a tombstone even where nothing was written yet, as a
                # server's does, so that a late write older than it (a replayed batch) stays deleted.
                partition = self._partition(table, key, create=True)
                assert partition is not None
                self._drop_partition(partition, stamp if using.timestamp is None else using.timestamp)
                return self._lwt_row(table, True, None, [])
            assert all(c in key for c in table.clustering), "row deletes only"
            conditions = self._conditions(table, m.group(4), params) if m.group(4) else None
            assert not (conditions is not None and using.timestamp is not None), "an LWT takes no custom timestamp"
            current = self._current(table, key)
            if conditions is not None and not all((current or {}).get(c) == v for c, v in conditions):
                return self._lwt_row(table, False, current, [c for c, _ in conditions])
            # A row tombstone, kept even for a row (or partition) never written: see the partition delete.
            partition = self._partition(table, key, create=True)
            assert partition is not None
            self._delete_row(partition, tuple(key[c] for c in table.clustering),
                             stamp if using.timestamp is None else using.timestamp)
            return self._lwt_row(table, True, current, [c for c, _ in conditions or []])
        raise AssertionError(f"a statement FakeCql does not know: {cql}")

    def _set(self, table: Table, key: dict[str, Any], cells: dict[str, Any], *, marker: bool, stamp: int) -> None:
        partition = self._partition(table, key, create=True)
        assert partition is not None
        if stamp <= partition.dropped:
            return  # the partition was deleted at or after this write's time
        static = {c: v for c, v in cells.items() if c in table.static}
        regular = {c: v for c, v in cells.items() if c not in table.static}
        partition.static.update(static)
        if not (all(c in key for c in table.clustering) and (regular or marker or not static)):
            return
        ck = tuple(key[c] for c in table.clustering)
        if stamp <= partition.deleted.get(ck, -1):
            return  # the row was deleted at or after this write's time: the deletion wins
        stamps = partition.stamps.setdefault(ck, {})
        newer = {c: v for c, v in regular.items() if stamps.get(c, -1) <= stamp}
        row = partition.rows.setdefault(ck, {})
        row.update(newer)
        stamps.update(dict.fromkeys(newer, stamp))
        if marker:
            stamps[_MARKER] = max(stamps.get(_MARKER, -1), stamp)

    def _delete_row(self, partition: Partition, ck: tuple[Any, ...], stamp: int) -> None:
        partition.deleted[ck] = max(partition.deleted.get(ck, -1), stamp)
        row, stamps = partition.rows.get(ck), partition.stamps.get(ck, {})
        if row is None:
            return
        for column in [c for c in row if stamps.get(c, -1) <= stamp]:
            row.pop(column)
            stamps.pop(column, None)
        if stamps.get(_MARKER, -1) <= stamp:
            stamps.pop(_MARKER, None)
        if not row and _MARKER not in stamps:
            partition.rows.pop(ck)
            partition.stamps.pop(ck, None)

    def _drop_partition(self, partition: Partition, stamp: int) -> None:
        """A partition tombstone: every row written at or before `stamp` goes, and so do static cells
        (whose write times are not kept), and later writes older than it are shadowed."""
        partition.dropped = max(partition.dropped, stamp)
        partition.static.clear()
        for ck in list(partition.rows):
            self._delete_row(partition, ck, stamp)

    def _written_partition(self, statement: Statement) -> tuple[str, tuple[Any, ...]]:
        """The table and partition key a write names (its markers before WHERE are skipped)."""
        cql, params = statement.cql, list(statement.params)
        table = self.tables[_table_name(cql)]
        if m := re.match(r"INSERT INTO \w+ \((.+?)\) VALUES", cql):
            values = dict(zip((c.strip() for c in m.group(1).split(",")), params))
        else:
            head, _, where = cql.partition(" WHERE ")
            params = params[head.count("?"):]
            values = {}
            for clause in where.split(" IF ")[0].split(" AND "):
                c = re.fullmatch(r"(\w+) = \?", clause.strip())
                assert c, f"a write names its rows by equality: {cql}"
                values[c.group(1)] = params.pop(0)
        assert all(c in values for c in table.partition_key), f"a write names its partition: {cql}"
        return table.name, tuple(values[c] for c in table.partition_key)

    def _add(self, table: Table, key: dict[str, Any], increments: dict[str, int]) -> dict[str, Any]:
        partition = self._partition(table, key, create=True)
        assert partition is not None
        row = partition.rows.setdefault(tuple(key[c] for c in table.clustering), {})
        for column, delta in increments.items():
            row[column] = (row.get(column) or 0) + delta
        return {}

    # Helpers for tests
    def statements(self, kind: str | None = None) -> list[Statement]:
        return [s for e in self.log if kind in (None, e.kind) for s in e.statements]


def _table_name(cql: str) -> str:
    m = re.match(r"(?:INSERT INTO|UPDATE|DELETE FROM) (\w+)", cql)
    assert m, f"not a write: {cql}"
    return m.group(1)
