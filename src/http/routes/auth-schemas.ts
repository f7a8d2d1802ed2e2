import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from '../../auth/passwords.js';
import { ROLES } from '../../auth/roles.js';
import { LOCALES } from '../../auth/user-store.js';

export const roleSchema = z.enum(ROLES).describe('admin, operator, finance or viewer');
export const localeSchema = z.enum(LOCALES).describe('the language of pages: zh-CN or en');
const passwordSchema = z.string().min(1).max(MAX_PASSWORD_LENGTH);

export const userSchema = z
  .object({
    id: z.number().int(),
    email: z.string(),
    name: z.string(),
    role: roleSchema,
    locale: localeSchema
      .nullable()
      .describe('the language of pages: zh-CN or en; null: the browser’s (Accept-Language)'),
    disabled: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'User' });

export const newUserBody = z.object({
  email: z.email().max(191),
  name: z.string().trim().min(1).max(191).optional(),
  role: roleSchema,
  password: passwordSchema.describe('at least 10 characters'),
  locale: localeSchema.optional(),
});

export const userChangeBody = z
  .object({
    name: z.string().trim().min(1).max(191).optional(),
    role: roleSchema.optional(),
    locale: localeSchema.nullable().optional().describe('zh-CN or en; null: the browser’s language'),
    disabled: z
      .boolean()
      .optional()
      .describe('a disabled user cannot log in; their tokens and sessions stop working'),
    password: passwordSchema
      .optional()
      .describe('a new password (a reset); the user is logged out everywhere'),
  })
  .refine((b) => Object.keys(b).length > 0, 'name at least one field to change');

export const passwordChangeBody = z.object({
  currentPassword: passwordSchema,
  newPassword: passwordSchema.describe('at least 10 characters'),
});

export const sessionsEnded = z
  .object({ sessionsEnded: z.number().int().describe('how many sessions were ended') })
  .meta({ id: 'SessionsEnded' });

export const apiTokenSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    role: roleSchema,
    userId: z.number().int().nullable().describe('null: a service token'),
    prefix: z.string().describe('the first characters of the token, to recognise it'),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .meta({ id: 'ApiToken' });

export const newTokenBody = z.object({
  name: z.string().trim().min(1).max(191),
  role: roleSchema.describe('at most the role of the one who makes it'),
  service: z
    .boolean()
    .optional()
    .describe(
      'a service token belongs to no user (admin only); default: yours, or a service token for a caller without a user',
    ),
});

export const createdTokenSchema = apiTokenSchema
  .extend({ token: z.string().describe('the token itself: shown this once, never again') })
  .meta({ id: 'CreatedApiToken' });
