export { FINDING_TOPIC, type ReconcileOptions, type ReconcileResult, reconcilePeriod } from './run.js';
export * from './store.js';
export { findingsFileName, findingsWorkbook } from './workbook.js';
