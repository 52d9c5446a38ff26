// Cognito sign-in with amazon-cognito-identity-js. USER_PASSWORD_AUTH (one InitiateAuth call) so it also
// works against the local emulator; VITE_COGNITO_ENDPOINT, when set, replaces the regional endpoint.
// The library keeps the session (id, access and refresh tokens) in localStorage, so it survives a reload,
// and getSession() refreshes expired tokens with the refresh token.
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';

export class AuthError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'AuthError';
    this.code = code;
  }
}

function authError(error) {
  const code = error?.code || error?.name || 'Error';
  const known = {
    NotAuthorizedException: 'Incorrect username or password.',
    UserNotFoundException: 'Incorrect username or password.',
    UserNotConfirmedException: 'This account is not confirmed yet.',
    PasswordResetRequiredException: 'A password reset is required for this account.',
    InvalidPasswordException: error?.message || 'The new password does not meet the password policy.',
    NetworkError: 'Cannot reach the sign-in service (Cognito). Check the connection, or for the local env that `inv local.serve` runs.',
  };
  return new AuthError(known[code] || error?.message || String(error), code);
}

function signedIn(user, session) {
  const idToken = session.getIdToken();
  const claims = idToken.decodePayload();
  return {
    status: 'SIGNED_IN',
    username: user.getUsername(),
    email: claims.email || '',
    idToken: idToken.getJwtToken(),
  };
}

export function createAuth(config, { storage } = {}) {
  let pool = null;

  function userPool() {
    if (!config.userPoolId || !config.userPoolClientId) {
      throw new AuthError(
        'Sign-in is not configured: VITE_USER_POOL_ID and VITE_USER_POOL_CLIENT_ID are empty.',
        'NotConfigured',
      );
    }
    if (!pool) {
      pool = new CognitoUserPool({
        UserPoolId: config.userPoolId,
        ClientId: config.userPoolClientId,
        endpoint: config.cognitoEndpoint || undefined,
        Storage: storage,
      });
    }
    return pool;
  }

  function callbacks(user, resolve, reject) {
    return {
      onSuccess: (session) => resolve(signedIn(user, session)),
      onFailure: (error) => reject(authError(error)),
      newPasswordRequired: () =>
        resolve({
          status: 'NEW_PASSWORD_REQUIRED',
          username: user.getUsername(),
          completeNewPassword: (newPassword) =>
            new Promise((res, rej) => user.completeNewPasswordChallenge(newPassword, {}, callbacks(user, res, rej))),
        }),
    };
  }

  return {
    // Resolves {status: 'SIGNED_IN', username, email, idToken} or {status: 'NEW_PASSWORD_REQUIRED', completeNewPassword}.
    signIn(username, password) {
      return new Promise((resolve, reject) => {
        const name = String(username ?? '').trim();
        if (!name || !password) {
          reject(new AuthError('Enter your username and password.', 'InvalidParameter'));
          return;
        }
        const user = new CognitoUser({ Username: name, Pool: userPool(), Storage: storage });
        user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
        user.authenticateUser(
          new AuthenticationDetails({ Username: name, Password: password }),
          callbacks(user, resolve, reject),
        );
      });
    },

    // The stored session (refreshed when its tokens expired), or null when nobody is signed in.
    currentSession() {
      return new Promise((resolve) => {
        let user;
        try {
          user = userPool().getCurrentUser();
        } catch {
          resolve(null);
          return;
        }
        if (!user) {
          resolve(null);
          return;
        }
        user.getSession((error, session) => {
          resolve(error || !session?.isValid() ? null : signedIn(user, session));
        });
      });
    },

    async idToken() {
      return (await this.currentSession())?.idToken ?? null;
    },

    signOut() {
      try {
        userPool().getCurrentUser()?.signOut();
      } catch {
        // not configured: nobody can be signed in
      }
    },
  };
}
