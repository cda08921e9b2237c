// Test OpenID provider for the jiraguard test suite.
//
// Usage: node server.mjs <config.json>
//
// Runs an in-memory oidc-provider (pinned to 9.13.3 in package.json) on 127.0.0.1 behind a plain
// node http server that also answers a few test-only routes under /test/:
//
//   GET  /test/stats        -> {"<path>": <count>, ...} requests per path that reached the provider
//   POST /test/stats/reset  -> resets the counts, answers 204
//
// Config JSON fields (see tests/support/idp.py, which writes it):
//   port            TCP port to listen on (127.0.0.1 only)
//   issuer          issuer identifier, e.g. "http://127.0.0.1:<port>"
//   jwks            optional JWKS with private signing keys; absent -> one fresh RSA key per start
//   accessTokenTTL  access token lifetime in seconds (default 300)
//   clockTolerance  seconds of clock skew tolerated by the provider (default 0)
//   resource        URI of the resource server whose access tokens are JWTs (audience = the URI)
//   accounts        {accountId: claims}; unknown ids get preferred_username/email/name defaults
//   clients         oidc-provider client metadata list (defaults: "jiraguard", "service-bot")
//   exitWithStdin   exit when stdin reaches EOF, i.e. when the parent process dies (default false)
//
// Browser sign-in (authorization code + PKCE) goes through oidc-provider's development login
// page, which accepts any login and password; the account id is the login.
//
// Prints "ready <issuer>" on stdout once listening; exits cleanly on SIGTERM / SIGINT.

import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';

// Deep imports on purpose: the package entry point (oidc-provider/lib/index.js) only re-exports
// these and prints an "Unsupported runtime" warning on Node.js < 22. The version is pinned exactly.
import { Provider } from 'oidc-provider/lib/provider.js';
import * as errors from 'oidc-provider/lib/helpers/errors.js';
// Passing the in-memory adapter explicitly skips the "development-only adapter" warning.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';
import validateDpop, { checkDpopReplay } from 'oidc-provider/lib/helpers/validate_dpop.js';
import { checkMtlsCert } from 'oidc-provider/lib/helpers/sender_constraints.js';

const USER_TOKEN_GRANT = 'urn:jiraguard:test:user-token';
const RESOURCE_SCOPE = 'openid profile email jira:read jira:write';
// Every account claim goes into the token, except the ones the provider itself sets.
// Test-only stand-in for a TLS-terminating proxy in front of the provider: the client
// certificate of a token request, URL-escaped PEM (nginx's $ssl_client_escaped_cert).
const CLIENT_CERT_HEADER = 'x-test-client-cert';
const RESERVED_CLAIMS = new Set(['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'azp']);

const DEFAULT_CLIENTS = [
  {
    client_id: 'jiraguard',
    client_secret: 'jiraguard-secret',
    grant_types: ['client_credentials', USER_TOKEN_GRANT],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: 'service-bot',
    client_secret: 'service-bot-secret',
    grant_types: ['client_credentials', USER_TOKEN_GRANT],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
  },
  {
    // Its tokens are bound to the client certificate of the token request (RFC 8705 §3).
    client_id: 'mtls-bot',
    client_secret: 'mtls-bot-secret',
    grant_types: ['client_credentials', USER_TOKEN_GRANT],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    tls_client_certificate_bound_access_tokens: true,
  },
  {
    // Browser login to jiraguard's admin UI: authorization code + PKCE. A native client may
    // use any port on the loopback redirect URI (RFC 8252 §7.3), so any test port works.
    client_id: 'jiraguard-admin',
    client_secret: 'jiraguard-admin-secret',
    application_type: 'native',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/admin/login/callback'],
    token_endpoint_auth_method: 'client_secret_basic',
  },
];

function loadConfig(path) {
  if (!path) {
    throw new Error('usage: node server.mjs <config.json>');
  }
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  if (!Number.isInteger(raw.port) || raw.port <= 0) {
    throw new Error('config: "port" must be a positive integer');
  }
  return {
    port: raw.port,
    issuer: raw.issuer ?? `http://127.0.0.1:${raw.port}`,
    jwks: raw.jwks ?? generateJwks(),
    accessTokenTTL: raw.accessTokenTTL ?? 300,
    clockTolerance: raw.clockTolerance ?? 0,
    resource: raw.resource,
    accounts: raw.accounts ?? {},
    clients: raw.clients ?? DEFAULT_CLIENTS,
    exitWithStdin: raw.exitWithStdin ?? false,
  };
}

function generateJwks() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' }] };
}

const config = loadConfig(process.argv[2]);

function accountClaims(accountId) {
  const defaults = {
    preferred_username: accountId,
    email: `${accountId}@example.com`,
    name: accountId,
  };
  const configured = Object.hasOwn(config.accounts, accountId) ? config.accounts[accountId] : {};
  return { ...defaults, ...configured, sub: accountId };
}

async function findAccount(_ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return accountClaims(sub);
    },
  };
}

