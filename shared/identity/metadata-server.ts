/**
 * The twin of a Compute Engine VM's (or a Google runtime's) metadata server, for the identity part
 * only: OAuth access tokens for Google APIs (`.../token`, accepted by the API twins), and it mints
 * Google-style ID tokens for the VM's service account (RS256, `iss: https://accounts.google.com`,
 * the claims of `format=full`) and serves the public keys at a certs URL in the shape of
 * `https://www.googleapis.com/oauth2/v1/certs` (`{kid: PEM}`), so the control API's verifier
 * (google-auth-library's OAuth2Client.verifyIdToken, pointed at this URL) runs the cloud's code
 * path: fetch certs, check signature, audience, expiry, issuer, then the allow-list.
 *
 * As strict as the real server where a client could tell: requests need `Metadata-Flavor: Google`
 * (403 otherwise), any `X-Forwarded-For` is refused, `audience` is required, every answer carries
 * `Metadata-Flavor: Google` (Google's clients check it). The certs are SPKI public keys where
 * Google serves X.509 certificates; Node's verifier accepts both.
 *
 * Clients find it through `GCE_METADATA_HOST` (`host`), the variable Google's libraries honour.
 */
import { createSign, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const GOOGLE_ISSUER = 'https://accounts.google.com';
const IDENTITY_PATH = '/computeMetadata/v1/instance/service-accounts/default/identity';
const EMAIL_PATH = '/computeMetadata/v1/instance/service-accounts/default/email';
const TOKEN_PATH = '/computeMetadata/v1/instance/service-accounts/default/token';
const CERTS_PATH = '/oauth2/v1/certs';

export interface MetadataServerOptions {
  /** The VM's service account (the `email` claim). */
  email: string;
  /** Token lifetime; Google's are one hour. */
  ttlSeconds?: number;
  project?: string;
  zone?: string;
  instanceName?: string;
}

/** A minted token, for tests that need to see what was handed out. */
export interface MintedToken {
  audience: string;
  issuedAt: number;
  expiresAt: number;
}

export class MetadataServer {
  readonly email: string;
  readonly minted: MintedToken[] = [];
  /** OAuth access tokens handed out (for twins of Google APIs to accept, and nothing else). */
  readonly accessTokens = new Set<string>();
  private readonly ttl: number;
  private readonly kid = randomBytes(8).toString('hex');
  private readonly key: { privateKey: KeyObject; publicKey: KeyObject };
  private readonly claims: Record<string, unknown>;
  private expiredToMint = 0;
  private server?: Server;
  private port = 0;

  constructor(options: MetadataServerOptions) {
    this.email = options.email;
    this.ttl = options.ttlSeconds ?? 3600;
    this.key = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.claims = {
      compute_engine: {
        project_id: options.project ?? 'local-project',
        project_number: 1234567890,
        zone: options.zone ?? 'local-a',
        instance_id: String(BigInt(`0x${randomBytes(7).toString('hex')}`)),
        instance_name: options.instanceName ?? 'droptune-trainer-local',
      },
    };
  }

  /** `host:port`, the value for `GCE_METADATA_HOST`. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Where the verifier fetches the signing keys (OAuth2Client's `oauth2FederatedSignonPemCertsUrl`). */
  get certsUrl(): string {
    return `http://${this.host}${CERTS_PATH}`;
  }

  /** Fault: the next `n` tokens are minted already expired (beyond the verifier's 5 min clock skew). */
  expireNext(n = 1): void {
    this.expiredToMint += n;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  /** Mints a token directly (what the identity endpoint returns), for verifier tests. */
  mint(audience: string, options: { expired?: boolean; issuer?: string; email?: string } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const iat = options.expired ? now - 2 * this.ttl - 600 : now;
    const exp = iat + this.ttl;
    this.minted.push({ audience, issuedAt: iat, expiresAt: exp });
    const header = { alg: 'RS256', kid: this.kid, typ: 'JWT' };
    const payload = {
      aud: audience,
      azp: '100000000000000000001',
      email: options.email ?? this.email,
      email_verified: true,
      exp,
      google: this.claims,
      iat,
      iss: options.issuer ?? GOOGLE_ISSUER,
      sub: '100000000000000000001',
    };
    const signed = `${b64(header)}.${b64(payload)}`;
    const signature = createSign('RSA-SHA256').update(signed).sign(this.key.privateKey).toString('base64url');
    return `${signed}.${signature}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Metadata-Flavor', 'Google');
    res.setHeader('Server', 'Metadata Server for VM');
    const url = new URL(req.url ?? '/', 'http://metadata');
    if (url.pathname === CERTS_PATH) {
      const pem = this.key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      res.setHeader('Cache-Control', 'public, max-age=300');
      send(res, 200, 'application/json', JSON.stringify({ [this.kid]: pem }));
      return;
    }
    if (req.headers['x-forwarded-for'] !== undefined) {
      send(res, 403, 'text/html', 'Request denied: X-Forwarded-For is not allowed');
      return;
    }
    if (req.headers['metadata-flavor'] !== 'Google') {
      send(res, 403, 'text/html', 'Missing required header "Metadata-Flavor": "Google"');
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, 'text/html', 'Method not allowed');
      return;
    }
    if (url.pathname === '/' || url.pathname === '/computeMetadata/v1/') {
      send(res, 200, 'application/text', 'instance/\nproject/\n');
      return;
    }
    if (url.pathname === EMAIL_PATH) {
      send(res, 200, 'application/text', this.email);
      return;
    }
    if (url.pathname === TOKEN_PATH) {
      const accessToken = `ya29.local-${randomBytes(24).toString('base64url')}`;
      this.accessTokens.add(accessToken);
      const body = { access_token: accessToken, expires_in: this.ttl - 1, token_type: 'Bearer' };
      send(res, 200, 'application/json', JSON.stringify(body));
      return;
    }
    if (url.pathname === IDENTITY_PATH) {
      const audience = url.searchParams.get('audience');
      if (!audience) {
        send(res, 400, 'text/html', 'non-empty audience parameter required');
        return;
      }
      const expired = this.expiredToMint > 0;
      if (expired) this.expiredToMint -= 1;
      send(res, 200, 'text/html', this.mint(audience, { expired }));
      return;
    }
    send(res, 404, 'text/html', `${url.pathname} not found`);
  }
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type }).end(body);
}
