// How sizes and context lengths read in the lens, the hover and the extension's estimate message.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 4_089_446 → "3.9 MiB": binary units, one decimal. */
export function humanBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** 2048 → "2k", 1000 → "1000". */
export function contextLabel(tokens: number): string {
  return tokens % 1024 === 0 ? `${tokens / 1024}k` : String(tokens);
}
