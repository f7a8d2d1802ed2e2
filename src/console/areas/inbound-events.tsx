/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import { listConnectorTypes } from '../../../connectors/registry.js';
import { getInboundEvent, inboundEventState, listInboundEvents } from '../../channels/event-list.js';
import type { AppEnv } from '../../http/env.js';
import { actorOf, newRoutes, routeRegistrar } from '../../http/openapi.js';
import { nextCursor, readCursor } from '../../http/pagination.js';
import {
  eventFilterOf,
  eventParams,
  type InboundEventListQuery,
  inboundEventListQuery,
} from '../../http/routes/inbound-events.js';
import { CT } from '../channels/texts.js';
import { ActionForm, Badge, ErrorSummary, Facts, Field, Pager, Select, Table, Time } from '../components.js';
import { type ConsoleDeps, doneTo, errorOf, FORM_ANSWERS, HTML, PAGE, render, viewer } from '../context.js';
import { type FieldErrors, FORM_UPLOAD, fieldErrors } from '../forms.js';

type C = Context<AppEnv>;

/** The console's inbound events pages (issue 19): the stored deliveries, filtered, their payloads, replay. */

const STATES = ['processed', 'pending', 'failed', 'parked'] as const;
const STATE_KIND = { processed: 'ok', pending: undefined, failed: 'bad', parked: 'warn' } as const;
/** The longest payload shown on a page (characters). */
const MAX_PAYLOAD_CHARS = 200_000;
/** Built-in channels of orders that came in without a connector. */
const BUILT_IN = ['api', 'excel', 'email'];

const stateBadge = (locale: 'en' | 'zh-CN', e: Parameters<typeof inboundEventState>[0]) => {
  const s = inboundEventState(e);
  return <Badge kind={STATE_KIND[s]}>{CT[locale].states[s]}</Badge>;
};

async function listPage(
  c: C,
  cd: ConsoleDeps,
  q: InboundEventListQuery | null,
  raw: Record<string, string>,
  errors?: FieldErrors,
) {
  const v = viewer(c);
  const t = CT[v.locale];
  const query = q ?? inboundEventListQuery.parse({});
  const beforeId = q ? readCursor(q.cursor) : null;
  const rows = q ? await listInboundEvents(cd.deps.db, eventFilterOf(query, beforeId)) : [];
  const items = rows.slice(0, query.limit);
  const next = nextCursor(rows.length > query.limit ? items.at(-1)?.id : null);
  const channels = cd.deps.channels ? await cd.deps.channels.list() : [];
  const channelOptions = [
    ...channels.map((ch) => ({ value: `${ch.type}:${ch.id}`, label: `${ch.name} (${ch.type}:${ch.id})` })),
    ...BUILT_IN.map((b) => ({ value: b, label: b })),
  ];
  const channelNames = new Map(channels.map((ch) => [`${ch.type}:${ch.id}`, ch.name]));
  const filterValues = raw;
  return render(
    c,
    { title: t.eventsTitle, nav: 'inboundEvents', status: errors ? 422 : 200 },
    <>
      <h1>{t.eventsTitle}</h1>
      {!cd.deps.channels ? <p class="muted">{t.notConfigured}</p> : null}
      <ErrorSummary
        errors={errors}
        locale={v.locale}
        labels={{
          channel: t.channel,
          topic: t.topic,
          status: t.state,
          receivedFrom: t.receivedFrom,
          receivedTo: t.receivedTo,
        }}
      />
      <form method="get" action="/console/inbound-events" class="card filters">
        <Select
          name="channel"
          label={t.channel}
          values={filterValues}
          errors={errors}
          options={channelOptions}
          blank={t.anyChannel}
        />
        <Field name="topic" label={t.topic} values={filterValues} errors={errors} />
        <Select
          name="status"
          label={t.state}
          values={filterValues}
          errors={errors}
          options={STATES.map((s) => ({ value: s, label: t.states[s] }))}
          blank={t.anyState}
        />
        <Field name="receivedFrom" label={t.receivedFrom} type="date" values={filterValues} errors={errors} />
        <Field name="receivedTo" label={t.receivedTo} type="date" values={filterValues} errors={errors} />
        <div>
          <button type="submit">{v.t.filter}</button>{' '}
          <a href="/console/inbound-events" class="button secondary">
            {v.t.clear}
          </a>
        </div>
      </form>
      <Table
        caption={t.eventsCaption}
        locale={v.locale}
        rows={items}
        columns={[
          { label: 'ID', cell: (e) => <a href={`/console/inbound-events/${e.id}`}>{`#${e.id}`}</a> },
          {
            label: t.channel,
            cell: (e) =>
              channelNames.has(e.channel) ? `${channelNames.get(e.channel)} (${e.channel})` : e.channel,
          },
          { label: t.topic, cell: (e) => e.topic },
          { label: t.state, cell: (e) => stateBadge(v.locale, e) },
          { label: t.received, cell: (e) => <Time at={e.receivedAt} /> },
          { label: t.externalId, cell: (e) => e.externalId ?? '–' },
          {
            label: t.order,
            cell: (e) =>
              e.orderId === null ? '–' : <a href={`/console/orders/${e.orderId}`}>{`#${e.orderId}`}</a>,
          },
          { label: t.error, cell: (e) => e.error ?? '' },
        ]}
      />
      <Pager
        locale={v.locale}
        path="/console/inbound-events"
        query={{
          channel: query.channel,
          topic: query.topic,
          status: query.status,
          receivedFrom: query.receivedFrom,
          receivedTo: query.receivedTo,
        }}
        prev={query.cursor ? { cursor: '' } : null}
        next={next ? { cursor: next } : null}
      />
    </>,
  );
}

