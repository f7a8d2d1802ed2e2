export * from './api-error.js';
export * from './channel-auth-error.js';
export * from './permanent-error.js';
export * from './rate-limited-error.js';
