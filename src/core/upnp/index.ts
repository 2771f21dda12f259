// The pure side of the UPnP audit: SSDP, IGD descriptions, SOAP, NAT-PMP/PCP,
// mapping risk, attribution types, findings and the "disable UPnP" impact.
export * from './attribution.js';
export * from './description.js';
export * from './findings.js';
export * from './impact.js';
export * from './natpmp.js';
export * from './observed.js';
export * from './risk.js';
export * from './soap.js';
export * from './ssdp.js';
export * from './risk-schema.js';
