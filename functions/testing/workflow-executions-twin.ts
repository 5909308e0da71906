/**
 * The twin of the Workflow Executions API's `projects.locations.workflows.executions.create`
 * (REST, `POST /v1/{parent}/executions`, body: the Execution), on loopback, for the cloud
 * adapter (`CloudWorkflowStarter` over `ExecutionsClient({fallback: true})`) to be tested as it
 * runs in the cloud. As strict as the real method where a caller could tell: a bearer access
 * token the metadata-server twin issued is required (401), only the Execution's documented
 * writable fields are accepted and `argument` must be a JSON object of at most 32 KiB (400
 * INVALID_ARGUMENT, Google's error shape), the parent must name an existing workflow (404).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Fields of the Execution resource (discovery document, workflowexecutions v1). */
const EXECUTION_FIELDS = new Set([
  'name',
  'startTime',
  'endTime',
  'duration',
  'state',
  'argument',
  'result',
  'error',
  'workflowRevisionId',
  'callLogLevel',
  'status',
  'labels',
  'stateError',
  'disableConcurrencyQuotaOverflowBuffering',
  'executionHistoryLevel',
]);
const MAX_ARGUMENT_BYTES = 32 * 1024;
const CREATE = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/workflows\/[^/]+)\/executions$/;

export interface CreatedExecution {
  name: string;
  argument: unknown;
  labels: Record<string, string>;
}

export class WorkflowExecutionsTwin {
  readonly executions: CreatedExecution[] = [];
  private server?: Server;
  port = 0;

  constructor(
    private readonly workflows: string[],
    private readonly acceptsToken: (token: string) => boolean,
    /** Runs what was created (the rehearsal hands it to the local Workflows runtime). */
    private readonly onCreate: (execution: CreatedExecution) => void = () => {},
  ) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => fail(res, 500, 'INTERNAL', err.message));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const m = CREATE.exec(path);
    if (req.method !== 'POST' || !m) return fail(res, 404, 'NOT_FOUND', `no method ${req.method} ${path}`);
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.acceptsToken(token))
      return fail(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const parent = m[1]!;
    if (!this.workflows.includes(parent))
      return fail(res, 404, 'NOT_FOUND', `Resource '${parent}' was not found`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      return fail(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const unknown = Object.keys(body).filter((k) => !EXECUTION_FIELDS.has(k));
    if (unknown.length)
      return fail(
        res,
        400,
        'INVALID_ARGUMENT',
        `Invalid JSON payload received. Unknown name "${unknown[0]}": Cannot find field.`,
      );
    const argument = typeof body.argument === 'string' ? body.argument : 'null';
    if (Buffer.byteLength(argument) > MAX_ARGUMENT_BYTES)
      return fail(res, 400, 'INVALID_ARGUMENT', `argument is larger than ${MAX_ARGUMENT_BYTES} bytes`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(argument);
    } catch {
      return fail(res, 400, 'INVALID_ARGUMENT', 'argument must be a valid JSON string');
    }
    const name = `${parent}/executions/${randomUUID()}`;
    const labels = (body.labels ?? {}) as Record<string, string>;
    const created = { name, argument: parsed, labels };
    this.executions.push(created);
    this.onCreate(created);
    const execution = {
      name,
      startTime: new Date().toISOString(),
      state: 'ACTIVE',
      argument,
      workflowRevisionId: '000001-abc',
      callLogLevel: body.callLogLevel ?? 'CALL_LOG_LEVEL_UNSPECIFIED',
      labels,
    };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(execution));
  }
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  res
    .writeHead(status, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ error: { code: status, message, status: code } }));
}
