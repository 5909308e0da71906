import type pg from 'pg';
import { AppError } from '../errors.ts';

/** What store code needs of a database: a `pg.Pool` (or anything with the same two methods). */
export type Db = Pick<pg.Pool, 'query' | 'connect'>;
/** One connection inside a transaction (what `withTransaction` hands its callback). */
export type TxClient = pg.PoolClient;

/** Runs `fn` in a transaction on one connection; rolls back on any error. */
export async function withTransaction<T>(db: Db, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect().catch((err) => {
    throw translatePgError(err);
  });
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw translatePgError(err);
  } finally {
    client.release();
  }
}

/** PostgreSQL/driver errors → AppError codes (SQLSTATE table: postgresql.org/docs/current/errcodes-appendix.html). */
export function translatePgError(err: unknown): unknown {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown }).code;
  if (code === '23505') return new AppError('already_exists', 'already exists', { cause: err });
  if (code === '23503')
    return new AppError('not_found', 'a referenced record does not exist', { cause: err });
  if (code === '40001' || code === '40P01')
    return new AppError('unavailable', 'transaction conflict, retry', { cause: err });
  if (
    typeof code === 'string' &&
    (code.startsWith('08') || code === '57P01' || code === '57P03' || code === '53300')
  ) {
    return new AppError('unavailable', `database unavailable (${code})`, { cause: err });
  }
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)) {
    return new AppError('unavailable', `database unreachable (${code})`, { cause: err });
  }
  if (
    err instanceof Error &&
    /Connection terminated|timeout exceeded when trying to connect/.test(err.message)
  ) {
    return new AppError('unavailable', `database unreachable (${err.message})`, { cause: err });
  }
  return err;
}

/** `pool.query` with error translation. */
export async function query<R extends pg.QueryResultRow>(
  db: Db | pg.PoolClient,
  text: string,
  values?: unknown[],
): Promise<R[]> {
  try {
    const res = await db.query<R>(text, values);
    return res.rows;
  } catch (err) {
    throw translatePgError(err);
  }
}
