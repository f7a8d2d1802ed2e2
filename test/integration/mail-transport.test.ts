import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailTransport, mailSettingsOf } from '../../src/mail/transport.js';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

describe('mail transport', () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
  });
  afterAll(async () => {
    await smtp.close();
  });

  it('is absent without an SMTP URL', () => {
    expect(createMailTransport(mailSettingsOf({ STOCKBRIDGE_MAIL_FROM: 'a@b.c' }))).toBeNull();
  });

  it('delivers a message with text, html and a fixed Message-ID to a real SMTP server', async () => {
    const transport = createMailTransport(
      mailSettingsOf({
        STOCKBRIDGE_SMTP_URL: smtp.url,
        STOCKBRIDGE_MAIL_FROM: 'Orders <orders@example.com>',
      }),
    );
    if (!transport) throw new Error('expected a transport');
    try {
      await transport.sendMail({
        from: 'Orders <orders@example.com>',
        to: 'buyer@example.com',
        subject: '订单已发货 / Order shipped',
        text: 'plain',
        html: '<p>html</p>',
        messageId: '<n-1@stockbridge.test>',
      });
      const [mail] = await smtp.waitForCount(1);
      expect(mail?.envelopeTo).toEqual(['buyer@example.com']);
      expect(mail?.parsed.subject).toBe('订单已发货 / Order shipped');
      expect(mail?.parsed.messageId).toBe('<n-1@stockbridge.test>');
      expect(mail?.parsed.text?.trim()).toBe('plain');
      expect(mail?.parsed.html).toContain('<p>html</p>');
    } finally {
      transport.close();
    }
  });

  it('surfaces a permanent refusal with its SMTP code', async () => {
    const transport = createMailTransport(
      mailSettingsOf({ STOCKBRIDGE_SMTP_URL: smtp.url, STOCKBRIDGE_MAIL_FROM: 'orders@example.com' }),
    );
    if (!transport) throw new Error('expected a transport');
    smtp.setMode('permanent-failure');
    try {
      const err = await transport
        .sendMail({ from: 'orders@example.com', to: 'gone@example.com', subject: 's', text: 't' })
        .then(
          () => null,
          (e: unknown) => e as { responseCode?: number },
        );
      expect(err?.responseCode).toBe(550);
    } finally {
      smtp.setMode('accept');
      transport.close();
    }
  });
});
