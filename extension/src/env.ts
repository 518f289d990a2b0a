// Build-time constants (vite.config.ts `define`).
declare const __APP_VERSION__: string;
declare const __EBS_URL__: string;

/** The panel's own release version, stamped at build time. */
export const APP_VERSION: string = typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : '0.0.0-dev';

/** The EBS base URL the build targets (no trailing slash). */
export const BUILD_EBS_URL: string = typeof __EBS_URL__ === 'string' ? __EBS_URL__ : 'http://127.0.0.1:8080';
