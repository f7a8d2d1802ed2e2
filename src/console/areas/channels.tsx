/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { z } from 'zod';
import { getConnector, listConnectorTypes } from '../../../connectors/registry.js';
import { heldOrders, mappingPage, unmappedSkus } from '../../channels/channel-held.js';
import type { ChannelService } from '../../channels/channel-service.js';
import { importSkuMappings } from '../../channels/sku-mapping-import.js';
import { ValidationError } from '../../errors/domain-errors.js';
import type { AppEnv } from '../../http/env.js';
import { actorOf, newRoutes, routeRegistrar } from '../../http/openapi.js';
import { codeParam } from '../../http/params.js';
import { createChannelBody, skuMappingBody, updateChannelBody } from '../../http/routes/channel-schemas.js';
import { channelParams, skuParams } from '../../http/routes/channels.js';
import { optionLabel, SettingsFields, settingFields, settingLabel } from '../channels/settings-form.js';
import { CT } from '../channels/texts.js';
import {
  ActionForm,
  Badge,
  Checkbox,
  CsrfField,
  ErrorSummary,
  Facts,
  Field,
  Pager,
  Select,
  Table,
  Time,
} from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, render, viewer } from '../context.js';
import {
  coerceToSchema,
  detailsToFieldErrors,
  type FieldErrors,
  FORM_UPLOAD,
  type FormObject,
  formValues,
  parseFormValues,
} from '../forms.js';

type C = Context<AppEnv>;
type ChannelView = Awaited<ReturnType<ChannelService['view']>>;

/** The console's channels pages (issue 19): list, create and edit, a channel's page, SKU mappings, held orders. */

const HOLD_REASONS = {
  en: {
    unmapped_sku: 'Unmapped SKU',
    unknown_sku: 'Unknown SKU',
    manual_hold: 'Held by hand',
    credit_limit: 'Over the credit limit',
    price_variance: 'Price differs',
    invalid_quantity: 'Invalid quantity',
    invalid_order: 'Invalid order',
  },
  'zh-CN': {
    unmapped_sku: 'SKU 未映射',
    unknown_sku: '未知 SKU',
    manual_hold: '人工挂起',
    credit_limit: '超出信用额度',
    price_variance: '价格不符',
    invalid_quantity: '数量无效',
    invalid_order: '订单无效',
  },
} as const;

const holdReasonText = (locale: 'en' | 'zh-CN', reason: string | null) =>
  reason === null ? '' : ((HOLD_REASONS[locale] as Record<string, string>)[reason] ?? reason);

const pageQuery = z.object({
  after: codeParam.optional().describe('mappings after this SKU code'),
  heldBefore: z.string().regex(/^\d+$/).transform(Number).optional().describe('held orders below this id'),
});

const newQuery = z.object({ type: z.string().max(32).optional() });

const mapForm = z.object({ sku: codeParam });

/** The 'settings' object of a create/edit form converted to what the connector's schema takes. */
function settingsOfForm(
  type: string,
  raw: unknown,
  mode: 'create' | 'update',
): Record<string, unknown> | undefined {
  if (!listConnectorTypes().includes(type)) return {};
  const connector = getConnector(type);
  const given = (raw && typeof raw === 'object' && !(raw instanceof File) ? raw : {}) as FormObject;
  // biome-ignore lint/suspicious/noExplicitAny: zod's internals
  const shape = ((connector.manifest.settingsSchema as any)._zod.def.shape ?? {}) as Record<
    string,
    z.ZodType
  >;
  const out: Record<string, unknown> = {};
  for (const f of settingFields(connector)) {
    let v: unknown = given[f.name];
    if (Array.isArray(v)) v = v[v.length - 1];
    if (v === undefined) continue;
    const blank = typeof v === 'string' && v.trim() === '';
    if (blank) {
      // An empty secret keeps the stored one; an emptied setting goes back to its default.
      if (mode === 'update' && !f.secret) out[f.name] = null;
      if (mode === 'create' && f.required) out[f.name] = '';
      continue;
    }
    out[f.name] = shape[f.name] ? coerceToSchema(shape[f.name]!, v) : v;
  }
  return out;
}

