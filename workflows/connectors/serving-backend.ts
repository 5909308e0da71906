import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import getPort from 'get-port';
import { exited, Tail, terminate } from './process-util.ts';

/** What a deploy asks for, reduced from the Cloud Run v2 Service body. */
export interface ServiceSpec {
  /** `projects/<p>/locations/<r>/services/<id>`. */
  name: string;
  image: string;
  /** Container env; MODEL_URI pins the version. */
  env: Record<string, string>;
  /** The full Service body, echoed back like the API does. */
  body: Record<string, unknown>;
  /**
   * What makes a revision ready: an HTTP GET on `path` answering 2xx (the container's
   * startupProbe.httpGet), or a port that accepts connections (Cloud Run's default TCP probe).
   */
  startupProbe?: { path: string } | { tcp: true };
}

/**
 * The spec of `predict-<modelName>` serving `modelUri`, as pipeline.yaml deploys it: what the
 * local stack passes to `create` to bring recorded deployments back after a restart.
 */
export function predictionServiceSpec(
  project: string,
  region: string,
  modelName: string,
  modelUri: string,
): ServiceSpec {
  return {
    name: `projects/${project}/locations/${region}/services/predict-${modelName}`,
    image: 'droptune-serving:local',
    env: { MODEL_URI: modelUri },
    body: { labels: { 'droptune-model': modelName } },
    startupProbe: { path: '/readyz' },
  };
}

export interface ServiceState {
  name: string;
  /** Stable URL of the service (a local proxy that follows the serving revision). */
  uri: string;
  generation: number;
  latestReadyRevision: string;
  latestCreatedRevision: string;
  /** Env of the revision that serves traffic. */
  env: Record<string, string>;
  body: Record<string, unknown>;
}

