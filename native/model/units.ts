// How sizes and context lengths read everywhere: the lens, the hover, the CLI, the Runs view and the panels.
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** The one byte formatter: 4_089_446 → "3.9 MiB" (binary units, `digits` decimals), 512 → "512 B". */
export function humanBytes(bytes: number, digits = 1): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** 2048 → "2k", 1000 → "1000". */
export function contextLabel(tokens: number): string {
  return tokens % 1024 === 0 ? `${tokens / 1024}k` : String(tokens);
}
