"""The OData subset the Perfect Gym sandbox answers: $filter (eq ne gt ge lt le, and, or,
not, parentheses; numbers, 'strings', true/false/null, ISO dates), $orderby, $top, $skip,
$count, $select, and server paging with an absolute @odata.nextLink.

Rows of an entity set are kept in a log sorted by `version` (one global counter), so
`version gt X` starts with a bisect instead of a scan; a changed row is appended again
and its older log entry is skipped as stale. Seeded rows are built when read (Rows).
"""

import bisect
import functools
import operator
import re
from array import array
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

PAGE_SIZE = 500
OPS = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge,
       "lt": operator.lt, "le": operator.le}
TOKEN = re.compile(r"""\s*(?:(?P<open>\()|(?P<close>\))|(?P<string>'(?:[^']|'')*')
    |(?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
    |(?P<number>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))""", re.VERBOSE)


class QueryError(ValueError):
    """The query options cannot be understood (the server answers 400)."""


class Rows(Mapping):
    """The rows of an entity set by id: the rows stored since seeding over the seeded ones.

    Seeded rows (ids 1..`seeded`) are built on demand by `build(id)` from a few numbers
    per row, so a sandbox of a million members is small and quick to start; reading one
    gives an equal new dict each time, and a change is stored as a new row (`store`)."""

    def __init__(self):
        self.stored: dict[int, dict] = {}
        self.seeded = 0
        self.build: Callable[[int], dict] | None = None

    def _is_seeded(self, row_id) -> bool:
        return type(row_id) is int and 0 < row_id <= self.seeded

    def __getitem__(self, row_id) -> dict:
        row = self.stored.get(row_id)
        if row is not None:
            return row
        if self._is_seeded(row_id):
            return self.build(row_id)
        raise KeyError(row_id)

    def __contains__(self, row_id) -> bool:
        return row_id in self.stored or self._is_seeded(row_id)

    def __iter__(self) -> Iterator[int]:
        yield from range(1, self.seeded + 1)
        yield from (row_id for row_id in self.stored if not self._is_seeded(row_id))

    def __len__(self) -> int:
        return self.seeded + sum(1 for row_id in self.stored if not self._is_seeded(row_id))

    def last_id(self) -> int:
        """The highest id (0 when there is none)."""
        return max((row_id for row_id in self.stored if not self._is_seeded(row_id)), default=self.seeded)


class EntitySet:
    """The rows of one entity set, by id and in version order."""

    def __init__(self, name: str):
        self.name = name
        self.rows = Rows()
        self.log_versions = array("q")
        self.log_ids = array("q")
        self.seeded_versions = array("q")  # the version of seeded row id n at n - 1

    def store(self, row: dict) -> None:
        """Keep `row` (its version must be the highest so far)."""
        self.rows.stored[row["id"]] = row
        self.log_versions.append(row["version"])
        self.log_ids.append(row["id"])

    def seed(self, version: int) -> int:
        """Log the next seeded row (built by rows.build) at `version`; returns its id."""
        self.rows.seeded += 1
        self.seeded_versions.append(version)
        self.log_versions.append(version)
        self.log_ids.append(self.rows.seeded)
        return self.rows.seeded

    def _current(self, i: int) -> dict | None:
        """The row of log entry `i` when that entry is its latest change."""
        row_id, version = self.log_ids[i], self.log_versions[i]
        row = self.rows.stored.get(row_id)
        if row is None:
            return self.rows.build(row_id) if self.rows._is_seeded(row_id) else None
        return row if row["version"] == version else None

    def after(self, version: int | None) -> Iterator[dict]:
        """Current rows with a version above `version`, oldest change first."""
        start = 0 if version is None else bisect.bisect_right(self.log_versions, version)
        for i in range(start, len(self.log_versions)):
            if (row := self._current(i)) is not None:
                yield row

    def newest_first(self) -> Iterator[dict]:
        for i in range(len(self.log_versions) - 1, -1, -1):
            if (row := self._current(i)) is not None:
                yield row


