import ExcelJS from 'exceljs';
import type { Finding, ReconciliationRun } from './store.js';

/** A finding's state as staff read it, in English and Chinese. */
export const STATE_TEXT: Record<string, string> = {
  open: 'open / 未处理',
  healed: 'healed / 已修复',
  acknowledged: 'acknowledged / 已确认',
  resolved: 'resolved / 已消除',
};

/** A finding's kind as staff read it. */
export const KIND_TEXT: Record<string, string> = {
  'order.missing_here': 'order missing here / 本系统缺少订单',
  'order.missing_there': 'order missing on the channel / 渠道缺少订单',
  'order.cancelled_there': 'cancelled on the channel / 渠道已取消',
  'order.cancelled_here': 'cancelled here / 本系统已取消',
  'order.amount_differs': 'amounts differ / 金额不符',
  'stock.drift': 'stock drift / 库存不符',
  'ledger.mismatch': 'ledger ≠ stock / 流水与库存不符',
  'reservation.mismatch': 'reserved ≠ open lines / 占用与订单不符',
  'history.mismatch': 'history ≠ status / 状态历史不符',
  'invoice.exceeds_shipment': 'invoiced > shipped / 开票超过发货',
  'invoice.paid_mismatch': 'paid ≠ payments / 已付与收款不符',
};

/** The columns of the findings sheet: header (en / zh-CN), width, value. */
export const FINDING_COLUMNS: readonly { header: string; width: number; value: (f: Finding) => unknown }[] = [
  { header: 'Id / 编号', width: 10, value: (f) => f.id },
  { header: 'Kind / 类型', width: 34, value: (f) => KIND_TEXT[f.kind] ?? f.kind },
  { header: 'Severity / 级别', width: 10, value: (f) => f.severity },
  { header: 'Source / 来源', width: 16, value: (f) => f.source },
  { header: 'Subject / 对象', width: 30, value: (f) => f.subject },
  { header: 'Ours / 本系统', width: 40, value: (f) => (f.ours ? JSON.stringify(f.ours) : '') },
  { header: 'Theirs / 对方', width: 40, value: (f) => (f.theirs ? JSON.stringify(f.theirs) : '') },
  { header: 'Message / 说明', width: 60, value: (f) => f.message },
  { header: 'State / 状态', width: 20, value: (f) => STATE_TEXT[f.state] ?? f.state },
  { header: 'Healed by run / 修复批次', width: 14, value: (f) => f.healedRunId },
  { header: 'Heal / 修复', width: 40, value: (f) => f.heal ?? '' },
  { header: 'Acknowledged by / 确认人', width: 16, value: (f) => f.acknowledged?.by ?? '' },
  { header: 'Note / 备注', width: 40, value: (f) => f.acknowledged?.note ?? '' },
  { header: 'First found by run / 发现批次', width: 14, value: (f) => f.runId },
];

/** File name of a run's findings workbook. */
export const findingsFileName = (run: Pick<ReconciliationRun, 'id' | 'period'>) =>
  `reconciliation-${run.period}-run${run.id}.xlsx`;

/**
 * The findings of a run as a workbook: a `Findings / 差异` sheet (one row per finding, headers in
 * English and Chinese, frozen header row) and a `Run / 批次` sheet with the run's figures.
 */
export async function findingsWorkbook(
  run: ReconciliationRun,
  findings: readonly Finding[],
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'stockbridge';
  const sheet = wb.addWorksheet('Findings 差异', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = FINDING_COLUMNS.map((c) => ({ header: c.header, width: c.width }));
  sheet.getRow(1).font = { bold: true };
  for (const f of findings) sheet.addRow(FINDING_COLUMNS.map((c) => c.value(f)));
  const summary = wb.addWorksheet('Run 批次');
  summary.columns = [
    { header: 'Figure / 项目', width: 30 },
    { header: 'Value / 数值', width: 30 },
  ];
  summary.getRow(1).font = { bold: true };
  summary.addRow(['Run / 批次', run.id]);
  summary.addRow(['Period / 期间', run.period]);
  summary.addRow(['From / 起', run.windowFrom]);
  summary.addRow(['To / 止', run.windowTo]);
  summary.addRow(['Status / 状态', run.status]);
  for (const [k, v] of Object.entries(run.counts)) summary.addRow([k, v]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}
