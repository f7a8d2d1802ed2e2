/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { NotFoundError } from '../../errors/domain-errors.js';
import type { AppEnv } from '../../http/env.js';
import { routeRegistrar } from '../../http/openapi.js';
import { idParam } from '../../http/params.js';
import { NOTIFICATION_EVENTS } from '../../notify/events.js';
import {
  createRule,
  deleteRule,
  getRule,
  listRules,
  type NotificationRule,
  type Recipient,
  ruleBody,
  updateRule,
} from '../../notify/rules.js';
import { ActionForm, Badge, Checkbox, ErrorSummary, Field, Select, Table } from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, render, viewer } from '../context.js';
import { type FieldErrors, FORM_UPLOAD, type FormObject, readForm } from '../forms.js';
import { COMMON, type ConsoleLocale } from '../texts.js';
import { SETTINGS_TEXTS as T } from './texts.js';

const ruleParams = z.object({ id: idParam.describe('rule id') });
/** Empty recipient rows a form offers beyond the rule's own. */
const SPARE_ROWS = 2;
const RECIPIENT_TYPES = ['contact', 'email', 'role', 'phone', 'webhook'] as const;

interface FormState {
  status?: 409 | 422;
  error?: string | undefined;
  errors?: FieldErrors;
  values?: FormObject;
}

const eventText = (locale: ConsoleLocale, event: string) => T[locale].events[event] ?? event;

/** A recipient in words: `E-mail address: ops@example.com (en)`. */
function recipientText(locale: ConsoleLocale, r: Recipient): string {
  const tt = T[locale];
  const kind = tt.recipientTypes[r.type] ?? r.type;
  const common = COMMON[locale];
  const language = (l: string) => (common.languageNames as Record<string, string>)[l] ?? l;
  switch (r.type) {
    case 'contact':
      return `${kind} (${tt.media[r.medium] ?? r.medium})`;
    case 'email':
      return `${kind}: ${r.address} (${language(r.language)})`;
    case 'role':
      return `${kind}: ${(common.roles as Record<string, string>)[r.role] ?? r.role}`;
    case 'phone':
      return `${kind}: ${r.number} (${language(r.language)})`;
    case 'webhook':
      return `${kind}: #${r.endpointId}`;
  }
}

