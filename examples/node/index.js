// cymysql-wasi for Node: the cymysql.aio API over the driver component, with Promises.
//
// Each `connect()` and `createPool()` gets a worker thread of its own running one instance of the
// component (transpiled by jco): the component's calls block, and on the main thread they would
// stop the event loop for as long as a query runs. Values go in and out as plain JavaScript
// values (see values.js), and every failure is a MySQLError with kind, code and sqlstate.

import { Worker } from 'node:worker_threads';
import { MySQLError } from './error.js';
import { paramsToWit, toWit } from './values.js';

export { MySQLError };

/** One worker thread and the requests in flight on it. */
class Channel {
  #worker;
  #pending = new Map();
  #next = 1;
  #dead = null;

  constructor() {
    this.#worker = new Worker(new URL('./worker.js', import.meta.url));
    this.#worker.on('message', ({ id, ok, err }) => {
      const waiting = this.#pending.get(id);
      this.#pending.delete(id);
      // An idle worker does not keep the process alive; one with work in flight does.
      if (this.#pending.size === 0) this.#worker.unref();
      if (err) waiting?.reject(new MySQLError(err));
      else waiting?.resolve(ok);
    });
    const fail = (message) => {
      this.#dead = new MySQLError({ kind: 'internal', message });
      for (const waiting of this.#pending.values()) waiting.reject(this.#dead);
      this.#pending.clear();
    };
    this.#worker.on('error', (e) => fail(`the driver's worker failed: ${e?.message ?? e}`));
    this.#worker.on('exit', () => this.#dead ?? fail('the driver was closed'));
    this.#worker.unref();
  }

  request(message) {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      try {
        this.#worker.postMessage({ id, ...message });
      } catch (e) {
        // Arguments that cannot be cloned to the worker; the values are checked before this.
        reject(new MySQLError({ kind: 'programming', message: String(e?.message ?? e) }));
        return;
      }
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
    });
  }

  call(handle, method, ...args) {
    return this.request({ op: 'call', handle, method, args });
  }

  async terminate() {
    if (!this.#dead) {
      this.#dead = new MySQLError({ kind: 'interface', message: 'the connection is closed' });
      await this.#worker.terminate();
    }
  }
}

/** A cursor (tuple rows) or a dict cursor (rows as objects keyed by column name). */
export class Cursor {
  #ch;
  #h;

  constructor(channel, handle) {
    this.#ch = channel;
    this.#h = handle;
  }

  // Parameters become the driver's values here, on the caller's thread: a value that cannot be
  // one is the caller's MySQLError before anything is sent to the worker.

  /** Runs `query`; `%s` takes `params[i]` in order, `%(name)s` takes `params.name`. */
  async execute(query, params) {
    return this.#ch.call(this.#h, 'execute', query, paramsToWit(params));
  }
  /** The same, as a server-side prepared statement kept in the connection's statement cache. */
  async executePrepared(query, params) {
    return this.#ch.call(this.#h, 'executePrepared', query, paramsToWit(params));
  }
  async executemany(query, seqOfParams) {
    return this.#ch.call(this.#h, 'executemany', query, seqOfParams.map(paramsToWit));
  }
  async mogrify(query, params) {
    return this.#ch.call(this.#h, 'mogrify', query, paramsToWit(params));
  }
  async callproc(name, args = []) {
    return this.#ch.call(this.#h, 'callproc', name, args.map(toWit));
  }
  /** @internal a call the worker answers as it is (see `passThrough`). */
  call(method, ...args) {
    return this.#ch.call(this.#h, method, ...args);
  }
  async close() {
    await this.#ch.call(this.#h, 'close');
    await this.#ch.request({ op: 'drop', handle: this.#h });
  }

  /** `for await (const row of cursor)`: the rows of the current result, 100 at a time. */
  async *[Symbol.asyncIterator]() {
    for (;;) {
      const rows = await this.fetchmany(100);
      if (rows.length === 0) return;
      yield* rows;
    }
  }
}

/** One server session. */
export class Connection {
  #ch;
  #h;
  #owner;

  constructor(channel, handle, owner) {
    this.#ch = channel;
    this.#h = handle;
    this.#owner = owner;
  }

  /** @internal the worker's handle, for Pool.release. */
  get handle() {
    return this.#h;
  }

  /** A new cursor: `{ dict: true }` for rows as objects, `{ unbuffered: true }` to stream rows. */
  async cursor(kind = {}) {
    return new Cursor(this.#ch, await this.#ch.call(this.#h, 'cursor', kind));
  }

  /** Runs `query` and returns its rows (affected-row statements give []). */
  async query(query, params, kind = {}) {
    const cursor = await this.cursor(kind);
    try {
      await cursor.execute(query, params);
      return await cursor.fetchall();
    } finally {
      await cursor.close();
    }
  }

  /** @internal a call the worker answers as it is (see `passThrough`). */
  call(method, ...args) {
    return this.#ch.call(this.#h, method, ...args);
  }

  /** COM_QUIT; a connection of its own (not a pool's) also stops its worker thread. */
  async close() {
    try {
      await this.#ch.call(this.#h, 'close');
    } finally {
      if (this.#owner) await this.#ch.terminate();
    }
  }
}

/** A pool of connections (cymysql.aio.create_pool) on a worker thread of its own. */
export class Pool {
  #ch;
  #h;

  constructor(channel, handle) {
    this.#ch = channel;
    this.#h = handle;
  }

  async acquire() {
    return new Connection(this.#ch, await this.#ch.call(this.#h, 'acquire'), false);
  }
  async release(conn) {
    await this.#ch.call(this.#h, 'release', conn.handle);
  }
  /** @internal a call the worker answers as it is (see `passThrough`). */
  call(method, ...args) {
    return this.#ch.call(this.#h, method, ...args);
  }
  /** Closes the idle connections and every one released from now on, then stops the worker. */
  async close() {
    try {
      await this.#ch.call(this.#h, 'close');
      await this.#ch.call(this.#h, 'waitClosed');
    } finally {
      await this.#ch.terminate();
    }
  }
}

/** Methods that post their arguments to the worker and return its answer, by class. */
function passThrough(cls, methods) {
  for (const method of methods) {
    cls.prototype[method] = function (...args) {
      return this.call(method, ...args);
    };
  }
}

passThrough(Cursor, ['fetchone', 'fetchmany', 'fetchall', 'nextset', 'description', 'rowcount', 'lastrowid']);
passThrough(Connection, [
  'commit',
  'rollback',
  'begin',
  'autocommit',
  'ping',
  'selectDb',
  'escapeString',
  'serverVersion',
  'threadId',
  'insertId',
  'affectedRows',
  'inTransaction',
]);
passThrough(Pool, ['size', 'freesize']);

/** A worker thread of its own, and what `op` makes on it; the worker stops if that fails. */
async function open(op, args, make) {
  const channel = new Channel();
  try {
    return make(channel, await channel.request({ op, args }));
  } catch (e) {
    await channel.terminate();
    throw e;
  }
}

/** Opens a session: a `mysql://user:password@host:port/db?...` URL, or connect-options fields. */
export function connect(urlOrOptions) {
  return open('connect', [urlOrOptions], (channel, handle) => new Connection(channel, handle, true));
}

/** A pool: `settings` are pool-options fields (minsize, maxsize, acquireTimeout, ...). */
export function createPool(urlOrOptions, settings = {}) {
  return open('createPool', [urlOrOptions, settings], (channel, handle) => new Pool(channel, handle));
}
