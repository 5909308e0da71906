/**
 * The cloud's services as the rehearsal meets them on one machine: a real PostgreSQL server with
 * Cloud SQL's non-superuser roles (one IAM database login per function identity),
 * fake-gcs-server for the `gs://` buckets, metadata-server twins for the identities, and the
 * Workflow Executions API twin. Each is the one the test suites use; here they are started
 * outside vitest, so `droptune rehearse` needs no test runner.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionsClient } from '@google-cloud/workflows';
import { Compute } from 'google-auth-library';
import pg from 'pg';
import {
  type CreatedExecution,
  WorkflowExecutionsTwin,
} from '../../functions/testing/workflow-executions-twin.ts';
import { SHARED_OWNER_ROLE } from '../../shared/db/migrate.ts';
import { type FakeGcs, startFakeGcs } from '../../test/fake-gcs-server.ts';
import { createCloudSqlRoles, startPostgresServer } from '../../test/postgres-server.ts';

export const PROJECT = 'droptune-rehearsal';
export const REGION = 'us-central1';
export const WORKFLOW_NAME = 'droptune-pipeline';
export const WORKFLOW_PARENT = `projects/${PROJECT}/locations/${REGION}/workflows/${WORKFLOW_NAME}`;
export const DATASETS_BUCKET = `${PROJECT}-datasets`;
export const MODELS_BUCKET = `${PROJECT}-models`;

/** A service account of the rehearsal's project. */
export const serviceAccount = (id: string): string => `${id}@${PROJECT}.iam.gserviceaccount.com`;
/** Cloud SQL's IAM database user of a service account: the email without `.gserviceaccount.com`. */
export const iamDatabaseUser = (email: string): string => email.replace(/\.gserviceaccount\.com$/, '');

export const CONTROL_API_SA = serviceAccount('droptune-api');
export const TRIGGER_SA = serviceAccount('droptune-trigger');
export const WORKFLOW_SA = serviceAccount('droptune-workflow');
export const TRAINER_SA = serviceAccount('droptune-trainer');
export const SERVING_SA = serviceAccount('droptune-serving');
/** Whoever runs the rehearsal: an operator on ALLOWED_INVOKERS, as `gcloud auth print-identity-token`. */
export const OPERATOR_SA = serviceAccount('droptune-operator');

export interface RehearsalDatabase {
  /** The database's URL as `user` (an IAM database login, no password: trust on loopback). */
  urlAs(user: string): string;
  stop(): Promise<void>;
}

/**
 * A fresh database owned by `cloudsqlsuperuser` on a real PostgreSQL server (`serverUrl`, an
 * admin URL, or a throw-away server started here), with one login per function identity.
 */
export async function openRehearsalDatabase(serverUrl?: string): Promise<RehearsalDatabase> {
  const users = [CONTROL_API_SA, TRIGGER_SA].map(iamDatabaseUser);
  const server = serverUrl
    ? await createCloudSqlRoles(serverUrl, users).then(() => ({ url: serverUrl, stop: () => {} }))
    : await startPostgresServer(users);
  const name = `rehearsal_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: server.url });
  try {
    await admin.connect();
    await admin.query(`create database ${name} owner ${SHARED_OWNER_ROLE}`);
  } catch (err) {
    server.stop();
    throw err;
  } finally {
    await admin.end().catch(() => {});
  }
  return {
    urlAs(user) {
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      url.username = encodeURIComponent(user);
      return url.toString();
    },
    async stop() {
      if (serverUrl) {
        const drop = new pg.Client({ connectionString: server.url });
        await drop.connect();
        await drop.query(`drop database if exists ${name} with (force)`).finally(() => drop.end());
      }
      server.stop();
    },
  };
}

/** fake-gcs-server with the datasets and models buckets. */
export function startBuckets(): Promise<FakeGcs> {
  return startFakeGcs([DATASETS_BUCKET, MODELS_BUCKET]);
}

/**
 * The Workflow Executions API twin for the rehearsal's workflow: accepts only access tokens the
 * functions' metadata twin issued, and hands every created execution to `run`.
 */
export function startExecutionsTwin(
  acceptsToken: (token: string) => boolean,
  run: (execution: CreatedExecution) => void,
): Promise<WorkflowExecutionsTwin> {
  return new WorkflowExecutionsTwin([WORKFLOW_PARENT], acceptsToken, run).start();
}

/**
 * The Executions client the cloud functions use, over REST (`fallback`) to the twin, with
 * credentials from the metadata server `GCE_METADATA_HOST` names (the functions' twin).
 */
export function executionsClientFor(twin: WorkflowExecutionsTwin): ExecutionsClient {
  return new ExecutionsClient({
    fallback: true,
    apiEndpoint: '127.0.0.1',
    port: twin.port,
    protocol: 'http',
    authClient: new Compute(),
    // google-gax bundles its own google-auth-library: same class, another declaration.
  } as unknown as ConstructorParameters<typeof ExecutionsClient>[0]);
}
