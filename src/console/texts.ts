import type { Context } from 'hono';
import { pageLocale } from '../auth/page-texts.js';
import type { Locale } from '../auth/user-store.js';
import type { AppEnv } from '../http/env.js';

/**
 * The console's words, in both languages. Every area keeps its own texts with `defineTexts(en, zh)`:
 * the type makes the Chinese texts have every key the English ones have (and no other), and the
 * registry lets a test check at run time that no text is empty in either language.
 */

export type ConsoleLocale = Locale;
export const CONSOLE_LOCALES: readonly ConsoleLocale[] = ['zh-CN', 'en'];

type Widen<T> = T extends string
  ? string
  : T extends (...args: infer A) => string
    ? (...args: A) => string
    : T extends readonly (infer E)[]
      ? readonly Widen<E>[]
      : T extends object
        ? { [K in keyof T]: Widen<T[K]> }
        : T;

export type Texts<T> = Record<ConsoleLocale, Widen<T>>;

const registry: { name: string; texts: Texts<unknown> }[] = [];

/** Registers an area's texts: `const T = defineTexts('orders', {...en}, {...zh})`; `T[locale].key`. */
export function defineTexts<T extends object>(name: string, en: T, zh: Widen<T>): Texts<T> {
  const texts = { en: en as Widen<T>, 'zh-CN': zh } as Texts<T>;
  registry.push({ name, texts: texts as Texts<unknown> });
  return texts;
}

/** Every text set defined so far (the texts test imports every area first). */
export const allTexts = () => [...registry];

/** The page language: the user's own setting, else the browser's (zh-CN or en), else zh-CN. */
export const localeOf = (c: Context<AppEnv>): ConsoleLocale =>
  pageLocale(c.get('principal')?.locale, c.req.header('accept-language'));

/** The texts every page shares: navigation, buttons, tables, errors, statuses. */
export const COMMON = defineTexts(
  'common',
  {
    product: 'stockbridge console',
    skipToContent: 'Skip to content',
    mainNav: 'Main navigation',
    nav: {
      dashboard: 'Dashboard',
      orders: 'Orders',
      newOrder: 'New order',
      stock: 'Stock',
      channels: 'Channels',
      inboundEvents: 'Inbound events',
      customers: 'Customers',
      priceLists: 'Price lists',
      contracts: 'Contracts',
      jobs: 'Jobs and files',
      reconciliation: 'Reconciliation',
      settings: 'Settings',
      queues: 'Queues',
      apiDocs: 'API reference',
    },
    account: 'Your account',
    logOut: 'Log out',
    language: 'Language',
    languageNames: { en: 'English', 'zh-CN': '简体中文' },
    languageAuto: 'As the browser',
    change: 'Change',
    signedInAs: (who: string, role: string) => `${who} (${role})`,
    roles: { admin: 'Administrator', operator: 'Operator', finance: 'Finance', viewer: 'Viewer' },
    search: 'Search',
    filter: 'Filter',
    clear: 'Clear',
    save: 'Save',
    cancel: 'Cancel',
    submit: 'Submit',
    delete: 'Delete',
    back: 'Back',
    edit: 'Edit',
    create: 'Create',
    details: 'Details',
    actions: 'Actions',
    reason: 'Reason',
    note: 'Note',
    yes: 'Yes',
    no: 'No',
    none: 'None',
    all: 'All',
    empty: 'Nothing to show.',
    loading: 'Loading…',
    next: 'Next page',
    previous: 'Previous page',
    first: 'First page',
    pagination: 'Pages',
    page: (n: number) => `Page ${n}`,
    showing: (from: number, to: number) => `Rows ${from}–${to}`,
    total: (n: number) => `${n} in all`,
    errorSummary: 'Please correct the following:',
    errorTitle: (status: number) => `Error ${status}`,
    errorBack: 'Go back',
    errorHome: 'To the dashboard',
    forbidden: 'Your role may not do this.',
    notFound: 'Not found.',
    required: 'Required',
    optional: 'optional',
    done: 'Done.',
    time: 'Time',
    utc: 'UTC',
    status: 'Status',
    orderStatus: {
      received: 'Received',
      confirmed: 'Confirmed',
      backordered: 'Backordered',
      on_hold: 'On hold',
      rejected: 'Rejected',
      partially_shipped: 'Partially shipped',
      shipped: 'Shipped',
      delivered: 'Delivered',
      completed: 'Completed',
      cancelled: 'Cancelled',
    },
  },
  {
    product: 'stockbridge 控制台',
    skipToContent: '跳到正文',
    mainNav: '主导航',
    nav: {
      dashboard: '概览',
      orders: '订单',
      newOrder: '新建订单',
      stock: '库存',
      channels: '渠道',
      inboundEvents: '入站事件',
      customers: '客户',
      priceLists: '价格表',
      contracts: '合同',
      jobs: '任务与文件',
      reconciliation: '对账',
      settings: '设置',
      queues: '队列',
      apiDocs: 'API 参考',
    },
    account: '我的账户',
    logOut: '退出登录',
    language: '语言',
    languageNames: { en: 'English', 'zh-CN': '简体中文' },
    languageAuto: '跟随浏览器',
    change: '切换',
    signedInAs: (who: string, role: string) => `${who}（${role}）`,
    roles: { admin: '管理员', operator: '运营', finance: '财务', viewer: '只读' },
    search: '搜索',
    filter: '筛选',
    clear: '清除',
    save: '保存',
    cancel: '取消',
    submit: '提交',
    delete: '删除',
    back: '返回',
    edit: '编辑',
    create: '新建',
    details: '详情',
    actions: '操作',
    reason: '原因',
    note: '备注',
    yes: '是',
    no: '否',
    none: '无',
    all: '全部',
    empty: '暂无内容。',
    loading: '加载中…',
    next: '下一页',
    previous: '上一页',
    first: '第一页',
    pagination: '分页',
    page: (n: number) => `第 ${n} 页`,
    showing: (from: number, to: number) => `第 ${from}–${to} 行`,
    total: (n: number) => `共 ${n} 条`,
    errorSummary: '请更正以下问题：',
    errorTitle: (status: number) => `错误 ${status}`,
    errorBack: '返回上一页',
    errorHome: '回到概览',
    forbidden: '您的角色无权执行此操作。',
    notFound: '未找到。',
    required: '必填',
    optional: '选填',
    done: '已完成。',
    time: '时间',
    utc: 'UTC',
    status: '状态',
    orderStatus: {
      received: '已接收',
      confirmed: '已确认',
      backordered: '缺货待补',
      on_hold: '已挂起',
      rejected: '已拒绝',
      partially_shipped: '部分发货',
      shipped: '已发货',
      delivered: '已送达',
      completed: '已完成',
      cancelled: '已取消',
    },
  },
);
