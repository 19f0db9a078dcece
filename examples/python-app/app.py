"""A wasi:cli command in Python that uses the driver through cymysql_wasi (PEP 249), composed with
the driver component. It does what examples/rust-app does, with native Python values:

    DATABASE_URL=mysql://user:password@127.0.0.1:3306/shop  ->  three orders written in a
    transaction, read back through a dict cursor, and summed through a pool.

A driver error ends it with status 1 and ``ClassName: (code, 'sqlstate') message`` on stderr.
"""

import datetime
import decimal
import os
import sys

import cymysql_wasi as db
from wit_world import exports
from componentize_py_types import Err


def main():
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise db.ProgrammingError(None, "set DATABASE_URL, e.g. mysql://user:password@127.0.0.1:3306/shop")
    with db.connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS python_app_orders (id INT AUTO_INCREMENT PRIMARY KEY, "
                "customer VARCHAR(40), total DECIMAL(10,2), placed DATETIME(6))"
            )
            cur.execute("DELETE FROM python_app_orders")
            placed = datetime.datetime(2024, 2, 29, 23, 59, 59, 123456)
            orders = [("Zoë", decimal.Decimal("12.50")), ("O'Brien", decimal.Decimal("7.25")), ("Zoë", decimal.Decimal("30.00"))]
            cur.executemany(
                "INSERT INTO python_app_orders (customer, total, placed) VALUES (%s, %s, %s)",
                [(who, total, placed) for who, total in orders],
            )
        conn.commit()
        with conn.cursor(db.DictCursor, unbuffered=True) as cur:
            cur.execute("SELECT customer, total, placed FROM python_app_orders ORDER BY id")
            for row in cur:
                assert isinstance(row["total"], decimal.Decimal) and row["placed"] == placed, row
                print(f"customer={row['customer']} total={row['total']}")
        # A syntax error is a ProgrammingError carrying the server's code and SQLSTATE.
        try:
            conn.cursor().execute("SELEC 1")
        except db.ProgrammingError as e:
            print(f"ProgrammingError {e.args[0]} {e.sqlstate}")

    with db.create_pool(url, minsize=1, maxsize=2) as pool:
        conn = pool.acquire()
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*), SUM(total) FROM python_app_orders WHERE customer = %(who)s", {"who": "Zoë"})
            count, total = cur.fetchone()
            print(f"Zoë: {count} orders, {total} in all")
        pool.release(conn)
        # gather runs each task on a connection of its own.
        results = pool.gather([[("SELECT %s + 1", (41,))], [("SELECT customer FROM python_app_orders WHERE id = %s", (-1,))]])
        print(f"gather: {results[0][0]} {results[1][0]}")


class Run(exports.Run):
    def run(self) -> None:
        try:
            main()
        except db.Error as e:
            code = f"({e.code}, '{e.sqlstate or 'HY000'}') " if e.code is not None else ""
            print(f"{type(e).__name__}: {code}{e.msg}", file=sys.stderr)
            sys.stderr.flush()
            raise Err(None)
