/** Sync planning: pure functions from what was read and stored to what to write and save. */
export * from './values.js';
export * from './ids.js';
export * from './cursor.js';
export * from './merge.js';
export * from './types.js';
export * from './plan.js';
export * from './results.js';
