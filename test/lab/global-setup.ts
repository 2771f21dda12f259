// Lab tests share one lab: brought up once before the lab test files (when
// this machine can run it) and torn down after. A file that changes the lab
// restores it before it ends.
export { setup, teardown } from './lab-harness.js';
