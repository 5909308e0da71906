import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import { type BodyLimits, fieldName } from './predict-body.ts';

/**
 * The Open Inference Protocol (V2) inference request, for a text classifier: one `BYTES`
 * input named `text` holding the texts (shape `[n]` or `[n, 1]`), optional `text_pair`, optional
 * requested `outputs`, `parameters.truncate`. Elements arrive as JSON strings or, with the
 * binary tensor extension (KServe, Triton), as length-prefixed bytes after the JSON header.
 * https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol
 */
export interface InferRequest {
  id: string | undefined;
  texts: string[];
  textPairs: string[] | undefined;
  /** Names of the outputs to return; undefined = all. */
  outputs: string[] | undefined;
  truncate: boolean;
}

/** A body sent with `Inference-Header-Content-Length`: a JSON header, then binary tensor data. */
export class BinaryInferBody {
  constructor(
    readonly json: unknown,
    readonly binary: Buffer,
  ) {}
}

/** `Inference-Header-Content-Length` (binary tensor data extension). */
export const INFERENCE_HEADER_LENGTH = 'inference-header-content-length';

/** Splits a binary-extension body into its JSON header and the tensor bytes after it. */
export function splitBinaryBody(body: Buffer, headerLength: string): BinaryInferBody {
  const n = Number(headerLength);
  if (!Number.isInteger(n) || n < 0 || n > body.length) {
    throw new AppError(
      'invalid_argument',
      `${INFERENCE_HEADER_LENGTH}: ${JSON.stringify(headerLength)} is not a length within the ${body.length}-byte body`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(0, n).toString('utf8'));
  } catch (err) {
    throw new AppError(
      'invalid_argument',
      `body: the JSON header is not valid JSON (${(err as Error).message.slice(0, 200)})`,
    );
  }
  return new BinaryInferBody(json, body.subarray(n));
}

const Parameters = z.record(z.string(), z.unknown(), { error: 'expected an object' });
const Input = z.strictObject({
  name: z.string({ error: 'expected a string' }),
  shape: z.array(z.int().min(0), { error: 'expected an array of sizes' }),
  datatype: z.string({ error: 'expected a string' }),
  parameters: Parameters.optional(),
  data: z.unknown().optional(),
});
const Body = z.strictObject(
  {
    id: z.string({ error: 'expected a string' }).optional(),
    // The KServe client also sends the model name (and version) inside the body.
    model_name: z.string().optional(),
    model_version: z.string().optional(),
    parameters: Parameters.optional(),
    inputs: z.array(Input, { error: 'expected an array of input tensors' }).min(1, {
      error: 'must hold the "text" input',
    }),
    outputs: z
      .array(z.strictObject({ name: z.string(), parameters: Parameters.optional() }), {
        error: 'expected an array of {"name"}',
      })
      .optional(),
  },
  { error: 'expected a JSON object {"inputs": [...]}' },
);
type Input = z.infer<typeof Input>;

const INPUT_NAMES = ['text', 'text_pair'] as const;

/** Parses a V2 infer body (already JSON-parsed, or a binary-extension body) under `limits`. */
export function parseInferBody(body: unknown, limits: BodyLimits): InferRequest {
  const binary = body instanceof BinaryInferBody ? body.binary : undefined;
  const parsed = Body.safeParse(body instanceof BinaryInferBody ? body.json : body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : issue.message;
    throw new AppError('invalid_argument', `${fieldName(issue.path)}: ${message}`, {
      details: { field: fieldName(issue.path) },
    });
  }
  const { id, inputs, outputs, parameters } = parsed.data;
  const reader = { binary, offset: 0 };
  const tensors = new Map<string, string[]>();
  inputs.forEach((input, i) => {
    if (!(INPUT_NAMES as readonly string[]).includes(input.name)) {
      throw invalid(
        `inputs[${i}].name`,
        `unknown input ${JSON.stringify(input.name)}; this model takes "text" (and "text_pair" for pairs)`,
      );
    }
    if (tensors.has(input.name)) throw invalid(`inputs[${i}].name`, `input "${input.name}" is given twice`);
    tensors.set(input.name, readStrings(input, i, reader, limits));
  });
  const texts = tensors.get('text');
  if (!texts) throw invalid('inputs', 'the "text" input (BYTES) is required');
  const textPairs = tensors.get('text_pair');
  if (textPairs && textPairs.length !== texts.length) {
    throw invalid(
      'inputs',
      `"text_pair" holds ${textPairs.length} elements but "text" holds ${texts.length}`,
    );
  }
  if (binary && reader.offset !== binary.length) {
    throw invalid(
      'body',
      `${binary.length - reader.offset} bytes of binary data follow the tensors they belong to`,
    );
  }
  const truncate = parameters?.truncate;
  if (truncate !== undefined && typeof truncate !== 'boolean') {
    throw invalid('parameters.truncate', 'expected true or false');
  }
  return { id, texts, textPairs, outputs: outputs?.map((o) => o.name), truncate: truncate ?? true };
}

