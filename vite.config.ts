import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('./web', import.meta.url));
const coordinator = process.env.TABREDUCE_DEV_COORDINATOR ?? 'http://localhost:3000';

// The web app is two pages: the dashboard (/) and the volunteer page (/volunteer).
// The coordinator serves the built files from dist/web; `vite` (dev) proxies the API
// and Socket.IO to a coordinator started with `npm run dev:server`.
export default defineConfig({
  root: webRoot,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    rolldownOptions: {
      input: {
        dashboard: `${webRoot}/index.html`,
        volunteer: `${webRoot}/volunteer.html`,
      },
      output: {
        codeSplitting: {
          groups: [
            // What both pages load first: named, so the build's listing says what it is.
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'socket.io', test: /node_modules[\\/](socket\.io-client|socket\.io-parser|engine\.io-client|engine\.io-parser|@socket\.io)[\\/]/ },
            // CodeMirror comes only with the dashboard's editor (LazyCodeEditor.tsx). Whole it
            // is 505 kB, past Vite's 500 kB warning: its view and its language support load as
            // two chunks, side by side.
            { name: 'codemirror-view', test: /node_modules[\\/](@codemirror[\\/](view|state)|style-mod|w3c-keyname|crelt)[\\/]/ },
            { name: 'codemirror-language', test: /node_modules[\\/](@codemirror|@lezer|codemirror)[\\/]/ },
          ],
        },
      },
    },
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/api': coordinator,
      '/socket.io': { target: coordinator, ws: true },
    },
  },
});
