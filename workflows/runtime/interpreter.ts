import { type Clock, type ExecContext, type LogEntry, realClock } from './context.ts';
import { WorkflowError, wfError } from './errors.ts';
import { type Evaluator, evaluate, type Library } from './expr/compile.ts';
import { asBool, getIndex } from './expr/ops.ts';
import type { AssignTarget, Program, RetrySpec, Step, StepBody, StepList, WorkflowDef } from './program.ts';
import { Scope } from './scope.ts';
import { clone, isMap, typeName, type WfMap, type WfValue } from './values.ts';

/** Cloud Workflows quotas mirrored by default: steps per execution and subworkflow call depth. */
export const DEFAULT_MAX_STEPS = 100_000;
export const DEFAULT_MAX_DEPTH = 20;

export interface ExecuteOptions {
  /** Values `sys.get_env` returns (the workflow's user env vars); GOOGLE_CLOUD_* built-ins are added. */
  env?: Record<string, string>;
  clock?: Clock;
  log?: (entry: LogEntry) => void;
  authHeaders?: ExecContext['authHeaders'];
  signal?: AbortSignal;
  executionId?: string;
  maxSteps?: number;
  maxDepth?: number;
  /** Called before every step; used for tracing and per-stage timing. */
  onStep?: (step: { name: string; line: number; workflow: string }) => void;
}

type Signal =
  | undefined
  | { k: 'jump'; target: string }
  | { k: 'end' }
  | { k: 'break' }
  | { k: 'continue' }
  | { k: 'return'; value: WfValue };

const END: Signal = { k: 'end' };
const BREAK: Signal = { k: 'break' };
const CONTINUE: Signal = { k: 'continue' };

function nextSignal(target: string): Signal {
  if (target === 'end') return END;
  if (target === 'break') return BREAK;
  if (target === 'continue') return CONTINUE;
  return { k: 'jump', target };
}

/** Runs a loaded program: one instance per execution. */
export class Interpreter {
  readonly program: Program;
  readonly lib: Library;
  readonly ctx: ExecContext;
  stepsExecuted = 0;
  private depth = 0;
  private readonly maxSteps: number;
  private readonly maxDepth: number;
  private readonly onStep: ExecuteOptions['onStep'];
  private current = 'main';

  constructor(program: Program, lib: Library, options: ExecuteOptions = {}) {
    this.program = program;
    this.lib = lib;
    const executionId = options.executionId ?? `local-${Date.now().toString(36)}`;
    this.ctx = {
      env: {
        GOOGLE_CLOUD_PROJECT_ID: 'local',
        GOOGLE_CLOUD_LOCATION: 'local',
        GOOGLE_CLOUD_WORKFLOW_ID: 'local',
        GOOGLE_CLOUD_WORKFLOW_REVISION_ID: '000001-local',
        GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID: executionId,
        ...options.env,
      },
      clock: options.clock ?? realClock,
      log: options.log ?? (() => {}),
      authHeaders: options.authHeaders,
      signal: options.signal ?? new AbortController().signal,
      callSubworkflow: (name, args) => this.callPositional(name, args),
    };
    this.maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.onStep = options.onStep;
  }

  /** Runs `main` with the execution argument; resolves to its return value or throws a WorkflowError. */
  async run(args: WfValue = null): Promise<WfValue> {
    const main = this.program.workflows.get('main') as WorkflowDef;
    const named = new Map<string, WfValue>();
    if (main.params[0]) named.set(main.params[0].name, args);
    return this.invoke(main, named);
  }

  /** `${name(a, b)}` in an expression: positional arguments in the order of the params. */
  private callPositional(name: string, args: WfValue[]): Promise<WfValue> {
    const wf = this.program.workflows.get(name) as WorkflowDef;
    const named = new Map<string, WfValue>();
    args.forEach((v, i) => {
      const p = wf.params[i];
      if (p) named.set(p.name, clone(v));
    });
    return this.invoke(wf, named);
  }

  private async invoke(wf: WorkflowDef, named: Map<string, WfValue>): Promise<WfValue> {
    if (this.depth >= this.maxDepth) {
      throw wfError(
        'RecursionError',
        `maximum call stack depth (${this.maxDepth}) exceeded calling ${wf.name}`,
      );
    }
    const scope = new Scope<ExecContext>(undefined, this.ctx);
    for (const p of wf.params) {
      if (named.has(p.name)) scope.vars.set(p.name, named.get(p.name) as WfValue);
      else if (!p.required)
        scope.vars.set(p.name, p.defaultValue ? clone(await evaluate(p.defaultValue, scope)) : null);
      else if (wf.name === 'main') scope.vars.set(p.name, null);
      else throw wfError('TypeError', `${wf.name}: missing argument ${p.name}`);
    }
    this.depth++;
    const outer = this.current;
    this.current = wf.name;
    try {
      const sig = await this.runList(wf.steps, scope);
      if (sig?.k === 'return') return sig.value;
      return null;
    } finally {
      this.depth--;
      this.current = outer;
    }
  }