function healthOf(ch: ChannelView, locale: 'en' | 'zh-CN') {
  const t = CT[locale];
  if (!ch.enabled) return <Badge>{t.disabled}</Badge>;
  if (ch.status.failing) return <Badge kind="bad">{t.failing(ch.status.failing.reason)}</Badge>;
  if (ch.status.lastError) return <Badge kind="warn">{t.hadError}</Badge>;
  return <Badge kind="ok">{t.healthy}</Badge>;
}

const notConfigured = (c: C) => {
  const { locale } = viewer(c);
  const t = CT[locale];
  return render(
    c,
    { title: t.title, nav: 'channels' },
    <>
      <h1>{t.title}</h1>
      <p class="card">{t.notConfigured}</p>
    </>,
  );
};

async function listPage(c: C, channels: ChannelService) {
  const v = viewer(c);
  const t = CT[v.locale];
  const list = await Promise.all((await channels.list()).map((ch) => channels.view(ch)));
  return render(
    c,
    { title: t.title, nav: 'channels' },
    <>
      <h1>{t.title}</h1>
      {v.can('admin') ? (
        <p class="toolbar">
          <a class="button" href="/console/channels/new">
            {t.newChannel}
          </a>
        </p>
      ) : null}
      <Table
        caption={t.listCaption}
        locale={v.locale}
        rows={list}
        columns={[
          { label: t.name, cell: (ch) => <a href={`/console/channels/${ch.id}`}>{ch.name}</a> },
          { label: t.type, cell: (ch) => ch.type },
          { label: t.enabled, cell: (ch) => (ch.enabled ? v.t.yes : v.t.no) },
          { label: t.health, cell: (ch) => healthOf(ch, v.locale) },
          { label: t.lastPull, cell: (ch) => <Time at={ch.status.lastPullAt} /> },
          { label: t.lastPush, cell: (ch) => <Time at={ch.status.lastPushAt} /> },
          {
            label: t.lastError,
            cell: (ch) =>
              ch.status.lastError ? (
                <>
                  <Time at={ch.status.lastError.at} /> {ch.status.lastError.message}
                </>
              ) : (
                v.t.none
              ),
          },
          { label: t.heldCount, num: true, cell: (ch) => ch.status.orders.onHold },
          {
            label: t.links,
            cell: (ch) => (
              <>
                <a href={`/console/channels/${ch.id}`}>{t.open}</a>
                {ch.status.orders.onHold > 0 ? (
                  <>
                    {' · '}
                    <a href={`/console/channels/${ch.id}#held`}>{t.heldCount}</a>
                  </>
                ) : null}
                {v.can('admin') ? (
                  <>
                    {' · '}
                    <a href={`/console/channels/${ch.id}/edit`}>{t.editLink}</a>
                  </>
                ) : null}
              </>
            ),
          },
        ]}
      />
    </>,
  );
}

interface FormState {
  status?: 200 | 404 | 409 | 422;
  errors?: FieldErrors;
  values?: FormObject;
  error?: string;
}

/** The create form (no channel) or the edit form of a channel. */
async function channelForm(
  c: C,
  channels: ChannelService,
  type: string,
  channelId: number | null,
  s: FormState = {},
) {
  const v = viewer(c);
  const t = CT[v.locale];
  const types = listConnectorTypes();
  const chosen = types.includes(type) ? type : types[0]!;
  const connector = getConnector(chosen);
  let current: Record<string, unknown> | undefined;
  let secretsSet: Set<string> | undefined;
  let name = '';
  let enabled = true;
  if (channelId !== null) {
    const ch = await channels.get(channelId);
    current = Object.fromEntries(
      Object.entries(ch.settings).filter(([k]) => !connector.manifest.secretFields.includes(k)),
    );
    secretsSet = new Set(
      connector.manifest.secretFields.filter((k) => ch.settings[k] !== undefined && ch.settings[k] !== ''),
    );
    name = ch.name;
    enabled = ch.enabled;
  }
  const title = channelId === null ? t.createTitle : t.editTitle(name);
  const labels: Record<string, string> = { name: t.name, enabled: t.enabled, type: t.type };
  for (const f of settingFields(connector)) labels[`settings.${f.name}`] = settingLabel(v.locale, f.name);
  return render(
    c,
    { title, nav: 'channels', status: s.status ?? 200, error: s.error },
    <>
      <h1>{title}</h1>
      {channelId === null ? (
        <form method="get" action="/console/channels/new" class="card filters">
          <Select
            name="type"
            label={t.chooseType}
            value={chosen}
            options={types.map((ty) => ({ value: ty, label: getConnector(ty).manifest.displayName }))}
            id="f-choose-type"
          />
          <div>
            <button type="submit" class="secondary">
              {t.chooseTypeButton}
            </button>
          </div>
        </form>
      ) : null}
      <ErrorSummary errors={s.errors} locale={v.locale} labels={labels} />
      <form
        method="post"
        action={channelId === null ? '/console/channels' : `/console/channels/${channelId}`}
        class="card"
      >
        <CsrfField token={v.csrf} />
        {channelId === null ? <input type="hidden" name="type" value={chosen} /> : null}
        <Field name="name" label={t.name} value={name} values={s.values} errors={s.errors} required />
        <Checkbox name="enabled" label={t.enabled} checked={enabled} values={s.values} errors={s.errors} />
        <SettingsFields
          connector={connector}
          locale={v.locale}
          current={current}
          secretsSet={secretsSet}
          values={s.values}
          errors={s.errors}
        />
        <button type="submit">{channelId === null ? t.createButton : t.saveButton}</button>
      </form>
      {channelId !== null ? (
        <p>
          <a href={`/console/channels/${channelId}`}>{v.t.back}</a>
        </p>
      ) : null}
    </>,
  );
}

