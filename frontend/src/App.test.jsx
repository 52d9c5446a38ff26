import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { MemoryRouter, useLocation } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from './App.jsx';
import { readConfig } from './config.js';
import { ServicesProvider } from './services.jsx';

globalThis.IS_REACT_ACT_ENVIRONMENT = true;

const CONFIG = readConfig({
  VITE_API_URL: '/api',
  VITE_REGION: 'us-east-1',
  VITE_USER_POOL_ID: 'us-east-1_Pool123',
  VITE_USER_POOL_CLIENT_ID: 'client-abc',
  VITE_ENVIRONMENT: 'local',
});
const ALICE = { status: 'SIGNED_IN', username: 'alice', email: 'alice@example.com', idToken: 'tok' };

function fakeAuth(session = null) {
  return {
    currentSession: vi.fn(async () => session),
    signIn: vi.fn(async () => ALICE),
    signOut: vi.fn(),
  };
}

function fakeApi(initial = []) {
  const tasks = [...initial];
  return {
    tasks,
    listTasks: vi.fn(async () => [...tasks]),
    createTask: vi.fn(async (title) => {
      const task = { id: `t${tasks.length + 1}`, title };
      tasks.push(task);
      return task;
    }),
  };
}

let container;
let root;
let location;

function LocationSpy() {
  location = useLocation();
  return null;
}

async function render(path, { config = CONFIG, auth = fakeAuth(), api = fakeApi() } = {}) {
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
  await act(async () => {
    root.render(
      <MemoryRouter initialEntries={[path]}>
        <ServicesProvider config={config} auth={auth} api={api}>
          <App />
          <LocationSpy />
        </ServicesProvider>
      </MemoryRouter>,
    );
  });
  return container;
}

const text = () => container.textContent;
const h1 = () => container.querySelector('h1').textContent;

function type(input, value) {
  const setter = Object.getOwnPropertyDescriptor(window.HTMLInputElement.prototype, 'value').set;
  setter.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

function fillSignIn(username, password) {
  container.querySelector('[name=username]').value = username;
  container.querySelector('[name=password]').value = password;
}

async function submit(form) {
  await act(async () => {
    form.requestSubmit();
  });
}

afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

describe('routes', () => {
  it('renders the home page at /', async () => {
    await render('/');
    expect(h1()).toBe('TimeManagement');
    expect(container.querySelector('[data-testid=env-badge]').textContent).toBe('local');
    expect([...container.querySelectorAll('nav a')].map((a) => a.getAttribute('href'))).toEqual(['/tasks', '/config', '/signin']);
  });

  it('shows the configuration read from VITE_* variables at /config', async () => {
    await render('/config');
    expect(h1()).toBe('Configuration');
    const row = (key) => container.querySelector(`[data-testid=config-${key}] td`).textContent;
    expect(row('apiUrl')).toBe('/api');
    expect(row('region')).toBe('us-east-1');
    expect(row('userPoolId')).toBe('us-east-1_Pool123');
    expect(row('userPoolClientId')).toBe('client-abc');
    expect(row('environment')).toBe('local');
    expect(row('siteUrl')).toBe('not set');
    expect(container.querySelector('[role=alert]')).toBeNull();
  });

  it('names missing variables and how to write them', async () => {
    await render('/config', { config: readConfig({ VITE_REGION: 'eu-west-1' }) });
    const alert = container.querySelector('[role=alert]').textContent;
    expect(alert).toContain('VITE_API_URL');
    expect(alert).toContain('inv outputs.env');
  });

  it('renders a not-found page for unknown client routes', async () => {
    await render('/no/such/page');
    expect(h1()).toBe('Page not found');
    expect(text()).toContain('/no/such/page');
  });
});

describe('sign-in', () => {
  it('signs in, then lands on /tasks with the user shown in the header', async () => {
    const auth = fakeAuth();
    await render('/signin', { auth });
    fillSignIn('alice', 'pw');
    await submit(container.querySelector('form'));
    expect(auth.signIn).toHaveBeenCalledWith('alice', 'pw');
    expect(location.pathname).toBe('/tasks');
    expect(text()).toContain('Sign out (alice@example.com)');
  });

  it('shows the error and stays on the page when sign-in fails', async () => {
    const auth = fakeAuth();
    auth.signIn.mockRejectedValueOnce(new Error('Incorrect username or password.'));
    await render('/signin', { auth });
    fillSignIn('alice', 'wrong');
    await submit(container.querySelector('form'));
    expect(container.querySelector('[role=alert]').textContent).toBe('Incorrect username or password.');
    expect(location.pathname).toBe('/signin');
  });

  it('asks for a new password when Cognito requires one', async () => {
    const auth = fakeAuth();
    const completeNewPassword = vi.fn(async () => ALICE);
    auth.signIn.mockResolvedValueOnce({ status: 'NEW_PASSWORD_REQUIRED', username: 'alice', completeNewPassword });
    await render('/signin', { auth });
    fillSignIn('alice', 'temporary');
    await submit(container.querySelector('form'));
    const input = container.querySelector('[name=newPassword]');
    expect(input).not.toBeNull();
    input.value = 'N3w-password!';
    await submit(container.querySelector('form'));
    expect(completeNewPassword).toHaveBeenCalledWith('N3w-password!');
    expect(location.pathname).toBe('/tasks');
  });

  it('signs out from the header', async () => {
    const auth = fakeAuth(ALICE);
    await render('/', { auth });
    await act(async () => container.querySelector('button.link').click());
    expect(auth.signOut).toHaveBeenCalledOnce();
    expect(text()).toContain('Sign in');
  });
});

describe('tasks', () => {
  it('asks a signed-out visitor to sign in and does not call the API', async () => {
    const api = fakeApi();
    await render('/tasks', { api });
    expect(container.querySelector('main a').getAttribute('href')).toBe('/signin');
    expect(api.listTasks).not.toHaveBeenCalled();
  });

  it("lists the signed-in user's tasks and adds one", async () => {
    const api = fakeApi([{ id: 't1', title: 'Existing task' }]);
    await render('/tasks', { auth: fakeAuth(ALICE), api });
    const items = () => [...container.querySelectorAll('[data-testid=task-list] li')].map((li) => li.textContent);
    expect(items()).toEqual(['Existing task']);

    const input = container.querySelector('input[name=title]');
    await act(async () => type(input, 'Write the docs'));
    await submit(container.querySelector('form'));
    expect(api.createTask).toHaveBeenCalledWith('Write the docs');
    expect(items()).toEqual(['Existing task', 'Write the docs']);
    expect(input.value).toBe('');
  });

  it('shows an API error instead of the list', async () => {
    const api = fakeApi();
    api.listTasks.mockRejectedValueOnce(new Error('GET /tasks failed: 503 secret not seeded'));
    await render('/tasks', { auth: fakeAuth(ALICE), api });
    expect(container.querySelector('[role=alert]').textContent).toBe('GET /tasks failed: 503 secret not seeded');
    expect(container.querySelector('[data-testid=task-list]')).toBeNull();
  });
});

describe('forms', () => {
  it('does not submit an empty sign-in form', async () => {
    const auth = fakeAuth();
    await render('/signin', { auth });
    await submit(container.querySelector('form'));
    expect(auth.signIn).not.toHaveBeenCalled();
  });
});
