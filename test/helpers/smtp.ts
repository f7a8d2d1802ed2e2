import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { waitFor } from './ports.js';

/** A message the test SMTP server accepted, parsed. */
export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  parsed: ParsedMail;
  raw: Buffer;
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>` for STOCKBRIDGE_SMTP_URL. */
  url: string;
  port: number;
  received: ReceivedMail[];
  /** Waits until at least `count` messages arrived (deadline `timeoutMs`). */
  waitForCount(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /**
   * What the server answers next: `accept` (default), or reject the next messages with a
   * temporary (451), permanent address (550 5.1.1) or permanent content (554 5.7.1) error.
   */
  setMode(mode: SmtpMode): void;
  /** Called after a message is stored and before the server answers 250 (to kill a worker then). */
  onAccepted(hook: ((mail: ReceivedMail) => Promise<void> | void) | null): void;
  close(): Promise<void>;
}

export type SmtpMode = 'accept' | 'temporary-failure' | 'permanent-failure' | 'rejected-content';

/**
 * A real SMTP server (the smtp-server package) on a free port of 127.0.0.1, without TLS or
 * authentication, that keeps every accepted message parsed by mailparser.
 */
export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let mode: SmtpMode = 'accept';
  let hook: ((mail: ReceivedMail) => Promise<void> | void) | null = null;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (mode === 'temporary-failure') {
          callback(Object.assign(new Error('451 try again later'), { responseCode: 451 }));
          return;
        }
        if (mode === 'permanent-failure') {
          callback(Object.assign(new Error('5.1.1 no such mailbox'), { responseCode: 550 }));
          return;
        }
        if (mode === 'rejected-content') {
          callback(Object.assign(new Error('5.7.1 message refused as spam'), { responseCode: 554 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then(async (parsed) => {
            const mail: ReceivedMail = {
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              envelopeTo: session.envelope.rcptTo.map((r) => r.address),
              parsed,
              raw,
            };
            received.push(mail);
            if (hook) await hook(mail);
            callback();
          })
          .catch((err: Error) => callback(err));
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    async waitForCount(count, timeoutMs = 30_000) {
      await waitFor(`${count} e-mails at the test SMTP server`, () => received.length >= count, timeoutMs);
      return received;
    },
    setMode(m) {
      mode = m;
    },
    onAccepted(h) {
      hook = h;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
