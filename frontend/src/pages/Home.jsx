import { Link } from 'react-router';
import { useServices } from '../services.jsx';

export default function Home() {
  const { config, user } = useServices();
  return (
    <section>
      <h1>TimeManagement</h1>
      <p>
        Plan your tasks and keep track of them. Environment: <strong>{config.environment || 'not configured'}</strong>.
      </p>
      <p>
        {user ? (
          <>
            Signed in as {user.email || user.username}. <Link to="/tasks">Open your tasks</Link>.
          </>
        ) : (
          <>
            <Link to="/signin">Sign in</Link> to see your tasks.
          </>
        )}
      </p>
      <p>
        <Link to="/config">See this environment&apos;s configuration</Link>.
      </p>
    </section>
  );
}
