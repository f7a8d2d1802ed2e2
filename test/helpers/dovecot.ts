import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort, waitFor } from './ports.js';

/** Where Debian's dovecot-imapd puts the server. */
export const DOVECOT_BINARY = process.env.DOVECOT_BINARY ?? '/usr/sbin/dovecot';

export interface TestDovecot {
  host: string;
  port: number;
  /** The one mailbox user and its plain password. */
  user: string;
  password: string;
  /** A logged-in client for the test user (connected; log out when done). */
  client(): Promise<ImapFlow>;
  /** Appends a raw RFC 5322 message to `folder` (created first when missing). */
  append(folder: string, raw: string | Buffer): Promise<void>;
  /** The UIDs of the messages in `folder` (none when the folder does not exist). */
  uids(folder: string): Promise<number[]>;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * A real IMAP server for one test file: Dovecot started in the foreground (`dovecot -F`) as a
 * child process with its own configuration in a temporary folder, unprivileged (its internal and
 * login users are the current user), one user in a passwd file with a plain password, maildirs in
 * the temporary folder, plain-text login without TLS on 127.0.0.1 at a free port. Fails, saying to
 * install dovecot-imapd, when Dovecot is not installed: nothing is skipped.
 */
export async function startTestDovecot(): Promise<TestDovecot> {
  if (!existsSync(DOVECOT_BINARY)) {
    throw new Error(
      `Dovecot is not installed (${DOVECOT_BINARY} is missing): install the dovecot-imapd package ` +
        '(apt-get install dovecot-imapd); CI installs it (.ci/run)',
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'sb-dovecot-'));
  // Its auth process (another user under root) reads the passwd file here. Holds nothing secret.
  await chmod(dir, 0o755);
  const me = userInfo();
  const user = 'orders';
  const password = 'orders-test-password';
  const port = await freePort();
  const services = serviceUsers(me.username, me.uid, me.gid);
  await mkdir(path.join(dir, 'mail'), { recursive: true });
  await mkdir(path.join(dir, 'run'), { recursive: true });
  await mkdir(path.join(dir, 'state'), { recursive: true });
  // passwd-file: user:{scheme}password:uid:gid::home
  await writeFile(
    path.join(dir, 'users'),
    `${user}:{PLAIN}${password}:${services.mailUid}:${services.mailGid}::${path.join(dir, 'mail', user)}\n`,
  );
  await chown(path.join(dir, 'mail'), services.mailUid, services.mailGid);
  const conf = path.join(dir, 'dovecot.conf');
  await writeFile(
    conf,
    [
      `base_dir = ${path.join(dir, 'run')}`,
      `state_dir = ${path.join(dir, 'state')}`,
      `instance_name = sb-dovecot-${port}`,
      'protocols = imap',
      `listen = 127.0.0.1`,
      `default_internal_user = ${services.internal}`,
      `default_internal_group = ${services.internalGroup}`,
      `default_login_user = ${services.login}`,
      'ssl = no',
      'auth_mechanisms = plain login',
      'disable_plaintext_auth = no',
      `mail_location = maildir:${path.join(dir, 'mail', '%u')}`,
      `first_valid_uid = ${services.mailUid}`,
      `first_valid_gid = ${services.mailGid}`,
      'log_path = /dev/stderr',
      'info_log_path = /dev/stderr',
      `passdb {\n  driver = passwd-file\n  args = ${path.join(dir, 'users')}\n}`,
      `userdb {\n  driver = passwd-file\n  args = ${path.join(dir, 'users')}\n}`,
      `service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
      // Unprivileged: no chroot, and the services run as the current user.
      'service anvil {\n  chroot =\n}',
      'service imap-login {\n  chroot =\n}',
      'service pop3-login {\n  chroot =\n}',
      'service submission-login {\n  chroot =\n}',
      'service auth {\n  user = $default_internal_user\n}',
      'service auth-worker {\n  user = $default_internal_user\n}',
      'service stats {\n  user = $default_internal_user\n}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(DOVECOT_BINARY, ['-F', '-c', conf], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exited: number | null | undefined;
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const connect = async () => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      doSTARTTLS: false,
      auth: { user, pass: password },
      logger: false,
    });
    client.on('error', () => {});
    await client.connect();
    return client;
  };

  try {
    await waitFor(
      'Dovecot to accept IMAP logins',
      async () => {
        if (exited !== undefined) throw new Error(`dovecot exited with ${exited}:\n${out.slice(-4000)}`);
        try {
          const c = await connect();
          await c.logout();
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      200,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${out.slice(-4000)}`);
  }

  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    client: connect,
    async append(folder, raw) {
      const c = await connect();
      try {
        const list = await c.list();
        if (!list.some((m) => m.path === folder)) await c.mailboxCreate(folder);
        await c.append(folder, raw);
      } finally {
        await c.logout();
      }
    },
    async uids(folder) {
      const c = await connect();
      try {
        const list = await c.list();
        if (!list.some((m) => m.path === folder)) return [];
        const lock = await c.getMailboxLock(folder);
        try {
          const found = await c.search({ all: true }, { uid: true });
          return (found || []).sort((a, b) => a - b);
        } finally {
          lock.release();
        }
      } finally {
        await c.logout();
      }
    },
    output: () => out,
    stop,
  };
}

/** The name of a group id, from /etc/group (Dovecot wants names). */
function groupName(gid: number): string {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[2] === String(gid));
  return line?.split(':')[0] ?? String(gid);
}

interface ServiceUsers {
  internal: string;
  internalGroup: string;
  login: string;
  /** Whom the mail (maildirs, imap processes) belongs to: Dovecot refuses uid 0. */
  mailUid: number;
  mailGid: number;
}

/**
 * The users Dovecot's own processes run as: the current user; under root (a container, CI),
 * Debian's `dovecot` and `dovenull` users, since Dovecot refuses to run its login processes as root.
 */
function serviceUsers(username: string, uid: number, gid: number): ServiceUsers {
  if (uid !== 0)
    return { internal: username, internalGroup: groupName(gid), login: username, mailUid: uid, mailGid: gid };
  const users = readFileSync('/etc/passwd', 'utf8').split('\n');
  const has = (name: string) => users.some((l) => l.startsWith(`${name}:`));
  if (!has('dovecot') || !has('dovenull'))
    throw new Error('running as root needs the dovecot and dovenull users that dovecot-core creates');
  const [, , uidText, gidText] = users.find((l) => l.startsWith('dovecot:'))!.split(':');
  return {
    internal: 'dovecot',
    internalGroup: 'dovecot',
    login: 'dovenull',
    mailUid: Number(uidText),
    mailGid: Number(gidText),
  };
}
