import { describe, expect, it } from 'vitest';
import {
  importedText,
  noAttachmentText,
  replyMessageId,
  replyReferences,
  replySubject,
} from '../../src/inbox/mail-reply.js';

const summary = {
  fileName: 'a.xlsx',
  rows: 3,
  ordersAccepted: 1,
  ordersRejected: 1,
  ordersAlreadyImported: 0,
  ordersConflicting: 0,
};

describe('replies to e-mailed orders', () => {
  it.each([
    ['Order 5', 'Re: Order 5'],
    ['RE: Order 5', 'RE: Order 5'],
    ['回复：订单', '回复：订单'],
    ['', 'Re: (no subject)'],
  ])('subject of %j is %j', (subject, expected) => {
    expect(replySubject(subject)).toBe(expected);
  });

  it('has a Message-ID fixed by the message it answers, in the From domain', () => {
    const answered = { messageId: '<a@b>', uidValidity: 7, uid: 3 };
    const id = replyMessageId(1, answered, 'Stockbridge <orders@example.com>');
    expect(id).toMatch(/^<order-reply\.1\.[0-9a-f]{32}@example\.com>$/);
    expect(replyMessageId(1, { ...answered, uid: 99 }, 'orders@example.com')).toBe(id);
    expect(replyMessageId(2, answered, 'orders@example.com')).not.toBe(id);
    expect(replyMessageId(1, { messageId: null, uidValidity: 7, uid: 3 }, 'x@example.com')).not.toBe(id);
  });

  it('references the thread and the message', () => {
    expect(replyReferences('<1@x> <2@x>', '<3@x>')).toEqual(['<1@x>', '<2@x>', '<3@x>']);
    expect(replyReferences(undefined, '<3@x>')).toEqual(['<3@x>']);
    expect(replyReferences(['<3@x>'], '<3@x>')).toEqual(['<3@x>']);
  });

  it('speaks the customer’s language, both when it has none', () => {
    expect(importedText('en', [summary])).toContain('1 order(s) accepted, 1 rejected');
    expect(importedText('en', [summary])).not.toMatch(/[\u4e00-\u9fff]/);
    expect(importedText('zh-CN', [summary])).toContain('已导入 1 个订单，拒绝 1 个');
    expect(importedText('zh-CN', [summary])).not.toContain('accepted');
    const both = noAttachmentText(null, ['logo.png']);
    expect(both).toContain('could not find an order sheet');
    expect(both).toContain('没有找到订货表');
  });
});
