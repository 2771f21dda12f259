export * from './rules.js';
export * from './facts.js';
export * from './classify.js';
export * from './tokens.js';
