import { AuthTypes, Connector, IpAddressTypes } from '@google-cloud/cloud-sql-connector';
import pg from 'pg';

/**
 * A pool to Cloud SQL for PostgreSQL through the Cloud SQL connector: private IP, TLS by the
 * connector, IAM database authentication (no passwords anywhere). `user` is the IAM database
 * user: the service account's email without `.gserviceaccount.com`. Not exercised here (no
 * Cloud SQL instance can be reached from this machine); the adapter is the connector's
 * documented usage.
 */
export async function cloudSqlPool(options: {
  instanceConnectionName: string;
  user: string;
  database: string;
  max?: number;
}): Promise<{ pool: pg.Pool; close: () => Promise<void> }> {
  const connector = new Connector();
  const clientOpts = await connector.getOptions({
    instanceConnectionName: options.instanceConnectionName,
    ipType: IpAddressTypes.PRIVATE,
    authType: AuthTypes.IAM,
  });
  const pool = new pg.Pool({
    ...clientOpts,
    user: options.user,
    database: options.database,
    max: options.max ?? 5,
  });
  return {
    pool,
    async close() {
      await pool.end();
      connector.close();
    },
  };
}
