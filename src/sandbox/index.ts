export * from './random.js';
export * from './people.js';
export * from './faults.js';
export * from './counters.js';
