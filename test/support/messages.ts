/**
 * A message cut into sentences, for checks that no sentence is said twice: split after ., ! or ?
 * followed by a space and a capital letter or a quote (so "e.g. https://x" and "3.5" stay whole).
 */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+(?=["'A-Z(])/)
    .map((sentence) => sentence.trim())
    .filter(Boolean);
}

/** Sentences that occur more than once, compared without case and punctuation. */
export function repeatedSentences(text: string): string[] {
  const seen = new Map<string, number>();
  for (const sentence of sentences(text)) {
    const key = sentence.toLowerCase().replace(/[^\p{L}\p{N} ]/gu, '').replace(/\s+/g, ' ').trim();
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, count]) => count > 1).map(([sentence]) => sentence);
}

/** Words of advice that must occur at most once in one message ("Try again later ... Try again in a moment"). */
export const adviceOpeners = [/\btry again\b/gi, /\bsign in again\b/gi, /\bcheck the\b/gi, /\bstart the sign-in again\b/gi];
