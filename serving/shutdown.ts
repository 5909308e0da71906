import { Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ModelHost } from './model-host.ts';

/** Request counters the server keeps so shutdown knows when it is quiet. */
export interface Traffic {
  /** Requests received and not yet answered or aborted. */
  active: Set<unknown>;
  /** performance.now() of the last request received. */
  lastArrival: number;
  /** Set on SIGTERM: responses then carry `Connection: close`. */
  draining: boolean;
}

export function newTraffic(): Traffic {
  return { active: new Set(), lastArrival: 0, draining: false };
}

/**
 * Graceful stop for SIGTERM: stop accepting new connections at once, but keep the open ones
 * until every request already sent on them is answered. Closing "idle" keep-alive sockets right
 * away (what `server.close()` does) would drop requests whose bytes are already in the socket
 * buffer but not yet parsed because a `session.run` held the event loop, so instead we wait
 * until nothing is in flight or queued and no request has arrived for `quietMs`, then close.
 * Responses sent meanwhile say `Connection: close`, so clients reconnect elsewhere.
 */
export async function drainAndClose(
  app: FastifyInstance,
  host: ModelHost,
  traffic: Traffic,
  quietMs = 100,
): Promise<void> {
  traffic.draining = true;
  NetServer.prototype.close.call(app.server); // stop listening; open connections stay
  for (;;) {
    const quiet =
      traffic.active.size === 0 &&
      (host.predictor?.batcher.depth ?? 0) === 0 &&
      performance.now() - traffic.lastArrival >= quietMs;
    if (quiet) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await host.stop();
  await app.close();
}
