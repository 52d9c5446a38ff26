import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApiClient, joinUrl } from './api.js';

function reply(status, body) {
  return { ok: status >= 200 && status < 300, status, statusText: 'x', text: async () => (body === undefined ? '' : JSON.stringify(body)) };
}

function client(fetchImpl, token = 'id-token-1') {
  return createApiClient({ baseUrl: 'https://api.example.test/prod', getToken: async () => token, fetchImpl });
}

describe('joinUrl', () => {
  it('joins with exactly one slash', () => {
    expect(joinUrl('/api/', '/tasks')).toBe('/api/tasks');
    expect(joinUrl('https://h/prod', 'tasks')).toBe('https://h/prod/tasks');
  });
});

describe('api client', () => {
  it('lists tasks with the id token as Authorization', async () => {
    const fetchImpl = vi.fn(async () => reply(200, [{ id: 'a', title: 'one' }]));
    expect(await client(fetchImpl).listTasks()).toEqual([{ id: 'a', title: 'one' }]);
    const [url, init] = fetchImpl.mock.calls[0];
    expect(url).toBe('https://api.example.test/prod/tasks');
    expect(init.method).toBe('GET');
    expect(init.headers.Authorization).toBe('id-token-1');
    expect(init.body).toBeUndefined();
  });

  it('accepts a list wrapped in {items} or {tasks}', async () => {
    expect(await client(async () => reply(200, { items: [{ id: 1, title: 'x' }] })).listTasks()).toHaveLength(1);
    expect(await client(async () => reply(200, { tasks: [] })).listTasks()).toEqual([]);
    await expect(client(async () => reply(200, { nope: 1 })).listTasks()).rejects.toThrow(/unexpected body/);
  });

  it('creates a task with a JSON body and a trimmed title', async () => {
    const fetchImpl = vi.fn(async () => reply(201, { id: 'n', title: 'Write docs' }));
    expect(await client(fetchImpl).createTask('  Write docs ')).toEqual({ id: 'n', title: 'Write docs' });
    const [url, init] = fetchImpl.mock.calls[0];
    expect(url).toBe('https://api.example.test/prod/tasks');
    expect(init.method).toBe('POST');
    expect(init.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(init.body)).toEqual({ title: 'Write docs' });
  });

  it('refuses an empty title without calling the API', async () => {
    const fetchImpl = vi.fn();
    await expect(client(fetchImpl).createTask('   ')).rejects.toMatchObject({ status: 400 });
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it('does not call the API when nobody is signed in', async () => {
    const fetchImpl = vi.fn();
    await expect(client(fetchImpl, null).listTasks()).rejects.toMatchObject({ status: 401, message: 'You are not signed in.' });
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it('turns an error answer into an ApiError with the status and the server message', async () => {
    const error = await client(async () => reply(503, { message: 'secret STRIPE_KEY is not seeded' }))
      .listTasks()
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(503);
    expect(error.message).toBe('GET /tasks failed: 503 secret STRIPE_KEY is not seeded');
  });

  it('handles a non-JSON error body', async () => {
    const fetchImpl = async () => ({ ok: false, status: 502, statusText: 'Bad Gateway', text: async () => '<html>' });
    await expect(client(fetchImpl).listTasks()).rejects.toThrow('GET /tasks failed: 502 Bad Gateway');
  });

  it('says which URL it could not reach', async () => {
    const fetchImpl = async () => {
      throw new TypeError('Failed to fetch');
    };
    await expect(client(fetchImpl).listTasks()).rejects.toMatchObject({
      status: 0,
      message: 'Cannot reach the API at https://api.example.test/prod/tasks (Failed to fetch).',
    });
  });

  it('says when the API URL is not configured', async () => {
    const api = createApiClient({ baseUrl: '', getToken: async () => 't', fetchImpl: vi.fn() });
    await expect(api.listTasks()).rejects.toThrow(/VITE_API_URL/);
  });
});
