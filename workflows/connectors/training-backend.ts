import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { localObjectPath } from '../../shared/storage/local-buckets.ts';
import { TRAINER_DIR, trainerPython } from '../../shared/trainer-python.ts';
import { exited, Tail, terminate } from './process-util.ts';

/** What the pipeline asks Compute Engine for, reduced to what a training backend needs. */
export interface InstanceSpec {
  project: string;
  zone: string;
  name: string;
  /** `SPOT` or `STANDARD` (on-demand). */
  provisioningModel: 'SPOT' | 'STANDARD';
  /** The VM deletes itself after this long (scheduling.maxRunDuration). */
  maxRunDurationSeconds?: number;
  /** The trainer environment (DESIGN.md): DROPTUNE_RUN_ID, DROPTUNE_DATASET_URI, … */
  env: Record<string, string>;
  /** The full insert body, echoed back by `get` like the Instance resource. */
  body: Record<string, unknown>;
}

export type InstanceStatus = 'PROVISIONING' | 'RUNNING' | 'STOPPING' | 'TERMINATED';

export interface InstanceState {
  project: string;
  zone: string;
  name: string;
  status: InstanceStatus;
  provisioningModel: 'SPOT' | 'STANDARD';
  /** The instance's labels (e.g. `droptune-run`), for list filters. */
  labels: Record<string, string>;
  /** Trainer exit code once the VM has stopped (local only; the cloud shows TERMINATED). */
  exitCode?: number | null;
  createdAt: Date;
  body: Record<string, unknown>;
}

/**
 * A system event Compute Engine records as a zone operation. Preemption is recorded as
 * `compute.instances.preempted` (Google's documented way to tell a preempted VM from one that
 * was deleted otherwise); a `maxRunDuration` deletion records no preemption.
 */
export interface ZoneOperation {
  operationType: 'compute.instances.preempted';
  project: string;
  zone: string;
  name: string;
  time: Date;
}

/** Why an insert (or delete) failed, in Compute Engine's own error codes. */
export class InsertError extends Error {
  constructor(
    readonly code:
      | 'ZONE_RESOURCE_POOL_EXHAUSTED'
      | 'QUOTA_EXCEEDED'
      | 'ALREADY_EXISTS'
      | 'INTERNAL_ERROR'
      | 'UNAVAILABLE',
    message: string,
  ) {
    super(message);
    this.name = 'InsertError';
  }
}

/**
 * Where training VMs come from. The cloud is Compute Engine via the Workflows connector; the
 * local stack runs the trainer as a child process. Instances are keyed by project/zone/name.
 */
export interface TrainingBackend {
  insert(spec: InstanceSpec): Promise<InstanceState>;
  get(project: string, zone: string, name: string): InstanceState | undefined;
  /** Stops and removes the instance; false when there was none. */
  delete(project: string, zone: string, name: string): Promise<boolean>;
  list(): InstanceState[];
  /** Deletes every instance training `runId` (its execution stopped without cleanup); how many. */
  deleteForRun(runId: string): Promise<number>;
  /** System events (preemptions) in a zone, oldest first. */
  operations(project: string, zone: string): ZoneOperation[];
  /** Deletes every instance (stack shutdown). */
  close(): Promise<void>;
}

