"""cymysql's API (PEP 249) over the cymysql-wasi component, for Python apps built with componentize-py.

Vendor this module into an app whose world imports ``cymysql:aio/connection@0.1.0`` and
``cymysql:aio/pool@0.1.0`` (``wit/`` here holds that world with its WASI 0.2 dependencies, so it
resolves offline), then compose the app with the driver component (``wac plug``).

Values are native Python both ways: int, float, Decimal, str, bytes, datetime.date,
datetime.datetime, datetime.timedelta (TIME), set (SET) and None. A date the server stores that
Python cannot hold (the zero date ``0000-00-00``, or a day 0) comes back as its text, as PyMySQL
gives it. Errors are the PEP 249 exception classes, named as cymysql names them, with ``args`` of
``(code, message)`` and the ``sqlstate`` and ``retryable`` attributes.
"""

import datetime
import decimal

from componentize_py_types import Err
from wit_world.imports import connection as _c
from wit_world.imports import cymysql_aio_types as _t
from wit_world.imports import pool as _p

apilevel = "2.0"
threadsafety = 1
paramstyle = "pyformat"


class Warning(Exception):  # noqa: A001 - PEP 249's name
    pass


class Error(Exception):
    """Every driver failure. ``args`` is ``(code, message)``, or ``(message,)`` without a code."""

    def __init__(self, code=None, message="", sqlstate=None, retryable=False):
        super().__init__(*((code, message) if code is not None else (message,)))
        self.code = code
        self.errno = code
        self.msg = message
        self.sqlstate = sqlstate
        self.retryable = retryable


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    pass


class NotSupportedError(DatabaseError):
    pass


_CLASSES = {
    _t.ErrorKind.INTERFACE: InterfaceError,
    _t.ErrorKind.DATABASE: DatabaseError,
    _t.ErrorKind.DATA: DataError,
    _t.ErrorKind.OPERATIONAL: OperationalError,
    _t.ErrorKind.INTEGRITY: IntegrityError,
    _t.ErrorKind.INTERNAL: InternalError,
    _t.ErrorKind.PROGRAMMING: ProgrammingError,
    _t.ErrorKind.NOT_SUPPORTED: NotSupportedError,
}


def _error(e):
    """The exception for the driver's error record."""
    return _CLASSES.get(e.kind, Error)(e.code, e.message, e.sqlstate, e.retryable)


def _call(f, *args):
    """Calls the component, raising its error record as the matching exception."""
    try:
        return f(*args)
    except Err as e:
        raise _error(e.value) from None


# Values out.

def _date(d):
    try:
        return datetime.date(d.year, d.month, d.day)
    except ValueError:
        return f"{d.year:04}-{d.month:02}-{d.day:02}"


def _datetime(d):
    try:
        return datetime.datetime(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)
    except ValueError:
        text = f"{d.year:04}-{d.month:02}-{d.day:02} {d.hour:02}:{d.minute:02}:{d.second:02}"
        return text + (f".{d.microsecond:06}" if d.microsecond else "")


def _from(v):
    if isinstance(v, _t.Value_Null):
        return None
    if isinstance(v, (_t.Value_Int, _t.Value_Uint, _t.Value_Bit, _t.Value_Year, _t.Value_Float, _t.Value_Double)):
        return v.value
    if isinstance(v, _t.Value_Decimal):
        return decimal.Decimal(v.value)
    if isinstance(v, (_t.Value_Text, _t.Value_Enum, _t.Value_Json)):
        return v.value
    if isinstance(v, (_t.Value_Bytes, _t.Value_Geometry)):
        return bytes(v.value)
    if isinstance(v, (_t.Value_Datetime, _t.Value_Timestamp)):
        return _datetime(v.value)
    if isinstance(v, _t.Value_Date):
        return _date(v.value)
    if isinstance(v, _t.Value_Time):
        t = v.value
        delta = datetime.timedelta(hours=t.hours, minutes=t.minutes, seconds=t.seconds, microseconds=t.microseconds)
        return -delta if t.negative else delta
    if isinstance(v, _t.Value_Set):
        return set(v.value)
    raise InternalError(None, f"unknown value {v!r}")