# $filter ---------------------------------------------------------------------------
def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"Cannot read $filter at {text[pos:pos + 20]!r}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return tokens


def as_datetime(value) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _Parser:
    def __init__(self, text: str):
        self.tokens, self.at = _tokens(text), 0

    def peek(self, word: str = "") -> bool:
        if self.at >= len(self.tokens):
            return False
        kind, value = self.tokens[self.at]
        return (kind == "word" and value.lower() == word) if word else True

    def take(self) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise QueryError("The $filter ends too early")
        self.at += 1
        return self.tokens[self.at - 1]

    def either(self, word: str, inner: Callable) -> tuple:
        parts = [inner()]
        while self.peek(word):
            self.take()
            parts.append(inner())
        return parts[0] if len(parts) == 1 else (word, parts)

    def expression(self) -> tuple:
        return self.either("or", lambda: self.either("and", self.primary))

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind == "open":
            inner = self.expression()
            if self.take()[0] != "close":
                raise QueryError("Unbalanced parentheses in $filter")
            return inner
        if kind == "word" and value.lower() == "not":
            return ("not", self.primary())
        if kind != "word":
            raise QueryError(f"Expected a field name, found {value!r}")
        op = self.take()[1].lower()
        if op not in OPS:
            raise QueryError(f"Unknown operator {op!r}")
        return ("cmp", value, op, self.literal())

    def literal(self):
        kind, value = self.take()
        if kind == "string":
            return value[1:-1].replace("''", "'")
        if kind == "date":
            return as_datetime(value)
        if kind == "number":
            return float(value) if "." in value else int(value)
        words = {"true": True, "false": False, "null": None}
        if kind == "word" and value.lower() in words:
            return words[value.lower()]
        raise QueryError(f"Cannot read the value {value!r}")


def parse_filter(text: str) -> tuple | None:
    """The $filter as a tree: ("cmp", field, op, value), ("and"|"or", [...]), ("not", x)."""
    if not text.strip():
        return None
    parser = _Parser(text)
    tree = parser.expression()
    if parser.peek():
        raise QueryError(f"Unexpected {parser.tokens[parser.at][1]!r} in $filter")
    return tree


def _compare(field: str, op: str, value) -> Callable[[dict], bool]:
    test = OPS[op]
    if isinstance(value, datetime):
        def check(row):
            found = as_datetime(row.get(field)) if row.get(field) is not None else None
            return test(found, value) if found is not None else op == "ne"
        return check
    if op == "eq":
        return lambda row: row.get(field) == value
    if op == "ne" or value is None:
        return lambda row: test(row.get(field), value)

    def ordered(row):
        found = row.get(field)
        try:
            return found is not None and test(found, value)
        except TypeError:
            return False
    return ordered


def _flat(kind: str, parts: list) -> list:
    """`a and (b and c)` -> [a, b, c]."""
    return [leaf for part in parts for leaf in (_flat(kind, part[1]) if part[0] == kind else [part])]


def _one_of(parts: list) -> tuple[str, set] | None:
    """`f eq 1 or f eq 2` -> ("f", {1, 2}), the common shape of a club filter."""
    fields = {p[1] for p in parts if p[0] == "cmp" and p[2] == "eq"}
    if len(fields) != 1 or len(parts) < 2 or any(
        p[0] != "cmp" or p[2] != "eq" or p[3] is None or isinstance(p[3], (bool, datetime)) for p in parts
    ):
        return None
    return fields.pop(), {p[3] for p in parts}


def predicate(tree: tuple | None) -> Callable[[dict], bool]:
    """A function row -> bool for a parsed $filter (built once per query: it runs per row)."""
    if tree is None:
        return lambda row: True
    if tree[0] == "cmp":
        return _compare(*tree[1:])
    if tree[0] == "not":
        inner = predicate(tree[1])
        return lambda row: not inner(row)
    kind, children = tree[0], _flat(tree[0], tree[1])
    if kind == "or" and (one_of := _one_of(children)):
        field, values = one_of
        return lambda row: row.get(field) in values
    return functools.reduce(_and if kind == "and" else _or, [predicate(p) for p in children])