  private async runList(list: StepList, scope: Scope<ExecContext>): Promise<Signal> {
    const steps = list.steps;
    let i = 0;
    while (i < steps.length) {
      const step = steps[i] as Step;
      if (++this.stepsExecuted > this.maxSteps) {
        throw wfError(
          'ResourceLimitError',
          `execution exceeded the limit of ${this.maxSteps} steps (at step "${step.name}")`,
        );
      }
      if (this.ctx.signal.aborted) throw wfError('SystemError', 'execution cancelled');
      this.onStep?.({ name: step.name, line: step.line, workflow: this.current });
      let sig = await this.runBody(step.body, scope);
      if (sig === undefined && step.next !== undefined) sig = nextSignal(step.next);
      if (sig === undefined) {
        i++;
        continue;
      }
      if (sig.k === 'jump') {
        const at = list.index.get(sig.target);
        if (at !== undefined) {
          i = at;
          continue;
        }
      }
      return sig;
    }
    return undefined;
  }

  private async runBody(body: StepBody, scope: Scope<ExecContext>): Promise<Signal> {
    switch (body.k) {
      case 'assign':
        for (const { target, value } of body.items)
          assign(scope, target, clone(await evaluate(value, scope)));
        return undefined;
      case 'call': {
        const v = await this.call(body, scope);
        if (body.result !== undefined) scope.set(body.result, v);
        return undefined;
      }
      case 'switch':
        for (const c of body.cases) {
          if (asBool(await evaluate(c.condition, scope), `switch condition on line ${c.line}`)) {
            const sig = c.body ? await this.runBody(c.body, scope) : undefined;
            if (sig !== undefined) return sig;
            return c.next !== undefined ? nextSignal(c.next) : undefined;
          }
        }
        return undefined;
      case 'for':
        return this.runFor(body, scope);
      case 'raise':
        throw new WorkflowError(clone(await evaluate(body.value, scope)));
      case 'return':
        return { k: 'return', value: await evaluate(body.value, scope) };
      case 'steps':
        return this.runList(body.steps, scope);
      case 'try':
        return this.runTry(body, scope);
      case 'noop':
        return undefined;
    }
  }

