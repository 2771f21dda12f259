export * from './errors.js';
export * from './finding.js';
export * from './net.js';
