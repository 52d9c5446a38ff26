// What the pages need from the outside world (configuration, Cognito, the API), passed down through one
// context so tests can render the app with stand-ins.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';

const ServicesContext = createContext(null);

export function ServicesProvider({ config, auth, api, children }) {
  // undefined while the stored session is being read; null when signed out.
  const [user, setUser] = useState(undefined);

  useEffect(() => {
    let live = true;
    auth.currentSession().then((session) => live && setUser(session));
    return () => {
      live = false;
    };
  }, [auth]);

  const signOut = useCallback(() => {
    auth.signOut();
    setUser(null);
  }, [auth]);

  const value = useMemo(() => ({ config, auth, api, user, setUser, signOut }), [config, auth, api, user, signOut]);
  return <ServicesContext.Provider value={value}>{children}</ServicesContext.Provider>;
}

export function useServices() {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices() needs a <ServicesProvider> above it.');
  return services;
}
