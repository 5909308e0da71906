import type { BuiltinFn, Library } from '../expr/compile.ts';
import type { WfValue } from '../values.ts';
import { coreFunctions } from './core.ts';
import { httpFunctions } from './http.ts';
import { retryConstants, sysFunctions } from './sys.ts';
import { textFunctions } from './text.ts';

/**
 * The standard library plus any extra bindings (connectors). Names not in here fail at load
 * time, so a workflow calling something the local runtime cannot do is rejected up front.
 */
export function buildLibrary(extra: Record<string, BuiltinFn> = {}): Library {
  const functions = new Map<string, BuiltinFn>(
    Object.entries({ ...coreFunctions, ...textFunctions, ...sysFunctions, ...httpFunctions, ...extra }),
  );
  const constants = new Map<string, WfValue>(Object.entries(retryConstants));
  return { functions, constants };
}