/** Faults a test can switch on to exercise the pipeline's recovery paths on real processes. */
export interface TrainingFaults {
  /** Inserts into these zones fail with ZONE_RESOURCE_POOL_EXHAUSTED. */
  exhaustedZones?: string[];
  /** Inserts of these machine types (any zone) fail with ZONE_RESOURCE_POOL_EXHAUSTED: a GPU type out of stock. */
  exhaustedMachineTypes?: string[];
  /** Inserts into these zones fail with QUOTA_EXCEEDED (HTTP 403 in the cloud). */
  quotaExceededZones?: string[];
  /** Every Spot insert fails with ZONE_RESOURCE_POOL_EXHAUSTED (no Spot capacity anywhere). */
  spotUnavailable?: boolean;
  /** Preempt the first Spot instance this long after it starts: SIGTERM, then the VM is deleted. */
  preemptSpotAfterMs?: number;
  /**
   * Preempt the first Spot instance as soon as its trainer has saved a checkpoint (progress,
   * not wall time, so the test means the same on a fast and a loaded machine).
   */
  preemptSpotAfterCheckpoint?: boolean;
  /**
   * The first insert creates the VM and then fails (its operation ends in INTERNAL_ERROR): the
   * pipeline must still find and delete the VM it did not get back.
   */
  insertFailsAfterCreate?: boolean;
  /** The first N instances.delete calls fail with HTTP 503 (the VM stays). */
  failDeletes?: number;
  /** Instead of the trainer, run a process that exits with this code without writing anything. */
  crashWithExitCode?: number;
  /** Instead of the trainer, run a process that never finishes. */
  hang?: boolean;
  /**
   * When the trainer process ends, append bytes to this file of the run's output (bit rot or
   * a half-finished upload): registration must then find a checksum mismatch.
   */
  corruptOutputFile?: string;
}

export interface LocalTrainingOptions {
  /** Python with droptune_trainer importable (default: `trainerPython()`, shared/trainer-python.ts). */
  python?: string;
  /** Working directory of the trainer (default `training-image/`). */
  cwd?: string;
  /** `$DROPTUNE_HOME`, so `file://bucket/...` URIs resolve to the same buckets as the stack's. */
  home: string;
  /** Extra environment every trainer gets (e.g. DROPTUNE_API_TOKEN, DROPTUNE_CACHE_DIR). */
  extraEnv?: Record<string, string>;
  /** Trainer stdout/stderr go to `<logDir>/<instance>.log` (default `<home>/logs/training`). */
  logDir?: string;
  /** Real milliseconds per second of maxRunDuration (default 1000; tests shrink it). */
  msPerSecond?: number;
  faults?: TrainingFaults;
}

interface LocalInstance {
  state: InstanceState;
  /** The run it trains (DROPTUNE_RUN_ID of its environment). */
  runId: string | undefined;
  child: ChildProcess;
  tail: Tail;
  timers: NodeJS.Timeout[];
}

/** The local stack's "Compute Engine": each instance is a trainer child process. */
export class LocalTrainingBackend implements TrainingBackend {
  private readonly instances = new Map<string, LocalInstance>();
  private readonly options: LocalTrainingOptions;
  private spotPreempted = false;
  private insertFailed = false;
  private deleteFailures = 0;
  private readonly events: ZoneOperation[] = [];
  /** Names of instances that were preempted (for tests and logs). */
  readonly preempted: string[] = [];
  /** Every insert that created an instance, in order (what the pipeline asked Compute Engine for). */
  readonly inserted: InstanceSpec[] = [];

  constructor(options: LocalTrainingOptions) {
    this.options = options;
  }

  private key(project: string, zone: string, name: string): string {
    return `${project}/${zone}/${name}`;
  }

