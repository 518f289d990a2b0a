import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const here = import.meta.dirname;
const pkg = JSON.parse(readFileSync(resolve(here, 'package.json'), 'utf8')) as { version: string };

// The release version: MGM_EXTENSION_VERSION (set by the release zip) wins over
// package.json, so a release build can never report a stale version.
const version = (process.env.MGM_EXTENSION_VERSION ?? '').trim() || pkg.version;
// The EBS the panel talks to, fixed at build time (Twitch hosts static files).
const ebsUrl = ((process.env.VITE_EBS_URL ?? '').trim() || 'http://127.0.0.1:8080').replace(/\/+$/, '');

export default defineConfig({
  base: './',
  define: {
    __APP_VERSION__: JSON.stringify(version),
    __EBS_URL__: JSON.stringify(ebsUrl),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    modulePreload: false,
    // Twitch reviews the uploaded code: it ships readable, not minified, so a
    // reviewer reads what runs (a few KB more for viewers, gzipped).
    minify: false,
    rolldownOptions: {
      input: {
        panel: resolve(here, 'panel.html'),
        config: resolve(here, 'config.html'),
      },
      output: {
        // Code and styles shared by both pages.
        chunkFileNames: 'assets/shared-[hash].js',
        assetFileNames: (a) => (a.names.some((n) => n.endsWith('.css')) ? 'assets/style-[hash][extname]' : 'assets/[name]-[hash][extname]'),
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