# Values in.

_INT64_MAX = 2**63 - 1


def _to(v):
    if v is None:
        return _t.Value_Null()
    if isinstance(v, bool):
        return _t.Value_Int(int(v))
    if isinstance(v, int):
        if -(2**63) <= v <= _INT64_MAX:
            return _t.Value_Int(v)
        if _INT64_MAX < v < 2**64:
            return _t.Value_Uint(v)
        raise DataError(None, f"{v} is outside BIGINT and BIGINT UNSIGNED")
    if isinstance(v, float):
        return _t.Value_Double(v)
    if isinstance(v, decimal.Decimal):
        return _t.Value_Decimal(str(v))
    if isinstance(v, str):
        return _t.Value_Text(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return _t.Value_Bytes(bytes(v))
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return _t.Value_Datetime(_t.Datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond))
    if isinstance(v, datetime.date):
        return _t.Value_Date(_t.Date(v.year, v.month, v.day))
    if isinstance(v, datetime.timedelta):
        us = abs(v) // datetime.timedelta(microseconds=1)
        seconds, micro = divmod(us, 1_000_000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return _t.Value_Time(_t.Time(v < datetime.timedelta(0), hours, minutes, seconds, micro))
    if isinstance(v, datetime.time):
        return _t.Value_Time(_t.Time(False, v.hour, v.minute, v.second, v.microsecond))
    if isinstance(v, (set, frozenset)):
        return _t.Value_Set(sorted(str(m) for m in v))
    raise ProgrammingError(None, f"a {type(v).__name__} cannot be a parameter")


def _params(args):
    """``%s`` takes a tuple or list, ``%(name)s`` a dict; a single other value is one ``%s``."""
    if args is None:
        return None
    if isinstance(args, dict):
        return _t.Params_Named([(str(k), _to(v)) for k, v in args.items()])
    if isinstance(args, (list, tuple)):
        return _t.Params_Positional([_to(v) for v in args])
    return _t.Params_Positional([_to(args)])


class Cursor:
    """A cursor with rows as tuples (cymysql's ``Cursor``; unbuffered: ``SSCursor``)."""

    def __init__(self, connection, cursor):
        self.connection = connection
        self._cursor = cursor

    def _row(self, row):
        return tuple(_from(v) for v in row)

    @property
    def description(self):
        columns = self._cursor.description()
        if columns is None:
            return None
        return [(c.name, c.type_code, None, c.length, c.length, c.decimals, c.nullable) for c in columns]

    @property
    def rowcount(self):
        return self._cursor.rowcount()

    @property
    def lastrowid(self):
        return self._cursor.lastrowid()

    @property
    def arraysize(self):
        return self._cursor.arraysize()

    @arraysize.setter
    def arraysize(self, n):
        self._cursor.set_arraysize(n)

    def execute(self, query, args=None):
        return _call(self._cursor.execute, query, _params(args))

    def executemany(self, query, seq_of_args):
        return _call(self._cursor.executemany, query, [_params(a) for a in seq_of_args])

    def mogrify(self, query, args=None):
        return _call(self._cursor.mogrify, query, _params(args))

    def callproc(self, procname, args=()):
        return tuple(_from(v) for v in _call(self._cursor.callproc, procname, [_to(a) for a in args]))

    def fetchone(self):
        row = _call(self._cursor.fetchone)
        return None if row is None else self._row(row)

    def fetchmany(self, size=None):
        return [self._row(r) for r in _call(self._cursor.fetchmany, size)]

    def fetchall(self):
        return [self._row(r) for r in _call(self._cursor.fetchall)]

    def nextset(self):
        return _call(self._cursor.nextset) or None

    def setinputsizes(self, sizes):
        pass

    def setoutputsizes(self, size, column=None):
        pass

    def close(self):
        _call(self._cursor.close)

    def __iter__(self):
        # A batch per call into the component, not a call per row: each call costs far more than
        # a row does.
        while rows := self.fetchmany(100):
            yield from rows

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DictCursor(Cursor):
    """A cursor with rows as dicts keyed by column name (cymysql's ``DictCursor``)."""

    def _row(self, row):
        return {name: _from(v) for name, v in row}


class Connection:
    """One server session (cymysql's ``Connection``). ``with conn:`` closes it at the end."""

    def __init__(self, conn):
        self._conn = conn

    def cursor(self, cursor=None, *, unbuffered=False):
        """A tuple cursor, or ``cursor(DictCursor)`` for dict rows; ``unbuffered`` streams rows."""
        if cursor is DictCursor:
            return DictCursor(self, self._conn.ss_dict_cursor() if unbuffered else self._conn.dict_cursor())
        return Cursor(self, self._conn.ss_cursor() if unbuffered else self._conn.cursor())

    def commit(self):
        _call(self._conn.commit)

    def rollback(self):
        _call(self._conn.rollback)

    def begin(self):
        _call(self._conn.begin)

    def autocommit(self, on):
        _call(self._conn.autocommit, bool(on))

    def get_autocommit(self):
        return self._conn.get_autocommit()

    def ping(self, reconnect=False):
        _call(self._conn.ping, reconnect)

    def select_db(self, db):
        _call(self._conn.select_db, db)

    def escape_string(self, s):
        return self._conn.escape_string(s)

    def get_server_info(self):
        return self._conn.get_server_info()

    def thread_id(self):
        return self._conn.thread_id()

    def insert_id(self):
        return self._conn.insert_id()

    def close(self):
        _call(self._conn.close)

    @property
    def open(self):
        return self._conn.open()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._conn.ensure_closed()


# connect()'s keyword names that differ from the WIT record's fields (PyMySQL's spellings).
_ALIASES = {"password": "passwd", "database": "db"}


def _options(url, kwargs):
    options = _call(_c.options_from_url, url) if url else _c.default_options()
    for key, value in kwargs.items():
        field = _ALIASES.get(key, key)
        if not hasattr(options, field):
            raise TypeError(f"connect() got an unexpected keyword argument {key!r}")
        setattr(options, field, value)
    return options


def connect(url=None, **kwargs):
    """Opens a session: ``connect("mysql://user:pass@host:3306/db")`` or ``connect(host=..., user=...,
    password=..., database=..., port=...)``; keywords also override what the URL says."""
    return Connection(_call(_c.Connection.connect, _options(url, kwargs)))


class Pool:
    """A pool of connections (cymysql.aio's ``create_pool``). ``with pool:`` closes it at the end."""

    def __init__(self, pool):
        self._pool = pool

    def acquire(self):
        return Connection(_call(self._pool.acquire))

    def release(self, conn):
        self._pool.release(conn._conn)

    def gather(self, tasks):
        """Runs each task (a list of ``(query, args)``) on a connection of its own, all at once.
        Returns, per task, the list of its statements' rows, or the exception that stopped it."""
        wit_tasks = [[_p.Statement(q, _params(a)) for q, a in task] for task in tasks]
        out = []
        for result in self._pool.gather(wit_tasks):
            if isinstance(result, Err):
                out.append(_error(result.value))
            else:
                out.append([[tuple(_from(v) for v in row) for row in s.rows] for s in result.value])
        return out

    @property
    def size(self):
        return self._pool.size()

    @property
    def freesize(self):
        return self._pool.freesize()

    def close(self):
        self._pool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._pool.terminate()


def create_pool(url=None, minsize=1, maxsize=10, **kwargs):
    return Pool(_call(_p.Pool.create_pool, _options(url, kwargs), minsize, maxsize, None))
