/** src/security: SA database, ESP transport-mode seal/open, anti-replay. Imports src/wire only. */
export * from './algorithms.js';
export * from './esp.js';
export * from './replay.js';
export * from './sa.js';
