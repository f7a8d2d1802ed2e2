import { hash, verify } from '@node-rs/argon2';
import { unprocessable } from '../errors/domain-errors.js';

/** Shortest password accepted; long passphrases are encouraged, so the ceiling is generous. */
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

/** An argon2id hash (the library's default algorithm) in PHC form: `$argon2id$v=19$...`. */
export const hashPassword = (password: string): Promise<string> => hash(password);

/** Whether the password matches the stored hash; a malformed hash is a mismatch, not an error. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/**
 * A hash no password matches, verified against when the e-mail is unknown, so a wrong address
 * takes as long as a wrong password and does not tell which addresses exist.
 */
let decoy: Promise<string> | null = null;
export const decoyHash = () => {
  decoy ??= hash('not a password of anyone: a decoy for unknown addresses');
  return decoy;
};

/** Refuses a password that is too short or too long (422 with the reason). */
export function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw unprocessable('weak_password', `the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw unprocessable(
      'password_too_long',
      `the password may have at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
}
