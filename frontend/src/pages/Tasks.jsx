import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useServices } from '../services.jsx';

export default function Tasks() {
  const { api, user } = useServices();
  const [tasks, setTasks] = useState(null);
  const [error, setError] = useState('');
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setTasks(await api.listTasks());
      setError('');
    } catch (err) {
      setError(err.message);
    }
  }, [api]);

  useEffect(() => {
    if (user) load();
  }, [user, load]);

  async function onSubmit(event) {
    event.preventDefault();
    setBusy(true);
    try {
      await api.createTask(title);
      setTitle('');
      await load();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }

  if (user === undefined) return <p>Loading…</p>;
  if (!user) {
    return (
      <section>
        <h1>Tasks</h1>
        <p>
          <Link to="/signin" state={{ from: '/tasks' }}>
            Sign in
          </Link>{' '}
          to see your tasks.
        </p>
      </section>
    );
  }

  return (
    <section>
      <h1>Tasks</h1>
      <form onSubmit={onSubmit} className="row" aria-label="New task">
        <input
          name="title"
          aria-label="Task title"
          placeholder="What needs doing?"
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          maxLength={200}
          required
        />
        <button type="submit" disabled={busy}>
          Add task
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {tasks === null ? (
        !error && <p>Loading tasks…</p>
      ) : tasks.length === 0 ? (
        <p>No tasks yet.</p>
      ) : (
        <ul className="tasks" data-testid="task-list">
          {tasks.map((task, index) => (
            <li key={task.id ?? index}>{task.title}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
