/** The extract's CSV encoding and DHIS2 periods. */
import { COLUMNS, type ExtractRow, dhis2Period, toCsv } from '../../src/reporting/csv';

test('DHIS2 period ids for a whole month, quarter or year; none for other ranges', () => {
  expect(dhis2Period('2024-02-01', '2024-02-29')).toBe('202402');
  expect(dhis2Period('2024-04-01', '2024-06-30')).toBe('2024Q2');
  expect(dhis2Period('2024-01-01', '2024-12-31')).toBe('2024');
  expect(dhis2Period('2024-01-02', '2024-12-31')).toBeNull();
  expect(dhis2Period('2024-02-01', '2024-04-30')).toBeNull();
});

test('fields are quoted per RFC 4180 and text a spreadsheet would run as a formula is defused', () => {
  const row = Object.fromEntries(COLUMNS.map((c) => [c, null])) as ExtractRow;
  row.indicator = 'X';
  row.title = 'a, "b"';
  row.org_unit = '=cmd()';
  row.numerator = 3;
  const [, line] = toCsv([row]).split('\r\n');
  expect(line).toBe(`X,,"a, ""b""",,,,'=cmd(),,,3,,,,,,`);
});
