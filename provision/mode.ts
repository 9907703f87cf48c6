/** File modes as the library takes them: "0644", "644" or 0o644, normalised to four octal digits. */
export function normalizeMode(mode: string | number | undefined): string | undefined {
  if (mode === undefined) return undefined;
  const s = typeof mode === 'number' ? mode.toString(8) : mode.trim();
  if (!/^[0-7]{3,4}$/.test(s)) throw new Error(`invalid mode ${JSON.stringify(mode)}: use octal like "0644" (as a string, or 0o644)`);
  return s.padStart(4, '0');
}
