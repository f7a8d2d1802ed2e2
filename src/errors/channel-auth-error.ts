import { PermanentError } from './permanent-error.js';

/**
 * The channel refused our credentials (HTTP 401/403): another attempt will not help until an
 * administrator fixes the channel's settings. Never carries the credentials themselves.
 */
export class ChannelAuthError extends PermanentError {
  override name = 'ChannelAuthError';
  constructor(message: string, details?: unknown) {
    super('auth_failed', message, details);
  }
}