/** The payload pretty-printed when it is JSON (large ids kept as written), else as received. */
function prettyPayload(payload: string): { text: string; json: boolean } {
  try {
    // Numbers beyond 2^53 (Shopify's ids) would lose digits through JSON.parse: kept as their text.
    const guarded = payload.replace(/(?<=[:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '"\\u0000$1"');
    const value = JSON.parse(guarded);
    const text = JSON.stringify(value, null, 2).replace(/"\\u0000(-?\d+)"/g, '$1');
    return { text, json: true };
  } catch {
    return { text: payload, json: false };
  }
}

async function eventPage(c: C, cd: ConsoleDeps, id: number, error?: string, status?: 404 | 409 | 502) {
  const v = viewer(c);
  const t = CT[v.locale];
  const e = await getInboundEvent(cd.deps.db, id);
  const payload = e.payload ?? '';
  const shown = payload.length > MAX_PAYLOAD_CHARS ? payload.slice(0, MAX_PAYLOAD_CHARS) : payload;
  const pretty = prettyPayload(shown);
  const connector = /^([a-z0-9_-]+):\d+$/.exec(e.channel)?.[1];
  const replayable = Boolean(cd.deps.channels) && (!connector || listConnectorTypes().includes(connector));
  return render(
    c,
    { title: t.eventTitle(e.id), nav: 'inboundEvents', error, status: status ?? 200 },
    <>
      <h1>{t.eventTitle(e.id)}</h1>
      <section class="card">
        <Facts
          items={[
            [t.channel, e.channel],
            [t.topic, e.topic],
            [t.kind, e.kind ?? '–'],
            [t.state, stateBadge(v.locale, e)],
            [t.deliveryId, e.deliveryId],
            [t.externalId, e.externalId ?? '–'],
            [
              t.order,
              e.orderId === null ? '–' : <a href={`/console/orders/${e.orderId}`}>{`#${e.orderId}`}</a>,
            ],
            [t.received, <Time at={e.receivedAt} />],
            [t.processed, <Time at={e.processedAt} />],
            [t.attempts, String(e.attempts)],
            [t.retryAt, <Time at={e.retryAt} />],
            [t.note, e.note ?? '–'],
            [t.error, e.error ?? '–'],
          ]}
        />
        {v.can('operate') && replayable ? (
          <ActionForm
            action={`/console/inbound-events/${e.id}/replay`}
            csrf={v.csrf}
            label={t.replayEvent}
            confirm={t.replayEventConfirm}
          />
        ) : null}
      </section>
      <section class="card" aria-labelledby="payload-h">
        <h2 id="payload-h">{t.payload}</h2>
        {payload.length > MAX_PAYLOAD_CHARS ? (
          <p class="muted">{t.payloadCut(MAX_PAYLOAD_CHARS, payload.length)}</p>
        ) : null}
        {!pretty.json ? <p class="muted">{t.payloadNotJson}</p> : null}
        <pre tabindex={0}>{pretty.text}</pre>
      </section>
      <p>
        <a href="/console/inbound-events">{v.t.back}</a>
      </p>
    </>,
  );
}

export function inboundEventPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'inbound_event', db: cd.deps.db });

  route(
    {
      method: 'get',
      path: '/inbound-events',
      access: 'read',
      operationId: 'consoleInboundEvents',
      summary: 'The stored inbound events: filter by channel, topic, state, received date; paged',
      // The filters are read by the handler, so that a bad one is shown beside its field.
      query: inboundEventListQuery,
      parse: false,
      responses: { ...PAGE, 422: { description: 'A filter is not valid', contentType: HTML } },
    },
    async (c) => {
      const raw = Object.fromEntries(
        Object.entries(c.req.query()).filter(([, value]) => value !== ''),
      ) as Record<string, string>;
      const parsed = inboundEventListQuery.safeParse(raw);
      if (!parsed.success) return listPage(c, cd, null, raw, fieldErrors(parsed.error));
      try {
        readCursor(parsed.data.cursor);
      } catch {
        return listPage(c, cd, null, raw, { cursor: ['cursor is not valid'] });
      }
      return listPage(c, cd, parsed.data, raw);
    },
  );

  route(
    {
      method: 'get',
      path: '/inbound-events/:id',
      access: 'read',
      operationId: 'consoleInboundEvent',
      summary: 'One inbound event: what it is about, its state and its payload',
      params: eventParams,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params }) => eventPage(c, cd, params.id),
  );

  route(
    {
      method: 'post',
      path: '/inbound-events/:id/replay',
      access: 'operate',
      operationId: 'consoleReplayInboundEvent',
      summary: 'Apply a stored event to its order again (as POST /api/inbound-events/{id}/replay)',
      params: eventParams,
      upload: FORM_UPLOAD,
      responses: {
        ...FORM_ANSWERS,
        404: { description: 'No such event', contentType: HTML },
        502: { description: 'The channel failed: the page, saying why', contentType: HTML },
      },
      errors: [404],
      audit: { entity: 'inbound_event' },
    },
    async (c, { params }) => {
      const t = CT[viewer(c).locale];
      const channels = cd.deps.channels;
      if (!channels) return eventPage(c, cd, params.id, t.notConfigured, 409);
      try {
        const result = await channels.replayEvent(params.id, actorOf(c));
        const outcome = (t.eventOutcomes as Record<string, string>)[result.outcome] ?? result.outcome;
        return doneTo(
          c,
          `/console/inbound-events/${params.id}`,
          t.replayedEvent(result.note ? `${outcome} (${result.note})` : outcome),
        );
      } catch (err) {
        const e = errorOf(err);
        if (!e) throw err;
        return eventPage(c, cd, params.id, e.message, e.status === 404 ? 404 : e.status === 409 ? 409 : 502);
      }
    },
  );

  return app;
}