  private async call(body: StepBody & { k: 'call' }, scope: Scope<ExecContext>): Promise<WfValue> {
    if (body.kind === 'sub') {
      const wf = this.program.workflows.get(body.fn) as WorkflowDef;
      const named = new Map<string, WfValue>();
      for (const [k, ev] of body.named) named.set(k, clone(await evaluate(ev, scope)));
      return this.invoke(wf, named);
    }
    const f = this.lib.functions.get(body.fn);
    if (!f) throw wfError('SystemError', `function ${body.fn} is not bound`);
    const args: WfValue[] = [];
    for (const a of body.args) args.push(a === undefined ? null : await evaluate(a, scope));
    try {
      return await f.fn(args, scope);
    } catch (err) {
      if (err instanceof WorkflowError) throw err;
      // A bug or an unexpected failure in a binding: surface it as a catchable SystemError so
      // the workflow's cleanup (delete the VM) still runs, and keep the cause in the log.
      this.ctx.log({
        severity: 'ERROR',
        data: { call: body.fn, error: String((err as Error)?.stack ?? err) },
        time: this.ctx.clock.now(),
      });
      throw wfError('SystemError', `${body.fn}: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private async runFor(body: StepBody & { k: 'for' }, outer: Scope<ExecContext>): Promise<Signal> {
    const scope = new Scope<ExecContext>(outer, this.ctx);
    const iterate = async (value: WfValue, index: number): Promise<Signal | 'break'> => {
      if (body.value !== undefined) scope.vars.set(body.value, value);
      if (body.index !== undefined) scope.vars.set(body.index, BigInt(index));
      const sig = await this.runList(body.steps, scope);
      if (sig === undefined || sig.k === 'continue') return undefined;
      if (sig.k === 'break') return 'break';
      return sig;
    };
    if (body.inList) {
      const list = await evaluate(body.inList, scope);
      if (!Array.isArray(list)) {
        throw wfError(
          'TypeError',
          `for: "in" must be a list, got ${typeName(list)}${isMap(list) ? ' (iterate over keys(map))' : ''}`,
        );
      }
      const items = clone(list) as WfValue[];
      for (let i = 0; i < items.length; i++) {
        const r = await iterate(items[i] as WfValue, i);
        if (r === 'break') break;
        if (r !== undefined) return r;
      }
      return undefined;
    }
    const [fromEv, toEv] = body.range as [Evaluator, Evaluator];
    const from = await evaluate(fromEv, scope);
    const to = await evaluate(toEv, scope);
    for (const [n, v] of [
      ['start', from],
      ['end', to],
    ] as const) {
      if (typeof v !== 'bigint' && typeof v !== 'number')
        throw wfError('TypeError', `for range ${n} must be a number, got ${typeName(v)}`);
    }
    const isInt = typeof from === 'bigint';
    let i = 0;
    for (let x = Number(from); x <= Number(to); x += 1, i++) {
      const r = await iterate(isInt ? BigInt(x) : x, i);
      if (r === 'break') break;
      if (r !== undefined) return r;
    }
    return undefined;
  }

  private async runTry(body: StepBody & { k: 'try' }, scope: Scope<ExecContext>): Promise<Signal> {
    let retries = 0;
    for (;;) {
      try {
        return await this.runBody(body.body, scope);
      } catch (err) {
        if (!(err instanceof WorkflowError)) throw err;
        if (err.tags.includes('ResourceLimitError') || this.ctx.signal.aborted) throw err;
        if (body.retry && (await this.shouldRetry(body.retry, err, retries, scope))) {
          const delay = retryDelay(body.retry, retries, scope);
          retries++;
          await this.ctx.clock.sleep(delay * 1000, this.ctx.signal);
          continue;
        }
        if (!body.except) throw err;
        if (body.except.as !== undefined) scope.set(body.except.as, clone(err.value));
        return this.runList(body.except.steps, scope);
      }
    }
  }

  private async shouldRetry(
    spec: RetrySpec,
    err: WorkflowError,
    retries: number,
    scope: Scope<ExecContext>,
  ): Promise<boolean> {
    const max = spec.maxRetries(scope);
    if (typeof max !== 'bigint' || max < 0n)
      throw wfError('ValueError', `retry max_retries must be a non-negative integer, got ${typeName(max)}`);
    if (BigInt(retries) >= max) return false;
    let verdict: WfValue;
    if (spec.predicate.kind === 'sub') {
      const wf = this.program.workflows.get(spec.predicate.name) as WorkflowDef;
      const named = new Map<string, WfValue>();
      if (wf.params[0]) named.set(wf.params[0].name, clone(err.value));
      verdict = await this.invoke(wf, named);
    } else {
      const f = this.lib.functions.get(spec.predicate.name);
      verdict = f ? await f.fn([err.value], scope) : false;
    }
    return asBool(verdict, `retry predicate ${spec.predicate.name} result`);
  }
}

function retryDelay(spec: RetrySpec, retries: number, scope: Scope<ExecContext>): number {
  const num = (ev: Evaluator, what: string): number => {
    const v = ev(scope);
    if (typeof v !== 'bigint' && typeof v !== 'number')
      throw wfError('TypeError', `retry backoff ${what} must be a number`);
    return Number(v);
  };
  const initial = num(spec.initialDelay, 'initial_delay');
  const max = num(spec.maxDelay, 'max_delay');
  const mult = num(spec.multiplier, 'multiplier');
  return Math.min(initial * mult ** retries, max);
}

/** Writes `value` into `root.path…`, creating missing map keys along the way. */
function assign(scope: Scope<ExecContext>, target: AssignTarget, value: WfValue): void {
  if (target.path.length === 0) {
    scope.set(target.root, value);
    return;
  }
  let container = scope.get(target.root);
  const keys = target.path.map((p) => (typeof p === 'string' ? p : p(scope)));
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as WfValue;
    const last = i === keys.length - 1;
    if (Array.isArray(container)) {
      if (typeof key !== 'bigint')
        throw wfError('TypeError', `list indices must be integers, got ${typeName(key)}`);
      getIndex(container, key);
      if (last) container[Number(key)] = value;
      else container = container[Number(key)] as WfValue;
    } else if (isMap(container)) {
      if (typeof key !== 'string')
        throw wfError('TypeError', `map keys must be strings, got ${typeName(key)}`);
      if (last) container[key] = value;
      else {
        if (!Object.hasOwn(container, key) || container[key] === null) container[key] = {} as WfMap;
        container = container[key] as WfValue;
      }
    } else {
      throw wfError('TypeError', `cannot assign into ${typeName(container)} (assigning ${target.root})`);
    }
  }
}
