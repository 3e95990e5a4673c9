// Sizes and context lengths as every view shows them: humanBytes (binary units chosen by size), inMiB (a figure
// in a column or axis whose unit is MiB), contextLabel.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** A size on its own: 4_089_446 → "3.9 MiB" (binary units, `digits` decimals), 512 → "512 B". */
export function humanBytes(bytes: number, digits = 1): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export const MIB = 2 ** 20;

/** Bytes as a figure in MiB, for a column or axis whose unit is MiB: 31_457_280 → "30.0", 2^31 → "2,048.0". */
export function inMiB(bytes: number, digits = 1): string {
  return (bytes / MIB).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** 2048 → "2k", 1000 → "1000". */
export function contextLabel(tokens: number): string {
  return tokens % 1024 === 0 ? `${tokens / 1024}k` : String(tokens);
}
