// The relying-party half of Préau's OpenID Connect test, with openid-client (an
// OpenID-certified library): discovery, the code exchange with PKCE (checking state,
// nonce, the iss parameter and the ID token's signature), userinfo and a refresh.
// The Go test signs the person in and passes the callback URL it was sent to:
//   ISSUER=… CLIENT_ID=… CLIENT_SECRET=… CALLBACK_URL=… VERIFIER=… STATE=… NONCE=… node exchange.mjs
// It prints one JSON object, or the error and exits 1.
import * as client from 'openid-client';

const env = process.env;
try {
  // Loopback test server: plain HTTP is allowed for this run only.
  const config = await client.discovery(new URL(env.ISSUER), env.CLIENT_ID, env.CLIENT_SECRET, undefined,
    { execute: [client.allowInsecureRequests] });
  const tokens = await client.authorizationCodeGrant(config, new URL(env.CALLBACK_URL), {
    pkceCodeVerifier: env.VERIFIER, expectedState: env.STATE, expectedNonce: env.NONCE, idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  let replay = 'accepted';
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token);
  } catch (e) {
    replay = e.error || e.code || String(e);
  }
  console.log(JSON.stringify({ claims, userinfo, refreshed: Boolean(refreshed.access_token), replay }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e), code: e.code || '', cause: e.cause ? String(e.cause) : '' }));
  process.exit(1);
}
