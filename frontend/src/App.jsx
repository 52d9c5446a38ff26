import { NavLink, Outlet, Route, Routes } from 'react-router';
import { useServices } from './services.jsx';
import Home from './pages/Home.jsx';
import ConfigPage from './pages/ConfigPage.jsx';
import SignIn from './pages/SignIn.jsx';
import Tasks from './pages/Tasks.jsx';
import NotFound from './pages/NotFound.jsx';

function Layout() {
  const { config, user, signOut } = useServices();
  return (
    <>
      <header className="bar">
        <NavLink to="/" end className="brand">
          TimeManagement
        </NavLink>
        <nav>
          <NavLink to="/tasks">Tasks</NavLink>
          <NavLink to="/config">Configuration</NavLink>
          {user ? (
            <button type="button" className="link" onClick={signOut}>
              Sign out ({user.email || user.username})
            </button>
          ) : (
            <NavLink to="/signin">Sign in</NavLink>
          )}
        </nav>
        <span className="env" data-testid="env-badge">
          {config.environment || 'unconfigured'}
        </span>
      </header>
      <main>
        <Outlet />
      </main>
    </>
  );
}

export default function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route path="config" element={<ConfigPage />} />
        <Route path="signin" element={<SignIn />} />
        <Route path="tasks" element={<Tasks />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
