import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import App from './App.jsx';
import { createApiClient } from './api.js';
import { createAuth } from './auth.js';
import { readConfig } from './config.js';
import { ServicesProvider } from './services.jsx';
import './styles.css';

const config = readConfig();
const auth = createAuth(config);
const api = createApiClient({ baseUrl: config.apiUrl, getToken: () => auth.idToken() });

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <BrowserRouter>
      <ServicesProvider config={config} auth={auth} api={api}>
        <App />
      </ServicesProvider>
    </BrowserRouter>
  </StrictMode>,
);
