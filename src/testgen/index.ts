/** src/testgen: paths generated from the statecharts, their execution and coverage. */
export * from './clock.js';
export * from './coverage.js';
export * from './execute.js';
export * from './generate.js';
export * from './model.js';
export * from './registry.js';
export * from './structure.js';