/** The field errors of a refused change (`secrets_required` names the secrets to enter again). */
function changeErrors(e: NonNullable<ReturnType<typeof errorOf>>): FieldErrors {
  const errors = detailsToFieldErrors(e.details);
  const d = e.details as { reenter?: unknown } | undefined;
  if (d && Array.isArray(d.reenter))
    for (const path of d.reenter) if (typeof path === 'string') errors[path] = [e.message];
  if (Object.keys(errors).length === 0) errors[''] = [e.message];
  return errors;
}

interface ChannelPageState {
  status?: 200 | 404 | 409 | 422 | 502;
  error?: string;
  result?: Child;
  mapErrors?: FieldErrors;
  mapValues?: FormObject;
  badRows?: { row: number; reason: string }[];
}

async function channelPage(c: C, channels: ChannelService, id: number, s: ChannelPageState = {}) {
  const v = viewer(c);
  const t = CT[v.locale];
  const ch = await channels.view(await channels.get(id));
  const connector = getConnector(ch.type);
  const q = pageQuery.safeParse({ after: c.req.query('after'), heldBefore: c.req.query('heldBefore') });
  const query = q.success ? q.data : {};
  const [unmapped, mappings, held] = await Promise.all([
    unmappedSkus(channels.ctx, id),
    mappingPage(channels.ctx, id, { after: query.after ?? null }),
    heldOrders(channels.ctx, id, { beforeId: query.heldBefore ?? null }),
  ]);
  const operate = v.can('operate');
  const base = `/console/channels/${id}`;
  const mapLabels = {
    sku: t.ourSku,
    variantId: t.variantId,
    productId: t.productId,
    inventoryItemId: t.inventoryItemId,
    channelSku: t.channelSku,
  };
  const settingRows = settingFields(connector).map((f) => {
    const value = ch.settings[f.name];
    return {
      name: f.name,
      value: f.secret
        ? value !== undefined
          ? t.secretSet
          : t.secretNotSet
        : value === undefined || value === null
          ? '–'
          : typeof value === 'boolean'
            ? value
              ? v.t.yes
              : v.t.no
            : f.kind === 'select'
              ? optionLabel(v.locale, String(value))
              : String(value),
    };
  });
  return render(
    c,
    { title: ch.name, nav: 'channels', status: s.status ?? 200, error: s.error, scripts: [] },
    <>
      <h1>{ch.name}</h1>
      {s.result ? (
        <section class="card" aria-labelledby="result-h">
          <h2 id="result-h">{t.resultTitle}</h2>
          <div role="status">{s.result}</div>
        </section>
      ) : null}
      <section class="card" aria-labelledby="health-h">
        <h2 id="health-h">{t.health}</h2>
        <Facts
          items={[
            [t.type, connector.manifest.displayName],
            [t.enabled, ch.enabled ? v.t.yes : v.t.no],
            [t.health, healthOf(ch, v.locale)],
            [t.lastPull, <Time at={ch.status.lastPullAt} />],
            [t.nextPull, <Time at={ch.status.nextPullAt} />],
            [t.lastPush, <Time at={ch.status.lastPushAt} />],
            [
              t.lastError,
              ch.status.lastError ? (
                <>
                  <Time at={ch.status.lastError.at} /> {ch.status.lastError.message}
                </>
              ) : (
                v.t.none
              ),
            ],
            ...(ch.status.failing
              ? ([[t.failingSince, <Time at={ch.status.failing.since} />]] as [string, Child][])
              : []),
            [t.receivedCount, String(ch.status.orders.received)],
            [t.heldCount, String(ch.status.orders.onHold)],
            [t.capabilities, ch.capabilities.join(', ')],
          ]}
        />
        <div class="field">
          <label for="webhook-url">{t.webhookUrl}</label>
          {ch.webhookUrl ? (
            <>
              <input id="webhook-url" type="text" readonly value={ch.webhookUrl} />
              <button type="button" class="secondary" data-copy="webhook-url" data-copied={t.copied}>
                {t.copy}
              </button>
            </>
          ) : (
            <p class="muted" id="webhook-url">
              {t.webhookNone}
            </p>
          )}
        </div>
      </section>
      {operate || v.can('admin') ? (
        <section class="card" aria-labelledby="actions-h">
          <h2 id="actions-h">{t.actionsTitle}</h2>
          {operate ? (
            <>
              <ActionForm action={`${base}/test`} csrf={v.csrf} label={t.testButton} inline />{' '}
              <ActionForm action={`${base}/sync`} csrf={v.csrf} label={t.syncButton} inline />{' '}
              <ActionForm
                action={`${base}/replay-held`}
                csrf={v.csrf}
                label={t.replayButton}
                confirm={t.replayConfirm}
                inline
              />{' '}
            </>
          ) : null}
          {v.can('admin') ? (
            <>
              <a class="button secondary" href={`${base}/edit`}>
                {t.editLink}
              </a>{' '}
              {ch.enabled ? (
                <ActionForm
                  action={`${base}/delete`}
                  csrf={v.csrf}
                  label={t.disableButton}
                  confirm={t.disableConfirm}
                  variant="danger"
                  inline
                />
              ) : null}
            </>
          ) : null}
        </section>
      ) : null}
      <section class="card" aria-labelledby="settings-h">
        <h2 id="settings-h">{t.settings}</h2>
        <Table
          caption={t.settingsCaption}
          hideCaption
          locale={v.locale}
          rows={settingRows}
          columns={[
            { label: t.setting, cell: (r) => settingLabel(v.locale, r.name) },
            { label: t.value, cell: (r) => r.value },
          ]}
        />
      </section>
      <section class="card" aria-labelledby="mappings-h">
        <h2 id="mappings-h">{t.mappingsTitle}</h2>
        <h3>{t.unmappedTitle}</h3>
        <Table
          caption={t.unmappedCaption}
          locale={v.locale}
          rows={unmapped.map((u, i) => ({ ...u, i }))}
          emptyText={t.unmappedNone}
          columns={[
            { label: t.channelSku, cell: (u) => u.channelSku ?? '–' },
            { label: t.variantId, cell: (u) => u.variantId ?? '–' },
            { label: t.productId, cell: (u) => u.productId ?? '–' },
            { label: t.waiting, num: true, cell: (u) => u.orders },
            ...(operate
              ? [
                  {
                    label: t.mapTitle,
                    cell: (u: (typeof unmapped)[number] & { i: number }) => (
                      <form method="post" action={`${base}/skus`} class="inline-form">
                        <CsrfField token={v.csrf} />
                        {u.variantId ? <input type="hidden" name="variantId" value={u.variantId} /> : null}
                        {u.productId ? <input type="hidden" name="productId" value={u.productId} /> : null}
                        {u.channelSku ? <input type="hidden" name="channelSku" value={u.channelSku} /> : null}
                        <label for={`f-unmapped-${u.i}-sku`}>
                          {t.ourSkuFor(u.channelSku ?? u.variantId ?? u.sku)}
                        </label>
                        <input id={`f-unmapped-${u.i}-sku`} name="sku" type="text" required />
                        <button type="submit">{t.mapThis(u.channelSku ?? u.variantId ?? u.sku)}</button>
                      </form>
                    ),
                  },
                ]
              : []),
          ]}
        />
        {operate ? (
          <>
            <h3 id="map">{t.mapTitle}</h3>
            <ErrorSummary errors={s.mapErrors} locale={v.locale} labels={mapLabels} />
            <form method="post" action={`${base}/skus`}>
              <CsrfField token={v.csrf} />
              <Field name="sku" label={t.ourSku} values={s.mapValues} errors={s.mapErrors} required />
              <Field name="variantId" label={t.variantId} values={s.mapValues} errors={s.mapErrors} />
              <Field name="productId" label={t.productId} values={s.mapValues} errors={s.mapErrors} />
              <Field
                name="inventoryItemId"
                label={t.inventoryItemId}
                values={s.mapValues}
                errors={s.mapErrors}
              />
              <Field name="channelSku" label={t.channelSku} values={s.mapValues} errors={s.mapErrors} />
              <button type="submit">{t.mapButton}</button>
            </form>
            <h3 id="import">{t.importTitle}</h3>
            {s.badRows ? (
              <div class="error-summary" role="alert">
                <p>{t.importRefused}</p>
                {s.badRows.length > 0 ? (
                  <Table
                    caption={t.badRowsCaption}
                    locale={v.locale}
                    rows={s.badRows}
                    columns={[
                      { label: t.row, num: true, cell: (r) => r.row },
                      { label: t.reason, cell: (r) => r.reason },
                    ]}
                  />
                ) : null}
              </div>
            ) : null}
            <form method="post" action={`${base}/skus/import`} enctype="multipart/form-data">
              <CsrfField token={v.csrf} />
              <Field
                name="file"
                label={t.importFile}
                type="file"
                hint={t.importHint}
                required
                attrs={{ accept: '.xlsx,.csv' }}
              />
              <button type="submit">{t.importButton}</button>
            </form>
          </>
        ) : null}
        <h3>{t.mappedCaption}</h3>
        <Table
          caption={t.mappedCaption}
          hideCaption
          locale={v.locale}
          rows={mappings.items}
          columns={[
            { label: t.ourSku, cell: (m) => m.sku },
            { label: t.variantId, cell: (m) => m.variantId ?? '–' },
            { label: t.productId, cell: (m) => m.productId ?? '–' },
            { label: t.inventoryItemId, cell: (m) => m.inventoryItemId ?? '–' },
            { label: t.channelSku, cell: (m) => m.channelSku ?? '–' },
            { label: t.source, cell: (m) => t.sources[m.source] },
            { label: t.updated, cell: (m) => <Time at={m.updatedAt} /> },
            ...(operate
              ? [
                  {
                    label: v.t.actions,
                    cell: (m: (typeof mappings.items)[number]) => (
                      <ActionForm
                        action={`${base}/skus/${encodeURIComponent(m.sku)}/delete`}
                        csrf={v.csrf}
                        label={`${t.unmapButton} ${m.sku}`}
                        confirm={t.unmapConfirm}
                        variant="secondary"
                        inline
                      />
                    ),
                  },
                ]
              : []),
          ]}
        />
        <Pager
          locale={v.locale}
          path={base}
          query={{ heldBefore: query.heldBefore }}
          next={mappings.nextAfter ? { after: mappings.nextAfter } : null}
          prev={query.after ? { after: '' } : null}
        />
      </section>
      <section class="card" aria-labelledby="held">
        <h2 id="held">{t.heldTitle}</h2>
        <Table
          caption={t.heldCaption}
          hideCaption
          locale={v.locale}
          rows={held.items}
          emptyText={t.heldNone}
          columns={[
            { label: t.order, cell: (o) => <a href={`/console/orders/${o.id}`}>{`#${o.id}`}</a> },
            { label: t.externalId, cell: (o) => o.externalId },
            { label: t.holdReason, cell: (o) => holdReasonText(v.locale, o.holdReason) },
            {
              label: t.reason,
              cell: (o) => (
                <ul>
                  {o.problems.map((p) => (
                    <li>{p.message}</li>
                  ))}
                </ul>
              ),
            },
            { label: t.placed, cell: (o) => <Time at={o.placedAt} /> },
          ]}
        />
        {held.nextBeforeId ? (
          <p>
            <a href={`${base}?heldBefore=${held.nextBeforeId}#held`}>{t.moreHeld}</a>
          </p>
        ) : null}
      </section>
    </>,
  );
}

