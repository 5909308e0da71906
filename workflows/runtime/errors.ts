import type { WfMap, WfValue } from './values.ts';

/**
 * Error tags that Cloud Workflows raises, so `except` blocks written against the cloud
 * (`${"HttpError" in e.tags}`) behave the same here.
 */
export type ErrorTag =
  | 'AuthError'
  | 'ConnectionError'
  | 'ConnectionFailedError'
  | 'HttpError'
  | 'IndexError'
  | 'KeyError'
  | 'OperationError'
  | 'ParallelNestingError'
  | 'RecursionError'
  | 'ResourceLimitError'
  | 'ResponseTypeError'
  | 'SystemError'
  | 'TimeoutError'
  | 'TypeError'
  | 'UnhandledBranchError'
  | 'ValueError'
  | 'ZeroDivisionError';

/**
 * A value raised inside a workflow: an error map (`{tags, message, ...}`) from the runtime or
 * whatever a `raise` step raised (string or map). Thrown as a JS exception.
 */
export class WorkflowError extends Error {
  readonly value: WfValue;
  constructor(value: WfValue) {
    super(errorMessage(value));
    this.name = 'WorkflowError';
    this.value = value;
  }
  /** Tags of a map error; `[]` for raised strings and tagless maps. */
  get tags(): string[] {
    const v = this.value;
    if (v && typeof v === 'object' && !Array.isArray(v) && Array.isArray((v as WfMap).tags)) {
      return ((v as WfMap).tags as WfValue[]).filter((t): t is string => typeof t === 'string');
    }
    return [];
  }
}

function errorMessage(v: WfValue): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as WfMap).message === 'string') {
    return (v as WfMap).message as string;
  }
  return 'workflow error';
}

/** Builds a runtime error map with one tag and a message, plus extra fields (HttpError: code, body, headers). */
export function wfError(tag: ErrorTag | ErrorTag[], message: string, extra: WfMap = {}): WorkflowError {
  return new WorkflowError({ message, tags: Array.isArray(tag) ? tag : [tag], ...extra });
}

/**
 * A workflow definition problem found before anything runs: unsupported syntax, bad step
 * shape, unknown `next` target or function. Names the construct and the line.
 */
export class WorkflowLoadError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'WorkflowLoadError';
    this.line = line;
  }
}
