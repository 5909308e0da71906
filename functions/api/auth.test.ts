import { createSign, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { ExecutionsClient } from '@google-cloud/workflows';
import { OAuth2Client } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../shared/errors.ts';
import { CloudWorkflowStarter } from '../workflow-starter/cloud-starter.ts';
import { ensureApiToken } from './api-token.ts';
import { googleIdTokenAuth, localTokenAuth } from './auth.ts';
import { GcsSignedUploads } from './uploads.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/**
 * The real OAuth2Client verification, with Google's signing certificates (the one network fetch
 * of the control plane) replaced by a key this test owns.
 */
class OwnCertsClient extends OAuth2Client {
  override async getFederatedSignonCertsAsync() {
    return {
      certs: { k1: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      format: 'PEM',
    } as never;
  }
}

function idToken(claims: Record<string, unknown>, key = privateKey): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64({ iss: 'https://accounts.google.com', iat: now, exp: now + 600, sub: '1', email_verified: true, ...claims })}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(key).toString('base64url')}`;
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isAppError(err) ? err.code : `threw ${String(err)}`;
  }
}

describe('googleIdTokenAuth', () => {
  const audience = 'https://control-api-xyz.a.run.app';
  const auth = googleIdTokenAuth({
    audience,
    allowedEmails: ['workflow@p.iam.gserviceaccount.com', ' Trainer@p.iam.gserviceaccount.com '],
    client: new OwnCertsClient(),
  });

  it('lets in a Google-signed ID token for this audience from an allowed service account', async () => {
    const token = idToken({ aud: audience, email: 'trainer@p.iam.gserviceaccount.com' });
    await expect(auth.authenticate(`Bearer ${token}`)).resolves.toEqual({
      subject: 'trainer@p.iam.gserviceaccount.com',
      kind: 'google',
    });
  });

  it('refuses other audiences, other signers, expired or unverified tokens (401) and unlisted accounts (403)', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const now = Math.floor(Date.now() / 1000);
    expect(
      await outcome(
        auth.authenticate(
          `Bearer ${idToken({ aud: 'https://elsewhere', email: 'workflow@p.iam.gserviceaccount.com' })}`,
        ),
      ),
    ).toBe('unauthenticated');
    expect(
      await outcome(
        auth.authenticate(
          `Bearer ${idToken({ aud: audience, email: 'workflow@p.iam.gserviceaccount.com' }, other)}`,
        ),
      ),
    ).toBe('unauthenticated');
    expect(
      await outcome(
        auth.authenticate(
          `Bearer ${idToken({ aud: audience, email: 'workflow@p.iam.gserviceaccount.com', iat: now - 7200, exp: now - 3600 })}`,
        ),
      ),
    ).toBe('unauthenticated');
    expect(
      await outcome(
        auth.authenticate(
          `Bearer ${idToken({ aud: audience, email: 'workflow@p.iam.gserviceaccount.com', email_verified: false })}`,
        ),
      ),
    ).toBe('unauthenticated');
    expect(
      await outcome(
        auth.authenticate(
          `Bearer ${idToken({ aud: audience, email: 'intruder@p.iam.gserviceaccount.com' })}`,
        ),
      ),
    ).toBe('permission_denied');
    expect(await outcome(auth.authenticate(undefined))).toBe('unauthenticated');
    expect(await outcome(auth.authenticate('Bearer not.a.jwt'))).toBe('unauthenticated');
  });
});

describe('local token', () => {
  it('is generated once into $DROPTUNE_HOME/api-token (mode 0600) and compared exactly', async () => {
    const home = mkdtempSync(join(tmpdir(), 'droptune-token-'));
    try {
      const [a, b] = await Promise.all([ensureApiToken(home), ensureApiToken(home)]);
      expect(a).toBe(b);
      expect(a.length).toBeGreaterThanOrEqual(43);
      expect(await ensureApiToken(home)).toBe(a);
      expect(statSync(join(home, 'api-token')).mode & 0o777).toBe(0o600);
      const auth = localTokenAuth(a);
      await expect(auth.authenticate(`Bearer ${a}`)).resolves.toMatchObject({ kind: 'local-token' });
      expect(await outcome(auth.authenticate(`Bearer ${a.slice(0, -1)}`))).toBe('unauthenticated');
      expect(await outcome(auth.authenticate(`Bearer ${a}x`))).toBe('unauthenticated');
      expect(await outcome(auth.authenticate(a))).toBe('unauthenticated');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('GcsSignedUploads', () => {
  it('signs a V4 PUT URL for <modelName>/<fileName> in the datasets bucket, locally with the key', async () => {
    const storage = new Storage({
      projectId: 'p',
      credentials: { client_email: 'api@p.iam.gserviceaccount.com', private_key: PRIVATE_PEM },
    });
    const ticket = await new GcsSignedUploads({ storage, datasetsBucket: 'p-datasets' }).ticket(
      'sentiment',
      'train.csv',
    );
    const url = new URL(ticket.uploadUrl);
    expect(url.host).toBe('storage.googleapis.com');
    expect(url.pathname).toBe('/p-datasets/sentiment/train.csv');
    expect(url.searchParams.get('X-Goog-Algorithm')).toBe('GOOG4-RSA-SHA256');
    expect(url.searchParams.get('X-Goog-Expires')).toBe('900');
    expect(url.searchParams.get('X-Goog-SignedHeaders')).toContain('content-type');
    expect(ticket).toMatchObject({
      method: 'PUT',
      headers: { 'content-type': 'text/csv' },
      datasetUri: 'gs://p-datasets/sentiment/train.csv',
    });
  });
});

describe('CloudWorkflowStarter', () => {
  const real = new ExecutionsClient({
    projectId: 'p',
    credentials: { client_email: 'x@p.iam.gserviceaccount.com', private_key: PRIVATE_PEM },
  });

  it('creates an execution of the workflow with the pipeline args as its JSON argument', async () => {
    const calls: unknown[] = [];
    const client = {
      workflowPath: real.workflowPath.bind(real),
      createExecution: async (request: unknown) => {
        calls.push(request);
        return [{ name: 'projects/p/locations/us-central1/workflows/droptune-pipeline/executions/e1' }];
      },
    } as never;
    const starter = new CloudWorkflowStarter({
      project: 'p',
      location: 'us-central1',
      workflow: 'droptune-pipeline',
      client,
    });
    const args = {
      runId: 'r-abc',
      modelName: 'sentiment',
      datasetUri: 'gs://d/sentiment/a.csv',
      params: { epochs: 3 },
    };
    expect(await starter.start(args)).toEqual({
      executionId: 'projects/p/locations/us-central1/workflows/droptune-pipeline/executions/e1',
    });
    expect(calls).toEqual([
      {
        parent: 'projects/p/locations/us-central1/workflows/droptune-pipeline',
        execution: { argument: JSON.stringify(args), labels: { run_id: 'r-abc', model: 'sentiment' } },
      },
    ]);
  });

  it('turns UNAVAILABLE into a retryable error and NOT_FOUND into a permanent one that says what to check', async () => {
    const failing = (code: number) =>
      new CloudWorkflowStarter({
        project: 'p',
        location: 'us-central1',
        workflow: 'w',
        client: {
          workflowPath: real.workflowPath.bind(real),
          createExecution: async () => {
            throw Object.assign(new Error(`${code} grpc error`), { code });
          },
        } as never,
      });
    const args = { runId: 'r', modelName: 'mm', datasetUri: 'gs://d/mm/a.csv', params: {} };
    await expect(failing(14).start(args)).rejects.toMatchObject({ code: 'unavailable', retryable: true });
    await expect(failing(5).start(args)).rejects.toMatchObject({
      code: 'not_found',
      retryable: false,
      message: expect.stringContaining('check WORKFLOW_NAME and REGION'),
    });
    await expect(failing(7).start(args)).rejects.toMatchObject({
      code: 'permission_denied',
      message: expect.stringContaining('roles/workflows.invoker'),
    });
  });
});
