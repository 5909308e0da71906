import type { DestinationStream, LoggerOptions } from 'pino';

/** pino level → Cloud Logging `severity` (https://cloud.google.com/logging/docs/structured-logging). */
const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/**
 * Logger options for one-line JSON logs that Cloud Logging parses as structured entries:
 * `severity`, `message` and `time` (RFC 3339). Fastify hands these to its pino logger.
 */
export function loggerOptions(
  level: string,
  stream?: DestinationStream,
): LoggerOptions & { stream?: DestinationStream } {
  return {
    level,
    messageKey: 'message',
    base: { service: 'droptune-serving' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }) },
    ...(stream ? { stream } : {}),
  };
}
