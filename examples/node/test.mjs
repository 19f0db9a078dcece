// The package against a real server: `DATABASE_URL=mysql://... node test.mjs`. Prints `ok - ...`
// per check and exits 1 at the first failure. tests/node_package.rs runs it against the test
// suite's throwaway MariaDB.

import assert from 'node:assert/strict';
import { connect, createPool, MySQLError } from './index.js';

const url = process.env.DATABASE_URL;
assert.ok(url, 'DATABASE_URL is not set');

async function check(name, body) {
  try {
    await body();
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`not ok - ${name}`);
    console.error(e);
    process.exit(1);
  }
}

const conn = await connect(url);

await check('values come out as plain JavaScript values', async () => {
  await conn.query('DROP TABLE IF EXISTS node_values');
  await conn.query(
    `CREATE TABLE node_values (id INT PRIMARY KEY, big BIGINT UNSIGNED, price DECIMAL(10,2), at DATETIME(6),
       d DATE, t TIME(6), name VARCHAR(20), raw VARBINARY(8), tags SET('a','b','c'), ratio DOUBLE, empty INT)`,
  );
  const cur = await conn.cursor();
  const at = new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 123));
  const affected = await cur.execute('INSERT INTO node_values VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)', [
    1, 18446744073709551615n, '12.50', at, '2024-02-29', '-838:59:59', 'Zoë', new Uint8Array([0, 255, 39]), 'a,c', 0.25, null,
  ]);
  assert.equal(affected, 1);
  await conn.commit();
  await cur.execute('SELECT * FROM node_values WHERE id = %(id)s', { id: 1 });
  const row = await cur.fetchone();
  assert.deepEqual(row, [
    1,
    18446744073709551615n,
    '12.50',
    '2024-02-29 23:59:59.123000',
    '2024-02-29',
    '-838:59:59',
    'Zoë',
    new Uint8Array([0, 255, 39]),
    ['a', 'c'],
    0.25,
    null,
  ]);
  assert.equal(await cur.fetchone(), null);
  const [column] = await cur.description();
  assert.equal(column.name, 'id');
  assert.equal(typeof column.typeCode, 'number');
  await cur.close();
});

await check('dict rows, async iteration, and JSON of safe values', async () => {
  const rows = await conn.query('SELECT id, name, price FROM node_values', null, { dict: true });
  assert.deepEqual(rows, [{ id: 1, name: 'Zoë', price: '12.50' }]);
  assert.equal(JSON.stringify(rows), '[{"id":1,"name":"Zoë","price":"12.50"}]');
  const cur = await conn.cursor({ unbuffered: true });
  await cur.execute('SELECT seq FROM seq_1_to_250');
  let n = 0;
  for await (const [seq] of cur) n += seq;
  assert.equal(n, (250 * 251) / 2);
  await cur.close();
});

await check('the event loop keeps running while a query runs', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  const started = Date.now();
  const rows = await conn.query('SELECT SLEEP(1)');
  clearInterval(timer);
  assert.deepEqual(rows, [[0]]);
  assert.ok(Date.now() - started >= 1000);
  // Blocked, the loop would not tick at all during the second.
  assert.ok(ticks >= 25, `only ${ticks} timer ticks during SELECT SLEEP(1)`);
});

await check('errors are MySQLError with kind, code and sqlstate', async () => {
  const e = await conn.query('SELEC 1').catch((e) => e);
  assert.ok(e instanceof MySQLError && e instanceof Error);
  assert.equal(e.kind, 'programming');
  assert.equal(e.code, 1064);
  assert.equal(e.sqlstate, '42000');
  assert.equal(e.retryable, false);
  assert.match(e.message, /You have an error in your SQL syntax/);
  assert.doesNotMatch(String(e), /\[object Object\]/);
  const dup = await conn.query('INSERT INTO node_values (id) VALUES (1)').catch((e) => e);
  assert.equal(dup.kind, 'integrity');
  assert.equal(dup.code, 1062);
  // The connection goes on.
  assert.deepEqual(await conn.query('SELECT %s + 1', [41]), [[42]]);
  const bad = await conn.query('SELECT %s', [Symbol('x')]).catch((e) => e);
  assert.ok(bad instanceof MySQLError && bad.kind === 'programming', String(bad));
});

await check('a transaction rolled back leaves nothing', async () => {
  await conn.begin();
  await conn.query('INSERT INTO node_values (id) VALUES (2)');
  assert.equal(await conn.inTransaction(), true);
  await conn.rollback();
  assert.deepEqual(await conn.query('SELECT COUNT(*) FROM node_values'), [[1]]);
});

await check('a wrong password is an operational 1045 that does not show the password', async () => {
  const wrong = url.replace(/:[^:@/]*@/, ':Wr0ngPassw0rd@');
  const e = await connect(wrong).catch((e) => e);
  assert.ok(e instanceof MySQLError);
  assert.equal(e.kind, 'operational');
  assert.equal(e.code, 1045);
  assert.equal(e.sqlstate, '28000');
  assert.ok(!e.message.includes('Wr0ngPassw0rd') && !JSON.stringify(e).includes('Wr0ngPassw0rd'));
});

await check('a pool lends connections and takes them back', async () => {
  const pool = await createPool(url, { minsize: 1, maxsize: 2 });
  const a = await pool.acquire();
  const b = await pool.acquire();
  assert.notEqual(await a.threadId(), await b.threadId());
  assert.deepEqual(await a.query('SELECT COUNT(*) FROM node_values'), [[1]]);
  await pool.release(a);
  await pool.release(b);
  assert.equal(await pool.freesize(), 2);
  await pool.close();
});

await conn.close();
const closed = await conn.query('SELECT 1').catch((e) => e);
assert.ok(closed instanceof MySQLError, 'a closed connection refuses work');
console.log('ok - closed');
