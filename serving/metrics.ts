import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics, on a registry of its own (tests build many servers in one
 * process). Names follow Prometheus conventions: `_total` counters, `_seconds` durations.
 */
export interface ServingMetrics {
  registry: Registry;
  /** The exposition text; the process's default metrics start on the first scrape. */
  scrape(): Promise<string>;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route' | 'method'>;
  instances: Counter;
  batchSize: Histogram;
  batchSeconds: Histogram;
  ready: Gauge;
}

export function createMetrics(queueDepth: () => number, inFlight: () => number): ServingMetrics {
  const registry = new Registry();
  // Default process metrics (CPU, memory, event-loop lag) set up timers and observers: started
  // on the first scrape, not on the cold-start path of a server that may never be scraped.
  let defaults = false;
  const scrape = () => {
    if (!defaults) {
      collectDefaultMetrics({ register: registry, prefix: 'droptune_serving_' });
      defaults = true;
    }
    return registry.metrics();
  };
  new Gauge({
    name: 'droptune_http_requests_in_flight',
    help: 'Requests received and not yet answered (this scrape included).',
    registers: [registry],
    collect() {
      this.set(inFlight());
    },
  });
  new Gauge({
    name: 'droptune_queue_depth',
    help: 'Sequences waiting for a batch.',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  return {
    registry,
    scrape,
    requests: new Counter({
      name: 'droptune_http_requests_total',
      help: 'HTTP requests answered, by route, method and status code.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'droptune_http_request_duration_seconds',
      help: 'Time from request received to response sent.',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    instances: new Counter({
      name: 'droptune_predict_instances_total',
      help: 'Texts classified.',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'droptune_batch_size',
      help: 'Sequences per session.run (dynamic micro-batching).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'droptune_batch_duration_seconds',
      help: 'Time of one session.run including padding and softmax.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ready: new Gauge({
      name: 'droptune_model_ready',
      help: '1 once the model is loaded and warmed up, 0 before and while shutting down.',
      registers: [registry],
    }),
  };
}
