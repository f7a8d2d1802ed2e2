/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { getPromotion, listPromotions, type PromotionView } from '../../customers/promotions.js';
import type { AppEnv } from '../../http/env.js';
import { routeRegistrar } from '../../http/openapi.js';
import { codeParam } from '../../http/params.js';
import { Badge, Facts, Money, Table, Time } from '../components.js';
import { type ConsoleDeps, PAGE, render, viewer } from '../context.js';
import type { ConsoleLocale } from '../texts.js';
import { yesNo } from './shared.js';
import { T } from './texts.js';

const promotionParams = z.object({ code: codeParam.describe('promotion code') });
const url = (code: string) => `/console/promotions/${encodeURIComponent(code)}`;

/** What a promotion gives, in the page's language (`10% off`, `5.00 EUR off`, `buy 3 get 1`). */
function benefit(locale: ConsoleLocale, p: PromotionView) {
  const t = T[locale];
  if (p.kind === 'percent') return `${t.kinds.percent}: ${p.percent}%`;
  if (p.kind === 'amount')
    return (
      <span>
        {`${t.kinds.amount}: `}
        <Money minor={p.amount} currency={p.currency} />
      </span>
    );
  return `${t.kinds.buy_x_get_y}: ${t.buy} ${p.buy} / ${t.get} ${p.get}`;
}

/** Promotions, read-only (they are maintained through PUT /api/promotions/{code}). */
export function promotionRoutes(app: OpenAPIHono<AppEnv>, cd: ConsoleDeps) {
  const db = cd.deps.db;
  const route = routeRegistrar(app, { tag: 'Console', entity: 'promotion', db });

  route(
    {
      method: 'get',
      path: '/promotions',
      access: 'read',
      operationId: 'consolePromotions',
      summary: 'Promotions with what they give and how often they were used',
      responses: PAGE,
    },
    async (c) => {
      const v = viewer(c);
      const t = T[v.locale];
      const items = await listPromotions(db);
      return render(
        c,
        { title: t.promotions, nav: 'priceLists' },
        <>
          <h1>{t.promotions}</h1>
          <Table
            caption={t.promotionsCaption}
            locale={v.locale}
            rows={items}
            columns={[
              { label: t.code, cell: (p) => <a href={url(p.code)}>{p.code}</a> },
              { label: t.name, cell: (p) => p.name },
              { label: t.kind, cell: (p) => benefit(v.locale, p) },
              {
                label: t.active,
                cell: (p) => <Badge kind={p.active ? 'ok' : undefined}>{yesNo(v.locale, p.active)}</Badge>,
              },
              { label: t.validity, cell: (p) => `${p.validFrom ?? '…'} – ${p.validTo ?? '…'}` },
              { label: t.used, num: true, cell: (p) => p.used },
            ]}
          />
        </>,
      );
    },
  );

  route(
    {
      method: 'get',
      path: '/promotions/:code',
      access: 'read',
      operationId: 'consolePromotion',
      summary: 'A promotion: what it gives, to whom, its limits and uses',
      params: promotionParams,
      responses: PAGE,
      errors: [404],
    },
    async (c, { params }) => {
      const v = viewer(c);
      const t = T[v.locale];
      const p = await getPromotion(db, params.code);
      const listOr = (xs: string[]) => (xs.length ? xs.join(', ') : t.everyone);
      return render(
        c,
        { title: t.promotion(p.code), nav: 'priceLists' },
        <>
          <h1>{`${t.promotion(p.code)} · ${p.name}`}</h1>
          <section class="card" aria-labelledby="promo-h">
            <h2 id="promo-h">{t.facts}</h2>
            <Facts
              items={[
                [t.kind, benefit(v.locale, p)],
                [t.appliesTo, t.appliesToValues[p.appliesTo] ?? p.appliesTo],
                [t.active, yesNo(v.locale, p.active)],
                [t.validFrom, p.validFrom ?? t.none],
                [t.validTo, p.validTo ?? t.none],
                [
                  t.minOrderAmount,
                  p.minOrderAmount === null ? (
                    t.none
                  ) : (
                    <Money minor={p.minOrderAmount} currency={p.currency} />
                  ),
                ],
                [t.minOrderQuantity, p.minOrderQuantity ?? t.none],
                [t.customersOf, listOr(p.customers)],
                [t.groups, listOr(p.groups)],
                [t.channels, listOr(p.channels)],
                [t.skus, listOr(p.skus)],
                [t.requiresCode, yesNo(v.locale, p.requiresCode)],
                [t.usageLimit, p.usageLimit ?? t.none],
                [t.customerLimit, p.customerLimit ?? t.none],
                [t.used, p.used],
                [t.at, <Time at={p.updatedAt} />],
              ]}
            />
          </section>
          <p>
            <a href="/console/promotions">{t.promotions}</a>
          </p>
        </>,
      );
    },
  );
}