function readStrings(
  input: Input,
  i: number,
  reader: { binary: Buffer | undefined; offset: number },
  limits: BodyLimits,
): string[] {
  const field = `inputs[${i}]`;
  if (input.datatype !== 'BYTES') {
    throw invalid(
      `${field}.datatype`,
      `"${input.name}" must be BYTES (UTF-8 texts), not ${JSON.stringify(input.datatype)}`,
    );
  }
  if (
    input.shape.length < 1 ||
    input.shape.length > 2 ||
    (input.shape.length === 2 && input.shape[1] !== 1)
  ) {
    throw invalid(
      `${field}.shape`,
      `expected [n] or [n, 1] (one text per row), got ${JSON.stringify(input.shape)}`,
    );
  }
  const count = input.shape[0]!;
  if (count < 1) throw invalid(`${field}.shape`, 'must hold at least one text');
  if (count > limits.maxInstances) {
    throw invalid(`${field}.shape`, `${count} texts sent; the limit is ${limits.maxInstances} per request`);
  }
  const binarySize = input.parameters?.binary_data_size;
  const values =
    input.data !== undefined
      ? flatten(input.data, field)
      : binarySize !== undefined
        ? readBinaryStrings(reader, binarySize, field)
        : undefined;
  if (!values)
    throw invalid(`${field}.data`, 'missing: send "data" (or binary data with "binary_data_size")');
  if (values.length !== count) {
    throw invalid(`${field}.data`, `holds ${values.length} elements but the shape says ${count}`);
  }
  values.forEach((v, k) => {
    if (typeof v !== 'string') throw invalid(`${field}.data[${k}]`, 'expected a string');
    if (v.length > limits.maxTextChars) {
      throw invalid(
        `${field}.data[${k}]`,
        `text is ${v.length} characters long; the limit is ${limits.maxTextChars} characters`,
      );
    }
  });
  return values as string[];
}

/** The spec allows nested row-major arrays; `[["a"], ["b"]]` is the `[2, 1]` form. */
function flatten(data: unknown, field: string): unknown[] {
  if (!Array.isArray(data)) throw invalid(`${field}.data`, 'expected an array of texts');
  return data.flat(1);
}

/** BYTES elements in the binary extension: a 4-byte little-endian length, then the bytes. */
function readBinaryStrings(
  reader: { binary: Buffer | undefined; offset: number },
  size: unknown,
  field: string,
): string[] {
  const { binary } = reader;
  if (!binary)
    throw invalid(`${field}.parameters.binary_data_size`, `needs the ${INFERENCE_HEADER_LENGTH} header`);
  if (
    typeof size !== 'number' ||
    !Number.isInteger(size) ||
    size < 0 ||
    reader.offset + size > binary.length
  ) {
    throw invalid(
      `${field}.parameters.binary_data_size`,
      `${JSON.stringify(size)} does not fit the binary data`,
    );
  }
  const end = reader.offset + size;
  const out: string[] = [];
  let at = reader.offset;
  while (at < end) {
    if (at + 4 > end) throw invalid(`${field}.parameters.binary_data_size`, 'ends inside an element length');
    const n = binary.readUInt32LE(at);
    at += 4;
    if (at + n > end) throw invalid(`${field}.parameters.binary_data_size`, 'ends inside an element');
    out.push(binary.toString('utf8', at, at + n));
    at += n;
  }
  reader.offset = end;
  return out;
}

function invalid(field: string, message: string): AppError {
  return new AppError('invalid_argument', `${field}: ${message}`, { details: { field } });
}