function resourceServerInfo() {
  return {
    scope: RESOURCE_SCOPE,
    audience: config.resource,
    accessTokenFormat: 'jwt',
    accessTokenTTL: config.accessTokenTTL,
  };
}

const provider = new Provider(config.issuer, {
  adapter: createMemoryAdapter(config.clockTolerance),
  clients: config.clients,
  jwks: config.jwks,
  clockTolerance: config.clockTolerance,
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'groups'],
    email: ['email'],
  },
  scopes: ['openid', 'offline_access', 'jira:read', 'jira:write'],
  findAccount,
  // ID tokens carry the scopes' claims (preferred_username, email, ...), as most providers'
  // do, not only the ones asked for with the claims parameter.
  conformIdTokenClaims: false,
  // Account claims on user access tokens: top-level claims in JWTs, and members of the
  // introspection response for opaque tokens. Client-credentials tokens get none.
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' || !token.accountId) {
      return undefined;
    }
    const claims = { ...accountClaims(token.accountId), ...signInClaims(ctx?.oidc?.params) };
    return Object.fromEntries(
      Object.entries(claims).filter(([name, value]) => !RESERVED_CLAIMS.has(name) && value !== undefined),
    );
  },
  enabledJWA: { dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'] },
  features: {
    // Sender-constrained tokens: DPoP (RFC 9449) and certificate-bound ones (RFC 8705).
    dPoP: { enabled: true },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      getCertificate(ctx) {
        const escaped = ctx.get(CLIENT_CERT_HEADER);
        return escaped ? decodeURIComponent(escaped) : undefined;
      },
    },
    // The built-in login and consent pages (any login, any password): what a browser test of
    // the authorization code flow signs in through.
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    // The product introspects (and may revoke) tokens issued to other clients.
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: true, allowedPolicy: async () => true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      async defaultResource(_ctx, _client, oneOf) {
        return oneOf ?? undefined;
      },
      async useGrantedResource() {
        return true;
      },
      async getResourceServerInfo(_ctx, resourceIndicator) {
        if (config.resource && resourceIndicator === config.resource) {
          return resourceServerInfo();
        }
        throw new errors.InvalidTarget();
      },
    },
  },
  ttl: {
    AccessToken: config.accessTokenTTL,
    ClientCredentials: config.accessTokenTTL,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 86400,
    Grant: 86400,
    Session: 86400,
    Interaction: 3600,
    DeviceCode: 600,
    BackchannelAuthenticationRequest: 600,
    PreAuthorizedCode: 600,
  },
  clientBasedCORS: () => false,
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// How the user "signed in", for step-up tests (RFC 9470): acr, amr (space-separated) and
// auth_time (seconds since the epoch) given to the custom grant go into the token as claims.
function signInClaims(params) {
  if (!params) {
    return {};
  }
  const found = {};
  if (params.acr) found.acr = params.acr;
  if (params.amr) found.amr = params.amr.split(' ').filter(Boolean);
  if (params.auth_time) found.auth_time = Number(params.auth_time);
  return found;
}

