const N = 10000;
const texts: string[] = []; const bufs: Buffer[] = [];
for (let i = 0; i < N; i++) { const t = `stockbridge_orders_processed_total{channel="shopify:${i>>3}",outcome="partially_reserved"} ${i * 7}`; texts.push(t); bufs.push(Buffer.from(`${t}\n`)); }
async function t(name: string, f: () => unknown) { const ts: number[] = [];
  for (let i = 0; i < 100; i++) { const s = performance.now(); f(); ts.push(performance.now() - s); }
  ts.sort((a, b) => a - b); console.log(name.padEnd(40), ts[50]!.toFixed(2), ts[95]!.toFixed(2)); }
let sink: unknown;
await t('+= then join', () => { let out = '# HELP x'; for (let i = 0; i < N; i++) out += `\n${texts[i]}`; sink = [out, 'a'].join('\n\n'); });
await t('+= then join then Buffer.from', () => { let out = '# HELP x'; for (let i = 0; i < N; i++) out += `\n${texts[i]}`; sink = Buffer.from([out, 'a'].join('\n\n')); });
await t('array join', () => { const a = ['# HELP x']; for (let i = 0; i < N; i++) a.push(texts[i]!); sink = [a.join('\n'), 'a'].join('\n\n'); });
await t('array join + Buffer.from', () => { const a = ['# HELP x']; for (let i = 0; i < N; i++) a.push(texts[i]!); sink = Buffer.from([a.join('\n'), 'a'].join('\n\n')); });
await t('Buffer.concat', () => { const a: Buffer[] = []; for (let i = 0; i < N; i++) a.push(bufs[i]!); sink = Buffer.concat(a); });
console.log(typeof sink);
