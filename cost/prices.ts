import euNorth1 from './prices.eu-north-1.json';

/** One price, with where it came from: every figure the estimator uses is data, never a literal in code. */
export interface Price {
  readonly usd: number;
  readonly unit: string;
  /** The AWS pricing page the figure is from. */
  readonly source: string;
  /** When it was read or checked (YYYY-MM-DD). */
  readonly date: string;
  /** `search` (matched in a public copy of the price list), `aws-page` (as published, not re-fetched), `assumption`. */
  readonly checked: 'search' | 'aws-page' | 'assumption';
  readonly note?: string;
}

export interface PriceBook {
  readonly region: string;
  readonly currency: string;
  readonly hoursPerMonth: number;
  readonly daysPerMonth: number;
  readonly prices: Readonly<Record<string, Price>>;
  /** Look a price up; throws with the id so a missing figure is a loud error, not a silent $0. */
  price(id: string): Price;
  has(id: string): boolean;
}

const BOOKS: Record<string, typeof euNorth1> = { 'eu-north-1': euNorth1 };

export function priceRegions(): string[] {
  return Object.keys(BOOKS);
}

/**
 * The price book for a region. Only eu-north-1 is kept as data; another region gets eu-north-1's book with
 * `fallbackFrom` set so the estimate can say its figures are approximate.
 */
export function priceBook(region: string): PriceBook & { fallbackFrom?: string } {
  const data = BOOKS[region] ?? BOOKS['eu-north-1'];
  const prices = data.prices as Record<string, Price>;
  return {
    region: data.region,
    currency: data.currency,
    hoursPerMonth: data.hoursPerMonth,
    daysPerMonth: data.daysPerMonth,
    prices,
    price(id: string): Price {
      const p = prices[id];
      if (!p) throw new Error(`cost: no price "${id}" in the ${data.region} price book (cost/prices.${data.region}.json)`);
      return p;
    },
    has: (id: string) => id in prices,
    ...(BOOKS[region] ? {} : { fallbackFrom: region }),
  };
}
