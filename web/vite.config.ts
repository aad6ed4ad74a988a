/// <reference types="vitest/config" />
/// <reference types="node" />
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The app calls only relative /api/... URLs (one origin, as deployed behind CloudFront).
// In development Vite proxies them to a local-stack serving the API at its root, stripping
// the prefix exactly as the CloudFront function does.
const apiPort = process.env.API_PORT ?? '3000';

export default defineConfig({
  plugins: [preact()],
  server: {
    host: 'localhost',
    strictPort: true,
    proxy: {
      '/api': {
        target: `http://127.0.0.1:${apiPort}`,
        rewrite: (path) => path.replace(/^\/api/, '') || '/',
      },
    },
  },
  build: {
    outDir: 'dist',
    target: 'es2022',
    // One small CSS file for the whole app; pages are split by dynamic import.
    cssCodeSplit: false,
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
