// Search text for the FTS5 index and the queries against it. Words go through unicode61 with
// diacritics removed ("bjork" finds "Björk") and prefix matching (as you type). CJK text has no
// spaces, so unicode61 keeps a whole run as one token; for it the index also holds every
// character and every pair of neighbours (unigrams + bigrams), and a query becomes the phrase of
// its bigrams, which finds a two-character word anywhere inside a title.

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\uff66-\uff9f]/u;
const CJK_RUN = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\uff66-\uff9f]+/gu;

export function hasCjk(text: string): boolean {
  return CJK.test(text);
}

/** Unigrams and bigrams of every CJK run in `texts`, space separated (the `cjk` column). */
export function cjkGrams(texts: (string | null | undefined)[]): string {
  const grams = new Set<string>();
  for (const t of texts) {
    if (!t) continue;
    for (const m of t.matchAll(CJK_RUN)) {
      const chars = [...m[0]];
      for (let i = 0; i < chars.length; i++) {
        grams.add(chars[i]!);
        if (i + 1 < chars.length) grams.add(chars[i]! + chars[i + 1]!);
      }
    }
  }
  return [...grams].join(' ');
}

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/**
 * An FTS5 MATCH expression for what the user typed, or null when there is nothing to search.
 * Every term must match (AND); the last word is a prefix (the user is still typing it), earlier
 * words too, since "beat" should find "Beatles" in any position. `columns` restricts the words
 * (e.g. to the artist columns); CJK parts always search the cjk column.
 */
export function matchExpression(input: string, columns?: string[]): string | null {
  const parts: string[] = [];
  const scope = columns && columns.length > 0 ? `{${columns.join(' ')}} : ` : '';
  for (const raw of input.normalize('NFC').split(/\s+/)) {
    if (!raw) continue;
    let rest = raw;
    for (const m of raw.matchAll(CJK_RUN)) {
      const chars = [...m[0]];
      const grams = chars.length === 1 ? [chars[0]!] : chars.slice(0, -1).map((c, i) => c + chars[i + 1]!);
      parts.push(`cjk : ${grams.length === 1 ? quote(grams[0]!) : `(${grams.map(quote).join(' AND ')})`}`);
      rest = rest.replace(m[0], ' ');
    }
    // Punctuation separates tokens in unicode61 too; keep only letters and digits per word.
    for (const w of rest.split(/[^\p{L}\p{N}]+/u)) {
      if (w) parts.push(`${scope}${quote(w)}*`);
    }
  }
  return parts.length > 0 ? parts.join(' AND ') : null;
}
