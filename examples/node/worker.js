// Runs the transpiled component on a worker thread: its calls block (WASI 0.2 sockets through
// preview2-shim are synchronous), so on the main thread every query would stop the event loop.
// The main thread sends { id, op, handle, method, args } and gets back { id, ok } or { id, err }.

import { parentPort } from 'node:worker_threads';
import { connection, pool } from './driver/cymysql_driver.js';
import { MySQLError } from './error.js';
import { dictRowFromWit, fromWit, rowFromWit } from './values.js';

/** The component's resources, by the handle the main thread knows them by. */
const objects = new Map();
let nextHandle = 1;

function keep(object, kind) {
  const handle = nextHandle++;
  objects.set(handle, { object, kind });
  return handle;
}

function lookup(handle) {
  const entry = objects.get(handle);
  if (!entry) throw new MySQLError({ kind: 'interface', message: 'the object was closed or released' });
  return entry;
}

/** connect-options from a URL, or from an object of its fields (camelCase, `database` for `db`). */
function options(given) {
  if (typeof given === 'string') return connection.optionsFromUrl(given);
  const o = connection.defaultOptions();
  for (const [key, value] of Object.entries(given ?? {})) {
    const field = key === 'database' ? 'db' : key;
    if (!(field in o)) throw new MySQLError({ kind: 'programming', message: `unknown connect option ${key}` });
    o[field] = value;
  }
  return o;
}

const rowOf = (kind) => (kind === 'dict' ? dictRowFromWit : rowFromWit);

/** A u64 count or id as a number when it is exact, as a bigint otherwise. */
const count = (n) => fromWit({ tag: 'uint', val: n });

/** What each call does to its arguments and result, beyond passing them through. */
/** Parameters arrive as the driver's values already (index.js converts them). */
const cursorCalls = {
  execute: (c, [query, params]) => count(c.execute(query, params)),
  executePrepared: (c, [query, params]) => count(c.executePrepared(query, params)),
  executemany: (c, [query, seq]) => count(c.executemany(query, seq)),
  mogrify: (c, [query, params]) => c.mogrify(query, params),
  callproc: (c, [name, args]) => c.callproc(name, args).map(fromWit),
  fetchone: (c, [], kind) => {
    const row = c.fetchone();
    return row === undefined ? null : rowOf(kind)(row);
  },
  fetchmany: (c, [size], kind) => c.fetchmany(size ?? undefined).map(rowOf(kind)),
  fetchall: (c, [], kind) => c.fetchall().map(rowOf(kind)),
  nextset: (c) => c.nextset(),
  description: (c) => c.description() ?? null,
  rowcount: (c) => Number(c.rowcount()),
  lastrowid: (c) => {
    const id = c.lastrowid();
    return id === undefined ? null : count(id);
  },
  close: (c) => c.close(),
};

const connectionCalls = {
  cursor: (c, [{ dict = false, unbuffered = false } = {}]) => {
    const cursor = dict ? (unbuffered ? c.ssDictCursor() : c.dictCursor()) : unbuffered ? c.ssCursor() : c.cursor();
    return keep(cursor, dict ? 'dict' : 'tuple');
  },
  commit: (c) => c.commit(),
  rollback: (c) => c.rollback(),
  begin: (c) => c.begin(),
  autocommit: (c, [on]) => c.autocommit(on),
  ping: (c, [reconnect]) => c.ping(Boolean(reconnect)),
  selectDb: (c, [db]) => c.selectDb(db),
  escapeString: (c, [s]) => c.escapeString(s),
  serverVersion: (c) => c.serverVersion(),
  threadId: (c) => c.threadId(),
  insertId: (c) => count(c.insertId()),
  affectedRows: (c) => count(c.affectedRows()),
  inTransaction: (c) => c.inTransaction(),
  close: (c) => c.close(),
};

const poolCalls = {
  acquire: (p) => keep(p.acquire(), 'connection'),
  acquireRead: (p) => keep(p.acquireRead(), 'connection'),
  release: (p, [handle]) => {
    const { object } = lookup(handle);
    // The connection is handed back whole: the handle is gone with it.
    objects.delete(handle);
    p.release(object);
  },
  size: (p) => p.size(),
  freesize: (p) => p.freesize(),
  close: (p) => p.close(),
  terminate: (p) => p.terminate(),
  waitClosed: (p) => p.waitClosed(),
};

const callsOf = { tuple: cursorCalls, dict: cursorCalls, connection: connectionCalls, pool: poolCalls };

function dispatch({ op, handle, method, args }) {
  switch (op) {
    case 'connect':
      return keep(connection.Connection.connect(options(args[0])), 'connection');
    case 'createPool': {
      const settings = { ...pool.defaultPoolOptions(), ...(args[1] ?? {}) };
      return keep(pool.Pool.createPoolWith(options(args[0]), settings), 'pool');
    }
    case 'drop': {
      const entry = objects.get(handle);
      objects.delete(handle);
      entry?.object[Symbol.dispose]?.();
      return null;
    }
    case 'call': {
      const { object, kind } = lookup(handle);
      const call = callsOf[kind][method];
      if (!call) throw new MySQLError({ kind: 'programming', message: `no ${method} on a ${kind}` });
      return call(object, args, kind) ?? null;
    }
    default:
      throw new MySQLError({ kind: 'internal', message: `unknown operation ${op}` });
  }
}

/** The driver's error record (thrown as it is: the transpile turns off ComponentError wrapping). */
function errorOf(e) {
  if (e instanceof MySQLError) return e.toJSON();
  if (e && typeof e === 'object' && typeof e.kind === 'string' && 'message' in e) {
    const { kind, code, sqlstate, message, retryable } = e;
    return { kind, code, sqlstate, message, retryable };
  }
  // A trap or a bug of the shim: the instance may be unusable from here on.
  return { kind: 'internal', message: String(e?.message ?? e) };
}

parentPort.on('message', (request) => {
  let reply;
  try {
    reply = { id: request.id, ok: dispatch(request) };
  } catch (e) {
    reply = { id: request.id, err: errorOf(e) };
  }
  parentPort.postMessage(reply);
});
