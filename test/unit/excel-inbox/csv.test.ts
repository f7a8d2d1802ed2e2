import { describe, expect, it } from 'vitest';
import { CsvFormatError, CsvParser, detectDelimiter } from '../../../connectors/excel-inbox/csv.js';

function parse(text: string, chunkSize = text.length || 1): string[][] {
  const parser = new CsvParser();
  const records: string[][] = [];
  for (let i = 0; i < text.length; i += chunkSize) records.push(...parser.push(text.slice(i, i + chunkSize)));
  records.push(...parser.end());
  return records;
}

describe('CsvParser', () => {
  it('splits plain records on LF, CRLF and a lone CR', () => {
    expect(parse('a,b\n1,2\r\n3,4\r5,6')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
    ]);
  });

  it('keeps delimiters, doubled quotes and line breaks inside quoted fields', () => {
    expect(parse('a,b,c\r\n"x, y","say ""hi""","two\r\nlines"\r\n')).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'two\r\nlines'],
    ]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = 'a,b\r\n"x, ""y""\r\nz",2\r\n\r\nlast,"q"';
    const whole = parse(text);
    expect(whole).toEqual([['a', 'b'], ['x, "y"\r\nz', '2'], [''], ['last', 'q']]);
    for (const size of [1, 2, 3, 5, 7]) expect(parse(text, size)).toEqual(whole);
  });

  it('reads a blank line as a record of one empty field, and no record after a final line break', () => {
    expect(parse('a\n\nb\n')).toEqual([['a'], [''], ['b']]);
  });

  it('keeps empty fields, also at the end of a record', () => {
    expect(parse('a,,c,\n,')).toEqual([
      ['a', '', 'c', ''],
      ['', ''],
    ]);
  });

  it('keeps a stray quote in an unquoted field and text after a closing quote', () => {
    expect(parse('a,b\n5" pipe,"x"y\n')).toEqual([
      ['a', 'b'],
      ['5" pipe', 'xy'],
    ]);
  });

  it('fails on a quoted field that is never closed, naming its row', () => {
    expect(() => parse('a,b\n1,2\n"open,3\n4,5\n')).toThrow(CsvFormatError);
    expect(() => parse('a,b\n1,2\n"open,3\n4,5\n')).toThrow('a quoted field opened on row 3 is never closed');
  });

  it('uses the semicolon or tab when the first line is separated by them', () => {
    expect(parse('order;qty;price\n1;2;"3,50"\n')).toEqual([
      ['order', 'qty', 'price'],
      ['1', '2', '3,50'],
    ]);
    expect(parse('order\tqty\n1\t2')).toEqual([
      ['order', 'qty'],
      ['1', '2'],
    ]);
  });

  it.each([
    ['a,b,c', ','],
    ['a;b;c', ';'],
    ['a\tb', '\t'],
    ['"a;b",c', ','],
    ['single', ','],
  ])('detects the delimiter of %j as %j', (line, delimiter) => {
    expect(detectDelimiter(line)).toBe(delimiter);
  });

  it('detects the delimiter from the first non-blank line even when it arrives in pieces', () => {
    const parser = new CsvParser();
    expect(parser.push('\n\nord')).toEqual([]);
    expect(parser.push('er;qty\n1;2')).toEqual([[''], [''], ['order', 'qty']]);
    expect(parser.end()).toEqual([['1', '2']]);
  });
});
