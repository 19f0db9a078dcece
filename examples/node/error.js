/**
 * Every failure of the driver: the PEP 249 class it belongs to (`kind`), the MySQL error code
 * (server ER_* or client CR_*) and SQLSTATE when there is one, and whether the work may succeed
 * if run again from the start of its transaction (`retryable`).
 */
export class MySQLError extends Error {
  constructor({ kind, code, sqlstate, message, retryable } = {}) {
    super(message ?? 'unknown error');
    this.name = 'MySQLError';
    this.kind = kind ?? 'internal';
    this.code = code ?? undefined;
    this.sqlstate = sqlstate ?? undefined;
    this.retryable = Boolean(retryable);
  }

  /** What crosses from the worker: the record the component returned. */
  toJSON() {
    const { kind, code, sqlstate, message, retryable } = this;
    return { kind, code, sqlstate, message, retryable };
  }
}
