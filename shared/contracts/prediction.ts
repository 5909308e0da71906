import { z } from 'zod';

/**
 * `POST /v1/models/<modelName>:predict` (Vertex AI / KServe v1 shape). The serving process checks
 * the request with its own limits (serving/api/predict-body.ts builds the capped schema from
 * `PredictInstance`); the control API forwards it unchanged. Instances and predictions are
 * shaped by the model's task (shared/contracts/task.ts).
 */

/** One instance of `:predict`: a bare string, `{"text"}`, or for `pair` `{"text", "text_pair"}`. */
export const PredictInstance = z.union([
  z.string(),
  z.strictObject({ text: z.string() }),
  z.strictObject({ text: z.string(), text_pair: z.string() }),
]);
export type PredictInstance = z.infer<typeof PredictInstance>;

/** `classification` and `pair`: the top class and every class's probability (softmax). */
export const ClassPrediction = z.object({
  label: z.string(),
  scores: z.record(z.string(), z.number()),
  truncated: z.boolean().optional(),
});
/** `multilabel`: the classes whose sigmoid score reached their tuned threshold, and every score. */
export const MultilabelPrediction = z.object({
  labels: z.array(z.string()),
  scores: z.record(z.string(), z.number()),
  truncated: z.boolean().optional(),
});
/** `regression`: the value in the target's own units (standardisation undone). */
export const RegressionPrediction = z.object({
  value: z.number(),
  truncated: z.boolean().optional(),
});
export const Prediction = z.union([ClassPrediction, MultilabelPrediction, RegressionPrediction]);
export type Prediction = z.infer<typeof Prediction>;

export const PredictRequest = z.strictObject({
  instances: z.array(PredictInstance).min(1),
  parameters: z
    .strictObject({ top_k: z.int().min(1).optional(), truncate: z.boolean().optional() })
    .optional(),
});
export type PredictRequest = z.infer<typeof PredictRequest>;

export const PredictResponse = z.object({
  /** One per instance, in order, shaped by the model's task (shared/contracts/task.ts). */
  predictions: z.array(Prediction),
  model: z.object({ name: z.string(), version: z.number().int() }),
});
export type PredictResponse = z.infer<typeof PredictResponse>;
