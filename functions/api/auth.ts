import { createHash, timingSafeEqual } from 'node:crypto';
import { OAuth2Client } from 'google-auth-library';
import { AppError } from '../../shared/errors.ts';

/** Who called: a service account email in the cloud, `local` for the local bearer token. */
export interface Principal {
  subject: string;
  kind: 'google' | 'local-token';
}

/**
 * The authentication port of the control API: turns a request's `Authorization` header into a
 * principal, or throws `unauthenticated` (401, no or bad credentials) / `permission_denied`
 * (403, a valid identity that is not allowed).
 */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Principal>;
}

function bearer(authorization: string | undefined): string {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) throw new AppError('unauthenticated', 'missing credentials: send "Authorization: Bearer <token>"');
  return m[1]!;
}

/**
 * Local stack: one bearer token, generated into `$DROPTUNE_HOME/api-token` at first start
 * (`ensureApiToken`). Compared in constant time (over fixed-length digests, so the length of the
 * token leaks nothing either).
 */
export function localTokenAuth(token: string): Authenticator {
  if (token.length < 16) throw new Error('the local API token must be at least 16 characters');
  const expected = createHash('sha256').update(token).digest();
  return {
    async authenticate(authorization) {
      const given = createHash('sha256').update(bearer(authorization)).digest();
      if (!timingSafeEqual(given, expected)) throw new AppError('unauthenticated', 'invalid API token');
      return { subject: 'local', kind: 'local-token' };
    },
  };
}

export interface GoogleIdTokenAuthArgs {
  /**
   * The service's own URL: ID tokens must be minted for it (`aud`). A function when the URL is
   * known only once the server listens (the local stack picks a free port).
   */
  audience: string | (() => string);
  /** Service-account emails allowed in (workflow, trainer VM, operators). */
  allowedEmails: string[];
  /**
   * Where the signing keys are fetched (default Google's `oauth2/v1/certs`); the local stack and
   * tests point it at the metadata-server twin (shared/identity/metadata-server.ts), so the
   * verification itself is the cloud's.
   */
  certsUrl?: string;
  /** Injected client (tests give one whose signing certs they control). */
  client?: Pick<OAuth2Client, 'verifyIdToken'>;
}

/**
 * Cloud: a Google-signed ID token (`gcloud auth print-identity-token`, the metadata server, or
 * Workflows' `auth: {type: OIDC}`) whose audience is this service and whose verified email is on
 * the allow-list.
 */
export function googleIdTokenAuth(args: GoogleIdTokenAuthArgs): Authenticator {
  const client =
    args.client ??
    new OAuth2Client(args.certsUrl ? { endpoints: { oauth2FederatedSignonPemCertsUrl: args.certsUrl } } : {});
  const audience = typeof args.audience === 'function' ? args.audience : () => args.audience as string;
  const allowed = new Set(args.allowedEmails.map((e) => e.trim().toLowerCase()).filter(Boolean));
  return {
    async authenticate(authorization) {
      const idToken = bearer(authorization);
      let email: string | undefined;
      let verified = false;
      try {
        const ticket = await client.verifyIdToken({ idToken, audience: audience() });
        const payload = ticket.getPayload();
        email = payload?.email?.toLowerCase();
        verified = payload?.email_verified === true;
      } catch (err) {
        throw new AppError('unauthenticated', `invalid ID token: ${(err as Error).message.split('\n')[0]}`);
      }
      if (!email || !verified)
        throw new AppError('unauthenticated', 'the ID token carries no verified email');
      if (!allowed.has(email))
        throw new AppError(
          'permission_denied',
          `${email} may not call the control API (not in ALLOWED_INVOKERS)`,
        );
      return { subject: email, kind: 'google' };
    },
  };
}

/** A JWT's shape (three base64url parts): what an ID token looks like, and a local token never does. */
const JWT_SHAPE = /^Bearer\s+[\w-]+\.[\w-]+\.[\w-]+\s*$/i;

/**
 * The local stack's door: ID tokens (the trainer's, from the metadata-server twin) go to the
 * Google verifier, anything else to the local bearer token (the CLI and the web page), so each
 * caller is checked the way its cloud counterpart is.
 */
export function idTokenOrLocalTokenAuth(idTokens: Authenticator, local: Authenticator): Authenticator {
  return {
    authenticate: (authorization) =>
      JWT_SHAPE.test(authorization ?? '')
        ? idTokens.authenticate(authorization)
        : local.authenticate(authorization),
  };
}
