import { useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { useServices } from '../services.jsx';

export default function SignIn() {
  const { auth, user, setUser } = useServices();
  const navigate = useNavigate();
  const location = useLocation();
  const [challenge, setChallenge] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function run(step) {
    setError('');
    setBusy(true);
    try {
      const result = await step();
      if (result.status === 'NEW_PASSWORD_REQUIRED') {
        setChallenge(result);
      } else {
        setUser(result);
        navigate(location.state?.from || '/tasks', { replace: true });
      }
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  function onSubmit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    if (challenge) run(() => challenge.completeNewPassword(form.get('newPassword')));
    else run(() => auth.signIn(form.get('username'), form.get('password')));
  }

  if (user && !challenge) {
    return (
      <section>
        <h1>Sign in</h1>
        <p>
          You are signed in as {user.email || user.username}. <Link to="/tasks">Go to your tasks</Link>.
        </p>
      </section>
    );
  }

  return (
    <section>
      <h1>Sign in</h1>
      <form onSubmit={onSubmit} className="stack" aria-label="Sign in">
        {challenge ? (
          <>
            <p>Choose a new password for {challenge.username}.</p>
            <label>
              New password
              <input name="newPassword" type="password" autoComplete="new-password" required />
            </label>
          </>
        ) : (
          <>
            <label>
              Email or username
              <input name="username" type="text" autoComplete="username" required />
            </label>
            <label>
              Password
              <input name="password" type="password" autoComplete="current-password" required />
            </label>
          </>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : challenge ? 'Set password' : 'Sign in'}
        </button>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
