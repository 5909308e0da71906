import { z } from 'zod';

/**
 * `POST /v1/models/<modelName>:predict` (Vertex AI / KServe v1 shape). The serving process checks
 * the request with its own limits (serving/api/predict-body.ts builds the capped schema from
 * `PredictInstance`); the control API forwards it unchanged.
 */

/** One text to classify: a bare string or `{"text": "..."}`. */
export const PredictInstance = z.union([z.string(), z.strictObject({ text: z.string() })]);

export const PredictRequest = z.strictObject({
  instances: z.array(PredictInstance).min(1),
  parameters: z
    .strictObject({ top_k: z.int().min(1).optional(), truncate: z.boolean().optional() })
    .optional(),
});
export type PredictRequest = z.infer<typeof PredictRequest>;

export const PredictResponse = z.object({
  predictions: z.array(z.object({ label: z.string(), scores: z.record(z.string(), z.number()) })),
  model: z.object({ name: z.string(), version: z.number().int() }),
});
export type PredictResponse = z.infer<typeof PredictResponse>;
