/**
 * JSON Schemas of the hot responses, compiled once by fastify (fast-json-stringify) into
 * serializers: no generic `JSON.stringify` walk per request. Fields not listed here are dropped
 * by the serializer, so each schema lists every field the route may send.
 */
export const predictResponseSchema = {
  type: 'object',
  required: ['predictions', 'model'],
  properties: {
    predictions: {
      type: 'array',
      items: {
        // One shape per task (shared/contracts/prediction.ts): classification and pair send
        // label + scores, multilabel labels + scores, regression value; none is required here
        // because the predictor alone decides the shape by the model's task.
        type: 'object',
        properties: {
          label: { type: 'string' },
          labels: { type: 'array', items: { type: 'string' } },
          scores: { type: 'object', additionalProperties: { type: 'number' } },
          value: { type: 'number' },
          truncated: { type: 'boolean' },
        },
      },
    },
    model: {
      type: 'object',
      required: ['name', 'version'],
      properties: { name: { type: 'string' }, version: { type: ['integer', 'null'] } },
    },
  },
} as const;

/** Open Inference Protocol V2 response: tensors of strings, numbers or booleans in `data`. */
export const inferResponseSchema = {
  type: 'object',
  required: ['model_name', 'outputs'],
  properties: {
    model_name: { type: 'string' },
    model_version: { type: 'string' },
    id: { type: 'string' },
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'datatype', 'shape', 'data'],
        properties: {
          name: { type: 'string' },
          datatype: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer' } },
          data: { type: 'array' },
        },
      },
    },
  },
} as const;
