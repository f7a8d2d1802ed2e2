import yauzl from 'yauzl';
import type { Bilingual } from './bilingual.js';
import type { OrderFileInput } from './types.js';

/** How far an .xlsx may unpack before it is read; see `checkXlsxArchive`. */
export interface UnpackLimits {
  /** All entries together, uncompressed. */
  maxUnpackedBytes: number;
  /** `xl/sharedStrings.xml` (exceljs holds every shared string in memory). */
  maxSharedStringsBytes: number;
  /**
   * Longest stretch of an XML entry without a `<`: a cell's text, or a tag with its attributes.
   * Bounds the longest string exceljs's XML parser ever builds.
   */
  maxTextRunBytes: number;
}

/**
 * A local file header is followed by its data and, when bit 3 of its flags is set, a data
 * descriptor of at most 24 bytes (signature, CRC and two 64-bit sizes).
 */
const MAX_DESCRIPTOR_BYTES = 24;
const LT = 0x3c;

type ZipFile = yauzl.ZipFile & {
  readLocalFileHeader(
    entry: yauzl.Entry,
    options: { minimal: true },
    callback: (err: Error | null, header: { fileDataStart: number }) => void,
  ): void;
};

function openZip(input: OrderFileInput): Promise<ZipFile> {
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false };
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, zip?: yauzl.ZipFile) =>
      err || !zip ? reject(err ?? new Error('no zip')) : resolve(zip as ZipFile);
    if ('data' in input) yauzl.fromBuffer(input.data, options, done);
    else yauzl.open(input.path, options, done);
  });
}

/** Every entry of the central directory, without unpacking anything. */
function readEntries(zip: ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/**
 * Whether the central directory accounts for every byte before it: entries start at 0 and each
 * follows the one before, without overlap and without a gap in which a streaming reader (exceljs
 * reads local headers one after another) would find an entry the directory does not list.
 */
async function checkLayout(
  zip: ZipFile,
  entries: readonly yauzl.Entry[],
  directoryOffset: number | undefined,
): Promise<Bilingual | null> {
  const sorted = [...entries].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  let expected = 0;
  for (const entry of sorted) {
    const gap = entry.relativeOffsetOfLocalHeader - expected;
    if (gap < 0 || gap > (expected === 0 ? 0 : MAX_DESCRIPTOR_BYTES)) {
      return {
        en: 'its entries overlap or hide data between them',
        zh: '压缩包内的条目相互重叠或夹带隐藏数据',
      };
    }
    const { fileDataStart } = await new Promise<{ fileDataStart: number }>((resolve, reject) =>
      zip.readLocalFileHeader(entry, { minimal: true }, (err, header) =>
        err ? reject(err) : resolve(header),
      ),
    );
    expected = fileDataStart + entry.compressedSize;
  }
  const end = directoryOffset;
  if (end === undefined || end - expected < 0 || end - expected > MAX_DESCRIPTOR_BYTES) {
    return { en: 'it holds data its directory does not list', zh: '压缩包含有目录中未列出的数据' };
  }
  return null;
}

/**
 * Unpacks one entry only to count its bytes (yauzl also fails an entry that unpacks to more or
 * fewer bytes than it declares) and, for XML, to find its longest stretch without a `<`.
 */
function measureEntry(
  zip: ZipFile,
  entry: yauzl.Entry,
  budget: number,
  maxRun: number | null,
): Promise<{ bytes: number; longRun: boolean }> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(err ?? new Error('no stream'));
      let bytes = 0;
      let run = 0;
      const stop = (result: { bytes: number; longRun: boolean }) => {
        stream.destroy();
        resolve(result);
      };
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > budget) return stop({ bytes, longRun: false });
        if (maxRun === null) return;
        let from = 0;
        for (let at = chunk.indexOf(LT); at !== -1; at = chunk.indexOf(LT, from)) {
          if (run + (at - from) > maxRun) return stop({ bytes, longRun: true });
          run = 0;
          from = at + 1;
        }
        run += chunk.length - from;
        if (run > maxRun) return stop({ bytes, longRun: true });
      });
      stream.once('end', () => resolve({ bytes, longRun: false }));
      stream.once('error', reject);
    });
  });
}

