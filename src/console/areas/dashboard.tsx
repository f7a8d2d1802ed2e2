/** @jsxImportSource hono/jsx */
import type { Context } from 'hono';
import type { AppEnv } from '../../http/env.js';
import { newRoutes, routeRegistrar } from '../../http/openapi.js';
import { addStyles } from '../assets.js';
import { Badge, Table, Time } from '../components.js';
import { type ConsoleDeps, PAGE, render, viewer } from '../context.js';
import {
  COUNT_CAP,
  failingChannels,
  heldByReason,
  lastNightlyRun,
  lastReconciliationRun,
  lowStockCount,
  openFindings,
  ordersPerHourCached,
  queueDepths,
  waitingOrders,
} from '../dashboard/figures.js';
import { holdReasonText } from '../dashboard/hold-reasons.js';
import { defineTexts } from '../texts.js';

const T = defineTexts(
  'dashboard',
  {
    title: 'Dashboard',
    perHour: 'Orders per hour today (UTC)',
    perHourCaption: (total: number) => `Orders stored today, by hour (UTC): ${total} in all`,
    hour: 'Hour',
    orders: 'Orders',
    waiting: 'Orders waiting',
    waitingCaption: 'Orders waiting in each state',
    held: 'Held orders by reason',
    heldCaption: 'Orders on hold, by reason',
    noneHeld: 'No order is on hold.',
    queues: 'Queue depths',
    queuesCaption: 'Jobs in each queue',
    queue: 'Queue',
    queueWaiting: 'Waiting',
    queueActive: 'Running',
    queueDelayed: 'Delayed',
    queueFailed: 'Failed',
    queuesNotAvailable: 'Queue depths are not available here.',
    queuesNoAnswer: 'Queue depths are not available: Redis did not answer.',
    failing: 'Failing channels',
    failingCaption: 'Channels that are failing',
    noneFailing: 'No channel is failing.',
    channel: 'Channel',
    since: 'Since',
    findings: 'Open reconciliation findings',
    lowStock: 'SKUs below their reorder point',
    lastNightly: 'Last nightly run',
    noNightly: 'No nightly job has run yet.',
    lastReconciliation: 'Last reconciliation run',
    noReconciliation: 'No reconciliation has run yet.',
    more: (n: number) => `more than ${n.toLocaleString('en')}`,
    count: (n: number) => n.toLocaleString('en'),
    runOf: (job: string, period: string) => `${job}, ${period}`,
    finishedAt: 'finished',
    runStatus: { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', failed: 'Failed' },
    openList: 'Open the list',
    bar: 'Against the busiest hour',
    asOf: (hhmm: string) => `As of ${hhmm} UTC.`,
    barText: (pct: number) => `${pct}% of the busiest hour`,
  },
  {
    title: '概览',
    perHour: '今日每小时订单（UTC）',
    perHourCaption: (total: number) => `今日收到的订单，按小时（UTC）：共 ${total} 个`,
    hour: '小时',
    orders: '订单',
    waiting: '待处理订单',
    waitingCaption: '各状态下等待中的订单',
    held: '按原因统计的挂起订单',
    heldCaption: '挂起订单（按原因）',
    noneHeld: '没有挂起的订单。',
    queues: '队列深度',
    queuesCaption: '各队列中的任务',
    queue: '队列',
    queueWaiting: '等待',
    queueActive: '运行中',
    queueDelayed: '延迟',
    queueFailed: '失败',
    queuesNotAvailable: '此处无法查看队列深度。',
    queuesNoAnswer: '无法查看队列深度：Redis 未响应。',
    failing: '故障渠道',
    failingCaption: '出现故障的渠道',
    noneFailing: '没有故障渠道。',
    channel: '渠道',
    since: '开始于',
    findings: '未处理的对账差异',
    lowStock: '低于再订货点的 SKU',
    lastNightly: '最近一次夜间任务',
    noNightly: '夜间任务尚未运行。',
    lastReconciliation: '最近一次对账',
    noReconciliation: '尚未运行对账。',
    more: (n: number) => `超过 ${n.toLocaleString('en')}`,
    count: (n: number) => n.toLocaleString('en'),
    runOf: (job: string, period: string) => `${job}，${period}`,
    finishedAt: '完成于',
    runStatus: { queued: '排队中', running: '运行中', succeeded: '成功', failed: '失败' },
    openList: '打开列表',
    bar: '与最忙的小时相比',
    asOf: (hhmm: string) => `截至 UTC ${hhmm}。`,
    barText: (pct: number) => `最忙小时的 ${pct}%`,
  },
);

// Bars of the hourly list in 5 % steps: widths by class (the pages' CSP refuses inline styles).
addStyles(
  [
    '.bars .fill{display:block;height:.9rem;background:#0b5394;border-radius:.2rem;min-width:1px}',
    ...Array.from({ length: 21 }, (_, i) => `.bars .w${i * 5}{width:${i * 5}%}`),
    '.bars .w0{background:transparent}',
    '.figure a{text-decoration:none}',
  ].join('\n'),
);

const RUN_KIND = { succeeded: 'ok', failed: 'bad', running: undefined, queued: undefined } as const;

/** The dashboard: what needs looking at now, each figure a link to its page. */
export function dashboardPages(cd: ConsoleDeps) {
  const app = newRoutes();
  const route = routeRegistrar(app, { tag: 'Console', entity: 'dashboard', db: cd.deps.db });
  route(
    {
      method: 'get',
      path: '/',
      access: 'read',
      operationId: 'consoleDashboard',
      summary:
        'The dashboard: orders per hour today, orders waiting by state, held orders by reason, queue depths, failing channels, open findings, the last nightly run, low stock',
      responses: PAGE,
    },
    (c) => dashboardPage(c, cd),
  );
  return app;
}

async function dashboardPage(c: Context<AppEnv>, cd: ConsoleDeps) {
  const { locale, t, can } = viewer(c);
  const tt = T[locale];
  const db = cd.deps.db;
  const [
    { hours: perHour, at: perHourAt },
    waiting,
    held,
    failing,
    findings,
    low,
    nightly,
    reconciliation,
    queues,
  ] = await Promise.all([
    ordersPerHourCached(db, new Date()),
    waitingOrders(db),
    heldByReason(db),
    failingChannels(db),
    openFindings(db),
    lowStockCount(db),
    lastNightlyRun(db, cd.deps.scheduledJobs?.jobs),
    lastReconciliationRun(db),
    cd.deps.queues ? queueDepths(cd.deps.queues, cd.deps.log) : Promise.resolve(undefined),
  ]);
  const count = (n: number) => (n > COUNT_CAP ? tt.more(COUNT_CAP) : tt.count(n));
  const nowHour = new Date().getUTCHours();
  const hours = perHour.slice(0, nowHour + 1).map((n, hour) => ({ hour, n }));
  const peak = Math.max(1, ...perHour);
  const total = perHour.reduce((a, b) => a + b, 0);
  const statusNames = t.orderStatus as Record<string, string>;
  return render(
    c,
    { title: tt.title, nav: 'dashboard' },
    <>
      <h1>{tt.title}</h1>
      <div class="grid">
        <section class="card figure" aria-labelledby="d-findings">
          <h2 id="d-findings">{tt.findings}</h2>
          <p class="stat">
            <a href="/console/reconciliation">{count(findings)}</a>
          </p>
        </section>
        <section class="card figure" aria-labelledby="d-low">
          <h2 id="d-low">{tt.lowStock}</h2>
          <p class="stat">
            <a href="/console/stock/low">{count(low)}</a>
          </p>
        </section>
        <section class="card" aria-labelledby="d-nightly">
          <h2 id="d-nightly">{tt.lastNightly}</h2>
          {nightly ? (
            <p>
              <a href={`/console/jobs/runs/${nightly.id}`}>{tt.runOf(nightly.job, nightly.period)}</a>{' '}
              <Badge kind={RUN_KIND[nightly.status]}>{tt.runStatus[nightly.status]}</Badge>{' '}
              {nightly.finishedAt ? (
                <>
                  {tt.finishedAt} <Time at={nightly.finishedAt} />
                </>
              ) : null}
            </p>
          ) : (
            <p class="muted">
              <a href="/console/jobs">{tt.noNightly}</a>
            </p>
          )}
          <h3>{tt.lastReconciliation}</h3>
          {reconciliation ? (
            <p>
              <a href={`/console/reconciliation/runs/${reconciliation.id}`}>{reconciliation.period}</a>{' '}
              <Badge kind={RUN_KIND[reconciliation.status as keyof typeof RUN_KIND]}>
                {tt.runStatus[reconciliation.status as keyof typeof tt.runStatus] ?? reconciliation.status}
              </Badge>{' '}
              <Time at={reconciliation.finishedAt ?? reconciliation.startedAt} />
            </p>
          ) : (
            <p class="muted">
              <a href="/console/reconciliation">{tt.noReconciliation}</a>
            </p>
          )}
        </section>
      </div>

      <div class="grid">
        <section class="card" aria-labelledby="d-waiting">
          <h2 id="d-waiting">{tt.waiting}</h2>
          <Table
            locale={locale}
            caption={tt.waitingCaption}
            hideCaption
            rows={waiting}
            columns={[
              { label: t.status, cell: (r) => statusNames[r.status] ?? r.status },
              {
                label: tt.orders,
                num: true,
                cell: (r) => <a href={`/console/orders?status=${r.status}`}>{count(r.count)}</a>,
              },
            ]}
          />
        </section>
        <section class="card" aria-labelledby="d-held">
          <h2 id="d-held">{tt.held}</h2>
          <Table
            locale={locale}
            caption={tt.heldCaption}
            hideCaption
            emptyText={tt.noneHeld}
            rows={held}
            columns={[
              { label: t.reason, cell: (r) => holdReasonText(locale, r.reason) },
              {
                label: tt.orders,
                num: true,
                cell: (r) => <a href="/console/orders?status=on_hold">{tt.count(r.count)}</a>,
              },
            ]}
          />
        </section>
      </div>

      <div class="grid">
        <section class="card" aria-labelledby="d-failing">
          <h2 id="d-failing">{tt.failing}</h2>
          <Table
            locale={locale}
            caption={tt.failingCaption}
            hideCaption
            emptyText={tt.noneFailing}
            rows={failing}
            columns={[
              {
                label: tt.channel,
                cell: (r) => <a href={`/console/channels/${r.id}`}>{`${r.name} (${r.type}:${r.id})`}</a>,
              },
              { label: t.reason, cell: (r) => r.reason },
              { label: tt.since, cell: (r) => <Time at={r.since} /> },
            ]}
          />
          {failing.length ? (
            <p>
              <a href="/console/channels">{tt.openList}</a>
            </p>
          ) : null}
        </section>
        <section class="card" aria-labelledby="d-queues">
          <h2 id="d-queues">{tt.queues}</h2>
          {queues === undefined ? (
            <p class="muted">{tt.queuesNotAvailable}</p>
          ) : queues === null ? (
            <p class="muted">{tt.queuesNoAnswer}</p>
          ) : (
            <Table
              locale={locale}
              caption={tt.queuesCaption}
              hideCaption
              rows={queues}
              columns={[
                {
                  label: tt.queue,
                  cell: (r) => (can('admin') ? <a href="/console/queues">{r.name}</a> : r.name),
                },
                { label: tt.queueWaiting, num: true, cell: (r) => tt.count(r.waiting) },
                { label: tt.queueActive, num: true, cell: (r) => tt.count(r.active) },
                { label: tt.queueDelayed, num: true, cell: (r) => tt.count(r.delayed) },
                { label: tt.queueFailed, num: true, cell: (r) => tt.count(r.failed) },
              ]}
            />
          )}
        </section>
      </div>

      <section class="card bars" aria-labelledby="d-hours">
        <h2 id="d-hours">{tt.perHour}</h2>
        <p class="muted">{tt.asOf(perHourAt.toISOString().slice(11, 16))}</p>
        <Table
          locale={locale}
          caption={tt.perHourCaption(total)}
          rows={hours}
          columns={[
            { label: tt.hour, cell: (r) => `${String(r.hour).padStart(2, '0')}:00` },
            {
              label: tt.orders,
              num: true,
              cell: (r) => <a href="/console/orders">{tt.count(r.n)}</a>,
            },
            {
              label: tt.bar,
              cell: (r) => {
                const pct = Math.round((r.n / peak) * 20) * 5;
                return (
                  <>
                    <span class={`fill w${pct}`} aria-hidden="true" />
                    <span class="visually-hidden">{tt.barText(pct)}</span>
                  </>
                );
              },
            },
          ]}
        />
      </section>
    </>,
  );
}
