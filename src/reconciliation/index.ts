export { reconcilePeriod, type ReconcileOptions, type ReconcileResult, FINDING_TOPIC } from './run.js';
export * from './store.js';
export { findingsWorkbook, findingsFileName } from './workbook.js';
