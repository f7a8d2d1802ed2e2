export * from './api-error.js';
export * from './channel-auth-error.js';
export * from './domain-errors.js';
export * from './permanent-error.js';
export * from './rate-limited-error.js';