/**
 * Looks at an .xlsx as a zip before exceljs unpacks any of it, so that a small file cannot unpack
 * into gigabytes in memory (one 300 MB cell compresses to 300 KB). First the sizes the central
 * directory declares, then the layout (no hidden or overlapping entries), then every entry is
 * unpacked and counted, since a declared size can lie. Returns what is wrong, to be shown to the
 * customer in both languages, or null. Throws when the zip cannot be read at all.
 */
export async function checkXlsxArchive(
  input: OrderFileInput,
  limits: UnpackLimits,
): Promise<Bilingual | null> {
  const zip = await openZip(input);
  try {
    // Where yauzl reads the next directory record: before the first `readEntry`, the directory's
    // offset (yauzl keeps it nowhere else).
    const cursor = (zip as unknown as { readEntryCursor?: unknown }).readEntryCursor;
    const directoryOffset = typeof cursor === 'number' ? cursor : undefined;
    const entries = await readEntries(zip);
    let declared = 0;
    for (const entry of entries) {
      declared += entry.uncompressedSize;
      if (
        entry.fileName === 'xl/sharedStrings.xml' &&
        entry.uncompressedSize > limits.maxSharedStringsBytes
      ) {
        return {
          en: `its shared strings unpack to ${mb(entry.uncompressedSize)}; at most ${mb(limits.maxSharedStringsBytes)} are read`,
          zh: `共享字符串解压后为 ${mb(entry.uncompressedSize)}，最多只读取 ${mb(limits.maxSharedStringsBytes)}`,
        };
      }
    }
    if (declared > limits.maxUnpackedBytes) {
      return {
        en: `it unpacks to ${mb(declared)}; at most ${mb(limits.maxUnpackedBytes)} are read`,
        zh: `解压后为 ${mb(declared)}，最多只读取 ${mb(limits.maxUnpackedBytes)}`,
      };
    }
    const layout = await checkLayout(zip, entries, directoryOffset);
    if (layout) return layout;

    let total = 0;
    for (const entry of entries) {
      if (entry.fileName.endsWith('/')) continue;
      const budget = Math.min(
        limits.maxUnpackedBytes - total,
        entry.fileName === 'xl/sharedStrings.xml' ? limits.maxSharedStringsBytes : Number.POSITIVE_INFINITY,
      );
      const isXml = /\.(xml|rels|vml)$/i.test(entry.fileName);
      let measured: { bytes: number; longRun: boolean };
      try {
        measured = await measureEntry(zip, entry, budget, isXml ? limits.maxTextRunBytes : null);
      } catch (err) {
        // yauzl stops an entry as soon as it unpacks to more (or ends with fewer) bytes than declared.
        if (/bytes in the stream/.test((err as Error).message)) {
          return {
            en: `${entry.fileName} unpacks to another size than its zip directory declares`,
            zh: `${entry.fileName} 解压后的大小与 zip 目录中声明的不符`,
          };
        }
        throw err;
      }
      const { bytes, longRun } = measured;
      if (bytes > budget)
        return {
          en: `it unpacks to more than ${mb(limits.maxUnpackedBytes)} (or its shared strings to more than ${mb(limits.maxSharedStringsBytes)})`,
          zh: `解压后超过 ${mb(limits.maxUnpackedBytes)}（或共享字符串超过 ${mb(limits.maxSharedStringsBytes)}）`,
        };
      if (longRun) {
        const kb = Math.floor(limits.maxTextRunBytes / 1024);
        return {
          en: `${entry.fileName} holds a text or cell longer than ${kb} KB`,
          zh: `${entry.fileName} 含有超过 ${kb} KB 的文本或单元格`,
        };
      }
      total += bytes;
    }
    return null;
  } finally {
    zip.close();
  }
}
