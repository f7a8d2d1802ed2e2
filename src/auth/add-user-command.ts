import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { assertDatabaseReachable, createDb, dbOptionsFrom } from '../db/connection.js';
import { DomainError } from '../errors/domain-errors.js';
import { MIN_PASSWORD_LENGTH } from './passwords.js';
import { ROLES, type Role } from './roles.js';
import { createUser, LOCALES, type Locale } from './user-store.js';

export interface AddUserArgs {
  email: string | null;
  role: string | null;
  name: string | null;
  locale: string | null;
  /** STOCKBRIDGE_NEW_PASSWORD, when set; otherwise the password is asked for on a terminal. */
  password: string | undefined;
}

/** Reads a line from the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  const { stdin, stdout } = process;
  return new Promise((resolve, reject) => {
    stdout.write(question);
    let typed = '';
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stdout.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

/** `stockbridge user:add --email a@b.c --role admin [--name N] [--locale en]`: the first login, or any. */
export async function addUserCommand(config: Config, log: Logger, args: AddUserArgs): Promise<number> {
  const problems: string[] = [];
  if (!args.email || !/^[^@\s]+@[^@\s]+$/.test(args.email)) problems.push('--email needs an e-mail address');
  if (!args.role || !(ROLES as readonly string[]).includes(args.role)) {
    problems.push(`--role must be one of ${ROLES.join(', ')}`);
  }
  if (args.locale !== null && !(LOCALES as readonly string[]).includes(args.locale)) {
    problems.push(`--locale must be one of ${LOCALES.join(', ')}`);
  }
  if (problems.length) {
    process.stderr.write(`stockbridge user:add: ${problems.join('; ')}\n`);
    return 2;
  }
  let password = args.password;
  if (password === undefined) {
    if (!process.stdin.isTTY) {
      process.stderr.write(
        'stockbridge user:add: set STOCKBRIDGE_NEW_PASSWORD, or run it on a terminal to be asked for the password\n',
      );
      return 2;
    }
    password = await askHidden(`Password (at least ${MIN_PASSWORD_LENGTH} characters): `);
    if ((await askHidden('Password again: ')) !== password) {
      process.stderr.write('stockbridge user:add: the two passwords differ\n');
      return 2;
    }
  }
  const db = createDb(dbOptionsFrom(config));
  try {
    await assertDatabaseReachable(db, dbOptionsFrom(config));
    const user = await createUser(db, {
      email: args.email as string,
      name: args.name ?? undefined,
      role: args.role as Role,
      password,
      locale: (args.locale as Locale | null) ?? undefined,
    });
    log.info({ userId: user.id, email: user.email, role: user.role }, 'user created');
    process.stdout.write(`${JSON.stringify({ id: user.id, email: user.email, role: user.role })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof DomainError) {
      process.stderr.write(`stockbridge user:add: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.destroy();
  }
}
