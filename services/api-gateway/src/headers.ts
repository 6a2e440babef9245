/** `idempotency-key` -> `Idempotency-Key`: headers are named as clients write them. */
export function headerName(lower: string): string {
  return lower.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('-');
}
