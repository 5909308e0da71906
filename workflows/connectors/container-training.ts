import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PODMAN_RUN_FLAGS, podman, podmanArgv, removeLabelled } from './podman.ts';
import { exited, Tail, terminate } from './process-util.ts';
import {
  InsertError,
  type InstanceSpec,
  type InstanceState,
  type TrainingBackend,
  type TrainingFaults,
  type ZoneOperation,
} from './training-backend.ts';

/** Metadata item with the trainer image, as pipeline.yaml's insert sets it for the startup script. */
export const TRAINER_IMAGE_METADATA_KEY = 'droptune-trainer-image';

export interface ContainerTrainingOptions {
  /** `$DROPTUNE_HOME`: logs go under it; with `file` storage its `buckets/` is mounted. */
  home: string;
  /**
   * `file` (the local stack): `<home>/buckets` is mounted at the same path so `file://` URIs
   * resolve, and the container runs as root (the host folders are root's). `gs` (the cloud path):
   * nothing is mounted and the container runs as the image's own user (uid 10001), as on the VM.
   */
  storage?: 'file' | 'gs';
  /** Image when the insert body names none (the cloud always takes it from metadata). */
  image?: string;
  /** Extra environment every trainer gets (the VM's: GCE_METADATA_HOST, STORAGE_EMULATOR_HOST). */
  extraEnv?: Record<string, string>;
  /** Container output goes to `<logDir>/<instance>.log` (default `<home>/logs/training`). */
  logDir?: string;
  /** Real milliseconds per second of maxRunDuration (default 1000; tests shrink it). */
  msPerSecond?: number;
  /** SIGTERM grace before SIGKILL on delete: Compute Engine's Spot notice is 30 s. */
  stopGraceSeconds?: number;
  /** Containers carry `droptune-session=<session>`, so `close` removes every one it started. */
  session?: string;
  faults?: Pick<TrainingFaults, 'crashWithExitCode' | 'hang'>;
}

interface ContainerInstance {
  state: InstanceState;
  container: string;
  child: ChildProcess;
  tail: Tail;
  timers: NodeJS.Timeout[];
  runId: string | undefined;
}

/**
 * The Compute Engine twin that runs what the VM's startup script runs: read the trainer image
 * and environment from the instance metadata and `run` the trainer image once (here with
 * podman, on CPU; the VM adds `--gpus all`). The instance is RUNNING while the container runs
 * and TERMINATED when it exits (the script powers the VM off); delete stops the container
 * with the Spot notice's grace. A missing image or a failing container ends like on the VM:
 * TERMINATED without a manifest, the container's output in `lastOutput`.
 */
export class ContainerTrainingBackend implements TrainingBackend {
  private readonly instances = new Map<string, ContainerInstance>();
  private latestTail: Tail | undefined;
  readonly session: string;
  /** Every insert that created an instance, in order. */
  readonly inserted: InstanceSpec[] = [];

  constructor(private readonly options: ContainerTrainingOptions) {
    this.session = options.session ?? randomUUID().slice(0, 8);
  }

  private key(project: string, zone: string, name: string): string {
    return `${project}/${zone}/${name}`;
  }

  /** The image the startup script would run: metadata item droptune-trainer-image. */
  imageOf(spec: InstanceSpec): string {
    const items = (spec.body.metadata as { items?: { key: string; value: string }[] } | undefined)?.items;
    const image = items?.find((i) => i.key === TRAINER_IMAGE_METADATA_KEY)?.value ?? this.options.image;
    if (!image)
      throw new Error(`container training backend: metadata item ${TRAINER_IMAGE_METADATA_KEY} is required`);
    return image;
  }

