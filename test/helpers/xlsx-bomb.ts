/**
 * Zip archives built byte by byte for the tests and benches of the order inbox: deflated entries
 * that may lie about their size, and the xlsx bomb of issue 10 (a real workbook whose shared
 * strings hold one huge cell) built in milliseconds without ever holding the huge cell.
 */
import { crc32, deflateRawSync, constants as zlibConstants } from 'node:zlib';
import ExcelJS from 'exceljs';
import yauzl from 'yauzl';

/** Part of a zip entry's content: bytes, or bytes repeated (compressed once, so a huge entry costs little). */
export type EntryPart = Buffer | string | { repeat: string; times: number };

export interface DeflatedEntry {
  name: string;
  parts: EntryPart[];
  /** The uncompressed size the headers claim, when it should lie. */
  declaredSize?: number;
}

/**
 * Each part deflated on its own and flushed to a byte boundary (a full flush also drops the
 * dictionary), so that the compressed pieces can be concatenated, and a repeated part is compressed
 * once: a zip of a 300 MB entry is built in milliseconds.
 */
function deflateParts(parts: readonly EntryPart[]): { data: Buffer; size: number; crc: number } {
  const pieces: Buffer[] = [];
  let size = 0;
  let crc = 0;
  for (const part of parts) {
    const text = typeof part === 'string' || Buffer.isBuffer(part) ? part : part.repeat;
    const times = typeof part === 'string' || Buffer.isBuffer(part) ? 1 : part.times;
    const bytes = Buffer.from(text);
    const compressed = deflateRawSync(bytes, { finishFlush: zlibConstants.Z_FULL_FLUSH });
    for (let i = 0; i < times; i++) {
      pieces.push(compressed);
      crc = crc32(bytes, crc);
    }
    size += bytes.length * times;
  }
  pieces.push(deflateRawSync(Buffer.alloc(0)));
  return { data: Buffer.concat(pieces), size, crc };
}

/** A zip archive of deflated entries (sizes as 32-bit fields: keep entries under 4 GiB). */
export function deflatedZip(entries: readonly DeflatedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const fileName = Buffer.from(entry.name);
    const { data, size, crc } = deflateParts(entry.parts);
    const declared = entry.declaredSize ?? size;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(fileName.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(declared, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, data);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The entries of a zip, unpacked. */
export async function zipEntries(data: Buffer): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(data, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z!))),
  );
  const out = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream!.on('data', (c: Buffer) => chunks.push(c));
        stream!.on('end', () => {
          out.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}

/**
 * A real workbook of `rows` (written by exceljs) whose shared strings gain `cells` (default 1)
 * strings of `cellMb` MB: the xlsx bomb of issue 10, some 300 KB on disk for a 300 MB cell.
 * Entries keep exceljs's order; `declaredSize` lets the shared strings lie about their size.
 */
export async function workbookWithHugeCell(
  rows: unknown[][],
  cellMb: number,
  options: { declaredSize?: number; cells?: number } = {},
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Orders');
  for (const row of rows) sheet.addRow(row);
  sheet.addRow(['', '', '', '', '', 'note']);
  const entries = await zipEntries(Buffer.from(await workbook.xlsx.writeBuffer()));
  const shared = entries.get('xl/sharedStrings.xml')?.toString() ?? '';
  const close = shared.lastIndexOf('</sst>');
  const megabyte = 'A'.repeat(1024 * 1024);
  return deflatedZip(
    [...entries].map(([name, data]) =>
      name === 'xl/sharedStrings.xml'
        ? {
            name,
            parts: [
              shared.slice(0, close),
              ...Array.from({ length: options.cells ?? 1 }, (): EntryPart[] => [
                '<si><t>',
                { repeat: megabyte, times: cellMb },
                '</t></si>',
              ]).flat(),
              '</sst>',
            ],
            ...(options.declaredSize === undefined ? {} : { declaredSize: options.declaredSize }),
          }
        : { name, parts: [data] },
    ),
  );
}
