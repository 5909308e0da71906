import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import type { TextInstance } from '../predictor.ts';

export interface BodyLimits {
  maxInstances: number;
  maxTextChars: number;
}

export interface PredictRequest {
  /** In order; `textPair` only where the instance sent `text_pair` (the predictor checks it fits the task). */
  instances: TextInstance[];
  topK: number | undefined;
  truncate: boolean;
}

/**
 * The `:predict` body (Vertex AI / KServe v1): `{"instances": ["text", …]}`,
 * `{"instances": [{"text": "…"}]}` or, for sentence-pair models, `{"text": "…", "text_pair": "…"}`, optional `"parameters": {"top_k": k, "truncate": false}`
 * (texts longer than the model's max length are cut by default and say so; `false` refuses them).
 * Unknown fields are rejected so a typo (`"instance"`, `"txt"`) fails loudly instead of being ignored.
 */
export function predictBodySchema(limits: BodyLimits) {
  const tooLong = (iss: { input?: unknown }) =>
    `text is ${String((iss.input as string).length)} characters long; the limit is ${limits.maxTextChars} characters`;
  const text = z.string({ error: 'expected a string' }).max(limits.maxTextChars, { error: tooLong });
  const instance = z.union([text, z.strictObject({ text, text_pair: text.optional() })], {
    error:
      'expected a string or an object {"text": "..."} (pair models: {"text": "...", "text_pair": "..."})',
  });
  return z.strictObject(
    {
      instances: z
        .array(instance, { error: 'expected an array of texts: "instances": ["text", ...]' })
        .min(1, { error: 'must hold at least one text' })
        .max(limits.maxInstances, { error: `at most ${limits.maxInstances} instances per request` }),
      parameters: z
        .strictObject(
          {
            top_k: z.int({ error: 'expected an integer' }).min(1, { error: 'must be at least 1' }).optional(),
            truncate: z.boolean({ error: 'expected true or false' }).optional(),
          },
          { error: 'expected an object' },
        )
        .optional(),
    },
    { error: 'expected a JSON object {"instances": [...]}' },
  );
}

/**
 * A validator for parsed JSON bodies under `limits`; errors are 400 `invalid_argument` naming
 * the field (`instances[3].text`) and, for caps, the limit.
 */
export function predictBodyParser(limits: BodyLimits): (body: unknown) => PredictRequest {
  const schema = predictBodySchema(limits);
  return (body) => parsePredictBody(schema, body, limits);
}

function parsePredictBody(
  schema: ReturnType<typeof predictBodySchema>,
  body: unknown,
  limits: BodyLimits,
): PredictRequest {
  // Count before validating every element: a 100k-element array fails fast with the limit.
  const instances = (body as { instances?: unknown } | null)?.instances;
  if (Array.isArray(instances) && instances.length > limits.maxInstances) {
    throw new AppError(
      'invalid_argument',
      `instances: ${instances.length} instances sent; the limit is ${limits.maxInstances} per request`,
      {
        details: { field: 'instances', limit: limits.maxInstances },
      },
    );
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = fieldName(issue.path);
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : issue.message;
    throw new AppError('invalid_argument', `${field}: ${message}`, { details: { field } });
  }
  const { instances: items, parameters } = parsed.data;
  return {
    instances: items.map((i) =>
      typeof i === 'string'
        ? { text: i }
        : i.text_pair === undefined
          ? { text: i.text }
          : { text: i.text, textPair: i.text_pair },
    ),
    topK: parameters?.top_k,
    truncate: parameters?.truncate ?? true,
  };
}

/** `['instances', 3, 'text']` → `instances[3].text`; the root is `body`. */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? 'body' : out;
}
