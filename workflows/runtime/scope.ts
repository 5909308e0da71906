import { wfError } from './errors.ts';
import type { WfValue } from './values.ts';

/**
 * Variables of one (sub)workflow invocation. A `for` body gets a child scope: variables it
 * creates vanish after the loop, variables that already existed outside are updated in place
 * (Cloud Workflows' documented loop scoping).
 */
export class Scope<C = unknown> {
  readonly vars = new Map<string, WfValue>();
  readonly parent: Scope<C> | undefined;
  /** Execution-wide services (env, clock, http, connectors) for builtins. */
  readonly rt: C;

  constructor(parent: Scope<C> | undefined, rt: C) {
    this.parent = parent;
    this.rt = rt;
  }

  get(name: string): WfValue {
    let s: Scope<C> | undefined = this;
    while (s) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
      s = s.parent;
    }
    throw wfError('KeyError', `variable "${name}" is not defined`);
  }

  has(name: string): boolean {
    let s: Scope<C> | undefined = this;
    while (s) {
      if (s.vars.has(name)) return true;
      s = s.parent;
    }
    return false;
  }

  set(name: string, v: WfValue): void {
    let s: Scope<C> | undefined = this;
    while (s) {
      if (s.vars.has(name)) {
        s.vars.set(name, v);
        return;
      }
      s = s.parent;
    }
    this.vars.set(name, v);
  }
}
