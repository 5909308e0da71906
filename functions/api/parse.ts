import type { z } from 'zod';
import { describeZodError } from '../../shared/contracts/model-settings.ts';
import { AppError } from '../../shared/errors.ts';

/** Checks a body / query / path against its schema; a failure is a 400 that names every bad field. */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'path',
): z.infer<S> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  throw new AppError('invalid_argument', `invalid ${where}: ${describeZodError(result.error)}`);
}