const outcomesText = (locale: 'en' | 'zh-CN', outcomes: Record<string, number>) =>
  Object.entries(outcomes)
    .map(([k, n]) => `${(CT[locale].eventOutcomes as Record<string, string>)[k] ?? k}: ${n}`)
    .join(', ');

const ACTION_ANSWERS = {
  200: { description: 'The channel page with what the channel answered', contentType: HTML },
  404: { description: 'No such channel', contentType: HTML },
  409: FORM_ANSWERS[409]!,
  502: { description: 'The channel failed: the page, saying why', contentType: HTML },
};

export function channelPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'channel', db: cd.deps.db });
  const svc = () => cd.deps.channels;

  route(
    {
      method: 'get',
      path: '/channels',
      access: 'read',
      operationId: 'consoleChannels',
      summary: 'The channels with their health',
      responses: PAGE,
    },
    async (c) => {
      const channels = svc();
      return channels ? listPage(c, channels) : notConfigured(c);
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/new',
      access: 'admin',
      operationId: 'consoleNewChannel',
      summary: "A new channel's form, from the connector's settings schema",
      query: newQuery,
      responses: PAGE,
    },
    async (c, { query }) => {
      const channels = svc();
      return channels ? channelForm(c, channels, query.type ?? '', null) : notConfigured(c);
    },
  );

  route(
    {
      method: 'post',
      path: '/channels',
      access: 'admin',
      operationId: 'consoleCreateChannel',
      summary: 'Add a channel (as POST /api/channels; secrets are write-only)',
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 200: { description: 'Channels are not configured', contentType: HTML } },
      audit: { entity: 'channel' },
    },
    async (c) => {
      const channels = svc();
      if (!channels) return notConfigured(c);
      const values = await formValues(c);
      const type = typeof values.type === 'string' ? values.type : '';
      const form = parseFormValues(createChannelBody, values, (v) => ({
        type: v.type,
        name: v.name,
        enabled: v.enabled,
        settings: settingsOfForm(type, v.settings, 'create'),
      }));
      if (!form.ok) return channelForm(c, channels, type, null, { status: 422, errors: form.errors, values });
      try {
        const created = await channels.create(form.data);
        c.set('auditEntityId', created.id);
        return doneTo(c, `/console/channels/${created.id}`, CT[viewer(c).locale].created(created.name));
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return channelForm(c, channels, type, null, {
          status: e.status === 409 ? 409 : 422,
          error: e.message,
          errors: changeErrors(e),
          values,
        });
      }
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/:id',
      access: 'read',
      operationId: 'consoleChannel',
      summary: 'A channel: health, settings, webhook URL, SKU mappings (unmapped first), held orders',
      params: channelParams,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params }) => {
      const channels = svc();
      return channels ? channelPage(c, channels, params.id) : notConfigured(c);
    },
  );

  route(
    {
      method: 'get',
      path: '/channels/:id/edit',
      access: 'admin',
      operationId: 'consoleEditChannel',
      summary: "A channel's settings form (secrets write-only)",
      params: channelParams,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params }) => {
      const channels = svc();
      if (!channels) return notConfigured(c);
      const ch = await channels.get(params.id);
      return channelForm(c, channels, ch.type, ch.id);
    },
  );

  const loadChannel = async ({ params }: { params: { id: number } }) => {
    const channels = svc();
    if (!channels) return null;
    try {
      return await channels.view(await channels.get(params.id));
    } catch {
      return null;
    }
  };

  route(
    {
      method: 'post',
      path: '/channels/:id',
      access: 'admin',
      operationId: 'consoleUpdateChannel',
      summary: 'Change a channel (as PATCH /api/channels/{id}); an empty secret keeps the stored one',
      params: channelParams,
      upload: FORM_UPLOAD,
      responses: {
        ...FORM_ANSWERS,
        200: { description: 'Channels are not configured', contentType: HTML },
        404: { description: 'No such channel', contentType: HTML },
      },
      errors: [404],
      audit: { entity: 'channel', load: loadChannel },
    },
    async (c, { params }) => {
      const channels = svc();
      if (!channels) return notConfigured(c);
      const ch = await channels.get(params.id);
      const values = await formValues(c);
      const form = parseFormValues(updateChannelBody, values, (v) => ({
        name: v.name,
        enabled: v.enabled,
        settings: settingsOfForm(ch.type, v.settings, 'update'),
      }));
      if (!form.ok)
        return channelForm(c, channels, ch.type, ch.id, { status: 422, errors: form.errors, values });
      try {
        await channels.update(ch.id, form.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return channelForm(c, channels, ch.type, ch.id, {
          status: e.status === 404 ? 404 : e.status === 409 ? 409 : 422,
          error: e.message,
          errors: changeErrors(e),
          values,
        });
      }
      return doneTo(c, `/console/channels/${ch.id}`, CT[viewer(c).locale].saved);
    },
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/delete',
      access: 'admin',
      operationId: 'consoleDisableChannel',
      summary: 'Disable a channel (as DELETE /api/channels/{id}): its orders and events stay',
      params: channelParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 200: { description: 'Channels are not configured', contentType: HTML } },
      errors: [404],
      audit: { entity: 'channel', load: loadChannel },
    },
    async (c, { params }) => {
      const channels = svc();
      if (!channels) return notConfigured(c);
      await channels.disable(params.id);
      return doneTo(c, `/console/channels/${params.id}`, CT[viewer(c).locale].disabledDone);
    },
  );

  /** test / sync / replay-held: the service's answer shown on the channel page. */
  const action = (
    path: string,
    operationId: string,
    summary: string,
    run: (channels: ChannelService, id: number, c: C) => Promise<Child>,
  ) =>
    route(
      {
        method: 'post',
        path: `/channels/:id/${path}`,
        access: 'operate',
        operationId,
        summary,
        params: channelParams,
        upload: FORM_UPLOAD,
        responses: ACTION_ANSWERS,
        errors: [404],
        audit: { entity: 'channel' },
      },
      async (c, { params }) => {
        const channels = svc();
        if (!channels) return notConfigured(c);
        await channels.get(params.id);
        try {
          const result = await run(channels, params.id, c);
          return channelPage(c, channels, params.id, { result });
        } catch (err) {
          const e = errorOf(err);
          if (!e) throw err;
          const status = e.status === 404 ? 404 : e.status === 409 ? 409 : 502;
          return channelPage(c, channels, params.id, { status, error: e.message });
        }
      },
    );

  action(
    'test',
    'consoleTestChannel',
    "Try the channel's connection (as POST /api/channels/{id}/test)",
    async (channels, id, c) => {
      const t = CT[viewer(c).locale];
      const r = await channels.test(id);
      return <p>{r.ok ? t.testOk(r.message) : t.testFailed(r.message)}</p>;
    },
  );

  action(
    'sync',
    'consoleSyncChannel',
    "Pull the channel's orders now (as POST /api/channels/{id}/sync)",
    async (channels, id, c) => {
      const { locale } = viewer(c);
      const t = CT[locale];
      const { toProcess, ...r } = await channels.pull(id);
      return (
        <>
          <p>{t.syncDone(r.orders, r.pages, toProcess.length)}</p>
          {Object.keys(r.outcomes).length ? (
            <p>{`${t.outcomes}: ${outcomesText(locale, r.outcomes)}`}</p>
          ) : null}
          {r.errors.length ? (
            <Table
              caption={t.syncErrors}
              locale={locale}
              rows={r.errors}
              columns={[
                { label: t.externalId, cell: (e) => e.externalId },
                { label: t.error, cell: (e) => e.error },
              ]}
            />
          ) : null}
        </>
      );
    },
  );

  action(
    'replay-held',
    'consoleReplayHeldOrders',
    "Apply the channel's held orders again (as POST /api/channels/{id}/replay-held)",
    async (channels, id, c) => {
      const { locale } = viewer(c);
      const t = CT[locale];
      const r = await channels.replayHeld(id, actorOf(c));
      return (
        <>
          <p>{t.replayDone(r.orders)}</p>
          {Object.keys(r.outcomes).length ? (
            <p>{`${t.outcomes}: ${outcomesText(locale, r.outcomes)}`}</p>
          ) : null}
          {r.errors.length ? (
            <ul>
              {r.errors.map((e) => (
                <li>
                  <a href={`/console/orders/${e.orderId}`}>{`#${e.orderId}`}</a> {e.error}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      );
    },
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/skus',
      access: 'operate',
      operationId: 'consoleMapChannelSku',
      summary: 'Map a SKU to the channel’s item (as PUT /api/channels/{id}/skus/{sku})',
      params: channelParams,
      upload: FORM_UPLOAD,
      responses: {
        ...FORM_ANSWERS,
        200: { description: 'Channels are not configured', contentType: HTML },
        404: { description: 'No such SKU or channel: the page again', contentType: HTML },
      },
      errors: [404],
      audit: { entity: 'channel_sku' },
    },
    async (c, { params }) => {
      const channels = svc();
      if (!channels) return notConfigured(c);
      await channels.get(params.id);
      const values = await formValues(c);
      const sku = parseFormValues(mapForm, values);
      const body = parseFormValues(skuMappingBody, values, (v) =>
        Object.fromEntries(
          Object.entries(v).filter(([k, x]) => k !== 'sku' && !(typeof x === 'string' && x.trim() === '')),
        ),
      );
      if (!sku.ok || !body.ok) {
        const mapErrors = { ...(sku.ok ? {} : sku.errors), ...(body.ok ? {} : body.errors) };
        return channelPage(c, channels, params.id, { status: 422, mapErrors, mapValues: values });
      }
      try {
        await channels.setMapping(params.id, sku.data.sku, body.data);
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        const status = e.status === 404 ? 404 : e.status === 409 ? 409 : 422;
        const mapErrors: FieldErrors = e.status === 404 ? { sku: [e.message] } : { '': [e.message] };
        return channelPage(c, channels, params.id, { status, mapErrors, mapValues: values });
      }
      c.set('auditEntityId', `${params.id}/${sku.data.sku}`);
      return doneTo(
        c,
        `/console/channels/${params.id}#mappings-h`,
        CT[viewer(c).locale].mapped(sku.data.sku),
      );
    },
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/skus/:sku/delete',
      access: 'operate',
      operationId: 'consoleUnmapChannelSku',
      summary: 'Remove a SKU mapping (as DELETE /api/channels/{id}/skus/{sku})',
      params: skuParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 200: { description: 'Channels are not configured', contentType: HTML } },
      errors: [404],
      audit: { entity: 'channel_sku' },
    },
    async (c, { params }) => {
      const channels = svc();
      if (!channels) return notConfigured(c);
      await channels.deleteMapping(params.id, params.sku);
      return doneTo(
        c,
        `/console/channels/${params.id}#mappings-h`,
        CT[viewer(c).locale].unmapped(params.sku),
      );
    },
  );

  route(
    {
      method: 'post',
      path: '/channels/:id/skus/import',
      access: 'operate',
      operationId: 'consoleImportChannelSkuMappings',
      summary: 'Map SKUs from an uploaded sheet (as POST /api/channels/{id}/skus/import): all or nothing',
      params: channelParams,
      upload: FORM_UPLOAD,
      responses: { ...FORM_ANSWERS, 200: { description: 'Channels are not configured', contentType: HTML } },
      errors: [404],
      audit: { entity: 'channel_sku' },
    },
    async (c, { params }) => {
      const channels = svc();
      if (!channels) return notConfigured(c);
      await channels.get(params.id);
      const t = CT[viewer(c).locale];
      const values = await formValues(c);
      const file = values.file;
      if (!(file instanceof File) || (file.size === 0 && file.name === '')) {
        return channelPage(c, channels, params.id, {
          status: 422,
          error: t.importRefused,
          badRows: [],
          mapErrors: {},
        });
      }
      try {
        const done = await importSkuMappings(channels.ctx, params.id, {
          fileName: file.name || 'mappings.xlsx',
          data: Buffer.from(await file.arrayBuffer()),
        });
        return doneTo(c, `/console/channels/${params.id}#mappings-h`, t.imported(done.rows));
      } catch (err) {
        if (err instanceof ValidationError && err.code === 'invalid_sheet') {
          const rows = ((err.details as { rows?: { row: number; reason: string }[] })?.rows ?? []).slice(
            0,
            500,
          );
          return channelPage(c, channels, params.id, { status: 422, error: err.message, badRows: rows });
        }
        throw err;
      }
    },
  );

  return app;
}
