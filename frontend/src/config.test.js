import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, readConfig } from './config.js';

const FULL = {
  VITE_API_URL: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/',
  VITE_REGION: 'eu-west-1',
  VITE_USER_POOL_ID: 'eu-west-1_AbC123',
  VITE_USER_POOL_CLIENT_ID: 'client123',
  VITE_ENVIRONMENT: 'dev',
  VITE_SITE_URL: 'https://d1.cloudfront.net',
};

describe('readConfig', () => {
  it('maps every VITE_* variable and strips the API URL trailing slash', () => {
    const config = readConfig(FULL);
    expect(config).toMatchObject({
      apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod',
      region: 'eu-west-1',
      userPoolId: 'eu-west-1_AbC123',
      userPoolClientId: 'client123',
      environment: 'dev',
      siteUrl: 'https://d1.cloudfront.net',
      cognitoEndpoint: '',
    });
    expect(config.missing).toEqual([]);
  });

  it('names the required variables that are missing or blank', () => {
    const config = readConfig({ VITE_REGION: 'us-east-1', VITE_API_URL: '   ', VITE_ENVIRONMENT: 42 });
    expect(config.missing).toEqual(['VITE_ENVIRONMENT', 'VITE_API_URL', 'VITE_USER_POOL_ID', 'VITE_USER_POOL_CLIENT_ID']);
    expect(config.region).toBe('us-east-1');
    expect(config.apiUrl).toBe('');
    expect(config.environment).toBe('');
  });

  it('reads the local-only Cognito endpoint and a relative API URL', () => {
    const config = readConfig({ ...FULL, VITE_API_URL: '/api', VITE_COGNITO_ENDPOINT: ' /cognito ' });
    expect(config.apiUrl).toBe('/api');
    expect(config.cognitoEndpoint).toBe('/cognito');
  });

  it('covers exactly the variables `inv outputs.env` writes', () => {
    expect(CONFIG_FIELDS.map((f) => f.variable).sort()).toEqual([
      'VITE_API_URL',
      'VITE_COGNITO_ENDPOINT',
      'VITE_ENVIRONMENT',
      'VITE_REGION',
      'VITE_SITE_URL',
      'VITE_USER_POOL_CLIENT_ID',
      'VITE_USER_POOL_ID',
    ]);
  });
});
