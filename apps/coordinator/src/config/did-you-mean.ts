/**
 * "Did you mean" suggestions for misspelt keys and names.
 */

/** Suggestions further than this many edits away are more noise than help. */
const MAX_DISTANCE = 2;

/**
 * Failing a close spelling, a shared start this long still names the same
 * thing with another ending (`normalisation` → `normalise`, `waitTimeout` →
 * `waitTimeoutMs`).
 */
const MIN_SHARED_PREFIX = 6;

/**
 * Edit distance with adjacent transpositions counted as one edit (optimal
 * string alignment): `optimzier` → `optimizer` is one slip of the fingers, not two.
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: the transposition case looks two rows back.
  let before: number[] = [];
  let previous: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] as number) + 1);
      }
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * The candidate closest to `input`: the fewest edits if within two, else the
 * longest shared start of at least six letters, else undefined. Case is
 * ignored (`batchsize` → `batchSize`); ties go to the earlier candidate, so
 * list the likelier names first.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = MAX_DISTANCE + 1;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    // A 2-letter key is within 2 edits of every other 2-letter key.
    if (distance < bestDistance && distance < Math.max(input.length, candidate.length)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ?? longestSharedPrefix(needle, candidates);
}

function longestSharedPrefix(needle: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestLength = MIN_SHARED_PREFIX - 1;
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    let length = 0;
    while (length < needle.length && length < lower.length && needle[length] === lower[length]) length++;
    if (length > bestLength) {
      best = candidate;
      bestLength = length;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or the empty string. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const match = suggest(input, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}
