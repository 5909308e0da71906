/**
 * Runs any workflow file on the local runtime and answers like `droptune workflow run`:
 * `{"result": …}` (exit 0) or `{"error": {"tags": […], "message": …}}` (exit 1). Real HTTP calls;
 * connector calls need bindings (the local stack passes its backends).
 *
 *   tsx workflows/run-file.ts <file.yaml> [--args '<json>'] [--env KEY=VALUE]...
 *     [--project P] [--location L] [--workflow-id W] [--revision-id R] [--execution-id E]
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import {
  type BuiltinFn,
  type ExecuteOptions,
  loadWorkflowSource,
  toJs,
  WorkflowError,
  WorkflowLoadError,
} from './runtime/index.ts';

export type RunFileOutcome =
  | { ok: true; result: unknown }
  | { ok: false; error: { tags: string[]; message: string; [k: string]: unknown } };

export interface RunFileOptions extends ExecuteOptions {
  /** The execution argument (`main`'s param). */
  args?: unknown;
  /** Connector bindings (e.g. `localBindings(...)` from workflows/connectors). */
  bindings?: Record<string, BuiltinFn>;
}

/**
 * The built-in variables `sys.get_env` answers on Cloud Workflows, each settable by a flag of
 * `workflow run` or taken from the environment of the same name (flags win), so a file that
 * reads them runs locally as it does in the cloud.
 */
export const BUILTIN_VARIABLE_FLAGS = {
  '--project': 'GOOGLE_CLOUD_PROJECT_ID',
  '--location': 'GOOGLE_CLOUD_LOCATION',
  '--workflow-id': 'GOOGLE_CLOUD_WORKFLOW_ID',
  '--revision-id': 'GOOGLE_CLOUD_WORKFLOW_REVISION_ID',
  '--execution-id': 'GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID',
} as const;

type BuiltinFlag = keyof typeof BUILTIN_VARIABLE_FLAGS;

/** The built-in variables from `processEnv`, overridden by flag values (keyed by flag). */
export function builtinVariables(
  processEnv: Readonly<Record<string, string | undefined>>,
  flags: Partial<Record<BuiltinFlag, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [flag, name] of Object.entries(BUILTIN_VARIABLE_FLAGS)) {
    const v = flags[flag as BuiltinFlag] ?? processEnv[name];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/** Loads and executes one workflow file; never throws for workflow errors, only for I/O bugs. */
export async function runWorkflowFile(path: string, options: RunFileOptions = {}): Promise<RunFileOutcome> {
  const source = await readFile(path, 'utf8');
  try {
    const wf = loadWorkflowSource(source, options.bindings);
    return { ok: true, result: await wf.execute(options.args, options) };
  } catch (err) {
    if (err instanceof WorkflowLoadError)
      return { ok: false, error: { tags: ['LoadError'], message: err.message, line: err.line ?? null } };
    if (err instanceof WorkflowError) {
      const v = toJs(err.value);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const m = v as Record<string, unknown>;
        return {
          ok: false,
          error: {
            ...m,
            tags: Array.isArray(m.tags) ? (m.tags as string[]) : [],
            message: typeof m.message === 'string' ? m.message : JSON.stringify(v),
          },
        };
      }
      return { ok: false, error: { tags: [], message: typeof v === 'string' ? v : JSON.stringify(v) } };
    }
    throw err;
  }
}

/** Parses `<file> [--args json] [--env K=V]...`; throws a usage message on bad input. */
export function parseRunFileArgv(argv: string[]): {
  file: string;
  args: unknown;
  env: Record<string, string>;
} {
  let file: string | undefined;
  let args: unknown;
  const env: Record<string, string> = {};
  const flags: Partial<Record<BuiltinFlag, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a in BUILTIN_VARIABLE_FLAGS) {
      const v = argv[++i];
      if (v === undefined || v === '') throw new Error(`${a} needs a value`);
      flags[a as BuiltinFlag] = v;
    } else if (a === '--args') {
      const text = argv[++i];
      if (text === undefined) throw new Error('--args needs a JSON value');
      try {
        args = JSON.parse(text);
      } catch {
        throw new Error(`--args is not valid JSON: ${text}`);
      }
    } else if (a === '--env') {
      const kv = argv[++i] ?? '';
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`--env expects KEY=VALUE, got ${JSON.stringify(kv)}`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a.startsWith('--')) {
      throw new Error(
        `unknown option ${a} (known: --args, --env, ${Object.keys(BUILTIN_VARIABLE_FLAGS).join(', ')})`,
      );
    } else if (file === undefined) file = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!file) throw new Error('usage: workflow run <file.yaml> [--args <json>] [--env KEY=VALUE]...');
  return { file, args, env: { ...builtinVariables(process.env, flags), ...env } };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseRunFileArgv>;
  try {
    parsed = parseRunFileArgv(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const out = await runWorkflowFile(parsed.file, {
    args: parsed.args,
    env: parsed.env,
    log: (e) => process.stderr.write(`${JSON.stringify({ severity: e.severity, data: e.data })}\n`),
  });
  process.stdout.write(`${JSON.stringify(out.ok ? { result: out.result } : { error: out.error })}\n`);
  process.exitCode = out.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