def _and(first, second):
    return lambda row: first(row) and second(row)


def _or(first, second):
    return lambda row: first(row) or second(row)


def _without_floor(tree: tuple | None) -> tuple | None:
    """The filter less its top-level `version gt/ge N` (the version log's bisect does that)."""
    def is_floor(part):
        return part[0] == "cmp" and part[1] == "version" and part[2] in ("gt", "ge") and isinstance(part[3], int)
    if tree is None or is_floor(tree):
        return None
    if tree[0] != "and":
        return tree
    rest = [p for p in _flat("and", tree[1]) if not is_floor(p)]
    return None if not rest else rest[0] if len(rest) == 1 else ("and", rest)


def version_floor(tree: tuple | None) -> int | None:
    """The version every match lies above, when the filter says so (`version gt N` and ...)."""
    if tree is None:
        return None
    if tree[0] == "cmp" and tree[1] == "version" and isinstance(tree[3], int):
        return {"gt": tree[3], "ge": tree[3] - 1}.get(tree[2])
    if tree[0] == "and":
        floors = [f for f in (version_floor(p) for p in tree[1]) if f is not None]
        return max(floors) if floors else None
    return None


# the query --------------------------------------------------------------------------
def _source(entity_set: EntitySet, order: str, floor: int | None) -> Iterator[dict]:
    field, _, direction = order.partition(" ")
    descending = direction.strip().lower() == "desc"
    if field == "version":
        return entity_set.newest_first() if descending else entity_set.after(floor)
    rows = entity_set.rows.values()
    if not field or (field == "id" and not descending):
        return iter(rows)
    return iter(sorted(rows, key=lambda r: (r.get(field) is None, r.get(field)), reverse=descending))


def run_query(entity_set: EntitySet, params: dict[str, str], *, base: str) -> dict:
    """Answer `GET odata/<Set>?params` with the OData envelope, paging at PAGE_SIZE."""
    tree = parse_filter(params.get("$filter", ""))
    order = " ".join(params.get("$orderby", "").split())
    keyset = order in ("version", "version asc")
    test = predicate(_without_floor(tree) if keyset else tree)
    try:
        skip = int(params.get("$skip", 0))
        top = int(params["$top"]) if params.get("$top") else None
        token = int(params["$skiptoken"]) if params.get("$skiptoken") and keyset else None
    except ValueError:
        raise QueryError("$skip, $top and $skiptoken take numbers") from None
    floors = [f for f in (version_floor(tree), token) if f is not None]
    floor = max(floors) if floors else None
    limit = PAGE_SIZE if top is None else min(top, PAGE_SIZE)
    matches = (row for row in _source(entity_set, order, floor) if test(row))
    rows, more = [], False
    for row in matches:
        if skip:
            skip -= 1
            continue
        if len(rows) == limit:
            more = top is None or top > limit
            break
        rows.append(row)
    body = {"@odata.context": f"{base}odata/$metadata#{entity_set.name}"}
    if params.get("$count", "").lower() == "true":
        body["@odata.count"] = sum(1 for row in _source(entity_set, order, version_floor(tree)) if test(row))
    last_version = rows[-1]["version"] if rows else None
    if select := [f.strip() for f in params.get("$select", "").split(",") if f.strip()]:
        rows = [{k: row.get(k) for k in select} for row in rows]
    body["value"] = rows
    if more:
        following = {k: v for k, v in params.items() if k != "$count"}
        if keyset:
            following.pop("$skip", None)
            following["$skiptoken"] = str(last_version)
        else:
            following["$skip"] = str(int(params.get("$skip", 0)) + len(rows))
        if top is not None:
            following["$top"] = str(top - len(rows))
        body["@odata.nextLink"] = f"{base}odata/{entity_set.name}?{urlencode(following)}"
    return body
