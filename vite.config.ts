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
    rollupOptions: {
      input: {
        dashboard: `${webRoot}/index.html`,
        volunteer: `${webRoot}/volunteer.html`,
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
