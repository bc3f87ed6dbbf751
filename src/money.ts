/**
 * Money arithmetic in integer micro-units (1e-6 of the currency unit).
 *
 * The server sends decimal strings; totals shown as authoritative are the
 * server's strings. Only the ticking estimate is computed here, in BigInt.
 */

const MICROS_PER_UNIT = BigInt(1000000);
const MS_PER_HOUR = BigInt(3600000);

/**
 * Parse a decimal string ("0.50", "12", "-0.013889") into micro-units.
 *
 * Digits past the sixth decimal are truncated. Returns null when the string
 * is not a plain decimal number.
 */
export function parseMicros(value: string): bigint | null {
  const match = /^\s*([+-]?)(\d*)(?:\.(\d*))?\s*$/.exec(value);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) {
    return null;
  }
  const whole = BigInt(match[2] || '0');
  const fraction = BigInt(((match[3] ?? '') + '000000').slice(0, 6));
  const micros = whole * MICROS_PER_UNIT + fraction;
  return match[1] === '-' ? -micros : micros;
}

/**
 * The cost in micro-units of `elapsedMs` at `rateMicrosPerHour`, rounded down.
 */
export function costMicros(
  rateMicrosPerHour: bigint,
  elapsedMs: number
): bigint {
  if (!(elapsedMs > 0)) {
    return BigInt(0);
  }
  return (rateMicrosPerHour * BigInt(Math.floor(elapsedMs))) / MS_PER_HOUR;
}

/**
 * Format micro-units exactly, as the server does: every significant digit,
 * at least two decimals ("12.50", "0.013889", "-3.00").
 */
export function formatExactMicros(micros: bigint): string {
  const negative = micros < BigInt(0);
  const abs = negative ? -micros : micros;
  const whole = abs / MICROS_PER_UNIT;
  let fraction = (abs % MICROS_PER_UNIT).toString().padStart(6, '0');
  fraction = fraction.replace(/0+$/, '');
  if (fraction.length < 2) {
    fraction = fraction.padEnd(2, '0');
  }
  return `${negative ? '-' : ''}${whole.toString()}.${fraction}`;
}

/**
 * The exact sum of decimal strings, in micro-units; unparsable ones count 0.
 */
export function sumMicros(amounts: Iterable<string>): bigint {
  let total = BigInt(0);
  for (const amount of amounts) {
    total += parseMicros(amount) ?? BigInt(0);
  }
  return total;
}

/**
 * Micro-units for display: two decimals, rounding half away from zero; an
 * amount under one cent (but not zero) keeps two significant digits, up to
 * the sixth decimal, so that "0.000141" reads "0.00014" rather than "0.00".
 */
export function formatDisplayMicros(micros: bigint): string {
  const negative = micros < BigInt(0);
  const abs = negative ? -micros : micros;
  let decimals = 2;
  if (abs > BigInt(0) && abs < BigInt(10000)) {
    // 10000 micro-units is one cent: count the digits below it.
    decimals = 6 - abs.toString().length + 2;
    decimals = Math.min(6, Math.max(3, decimals));
  }
  let step = BigInt(10 ** (6 - decimals));
  let rounded = (abs + step / BigInt(2)) / step;
  if (decimals > 2 && rounded * step >= BigInt(10000)) {
    // Rounded up to a whole cent (0.009999): show it as cents.
    decimals = 2;
    step = BigInt(10000);
    rounded = (abs + step / BigInt(2)) / step;
  }
  const scale = BigInt(10 ** decimals);
  const whole = rounded / scale;
  const fraction = (rounded % scale).toString().padStart(decimals, '0');
  const sign = negative && rounded > BigInt(0) ? '-' : '';
  return `${sign}${whole.toString()}.${fraction}`;
}

/**
 * A money amount as every view shows it: "12.50 USD", "0.00014 USD",
 * "0.00 USD". An amount that is not a decimal string is shown as sent.
 */
export function formatMoney(amount: string, currency: string): string {
  const micros = parseMicros(amount);
  const text = micros === null ? amount : formatDisplayMicros(micros);
  return currency ? `${text} ${currency}` : text;
}

/**
 * The exact amount, every micro-unit, with its currency: the hover text of
 * a displayed amount and the form used in exports ("0.000141 USD").
 */
export function exactMoney(amount: string, currency: string): string {
  const micros = parseMicros(amount);
  const text = micros === null ? amount : formatExactMicros(micros);
  return currency ? `${text} ${currency}` : text;
}

/**
 * A price per hour: "0.50 USD/h".
 */
export function formatRate(amount: string, currency: string): string {
  return `${formatMoney(amount, currency)}/h`;
}
