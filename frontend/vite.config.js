import { defineConfig } from 'vite';

// Vite + React without a plugin: Vite's own transformer compiles JSX with React's automatic runtime.
// Build output keeps Vite's defaults: fingerprinted files in dist/assets/[name]-[hash].js|css, everything
// in public/ copied as-is (favicon.svg, 404.html), index.html at the root of dist/.
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  // amazon-cognito-identity-js bundles the `buffer` polyfill, which reads Node's `global`.
  define: { global: 'globalThis' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    rolldownOptions: {
      // Third-party code in its own fingerprinted chunk: an app-only change re-publishes only the small app chunk.
      output: { codeSplitting: { groups: [{ name: 'vendor', test: /node_modules/ }] } },
      onwarn(warning, warn) {
        // react-router's "use client" directive means nothing in a client-only bundle.
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { host: '127.0.0.1', strictPort: true },
  preview: { host: '127.0.0.1', strictPort: true },
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{js,jsx}'],
    restoreMocks: true,
  },
});
