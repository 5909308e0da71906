/**
 * The malformed requests of bench:abuse, one generator per surface. Each request is something
 * a confused or hostile client sends; every answer must be a 4xx with a JSON error body.
 */
export interface AbuseRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

const BAD_BODIES = [
  '{',
  '{"modelName": 5}',
  '[]',
  'null',
  '{"modelName":"x","fileName":"../../etc/passwd.csv"}',
  `{"modelName":"${'a'.repeat(5000)}","fileName":"t.csv"}`,
  '{"__proto__":{"admin":true}}',
  '\u0000\u0001\u0002',
];

/** The i-th malformed control-API request (cycling through kinds); `token` is a valid bearer token. */
export function controlApiRequest(i: number, token: string): AbuseRequest {
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const kinds: AbuseRequest[] = [
    { method: 'POST', path: '/v1/uploads', headers: json, body: BAD_BODIES[i % BAD_BODIES.length] },
    {
      method: 'POST',
      path: '/v1/uploads',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'x'.repeat(1000),
    },
    { method: 'GET', path: `/v1/runs?limit=${-i}` },
    { method: 'GET', path: '/v1/runs?status=exploded', headers: auth },
    { method: 'GET', path: `/v1/runs/${'%2e%2e%2f'.repeat(i % 7)}x%00`, headers: auth },
    { method: 'GET', path: '/v1/runs', headers: { authorization: 'Bearer wrong-token-wrong-token' } },
    { method: 'POST', path: '/v1/runs/r-nope/status', headers: json, body: '{"status":"exploded"}' },
    {
      method: 'PUT',
      path: '/v1/uploads/Bad_Name/x.csv',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: 'a',
    },
    {
      method: 'PUT',
      path: '/v1/uploads/tickets/x.txt',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: 'a',
    },
    {
      method: 'POST',
      path: '/v1/models/tickets/deployments',
      headers: json,
      body: '{"version":1,"url":"http://169.254.169.254/computeMetadata/v1/"}',
    },
    { method: 'DELETE', path: '/v1/nothing-here', headers: auth },
    { method: 'GET', path: `/v1/datasets?limit=${'9'.repeat(50)}`, headers: auth },
  ];
  return kinds[i % kinds.length]!;
}

/** The i-th malformed prediction request to the predict proxy of the control API. */
export function predictRequest(i: number, token: string, modelName: string): AbuseRequest {
  const json = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const path = `/v1/models/${modelName}:predict`;
  const kinds: AbuseRequest[] = [
    { method: 'POST', path, headers: json, body: '{"instances":' },
    { method: 'POST', path, headers: json, body: BAD_BODIES[i % BAD_BODIES.length] },
    { method: 'POST', path, headers: { ...json, 'content-type': 'text/plain' }, body: 'hello' },
    { method: 'POST', path: '/v1/models/NOT_A_MODEL:predict', headers: json, body: '{"instances":["x"]}' },
    { method: 'POST', path: `/v1/models/${modelName}:explain`, headers: json, body: '{"instances":["x"]}' },
    { method: 'POST', path, body: '{"instances":["x"]}' },
  ];
  return kinds[i % kinds.length]!;
}

export interface Tally {
  total: number;
  byStatus: Record<string, number>;
  nonJson4xx: number;
  fiveXx: number;
  networkErrors: number;
}

/** Sends `count` requests from `make` with `concurrency` in flight and tallies the answers. */
export async function fire(
  baseUrl: string,
  count: number,
  concurrency: number,
  make: (i: number) => AbuseRequest,
): Promise<Tally> {
  const tally: Tally = { total: 0, byStatus: {}, nonJson4xx: 0, fiveXx: 0, networkErrors: 0 };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const r = make(next++);
      try {
        const res = await fetch(`${baseUrl}${r.path}`, {
          method: r.method,
          headers: r.headers,
          body: r.body,
        });
        const text = await res.text();
        tally.byStatus[res.status] = (tally.byStatus[res.status] ?? 0) + 1;
        if (res.status >= 500) tally.fiveXx++;
        else if (res.status >= 400 && !isErrorJson(text)) tally.nonJson4xx++;
      } catch {
        tally.networkErrors++;
      }
      tally.total++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}

function isErrorJson(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string';
  } catch {
    return false;
  }
}
