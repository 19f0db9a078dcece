/** A cell as it comes out of a row (see values.js for the mapping of each MySQL type). */
export type Value = null | number | bigint | string | Uint8Array | string[];

/** A parameter: booleans go as 1/0, Dates as their UTC wall time, Uint8Arrays as bytes. */
export type Param = null | undefined | boolean | number | bigint | string | Uint8Array | Date;

/** `%s` placeholders take an array in order; `%(name)s` placeholders take an object. */
export type Params = Param[] | Record<string, Param>;

export type ErrorKind =
  | 'interface'
  | 'database'
  | 'data'
  | 'operational'
  | 'integrity'
  | 'internal'
  | 'programming'
  | 'not-supported';

export declare class MySQLError extends Error {
  /** The PEP 249 class: 'programming' for SQL syntax errors, 'operational' for lost connections, ... */
  readonly kind: ErrorKind;
  /** The server's ER_* or the client's CR_* code, when there is one. */
  readonly code: number | undefined;
  readonly sqlstate: string | undefined;
  /** Whether running the work again from the start of its transaction may succeed. */
  readonly retryable: boolean;
}

/** A column of a result (PEP 249 description), as ColumnDefinition41 gives it. */
export interface Column {
  name: string;
  orgName: string;
  table: string;
  orgTable: string;
  schema: string;
  /** enum_field_types code (MYSQL_TYPE_*). */
  typeCode: number;
  length: number;
  decimals: number;
  flags: number;
  /** Collation id; 63 is binary. */
  charset: number;
  nullable: boolean;
}

export interface CursorKind {
  /** Rows as objects keyed by column name. */
  dict?: boolean;
  /** Rows read from the server as they are fetched. */
  unbuffered?: boolean;
}

export declare class Cursor<Row = Value[]> implements AsyncIterable<Row> {
  /** Affected rows, or the rows of a buffered result. */
  execute(query: string, params?: Params | null): Promise<number | bigint>;
  executePrepared(query: string, params?: Params | null): Promise<number | bigint>;
  executemany(query: string, seqOfParams: Params[]): Promise<number | bigint>;
  mogrify(query: string, params?: Params | null): Promise<string>;
  callproc(name: string, args?: Param[]): Promise<Value[]>;
  fetchone(): Promise<Row | null>;
  fetchmany(size?: number): Promise<Row[]>;
  fetchall(): Promise<Row[]>;
  nextset(): Promise<boolean>;
  description(): Promise<Column[] | null>;
  rowcount(): Promise<number>;
  lastrowid(): Promise<number | bigint | null>;
  close(): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<Row>;
}

export declare class Connection {
  cursor(kind?: CursorKind & { dict?: false }): Promise<Cursor<Value[]>>;
  cursor(kind: CursorKind & { dict: true }): Promise<Cursor<Record<string, Value>>>;
  query(query: string, params?: Params | null, kind?: CursorKind & { dict?: false }): Promise<Value[][]>;
  query(query: string, params: Params | null | undefined, kind: CursorKind & { dict: true }): Promise<Record<string, Value>[]>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  begin(): Promise<void>;
  autocommit(on: boolean): Promise<void>;
  ping(reconnect?: boolean): Promise<void>;
  selectDb(db: string): Promise<void>;
  escapeString(s: string): Promise<string>;
  serverVersion(): Promise<string>;
  threadId(): Promise<number>;
  insertId(): Promise<number | bigint>;
  affectedRows(): Promise<number | bigint>;
  inTransaction(): Promise<boolean>;
  close(): Promise<void>;
}

export declare class Pool {
  acquire(): Promise<Connection>;
  release(conn: Connection): Promise<void>;
  size(): Promise<number>;
  freesize(): Promise<number>;
  close(): Promise<void>;
}

/** connect-options fields of the WIT in camelCase (`database` is `db`). */
export interface ConnectOptions {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  db?: string;
  database?: string;
  charset?: string;
  autocommit?: boolean;
  connectTimeout?: number;
  [field: string]: unknown;
}

export interface PoolSettings {
  minsize?: number;
  maxsize?: number;
  poolRecycle?: number;
  acquireTimeout?: number;
  pingAfterIdle?: number;
  resetOnRelease?: boolean;
}

export declare function connect(urlOrOptions: string | ConnectOptions): Promise<Connection>;
export declare function createPool(urlOrOptions: string | ConnectOptions, settings?: PoolSettings): Promise<Pool>;
