import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuth } from './auth.js';

const CONFIG = { userPoolId: 'us-east-1_Pool123', userPoolClientId: 'client-abc', cognitoEndpoint: 'http://127.0.0.1:4599/' };

function jwt(claims) {
  const part = (obj) => btoa(JSON.stringify(obj)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'RS256', kid: 'k' })}.${part({ iat: now, exp: now + 3600, ...claims })}.sig`;
}

function tokens(sub) {
  return {
    IdToken: jwt({ sub, email: `${sub}@example.com`, token_use: 'id', 'cognito:username': sub }),
    AccessToken: jwt({ sub, username: sub, token_use: 'access' }),
    RefreshToken: 'refresh-token',
    ExpiresIn: 3600,
    TokenType: 'Bearer',
  };
}

function cognito(handlers) {
  const calls = [];
  const fetch = vi.fn(async (url, init) => {
    const operation = init.headers['X-Amz-Target'].split('.').pop();
    const body = JSON.parse(init.body);
    calls.push({ url, operation, body, headers: init.headers });
    const [status, data] = handlers[operation](body);
    return new Response(JSON.stringify(data), { status, headers: { 'Content-Type': 'application/x-amz-json-1.1' } });
  });
  vi.stubGlobal('fetch', fetch);
  return calls;
}

beforeEach(() => localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe('createAuth', () => {
  it('signs in with USER_PASSWORD_AUTH against the configured endpoint', async () => {
    const calls = cognito({ InitiateAuth: () => [200, { AuthenticationResult: tokens('alice') }] });
    const result = await createAuth(CONFIG).signIn(' alice ', 'S3cret!pass');
    expect(result).toMatchObject({ status: 'SIGNED_IN', username: 'alice', email: 'alice@example.com' });
    expect(result.idToken).toBe(localStorage.getItem('CognitoIdentityServiceProvider.client-abc.alice.idToken'));
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe('http://127.0.0.1:4599/');
    expect(calls[0].operation).toBe('InitiateAuth');
    expect(calls[0].headers['X-Amz-Target']).toBe('AWSCognitoIdentityProviderService.InitiateAuth');
    expect(calls[0].body).toMatchObject({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: 'client-abc',
      AuthParameters: { USERNAME: 'alice', PASSWORD: 'S3cret!pass' },
    });
  });

  it('keeps the session in localStorage so a reload is still signed in, until sign-out', async () => {
    cognito({ InitiateAuth: () => [200, { AuthenticationResult: tokens('bob') }] });
    const first = await createAuth(CONFIG).signIn('bob', 'pw');

    const afterReload = createAuth(CONFIG); // a new page load: new pool object, same storage
    const session = await afterReload.currentSession();
    expect(session).toMatchObject({ status: 'SIGNED_IN', username: 'bob', idToken: first.idToken });
    expect(await afterReload.idToken()).toBe(first.idToken);
    expect(fetch).toHaveBeenCalledTimes(1); // valid tokens: no network call on reload

    afterReload.signOut();
    expect(await createAuth(CONFIG).currentSession()).toBeNull();
    expect(await afterReload.idToken()).toBeNull();
  });

  it('uses the regional endpoint when no custom endpoint is configured', async () => {
    const calls = cognito({ InitiateAuth: () => [200, { AuthenticationResult: tokens('carol') }] });
    await createAuth({ ...CONFIG, cognitoEndpoint: '' }).signIn('carol', 'pw');
    expect(calls[0].url).toBe('https://cognito-idp.us-east-1.amazonaws.com/');
  });

  it('reports a wrong password without storing anything', async () => {
    cognito({ InitiateAuth: () => [400, { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' }] });
    const auth = createAuth(CONFIG);
    await expect(auth.signIn('alice', 'wrong')).rejects.toMatchObject({
      code: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
    expect(await auth.currentSession()).toBeNull();
    expect(localStorage.length).toBe(0);
  });

  it('explains an unreachable Cognito endpoint', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(createAuth(CONFIG).signIn('alice', 'pw')).rejects.toMatchObject({
      code: 'NetworkError',
      message: expect.stringMatching(/Cannot reach the sign-in service/),
    });
  });

  it('completes the new-password challenge of an admin-created user', async () => {
    const calls = cognito({
      InitiateAuth: () => [200, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'sess-1', ChallengeParameters: { userAttributes: '{}', requiredAttributes: '[]' } }],
      RespondToAuthChallenge: () => [200, { AuthenticationResult: tokens('dave') }],
    });
    const auth = createAuth(CONFIG);
    const challenge = await auth.signIn('dave', 'temporary');
    expect(challenge.status).toBe('NEW_PASSWORD_REQUIRED');
    const done = await challenge.completeNewPassword('N3w-password!');
    expect(done).toMatchObject({ status: 'SIGNED_IN', username: 'dave' });
    expect(calls[1]).toMatchObject({
      operation: 'RespondToAuthChallenge',
      body: { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'sess-1', ChallengeResponses: { USERNAME: 'dave', NEW_PASSWORD: 'N3w-password!' } },
    });
    expect((await auth.currentSession()).username).toBe('dave');
  });

  it('refuses an empty form and an unconfigured pool without calling Cognito', async () => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    await expect(createAuth(CONFIG).signIn('', 'pw')).rejects.toMatchObject({ code: 'InvalidParameter' });
    const unconfigured = createAuth({ userPoolId: '', userPoolClientId: '' });
    await expect(unconfigured.signIn('a', 'b')).rejects.toMatchObject({ code: 'NotConfigured' });
    expect(await unconfigured.currentSession()).toBeNull();
    expect(() => unconfigured.signOut()).not.toThrow();
    expect(fetch).not.toHaveBeenCalled();
  });
});