  async insert(spec: InstanceSpec): Promise<InstanceState> {
    const f = this.options.faults ?? {};
    const where = `projects/${spec.project}/zones/${spec.zone}`;
    const machineType =
      String(spec.body.machineType ?? '')
        .split('/')
        .pop() ?? '';
    if (
      f.exhaustedZones?.includes(spec.zone) ||
      f.exhaustedMachineTypes?.includes(machineType) ||
      (f.spotUnavailable && spec.provisioningModel === 'SPOT')
    ) {
      throw new InsertError(
        'ZONE_RESOURCE_POOL_EXHAUSTED',
        `The zone '${where}' does not have enough resources available to fulfill the request. Try a different zone, or try again later.`,
      );
    }
    if (f.quotaExceededZones?.includes(spec.zone)) {
      throw new InsertError(
        'QUOTA_EXCEEDED',
        `Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally (zone ${spec.zone}).`,
      );
    }
    const key = this.key(spec.project, spec.zone, spec.name);
    if (this.instances.has(key)) {
      throw new InsertError(
        'ALREADY_EXISTS',
        `The resource '${where}/instances/${spec.name}' already exists`,
      );
    }
    const python = this.options.python ?? trainerPython();
    const cwd = this.options.cwd ?? TRAINER_DIR;
    let args = ['-m', 'droptune_trainer'];
    if (f.crashWithExitCode !== undefined)
      args = ['-c', `import sys; sys.exit(${Number(f.crashWithExitCode)})`];
    if (f.hang) args = ['-c', 'import time\nwhile True: time.sleep(1)'];
    const logDir = this.options.logDir ?? join(this.options.home, 'logs', 'training');
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(join(logDir, `${spec.name}.log`), { flags: 'a' });
    const child = spawn(python, args, {
      cwd,
      env: {
        ...process.env,
        DROPTUNE_HOME: resolve(this.options.home),
        ...this.options.extraEnv,
        ...spec.env,
        // The fault preempts after the first checkpoint: ask this trainer for an early one (it
        // checkpoints by time, every 10 minutes by default).
        ...(spec.provisioningModel === 'SPOT' && f.preemptSpotAfterCheckpoint && !this.spotPreempted
          ? { DROPTUNE_CHECKPOINT_EVERY_S: '0.001' }
          : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail = new Tail();
    child.stdout?.on('data', (c: Buffer) => {
      log.write(c);
    });
    child.stderr?.on('data', (c: Buffer) => {
      log.write(c);
      tail.push(c);
    });
    const state: InstanceState = {
      project: spec.project,
      zone: spec.zone,
      name: spec.name,
      status: 'RUNNING',
      provisioningModel: spec.provisioningModel,
      labels: { ...((spec.body.labels as Record<string, string> | undefined) ?? {}) },
      createdAt: new Date(),
      body: spec.body,
    };
    const inst: LocalInstance = { state, child, tail, timers: [], runId: spec.env.DROPTUNE_RUN_ID };
    this.inserted.push(spec);
    this.instances.set(key, inst);
    child.on('error', (err) => {
      // The process could not start (a wrong DROPTUNE_PYTHON, no .venv): what a VM whose container
      // cannot start looks like. Without this listener the error event ended the whole stack.
      const reason = `cannot start the trainer: ${err.message} (set DROPTUNE_PYTHON to a Python with droptune_trainer, or run scripts/py-env.sh)`;
      tail.push(reason);
      log.write(`${reason}\n`);
      this.writeFailure(spec.env, reason);
      state.exitCode = child.exitCode ?? 127;
      if (state.status !== 'STOPPING') state.status = 'TERMINATED';
      log.end();
    });
    child.on('exit', (code) => {
      if (f.corruptOutputFile) this.corrupt(spec.env.DROPTUNE_OUTPUT_URI, f.corruptOutputFile);
      state.exitCode = code;
      if (state.status !== 'STOPPING') state.status = 'TERMINATED';
      log.end();
    });
    const ms = this.options.msPerSecond ?? 1000;
    if (spec.maxRunDurationSeconds !== undefined) {
      // scheduling.maxRunDuration with instanceTerminationAction DELETE: the VM removes itself.
      inst.timers.push(
        setTimeout(
          () => void this.remove(spec.project, spec.zone, spec.name),
          spec.maxRunDurationSeconds * ms,
        ).unref(),
      );
    }
    if (spec.provisioningModel === 'SPOT' && f.preemptSpotAfterMs !== undefined && !this.spotPreempted) {
      this.spotPreempted = true;
      inst.timers.push(setTimeout(() => this.preempt(spec), f.preemptSpotAfterMs).unref());
    }
    if (spec.provisioningModel === 'SPOT' && f.preemptSpotAfterCheckpoint && !this.spotPreempted) {
      this.spotPreempted = true;
      const checkpoints = this.outputPath(spec.env.DROPTUNE_OUTPUT_URI, 'checkpoints');
      const poll = setInterval(() => {
        if (!checkpoints || !existsSync(checkpoints) || readdirSync(checkpoints).length === 0) return;
        clearInterval(poll);
        this.preempt(spec);
      }, 25);
      poll.unref();
      inst.timers.push(poll);
    }
    if (f.insertFailsAfterCreate && !this.insertFailed) {
      this.insertFailed = true;
      throw new InsertError(
        'INTERNAL_ERROR',
        `Internal error while creating ${where}/instances/${spec.name}. Please try again.`,
      );
    }
    return { ...state };
  }

  /** Spot preemption: recorded as a zone operation, then the VM is deleted (termination action DELETE). */
  private preempt(spec: InstanceSpec): void {
    this.preempted.push(spec.name);
    this.events.push({
      operationType: 'compute.instances.preempted',
      project: spec.project,
      zone: spec.zone,
      name: spec.name,
      time: new Date(),
    });
    void this.remove(spec.project, spec.zone, spec.name);
  }

  operations(project: string, zone: string): ZoneOperation[] {
    return this.events.filter((e) => e.project === project && e.zone === zone);
  }

  /** The local path of `<output>/<file>` for a `file://` output prefix. */
  private outputPath(outputUri: string | undefined, file: string): string | undefined {
    const m = /^file:\/\/([^/]+)\/(.*)$/.exec(outputUri ?? '');
    if (!m) return undefined;
    return localObjectPath(this.options.home, m[1] as string, `${m[2]}${file}`);
  }

  /**
   * `failure.json` in the run's output, as the trainer writes it (create-only), so the pipeline
   * fails the run with this reason instead of "exited without writing manifest.json".
   */
  private writeFailure(env: Record<string, string>, reason: string): void {
    const path = this.outputPath(env.DROPTUNE_OUTPUT_URI, 'failure.json');
    if (!path) return;
    const body = {
      runId: env.DROPTUNE_RUN_ID,
      error: reason,
      code: 'failed_precondition',
      time: new Date().toISOString(),
    };
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${JSON.stringify(body)}\n`, { flag: 'wx' });
    } catch {
      // Best effort, as in the trainer: the instance still stops and the log has the reason.
    }
  }

  /** Appends garbage to `<output>/<file>` of a `file://` output prefix (fault injection). */
  private corrupt(outputUri: string | undefined, file: string): void {
    const m = /^file:\/\/([^/]+)\/(.*)$/.exec(outputUri ?? '');
    if (!m) return;
    const path = localObjectPath(this.options.home, m[1] as string, `${m[2]}${file}`);
    if (existsSync(path)) appendFileSync(path, 'corrupted by fault injection');
  }

  get(project: string, zone: string, name: string): InstanceState | undefined {
    const inst = this.instances.get(this.key(project, zone, name));
    return inst ? { ...inst.state } : undefined;
  }

  /** The trainer's last stderr lines (for failure reasons in logs). */
  lastOutput(project: string, zone: string, name: string): string | undefined {
    return this.instances.get(this.key(project, zone, name))?.tail.lastLines();
  }

  async delete(project: string, zone: string, name: string): Promise<boolean> {
    if (this.deleteFailures < (this.options.faults?.failDeletes ?? 0) && this.get(project, zone, name)) {
      this.deleteFailures++;
      throw new InsertError('UNAVAILABLE', 'The service is currently unavailable.');
    }
    return this.remove(project, zone, name);
  }

  /** Stops and removes the instance (no fault injection: the system's own deletions). */
  private async remove(project: string, zone: string, name: string): Promise<boolean> {
    const key = this.key(project, zone, name);
    const inst = this.instances.get(key);
    if (!inst) return false;
    inst.state.status = 'STOPPING';
    for (const t of inst.timers) clearTimeout(t);
    // Compute Engine gives a preempted/deleted VM ~30 s of SIGTERM grace; the trainer checkpoints in it.
    await terminate(inst.child, 30_000);
    await exited(inst.child);
    this.instances.delete(key);
    return true;
  }

  /**
   * Deletes every instance training `runId`: what the stack does when the run's workflow
   * execution ended without its cleanup steps (a resource limit stops it like an abort).
   */
  async deleteForRun(runId: string): Promise<number> {
    const mine = [...this.instances.values()].filter((i) => i.runId === runId).map((i) => i.state);
    await Promise.all(mine.map((s) => this.delete(s.project, s.zone, s.name)));
    return mine.length;
  }

  list(): InstanceState[] {
    return [...this.instances.values()].map((i) => ({ ...i.state }));
  }

  async close(): Promise<void> {
    await Promise.all(this.list().map((s) => this.remove(s.project, s.zone, s.name)));
  }
}