/** Settings → notification rules (admin): the list, a new rule, editing and deleting one. */
export function notificationRuleSettingsPages(app: OpenAPIHono<AppEnv>, cd: ConsoleDeps) {
  const db = cd.deps.db;
  const route = routeRegistrar(app, { tag: 'Console', entity: 'notification_rule', db });
  const loadRule = async ({ params }: { params: Record<string, unknown> }) => {
    try {
      return await getRule(db, params.id as number);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  };

  const listPage = async (c: Context<AppEnv>) => {
    const { locale, t } = viewer(c);
    const tt = T[locale];
    const rules = await listRules(db);
    return render(
      c,
      { title: tt.rules, nav: 'settings' },
      <>
        <h1>{tt.rules}</h1>
        <p>
          <a href="/console/settings">{tt.title}</a>
        </p>
        <p>
          <a class="button" href="/console/settings/notifications/new">
            {tt.newRule}
          </a>
        </p>
        <section class="card">
          <Table
            locale={locale}
            caption={tt.rulesCaption}
            hideCaption
            rows={rules}
            columns={[
              {
                label: tt.ruleName,
                cell: (r: NotificationRule) => (
                  <a href={`/console/settings/notifications/${r.id}`}>{r.name || `#${r.id}`}</a>
                ),
              },
              { label: tt.event, cell: (r) => eventText(locale, r.event) },
              {
                label: tt.filters,
                cell: (r) =>
                  Object.entries(r.filters)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join(', ') || t.none,
              },
              {
                label: tt.recipients,
                cell: (r) => r.recipients.map((x) => recipientText(locale, x)).join('; '),
              },
              {
                label: tt.enabled,
                cell: (r) => (r.enabled ? <Badge kind="ok">{t.yes}</Badge> : <Badge>{t.no}</Badge>),
              },
              { label: t.details, cell: (r) => (r.defaultKey ? tt.defaultRule : tt.byPerson) },
            ]}
          />
        </section>
      </>,
    );
  };

  const rulePage = async (c: Context<AppEnv>, id: number | null, form: FormState = {}) => {
    const { locale, t, csrf } = viewer(c);
    const tt = T[locale];
    const rule = id === null ? null : await getRule(db, id);
    const title = rule ? tt.editRule(rule.id) : tt.newRule;
    const v = form.values;
    const rows = Math.max(rule?.recipients.length ?? 0, countRows(v)) + SPARE_ROWS;
    const labels: Record<string, string> = {
      name: tt.ruleName,
      event: tt.event,
      'filters.channel': tt.filterChannel,
      'filters.customerGroup': tt.filterGroup,
      'filters.holdReason': tt.filterHoldReason,
      recipients: tt.recipients,
    };
    for (let i = 0; i < rows; i++) labels[`recipients.${i}`] = tt.recipient(i + 1);
    const cell = (i: number, key: string) => {
      const r = rule?.recipients[i] as Record<string, unknown> | undefined;
      const x = r?.[key];
      return x === undefined || x === null ? '' : String(x);
    };
    return render(
      c,
      { title, nav: 'settings', status: form.status ?? 200, error: form.error },
      <>
        <h1>{title}</h1>
        <p>
          <a href="/console/settings/notifications">{tt.rules}</a>
        </p>
        <section class="card">
          <ErrorSummary errors={form.errors} locale={locale} labels={labels} />
          <ActionForm
            action={rule ? `/console/settings/notifications/${rule.id}` : '/console/settings/notifications'}
            csrf={csrf}
            label={rule ? tt.saveRule : tt.createRule}
          >
            <Field
              name="name"
              label={`${tt.ruleName} (${t.optional})`}
              value={rule?.name}
              values={v}
              errors={form.errors}
            />
            <Select
              name="event"
              label={tt.event}
              options={NOTIFICATION_EVENTS.map((e) => ({ value: e, label: eventText(locale, e) }))}
              value={rule?.event}
              values={v}
              errors={form.errors}
            />
            <fieldset>
              <legend>{tt.filters}</legend>
              <Field
                name="filters.channel"
                label={`${tt.filterChannel} (${t.optional})`}
                value={rule?.filters.channel}
                values={v}
                errors={form.errors}
              />
              <Field
                name="filters.customerGroup"
                label={`${tt.filterGroup} (${t.optional})`}
                value={rule?.filters.customerGroup}
                values={v}
                errors={form.errors}
              />
              <Field
                name="filters.holdReason"
                label={`${tt.filterHoldReason} (${t.optional})`}
                value={rule?.filters.holdReason}
                values={v}
                errors={form.errors}
              />
            </fieldset>
            <fieldset>
              <legend>{tt.recipients}</legend>
              <p class="hint">{tt.recipientHint}</p>
              {form.errors?.recipients ? (
                <p class="field-error" id="f-recipients" tabindex={-1}>
                  {form.errors.recipients.join(' ')}
                </p>
              ) : null}
              {Array.from({ length: rows }, (_, i) => (
                <fieldset class="recipient">
                  <legend>{tt.recipient(i + 1)}</legend>
                  {form.errors?.[`recipients.${i}`] ? (
                    <p class="field-error" id={`f-recipients-${i}`} tabindex={-1}>
                      {form.errors[`recipients.${i}`]!.join(' ')}
                    </p>
                  ) : null}
                  <Select
                    name={`recipients.${i}.type`}
                    label={tt.type}
                    blank="—"
                    options={RECIPIENT_TYPES.map((x) => ({ value: x, label: tt.recipientTypes[x] ?? x }))}
                    value={cell(i, 'type')}
                    values={v}
                    errors={form.errors}
                  />
                  <Select
                    name={`recipients.${i}.medium`}
                    label={tt.medium}
                    blank="—"
                    options={['email', 'sms'].map((x) => ({ value: x, label: tt.media[x] ?? x }))}
                    value={cell(i, 'medium')}
                    values={v}
                    errors={form.errors}
                  />
                  <Field
                    name={`recipients.${i}.address`}
                    label={tt.address}
                    type="email"
                    value={cell(i, 'address')}
                    values={v}
                    errors={form.errors}
                  />
                  <Field
                    name={`recipients.${i}.role`}
                    label={tt.staffRole}
                    value={cell(i, 'role')}
                    values={v}
                    errors={form.errors}
                  />
                  <Field
                    name={`recipients.${i}.number`}
                    label={tt.number}
                    type="tel"
                    value={cell(i, 'number')}
                    values={v}
                    errors={form.errors}
                  />
                  <Field
                    name={`recipients.${i}.endpointId`}
                    label={tt.endpoint}
                    value={cell(i, 'endpointId')}
                    values={v}
                    errors={form.errors}
                    attrs={{ inputmode: 'numeric' }}
                  />
                  <Select
                    name={`recipients.${i}.language`}
                    label={tt.language}
                    blank="—"
                    options={(['zh-CN', 'en'] as const).map((l) => ({ value: l, label: t.languageNames[l] }))}
                    value={cell(i, 'language')}
                    values={v}
                    errors={form.errors}
                  />
                </fieldset>
              ))}
            </fieldset>
            <Checkbox
              name="enabled"
              label={tt.ruleEnabled}
              checked={rule ? rule.enabled : true}
              values={v}
              errors={form.errors}
            />
          </ActionForm>
        </section>
        {rule ? (
          <section class="card" aria-labelledby="n-delete">
            <h2 id="n-delete">{tt.deleteRule}</h2>
            <ActionForm
              action={`/console/settings/notifications/${rule.id}/delete`}
              csrf={csrf}
              label={tt.deleteRule}
              variant="danger"
              confirm={tt.deleteConfirm}
            />
          </section>
        ) : null}
      </>,
    );
  };

  route(
    {
      method: 'get',
      path: '/settings/notifications',
      access: 'admin',
      operationId: 'consoleNotificationRules',
      summary: 'Notification rules',
      responses: PAGE,
    },
    (c) => listPage(c),
  );

  route(
    {
      method: 'get',
      path: '/settings/notifications/new',
      access: 'admin',
      operationId: 'consoleNewNotificationRule',
      summary: 'The form for a new notification rule',
      responses: PAGE,
    },
    (c) => rulePage(c, null),
  );

  route(
    {
      method: 'post',
      path: '/settings/notifications',
      access: 'admin',
      operationId: 'consoleCreateNotificationRule',
      summary: 'Add a notification rule (as POST /api/notification-rules)',
      upload: FORM_UPLOAD,
      responses: FORM_ANSWERS,
    },
    async (c) => {
      const form = await readForm(c, ruleBody, withRecipients);
      if (!form.ok) return rulePage(c, null, { status: 422, errors: form.errors, values: form.values });
      try {
        const rule = await createRule(db, form.data);
        c.set('auditEntityId', rule.id);
        return doneTo(c, `/console/settings/notifications/${rule.id}`, T[viewer(c).locale].ruleCreated);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return rulePage(c, null, {
          status: e.status === 409 ? 409 : 422,
          error: e.message,
          values: form.values,
        });
      }
    },
  );

  route(
    {
      method: 'get',
      path: '/settings/notifications/:id',
      access: 'admin',
      operationId: 'consoleNotificationRule',
      summary: 'A notification rule: edit or delete it',
      params: ruleParams,
      responses: PAGE,
      errors: [404],
    },
    (c, { params }) => rulePage(c, params.id),
  );

  route(
    {
      method: 'post',
      path: '/settings/notifications/:id',
      access: 'admin',
      operationId: 'consoleUpdateNotificationRule',
      summary: 'Replace a notification rule (as PUT /api/notification-rules/{id})',
      params: ruleParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 404: { description: 'No such rule', contentType: HTML } },
      audit: { load: loadRule },
    },
    async (c, { params }) => {
      const form = await readForm(c, ruleBody, withRecipients);
      if (!form.ok) return rulePage(c, params.id, { status: 422, errors: form.errors, values: form.values });
      try {
        await updateRule(db, params.id, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        if (e.status === 404) throw err;
        return rulePage(c, params.id, {
          status: e.status === 409 ? 409 : 422,
          error: e.message,
          values: form.values,
        });
      }
      return doneTo(c, `/console/settings/notifications/${params.id}`, T[viewer(c).locale].ruleSaved);
    },
  );

  route(
    {
      method: 'post',
      path: '/settings/notifications/:id/delete',
      access: 'admin',
      operationId: 'consoleDeleteNotificationRule',
      summary: 'Delete a notification rule (as DELETE /api/notification-rules/{id})',
      params: ruleParams,
      upload: FORM_UPLOAD,
      responses: { 303: FORM_ANSWERS[303]!, 404: { description: 'No such rule', contentType: HTML } },
      audit: { load: loadRule },
    },
    async (c, { params }) => {
      await deleteRule(db, params.id);
      return doneTo(c, '/console/settings/notifications', T[viewer(c).locale].ruleDeleted);
    },
  );
}

/** How many recipient rows a submitted form had. */
function countRows(values: FormObject | undefined): number {
  const r = values?.recipients;
  if (!r || typeof r !== 'object' || r instanceof File) return 0;
  return Array.isArray(r) ? r.length : Object.keys(r).length;
}

/** A form whose recipient rows were all left empty (or sent none) names no recipient: an empty list. */
const withRecipients = (values: FormObject) => ({ recipients: [], ...values });
