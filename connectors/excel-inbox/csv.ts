/** A CSV text that cannot be split into records (an unterminated quoted field). */
export class CsvFormatError extends Error {
  override name = 'CsvFormatError';
  /** The message in Chinese, for the customer (see `bilingual`). */
  readonly zh: string;

  constructor(message: string, zh: string) {
    super(message);
    this.zh = zh;
  }
}

/** `quoteInQuoted`: a quote inside a quoted field, either the closing one or the first of `""`. */
type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted';

const CANDIDATE_DELIMITERS = [',', ';', '\t'] as const;

/**
 * The delimiter of a CSV text: whichever of comma, semicolon and tab occurs most (outside quotes) in
 * its first non-blank line. Excel saves "CSV" with a semicolon in locales whose decimal mark is a comma.
 */
export function detectDelimiter(firstLine: string): string {
  const counts = new Map<string, number>(CANDIDATE_DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  for (const d of CANDIDATE_DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
  return best;
}

/**
 * An RFC 4180 parser fed text in chunks of any size: quoted fields may hold delimiters, quotes
 * (doubled) and line breaks; records end with CRLF, LF or a lone CR. A blank line is a record of one
 * empty field, so record numbers match the row numbers Excel shows. Lenient where RFC 4180 is silent:
 * a quote inside an unquoted field, or text after a closing quote, is kept as text.
 */
export class CsvParser {
  private delimiter: string | undefined;
  /** Text held back until the first non-blank line is complete and the delimiter is known. */
  private head = '';
  private state: State = 'fieldStart';
  private field = '';
  private record: string[] = [];
  private afterCR = false;
  private recordNo = 1;
  private quoteStartRecord = 0;

  constructor(delimiter?: string) {
    this.delimiter = delimiter;
  }

  /** Parses a chunk; returns the records it completed. */
  push(text: string): string[][] {
    if (this.delimiter === undefined) {
      this.head += text;
      const lineEnd = /\S[^\r\n]*[\r\n]/.exec(this.head);
      if (!lineEnd) return [];
      this.delimiter = detectDelimiter(lineEnd[0]);
      text = this.head;
      this.head = '';
    }
    return this.scan(text);
  }

  /** Ends the input; returns the last record. Throws `CsvFormatError` when a quoted field is left open. */
  end(): string[][] {
    const out: string[][] = [];
    if (this.delimiter === undefined) {
      this.delimiter = detectDelimiter(this.head);
      out.push(...this.scan(this.head));
      this.head = '';
    }
    if (this.state === 'quoted') {
      throw new CsvFormatError(
        `a quoted field opened on row ${this.quoteStartRecord} is never closed`,
        `第 ${this.quoteStartRecord} 行开始的带引号字段没有结束引号`,
      );
    }
    if (this.state !== 'fieldStart' || this.field !== '' || this.record.length > 0) {
      this.endField();
      out.push(this.endRecord());
    }
    return out;
  }

  private endField(): void {
    this.record.push(this.field);
    this.field = '';
    this.state = 'fieldStart';
  }

  private endRecord(): string[] {
    const record = this.record;
    this.record = [];
    this.recordNo++;
    return record;
  }

  private scan(text: string): string[][] {
    const out: string[][] = [];
    const delimiter = this.delimiter;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (this.afterCR) {
        this.afterCR = false;
        if (ch === '\n') continue;
      }
      switch (this.state) {
        case 'quoted':
          if (ch === '"') this.state = 'quoteInQuoted';
          else this.field += ch;
          break;
        case 'quoteInQuoted':
          if (ch === '"') {
            this.field += '"';
            this.state = 'quoted';
            break;
          }
          this.state = 'unquoted';
          i--;
          break;
        case 'fieldStart':
          if (ch === '"') {
            this.state = 'quoted';
            this.quoteStartRecord = this.recordNo;
            break;
          }
          this.state = 'unquoted';
          i--;
          break;
        case 'unquoted':
          if (ch === delimiter) {
            this.endField();
          } else if (ch === '\n' || ch === '\r') {
            this.afterCR = ch === '\r';
            this.endField();
            out.push(this.endRecord());
          } else {
            this.field += ch;
          }
          break;
      }
    }
    return out;
  }
}