/** A revision that never became ready; the previous one keeps serving. */
export class DeployError extends Error {
  constructor(
    message: string,
    readonly revision: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

/**
 * Where prediction services run. The cloud is Cloud Run via the Workflows connector; locally
 * each revision is a serving child process behind a per-service proxy, so the URL is stable
 * across versions and a failed revision never takes traffic.
 */
export interface ServingBackend {
  /** Fails with `already_exists` semantics when the service exists. */
  create(spec: ServiceSpec): Promise<ServiceState>;
  /** Rolls out a new revision; on DeployError the previous revision keeps serving. */
  update(spec: ServiceSpec): Promise<ServiceState>;
  get(name: string): ServiceState | undefined;
  delete(name: string): Promise<boolean>;
  list(): ServiceState[];
  close(): Promise<void>;
}

export interface ServingFaults {
  /** The next N revisions fail to become ready (their model URI points nowhere). */
  failDeploys?: number;
}

export interface LocalServingOptions {
  /** `$DROPTUNE_HOME` for `file://` model URIs. */
  home: string;
  /**
   * Command for one revision (default `node --import tsx serving/main.ts`); a function gets the
   * revision's image and full environment (a container backend runs the image).
   */
  command?: string[] | ((revision: RevisionLaunch) => string[]);
  cwd?: string;
  /** How long a revision has to answer /readyz 200 (default 120 s). */
  readyTimeoutMs?: number;
  logDir?: string;
  extraEnv?: Record<string, string>;
  faults?: ServingFaults;
}

/** What one revision is started from. */
export interface RevisionLaunch {
  id: string;
  image: string;
  env: Record<string, string>;
}

interface Revision {
  id: string;
  port: number;
  child: ChildProcess;
  env: Record<string, string>;
}

interface LocalService {
  state: ServiceState;
  proxy: Server;
  current?: Revision;
}

export class LocalServingBackend implements ServingBackend {
  private readonly services = new Map<string, LocalService>();
  private readonly options: LocalServingOptions;
  private failuresLeft: number;
  /** Revisions still starting (not yet serving): stopped by `close` too. */
  private readonly starting = new Set<ChildProcess>();

  constructor(options: LocalServingOptions) {
    this.options = options;
    this.failuresLeft = options.faults?.failDeploys ?? 0;
  }

  /** Injects `n` more failing deploys (tests). */
  failNextDeploys(n: number): void {
    this.failuresLeft = n;
  }

  async create(spec: ServiceSpec): Promise<ServiceState> {
    if (this.services.has(spec.name)) throw new Error(`already_exists: service ${spec.name}`);
    const svc: LocalService = { state: undefined as unknown as ServiceState, proxy: createServer() };
    // Cloud Run's front end keeps idle client connections far longer than Node's 5 s default; at
    // 5 s a client reusing a pooled connection could race the close on a loaded machine (a POST
    // is not retried), and the predict proxy saw "did not answer".
    svc.proxy.keepAliveTimeout = 620_000;
    svc.proxy.on('request', (req, res) => {
      const rev = svc.current;
      if (!rev) {
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"error":{"code":"unavailable","message":"no ready revision"}}');
        return;
      }
      const up = request(
        { host: '127.0.0.1', port: rev.port, path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"unavailable","message":"revision unreachable"}}');
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => svc.proxy.listen(0, '127.0.0.1', r));
    const uri = `http://127.0.0.1:${(svc.proxy.address() as AddressInfo).port}`;
    svc.state = {
      name: spec.name,
      uri,
      generation: 0,
      latestReadyRevision: '',
      latestCreatedRevision: '',
      env: {},
      body: spec.body,
    };
    // Like Cloud Run, a service whose first revision fails still exists, serving nothing.
    this.services.set(spec.name, svc);
    return this.rollOut(svc, spec);
  }

  async update(spec: ServiceSpec): Promise<ServiceState> {
    const svc = this.services.get(spec.name);
    if (!svc) throw new Error(`not_found: service ${spec.name}`);
    return this.rollOut(svc, spec);
  }

  private async rollOut(svc: LocalService, spec: ServiceSpec): Promise<ServiceState> {
    const generation = svc.state.generation + 1;
    const serviceId = spec.name.split('/').pop() as string;
    const id = `${serviceId}-${String(generation).padStart(5, '0')}`;
    svc.state.generation = generation;
    svc.state.latestCreatedRevision = id;
    const env = { ...spec.env };
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      env.MODEL_URI = `${(env.MODEL_URI ?? 'file://missing/').replace(/\/?$/, '')}-revision-fault/`;
    }
    const rev = await this.start(id, env, spec.startupProbe ?? { path: '/readyz' }, spec.image);
    const prev = svc.current;
    svc.current = rev;
    svc.state.latestReadyRevision = id;
    svc.state.env = spec.env;
    svc.state.body = spec.body;
    if (prev) await terminate(prev.child, 10_000);
    return { ...svc.state };
  }

  private async start(
    id: string,
    env: Record<string, string>,
    probe: NonNullable<ServiceSpec['startupProbe']>,
    image: string,
  ): Promise<Revision> {
    const port = await getPort({ host: '127.0.0.1' });
    const childEnv = {
      DROPTUNE_HOME: resolve(this.options.home),
      ...this.options.extraEnv,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    const command = this.options.command ?? [process.execPath, '--import', 'tsx', 'serving/main.ts'];
    const cmd = typeof command === 'function' ? command({ id, image, env: childEnv }) : command;
    const logDir = this.options.logDir ?? join(this.options.home, 'logs', 'serving');
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(join(logDir, `${id}.log`), { flags: 'a' });
    const child = spawn(cmd[0] as string, cmd.slice(1), {
      cwd: this.options.cwd ?? process.cwd(),
      env: { ...process.env, ...childEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail = new Tail();
    for (const s of [child.stdout, child.stderr]) {
      s?.on('data', (c: Buffer) => {
        log.write(c);
        tail.push(c);
      });
    }
    child.on('exit', () => log.end());
    this.starting.add(child);
    try {
      return await this.waitReady(id, port, child, env, tail, probe);
    } finally {
      this.starting.delete(child);
    }
  }

  private async waitReady(
    id: string,
    port: number,
    child: ChildProcess,
    env: Record<string, string>,
    tail: Tail,
    probe: NonNullable<ServiceSpec['startupProbe']>,
  ): Promise<Revision> {
    const deadline = Date.now() + (this.options.readyTimeoutMs ?? 120_000);
    let gone = false;
    void exited(child).then(() => {
      gone = true;
    });
    while (Date.now() < deadline && !gone) {
      try {
        // The startup probe: traffic moves only once it passes (TCP: the port answers at all).
        const path = 'path' in probe ? probe.path : '/';
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
        if ('tcp' in probe || (res.status >= 200 && res.status < 300)) return { id, port, child, env };
        // The container says it will never be ready (its model failed to load): like a failing
        // startup probe, the revision fails now instead of at the probe's deadline.
        const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
        const message = body?.error?.message ?? '';
        if (/failed to load/.test(message)) {
          await terminate(child, 5000);
          throw new DeployError(`Revision '${id}' is not ready and cannot serve traffic: ${message}`, id);
        }
      } catch (err) {
        if (err instanceof DeployError) throw err;
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    // Why, before stopping it: once terminated it has "exited" too.
    const why = gone
      ? `exited with code ${child.exitCode}`
      : `was not ready within ${this.options.readyTimeoutMs ?? 120_000} ms`;
    await terminate(child, 5000);
    throw new DeployError(
      `Revision '${id}' is not ready and cannot serve traffic: the container ${why}. ${tail.lastLines(3)}`,
      id,
    );
  }

  get(name: string): ServiceState | undefined {
    const svc = this.services.get(name);
    return svc ? { ...svc.state } : undefined;
  }

  async delete(name: string): Promise<boolean> {
    const svc = this.services.get(name);
    if (!svc) return false;
    this.services.delete(name);
    if (svc.current) await terminate(svc.current.child, 10_000);
    await new Promise<void>((r) => svc.proxy.close(() => r()));
    return true;
  }

  list(): ServiceState[] {
    return [...this.services.values()].map((s) => ({ ...s.state }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.starting].map((c) => terminate(c, 5000)));
    await Promise.all([...this.services.keys()].map((n) => this.delete(n)));
  }
}
