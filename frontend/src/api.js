// Client for the TimeManagement API. `getToken` returns the signed-in user's Cognito id token (or null);
// it is sent as the Authorization header, as API Gateway's Cognito authorizer expects.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export function joinUrl(baseUrl, path) {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

function taskList(data) {
  const items = Array.isArray(data) ? data : (data?.items ?? data?.tasks);
  if (!Array.isArray(items)) throw new ApiError('The API answered GET /tasks with an unexpected body.', 200);
  return items;
}

export function createApiClient({ baseUrl, getToken, fetchImpl = (...args) => globalThis.fetch(...args) }) {
  async function request(method, path, body) {
    if (!baseUrl) throw new ApiError('The API URL is not configured (VITE_API_URL).', 0);
    const token = await getToken();
    if (!token) throw new ApiError('You are not signed in.', 401);
    const headers = { Accept: 'application/json', Authorization: token };
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const url = joinUrl(baseUrl, path);
    let response;
    try {
      response = await fetchImpl(url, init);
    } catch (error) {
      throw new ApiError(`Cannot reach the API at ${url} (${error.message}).`, 0);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const detail = data?.message || data?.error || response.statusText || 'error';
      throw new ApiError(`${method} ${path} failed: ${response.status} ${detail}`, response.status);
    }
    return data;
  }

  return {
    listTasks: async () => taskList(await request('GET', '/tasks')),
    createTask: async (title) => {
      const clean = String(title ?? '').trim();
      if (!clean) throw new ApiError('A task needs a title.', 400);
      return request('POST', '/tasks', { title: clean });
    },
  };
}