// Custom grant: a user access token without any browser interaction.
//   grant_type=urn:jiraguard:test:user-token&account=<id>&scope=<scopes>[&resource=<uri>]
//   [&acr=<acr>&amr=<methods>&auth_time=<seconds>]; a DPoP header binds the token to its key,
//   a client with tls_client_certificate_bound_access_tokens binds it to its certificate.
// resource = the configured resource -> JWT access token, otherwise opaque. Each token gets its
// own Grant, so introspection, userinfo and revocation work and revoking one token does not
// revoke others.
provider.registerGrantType(
  USER_TOKEN_GRANT,
  async (ctx) => {
    const { params, client } = ctx.oidc;
    const accountId = params.account;
    if (!accountId) {
      throw new errors.InvalidRequest('missing required parameter(s) (account)');
    }
    const scopes = [...new Set((params.scope ?? '').split(' ').filter(Boolean))];
    if (params.resource !== undefined && params.resource !== config.resource) {
      throw new errors.InvalidTarget();
    }
    const resourceServer = params.resource
      ? new provider.ResourceServer(params.resource, resourceServerInfo())
      : undefined;
    const tokenScopes = resourceServer
      ? scopes.filter((scope) => resourceServer.scopes.has(scope))
      : scopes;
    const scope = tokenScopes.join(' ');

    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    if (resourceServer) {
      grant.addResourceScope(params.resource, scope);
    } else if (scope) {
      grant.addOIDCScope(scope);
    }
    const grantId = await grant.save();

    ctx.oidc.entity('Account', await findAccount(ctx, accountId));
    ctx.oidc.entity('Grant', grant);

    const token = new provider.AccessToken({
      accountId,
      client,
      grantId,
      gty: USER_TOKEN_GRANT,
      scope: scope || undefined,
    });
    if (resourceServer) {
      token.resourceServer = resourceServer;
    }
    const cert = checkMtlsCert(provider, ctx);
    if (cert) {
      token.setThumbprint('x5t', cert);
    }
    const dPoP = await validateDpop(provider, ctx);
    if (dPoP) {
      await checkDpopReplay(provider, ctx, dPoP, client.clientId);
      token.setThumbprint('jkt', dPoP.thumbprint);
    }
    ctx.oidc.entity('AccessToken', token);
    const value = await token.save();

    ctx.body = {
      access_token: value,
      token_type: token.tokenType,
      expires_in: token.expiration,
      scope: token.scope || undefined,
    };
  },
  ['account', 'scope', 'resource', 'acr', 'amr', 'auth_time'],
);

provider.on('server_error', (_ctx, err) => {
  console.error('oidc-provider server_error:', err);
});

const stats = new Map();
const callback = provider.callback();

function sendJson(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url ?? '/', config.issuer);
  if (pathname === '/test' || pathname.startsWith('/test/')) {
    if (pathname === '/test/stats' && req.method === 'GET') {
      sendJson(res, 200, Object.fromEntries(stats));
    } else if (pathname === '/test/stats/reset' && req.method === 'POST') {
      stats.clear();
      res.writeHead(204).end();
    } else {
      sendJson(res, 404, { error: 'not_found', error_description: `no test route ${pathname}` });
    }
    return;
  }
  stats.set(pathname, (stats.get(pathname) ?? 0) + 1);
  callback(req, res);
});

server.keepAliveTimeout = 5000;

server.on('error', (err) => {
  console.error(`test provider failed to listen on 127.0.0.1:${config.port}: ${err.message}`);
  process.exit(1);
});

server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${config.issuer}\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

if (config.exitWithStdin) {
  // The driver holds the write end of our stdin: when it goes away, even by SIGKILL, so do we.
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
