import { Link, useLocation } from 'react-router';

export default function NotFound() {
  const { pathname } = useLocation();
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{pathname}</code>. <Link to="/">Go home</Link>.
      </p>
    </section>
  );
}
