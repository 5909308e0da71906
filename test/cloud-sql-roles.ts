/**
 * Names of the Cloud SQL twin's roles on the test PostgreSQL server (test/postgres-server.ts makes
 * them): the shared owner role, and IAM database users named as Cloud SQL names them (the service
 * account's email without `.gserviceaccount.com`).
 */
export { SHARED_OWNER_ROLE as CLOUD_SQL_OWNER_ROLE } from '../shared/db/migrate.ts';
export const IAM_USERS = ['control-api@p.iam', 'trigger@p.iam'] as const;
