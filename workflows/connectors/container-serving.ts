import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PODMAN_RUN_FLAGS, podman, podmanArgv, removeLabelled } from './podman.ts';
import {
  DeployError,
  LocalServingBackend,
  type RevisionLaunch,
  type ServiceSpec,
  type ServiceState,
  type ServingFaults,
} from './serving-backend.ts';

export interface ContainerServingOptions {
  /** `$DROPTUNE_HOME`: logs go under it; with `file` storage its `buckets/` is mounted read-only. */
  home: string;
  /** `file`: mount `<home>/buckets` so `file://` model URIs resolve; `gs` (the cloud path): nothing. */
  storage?: 'file' | 'gs';
  /** How long a revision has to pass its startup probe (GET /readyz 200); default 120 s. */
  readyTimeoutMs?: number;
  logDir?: string;
  extraEnv?: Record<string, string>;
  /** Containers carry `droptune-session=<session>`, so `close` removes every one it started. */
  session?: string;
  faults?: ServingFaults;
}

/** The container name of one revision. */
function containerName(session: string, revision: string): string {
  return `droptune-${session}-${revision}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** `podman run` of the service spec's image as one revision, with exactly the revision's env. */
function revisionCommand(session: string, home: string | undefined, rev: RevisionLaunch): string[] {
  const buckets = home === undefined ? undefined : join(resolve(home), 'buckets');
  return podmanArgv([
    'run',
    '--rm',
    '--name',
    containerName(session, rev.id),
    '--label',
    `droptune-session=${session}`,
    '--label',
    `droptune-revision=${rev.id}`,
    ...PODMAN_RUN_FLAGS,
    ...(buckets ? ['--volume', `${buckets}:${buckets}:ro`] : []),
    // Values come from podman's own environment (the revision's env); nothing else leaks in.
    ...Object.keys(rev.env).flatMap((k) => ['--env', k]),
    rev.image,
  ]);
}

/**
 * The Cloud Run twin that runs the service spec's **image** as each revision (podman, host
 * network), behind the same per-service proxy and startup-probe gate as the local backend: a
 * revision takes traffic only after GET /readyz answers 200; one that exits or never passes
 * fails the deploy (DeployError with the container's last lines) and its container is removed,
 * while the previous revision keeps serving.
 */
export class ContainerServingBackend extends LocalServingBackend {
  readonly session: string;

  constructor(options: ContainerServingOptions) {
    const session = options.session ?? randomUUID().slice(0, 8);
    const mounted = (options.storage ?? 'file') === 'file';
    // The mount source must exist even before any model was written.
    mkdirSync(join(resolve(options.home), 'buckets'), { recursive: true });
    super({
      home: options.home,
      command: (rev) => revisionCommand(session, mounted ? options.home : undefined, rev),
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
      ...(options.logDir ? { logDir: options.logDir } : {}),
      ...(options.extraEnv ? { extraEnv: options.extraEnv } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
    });
    this.session = session;
  }

  override async create(spec: ServiceSpec): Promise<ServiceState> {
    return this.removingFailed(() => super.create(spec));
  }

  override async update(spec: ServiceSpec): Promise<ServiceState> {
    return this.removingFailed(() => super.update(spec));
  }

  /** A revision that failed its probe leaves no container behind, even one podman kept. */
  private async removingFailed(deploy: () => Promise<ServiceState>): Promise<ServiceState> {
    try {
      return await deploy();
    } catch (err) {
      if (err instanceof DeployError)
        await podman(['rm', '-f', '-t', '5', containerName(this.session, err.revision)]).catch(() => '');
      throw err;
    }
  }

  override async close(): Promise<void> {
    await super.close();
    await removeLabelled(`droptune-session=${this.session}`);
  }
}
