"""A WASI 0.3 wasi:cli command in Python (componentize-py's async support), composed with the
driver-async component. Every driver call is awaited, rows come through the `stream<row>` of
``query``, and two pooled connections work at once under asyncio:

    DATABASE_URL=mysql://user:password@127.0.0.1:3306/shop  ->  three orders written in a
    transaction, streamed back, and a lock handed from one connection to the other.

A driver error ends it with status 1 and ``ClassName: (code, 'sqlstate') message`` on stderr.
"""

import asyncio
import datetime
import decimal
import os
import sys

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import connection_async as c
from wit_world.imports import cymysql_aio_types as t
from wit_world.imports import pool_async as p

_CLASSES = {
    t.ErrorKind.INTERFACE: "InterfaceError",
    t.ErrorKind.DATABASE: "DatabaseError",
    t.ErrorKind.DATA: "DataError",
    t.ErrorKind.OPERATIONAL: "OperationalError",
    t.ErrorKind.INTEGRITY: "IntegrityError",
    t.ErrorKind.INTERNAL: "InternalError",
    t.ErrorKind.PROGRAMMING: "ProgrammingError",
    t.ErrorKind.NOT_SUPPORTED: "NotSupportedError",
}


def native(v):
    """A row value as Python's own (the subset this app reads)."""
    if isinstance(v, t.Value_Null):
        return None
    if isinstance(v, t.Value_Decimal):
        return decimal.Decimal(v.value)
    if isinstance(v, (t.Value_Datetime, t.Value_Timestamp)):
        d = v.value
        return datetime.datetime(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)
    return v.value


def params(*values):
    """Positional parameters (``%s``) from str, Decimal and datetime values."""
    out = []
    for v in values:
        if isinstance(v, decimal.Decimal):
            out.append(t.Value_Decimal(str(v)))
        elif isinstance(v, datetime.datetime):
            out.append(t.Value_Datetime(t.Datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)))
        else:
            out.append(t.Value_Text(v))
    return t.Params_Positional(out)


async def rows_of(conn, sql, args=None):
    """Runs `sql` through ``query`` and yields its rows as they come through the stream."""
    columns, rows, end = await conn.query(sql, args)
    with rows:
        while batch := await rows.read(64):
            for row in batch:
                yield tuple(native(v) for v in row)
    result = await end.read()
    if isinstance(result, Err):
        raise result


async def scalar(conn, sql):
    async for row in rows_of(conn, sql):
        return row[0]


async def main():
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise Err(t.Error(t.ErrorKind.PROGRAMMING, None, None, "set DATABASE_URL", False))
    conn = await c.Connection.connect(c.options_from_url(url))
    cur = conn.cursor()
    await cur.execute(
        "CREATE TABLE IF NOT EXISTS python_async_orders (id INT AUTO_INCREMENT PRIMARY KEY, "
        "customer VARCHAR(40), total DECIMAL(10,2), placed DATETIME(6))",
        None,
    )
    await cur.execute("DELETE FROM python_async_orders", None)
    placed = datetime.datetime(2024, 2, 29, 23, 59, 59, 123456)
    orders = [("Zoë", decimal.Decimal("12.50")), ("O'Brien", decimal.Decimal("7.25")), ("Zoë", decimal.Decimal("30.00"))]
    await cur.executemany(
        "INSERT INTO python_async_orders (customer, total, placed) VALUES (%s, %s, %s)",
        [params(who, total, placed) for who, total in orders],
    )
    await conn.commit()

    # The rows come through the stream as the server sends them.
    streamed = 0
    async for customer, total, when in rows_of(conn, "SELECT customer, total, placed FROM python_async_orders ORDER BY id"):
        assert isinstance(total, decimal.Decimal) and when == placed, (total, when)
        print(f"customer={customer} total={total}")
        streamed += 1
    print(f"{streamed} rows streamed")

    # A statement the server rejects fails the query call itself, with the typed error.
    try:
        await conn.query("SELEC 1", None)
    except Err as e:
        print(f"{_CLASSES[e.value.kind]} {e.value.code} {e.value.sqlstate}")
    await conn.close()

    # Two pooled connections at once: b waits on the server for a lock that a releases while b's
    # call is in flight. Were the calls run one after the other, b would time out and get 0.
    pool = await p.Pool.create_pool(c.options_from_url(url), 2, 2, None)
    a, b = await pool.acquire(), await pool.acquire()
    await scalar(a, "SELECT GET_LOCK('python_app_async', 10)")
    got, _ = await asyncio.gather(
        scalar(b, "SELECT GET_LOCK('python_app_async', 10)"),
        scalar(a, "SELECT SLEEP(0.2) + RELEASE_LOCK('python_app_async')"),
    )
    print(f"b got the lock a released: {got}")
    pool.release(a)
    pool.release(b)
    await pool.close()


class Run(exports.Run):
    async def run(self) -> None:
        try:
            await main()
        except Err as e:
            err = e.value
            code = f"({err.code}, '{err.sqlstate or 'HY000'}') " if err.code is not None else ""
            print(f"{_CLASSES.get(err.kind, 'Error')}: {code}{err.message}", file=sys.stderr)
            sys.stderr.flush()
            raise Err(None)