  async insert(spec: InstanceSpec): Promise<InstanceState> {
    const key = this.key(spec.project, spec.zone, spec.name);
    if (this.instances.has(key)) {
      throw new InsertError(
        'ALREADY_EXISTS',
        `The resource 'projects/${spec.project}/zones/${spec.zone}/instances/${spec.name}' already exists`,
      );
    }
    const image = this.imageOf(spec);
    const home = resolve(this.options.home);
    const mounted = (this.options.storage ?? 'file') === 'file';
    const env: Record<string, string> = {
      ...(mounted ? { DROPTUNE_HOME: home } : {}),
      ...this.options.extraEnv,
      ...spec.env,
    };
    const container = `droptune-${this.session}-${spec.name}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
    const f = this.options.faults ?? {};
    let command: string[] = [];
    let entrypoint: string[] = [];
    if (f.crashWithExitCode !== undefined) {
      entrypoint = ['--entrypoint', 'python'];
      command = ['-c', `import sys; sys.exit(${Number(f.crashWithExitCode)})`];
    } else if (f.hang) {
      entrypoint = ['--entrypoint', 'python'];
      command = ['-c', 'import time\nwhile True: time.sleep(1)'];
    }
    const argv = podmanArgv([
      'run',
      '--rm',
      '--name',
      container,
      '--label',
      `droptune-session=${this.session}`,
      '--label',
      `droptune-instance=${spec.name}`,
      ...PODMAN_RUN_FLAGS,
      '--stop-timeout',
      String(this.options.stopGraceSeconds ?? 30),
      // file:// buckets: the same path inside as outside. The host directories belong to root,
      // so the container runs as root then; with gs:// (the cloud path) nothing is mounted and
      // the image's USER (uid 10001) runs it.
      ...(mounted ? ['--volume', `${join(home, 'buckets')}:${join(home, 'buckets')}`, '--user', '0'] : []),
      // Values come from podman's own environment: nothing of the env on the command line.
      ...Object.keys(env).flatMap((k) => ['--env', k]),
      ...entrypoint,
      image,
      ...command,
    ]);
    mkdirSync(join(home, 'buckets'), { recursive: true });
    const logDir = this.options.logDir ?? join(home, 'logs', 'training');
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(join(logDir, `${spec.name}.log`), { flags: 'a' });
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail = new Tail();
    this.latestTail = tail;
    for (const s of [child.stdout, child.stderr]) {
      s?.on('data', (c: Buffer) => {
        log.write(c);
        tail.push(c);
      });
    }
    const state: InstanceState = {
      project: spec.project,
      zone: spec.zone,
      name: spec.name,
      status: 'RUNNING',
      provisioningModel: spec.provisioningModel,
      createdAt: new Date(),
      body: spec.body,
      labels: { ...((spec.body.labels as Record<string, string> | undefined) ?? {}) },
    };
    const inst: ContainerInstance = {
      state,
      container,
      child,
      tail,
      timers: [],
      runId: spec.env.DROPTUNE_RUN_ID,
    };
    this.inserted.push(spec);
    this.instances.set(key, inst);
    child.on('exit', (code) => {
      state.exitCode = code;
      if (state.status !== 'STOPPING') state.status = 'TERMINATED';
      // The startup script's last line on the VM's serial console, where an operator looks.
      const last = `droptune: trainer exited with ${code}\n`;
      tail.push(last);
      log.end(last);
    });
    if (spec.maxRunDurationSeconds !== undefined) {
      // scheduling.maxRunDuration with instanceTerminationAction DELETE: the VM removes itself.
      const ms = spec.maxRunDurationSeconds * (this.options.msPerSecond ?? 1000);
      inst.timers.push(setTimeout(() => void this.delete(spec.project, spec.zone, spec.name), ms).unref());
    }
    return { ...state };
  }

  get(project: string, zone: string, name: string): InstanceState | undefined {
    const inst = this.instances.get(this.key(project, zone, name));
    return inst ? { ...inst.state } : undefined;
  }

  /** The container's last output lines (podman's own error when it could not start). */
  lastOutput(project: string, zone: string, name: string, lines = 5): string | undefined {
    return this.instances.get(this.key(project, zone, name))?.tail.lastLines(lines);
  }

  /**
   * The last output of the most recent instance, even once the workflow deleted it (the
   * rehearsal's failure report: on the VM, its serial console outlives the container).
   */
  lastOutputOfLatest(lines = 20): string | undefined {
    return this.latestTail?.lastLines(lines);
  }

  async delete(project: string, zone: string, name: string): Promise<boolean> {
    const key = this.key(project, zone, name);
    const inst = this.instances.get(key);
    if (!inst) return false;
    inst.state.status = 'STOPPING';
    for (const t of inst.timers) clearTimeout(t);
    const grace = this.options.stopGraceSeconds ?? 30;
    // SIGTERM to the trainer (it checkpoints), SIGKILL after the grace, like a Spot notice.
    await podman(['stop', '-t', String(grace), inst.container]).catch(() => '');
    await terminate(inst.child, 5000);
    await exited(inst.child);
    await podman(['rm', '-f', inst.container]).catch(() => '');
    this.instances.delete(key);
    return true;
  }

  /** Deletes every container training `runId` (a workflow execution stopped without its cleanup). */
  async deleteForRun(runId: string): Promise<number> {
    const mine = [...this.instances.values()].filter((i) => i.runId === runId).map((i) => i.state);
    await Promise.all(mine.map((s) => this.delete(s.project, s.zone, s.name)));
    return mine.length;
  }

  /** Containers are never preempted here: no system events. */
  operations(_project: string, _zone: string): ZoneOperation[] {
    return [];
  }

  list(): InstanceState[] {
    return [...this.instances.values()].map((i) => ({ ...i.state }));
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((s) => this.delete(s.project, s.zone, s.name)));
    await removeLabelled(`droptune-session=${this.session}`);
  }
}
