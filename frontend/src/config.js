// The environment's configuration, read once from the VITE_* variables Vite inlines at build time
// (frontend/.env, written by `inv outputs.env --env NAME --write frontend/.env`).

export const CONFIG_FIELDS = [
  { key: 'environment', variable: 'VITE_ENVIRONMENT', label: 'Environment', required: true },
  { key: 'apiUrl', variable: 'VITE_API_URL', label: 'API URL', required: true },
  { key: 'region', variable: 'VITE_REGION', label: 'Region', required: true },
  { key: 'userPoolId', variable: 'VITE_USER_POOL_ID', label: 'User pool id', required: true },
  { key: 'userPoolClientId', variable: 'VITE_USER_POOL_CLIENT_ID', label: 'User pool client id', required: true },
  { key: 'siteUrl', variable: 'VITE_SITE_URL', label: 'Site URL', required: false },
  { key: 'cognitoEndpoint', variable: 'VITE_COGNITO_ENDPOINT', label: 'Cognito endpoint', required: false },
];

export const CONFIG_HINT =
  'Run `inv outputs.env --env NAME --write frontend/.env`, then rebuild (`inv frontend.build --env NAME`).';

// Returns {environment, apiUrl, ..., missing: [VITE_* names of required variables that are empty]}.
export function readConfig(env = import.meta.env) {
  const config = { missing: [] };
  for (const { key, variable, required } of CONFIG_FIELDS) {
    const value = typeof env[variable] === 'string' ? env[variable].trim() : '';
    config[key] = value;
    if (required && !value) config.missing.push(variable);
  }
  config.apiUrl = config.apiUrl.replace(/\/+$/, '');
  return config;
}
