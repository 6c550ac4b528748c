/** The sync engine: pure planning, the page pipeline and its ports. */
export * from './protocol.js';
export * from './ports.js';
export * from './values.js';
export * from './ids.js';
export * from './cursor.js';
export * from './hub.js';
export * from './merge.js';
export * from './plan.js';
export * from './results.js';
export * from './render.js';
export * from './engine.js';
