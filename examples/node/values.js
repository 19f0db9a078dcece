// Plain JavaScript values to and from the driver's `value` variant (jco's `{ tag, val }`).
//
// What comes out, chosen so that nothing is lost and every row survives JSON.stringify unless a
// value cannot be a JSON number exactly:
// - integers (TINYINT..BIGINT, signed or not, BIT, YEAR): a number when it is a safe integer,
//   otherwise a bigint (so 2^63-1 stays exact; JSON.stringify throws on it, as it should);
// - DECIMAL: its exact text, a string;
// - FLOAT and DOUBLE: numbers;
// - DATE, DATETIME, TIMESTAMP and TIME: text as MySQL writes it ('2024-02-29 23:59:59.123456',
//   '-838:59:59'), so zero dates, microseconds and TIME beyond 24 hours survive; `new Date(...)`
//   of it is one call away where a Date is wanted;
// - CHAR/VARCHAR/TEXT, ENUM and JSON: strings (JSON as the server's text; parse it to use it);
// - SET: an array of its members; BINARY/BLOB and GEOMETRY: Uint8Arrays (what crosses from the
//   worker thread; `Buffer.from(u8.buffer, u8.byteOffset, u8.length)` views one as a Buffer); NULL: null.

import { MySQLError } from './error.js';

const pad = (n, width = 2) => String(n).padStart(width, '0');

function integer(v) {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function fraction(us) {
  return us ? '.' + pad(us, 6) : '';
}

function date(d) {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

function datetime(d) {
  return `${date(d)} ${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}${fraction(d.microsecond)}`;
}

/** One cell as the driver gives it, as a plain value. */
export function fromWit(value) {
  const { tag, val } = value;
  switch (tag) {
    case 'null':
      return null;
    case 'int':
    case 'uint':
    case 'bit':
      return integer(val);
    case 'float':
    case 'double':
    case 'year':
      return val;
    case 'decimal':
    case 'text':
    case 'json':
    case 'enum':
      return val;
    case 'bytes':
    case 'geometry':
      return val;
    case 'date':
      return date(val);
    case 'datetime':
    case 'timestamp':
      return datetime(val);
    case 'time':
      return `${val.negative ? '-' : ''}${pad(val.hours)}:${pad(val.minutes)}:${pad(val.seconds)}${fraction(val.microseconds)}`;
    case 'set':
      return [...val];
    default:
      throw new MySQLError({ kind: 'internal', message: `unknown value kind ${tag}` });
  }
}

/** A row of cells. */
export function rowFromWit(row) {
  return row.map(fromWit);
}

/** A dict row (a list of [name, cell]) as an object. */
export function dictRowFromWit(row) {
  const out = {};
  for (const [name, value] of row) out[name] = fromWit(value);
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** A parameter given as a plain value, as the driver's `value`. */
export function toWit(v) {
  if (v === null || v === undefined) return { tag: 'null' };
  switch (typeof v) {
    case 'boolean':
      return { tag: 'int', val: v ? 1n : 0n };
    case 'number':
      if (Number.isSafeInteger(v)) return { tag: 'int', val: BigInt(v) };
      return { tag: 'double', val: v };
    case 'bigint':
      if (v >= INT64_MIN && v <= INT64_MAX) return { tag: 'int', val: v };
      if (v > INT64_MAX && v <= UINT64_MAX) return { tag: 'uint', val: v };
      throw new MySQLError({ kind: 'data', message: `${v} is outside BIGINT and BIGINT UNSIGNED` });
    case 'string':
      return { tag: 'text', val: v };
    default:
      break;
  }
  if (v instanceof Uint8Array) return { tag: 'bytes', val: v };
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new MySQLError({ kind: 'data', message: 'an invalid Date' });
    // A Date is an instant: it is sent as its UTC wall time, as mysql2 does with timezone 'Z'.
    return {
      tag: 'datetime',
      val: {
        year: v.getUTCFullYear(),
        month: v.getUTCMonth() + 1,
        day: v.getUTCDate(),
        hour: v.getUTCHours(),
        minute: v.getUTCMinutes(),
        second: v.getUTCSeconds(),
        microsecond: v.getUTCMilliseconds() * 1000,
      },
    };
  }
  throw new MySQLError({ kind: 'programming', message: `a ${v?.constructor?.name ?? typeof v} cannot be a parameter` });
}

/** Statement parameters: an array fills `%s` in order, an object fills `%(name)s`. */
export function paramsToWit(params) {
  if (params === null || params === undefined) return undefined;
  if (Array.isArray(params)) return { tag: 'positional', val: params.map(toWit) };
  if (typeof params === 'object' && !(params instanceof Uint8Array) && !(params instanceof Date)) {
    return { tag: 'named', val: Object.entries(params).map(([k, v]) => [k, toWit(v)]) };
  }
  throw new MySQLError({ kind: 'programming', message: 'parameters are an array (%s) or an object (%(name)s)' });
}
