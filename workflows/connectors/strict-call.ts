import type { ExecContext } from '../runtime/context.ts';
import type { BuiltinFn } from '../runtime/expr/compile.ts';
import type { Scope } from '../runtime/scope.ts';
import { isMap, toJsonText, type WfMap, type WfValue } from '../runtime/values.ts';
import { type DiscoveryDoc, type DiscoveryMethod, type DiscoverySchema, findMethod } from './discovery.ts';
import { googleHttpError } from './gcp-errors.ts';

/** Named connector arguments, present ones only (null counts as absent, as in the cloud). */
export type ConnectorArgs = Record<string, WfValue>;
export type ConnectorImpl = (args: ConnectorArgs, scope: Scope<ExecContext>) => WfValue | Promise<WfValue>;

/** Arguments every Workflows connector takes besides the API's own (timeouts, polling). */
const CONNECTOR_ARGS = ['connector_params'];

const invalid = (message: string) => googleHttpError(400, message, 'badRequest', 'INVALID_ARGUMENT');

/**
 * A local connector binding that first checks the call against Google's discovery document of
 * its API, then runs `impl`. The accepted argument names are the method's parameters (required
 * ones first, in the document's order), `body` when the method takes a request, the API's
 * standard parameters (`alt`, `fields`, …) and `connector_params`. A request the real API would
 * refuse (missing required parameter, wrong type or enum value, unknown body field) fails with
 * HTTP 400 INVALID_ARGUMENT and Google's wording, naming the field.
 */
export function strictConnector(name: string, impl: ConnectorImpl): BuiltinFn {
  const { doc, method } = findMethod(name);
  const params = argumentNames(doc, method);
  return {
    params,
    min: (method.parameterOrder ?? []).length,
    blocking: true,
    fn: (values, scope) => {
      const args: ConnectorArgs = {};
      params.forEach((p, i) => {
        const v = values[i];
        if (v !== undefined && v !== null) args[p] = v;
      });
      checkCall(doc, method, args);
      return impl(args, scope);
    },
  };
}

function argumentNames(doc: DiscoveryDoc, method: DiscoveryMethod): string[] {
  const order = method.parameterOrder ?? [];
  const rest = Object.keys(method.parameters ?? {}).filter((p) => !order.includes(p));
  const standard = Object.keys(doc.parameters).filter((p) => !(p in (method.parameters ?? {})));
  return [...order, ...rest, ...(method.request ? ['body'] : []), ...standard, ...CONNECTOR_ARGS];
}

/** Checks one call's arguments against the method; throws the HttpError Google would answer. */
export function checkCall(doc: DiscoveryDoc, method: DiscoveryMethod, args: ConnectorArgs): void {
  for (const [p, schema] of Object.entries(method.parameters ?? {})) {
    if (schema.required && args[p] === undefined)
      throw invalid(`Required parameter ${p} is missing (${method.id})`);
    if (args[p] !== undefined) checkValue(doc, schema, args[p], p);
  }
  for (const [p, schema] of Object.entries(doc.parameters)) {
    if (args[p] !== undefined && !(p in (method.parameters ?? {}))) checkValue(doc, schema, args[p], p);
  }
  if (method.request) {
    if (args.body === undefined) throw invalid(`${method.id}: a request body is required`);
    const ref = method.request.$ref;
    const root = ref.endsWith('Request') ? '' : lowerFirst(ref.replace(/^GoogleCloudRunV2/, ''));
    checkValue(doc, { $ref: ref }, args.body, root);
  }
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

function resolve(doc: DiscoveryDoc, schema: DiscoverySchema): DiscoverySchema {
  let s = schema;
  while (s.$ref) {
    const next = doc.schemas[s.$ref];
    if (!next) throw new Error(`discovery ${doc.name}: unknown schema ${s.$ref}`);
    s = next;
  }
  return s;
}

function badValue(path: string, expected: string, v: WfValue): never {
  throw invalid(`Invalid value at '${path}' (${expected}), ${toJsonText(v)}`);
}

/** Recursively checks a value against a schema (proto3 JSON rules: int64 as number or string). */
function checkValue(doc: DiscoveryDoc, schema: DiscoverySchema, v: WfValue, path: string): void {
  if (v === null) return;
  const s = resolve(doc, schema);
  const type = s.type ?? 'object';
  switch (type) {
    case 'any':
      return;
    case 'string':
      checkString(s, v, path);
      return;
    case 'integer':
    case 'number':
      if (!isNumeric(v, type === 'integer'))
        badValue(path, type === 'integer' ? 'TYPE_INT32' : 'TYPE_DOUBLE', v);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') badValue(path, 'TYPE_BOOL', v);
      return;
    case 'array':
      if (!Array.isArray(v)) badValue(path, 'TYPE_LIST', v);
      v.forEach((item, i) => {
        checkValue(doc, s.items ?? { type: 'any' }, item, `${path}[${i}]`);
      });
      return;
    case 'object':
      checkObject(doc, s, v, path);
      return;
  }
}

function checkString(s: DiscoverySchema, v: WfValue, path: string): void {
  if (s.format === 'int64' || s.format === 'uint64') {
    if (!isNumeric(v, true)) badValue(path, `TYPE_${s.format.toUpperCase()}`, v);
    return;
  }
  if (s.format === 'byte' && v instanceof Uint8Array) return;
  if (typeof v !== 'string') badValue(path, 'TYPE_STRING', v);
  if (s.enum && !s.enum.includes(v)) badValue(path, `one of ${s.enum.join(', ')}`, v);
}

function isNumeric(v: WfValue, integral: boolean): boolean {
  if (typeof v === 'bigint') return true;
  if (typeof v === 'number') return !integral || Number.isInteger(v);
  if (typeof v === 'string')
    return integral ? /^-?\d+$/.test(v) : v.trim() !== '' && !Number.isNaN(Number(v));
  return false;
}

function checkObject(doc: DiscoveryDoc, s: DiscoverySchema, v: WfValue, path: string): void {
  if (!isMap(v)) badValue(path, 'TYPE_MESSAGE', v);
  const map = v as WfMap;
  const at = (k: string): string => (path === '' ? k : `${path}.${k}`);
  if (s.properties) {
    for (const [k, item] of Object.entries(map)) {
      const field = s.properties[k];
      if (!field) {
        const where = path === '' ? '' : ` at '${path}'`;
        throw invalid(`Invalid JSON payload received. Unknown name "${k}"${where}: Cannot find field.`);
      }
      checkValue(doc, field, item, at(k));
    }
    return;
  }
  if (s.additionalProperties) {
    for (const [k, item] of Object.entries(map)) checkValue(doc, s.additionalProperties, item, at(k));
  }
}
