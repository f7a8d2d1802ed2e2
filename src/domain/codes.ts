/**
 * Our own codes (SKU, warehouse, customer) compare without regard to letter case but with regard to
 * accents, as the database columns do (see "Codes and ids" in the README): `a1` is `A1`, `CAFÉ` is
 * not `CAFE`. This is the key to match them by in memory, e.g. a request's codes against rows read.
 */
export function codeKey(code: string): string {
  return code.toLowerCase();
}
