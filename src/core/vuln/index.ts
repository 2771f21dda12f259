// Known-exploited vulnerabilities (issue #12): the catalog schema, device
// evidence and the passive matcher that turns evidence into findings.
export * from './catalog.js';
export * from './schema.js';
export * from './evidence.js';
export * from './version.js';
export * from './match.js';
export * from './detector.js';
