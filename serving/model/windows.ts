import type { LongTextConfig } from '../../shared/contracts/task.ts';
import type { EncodedWindow, TextTokenizer } from './tokenizer.ts';

/** What the model runs for one instance: one window, or several to pool (`longText: "chunk"`). */
export interface WindowedText {
  windows: EncodedWindow[];
  /**
   * `text` needed more windows than the model takes (its tokens past them were dropped). A
   * `text_pair` cut to half of maxLength does not count, as in the trainer (chunking.py).
   */
  truncated: boolean;
}

/**
 * The windows of one instance, as the trainer builds them (issue #17, the common long-text rule):
 * `text` is tokenised without special tokens; each window holds W of its tokens, W = maxLength −
 * the template's special tokens − the `text_pair` tokens (capped at maxLength/2, kept whole in
 * every window); windows start at 0 and step W − stride until one reaches the end, at most
 * `maxChunks` of them (`truncate` mode: window 0 only). Only the tokens those windows can hold
 * (plus one, to know whether more were left) are tokenised, so a huge text costs little.
 */
export function textWindows(
  tokenizer: TextTokenizer,
  text: string,
  textPair: string | undefined,
  maxLength: number,
  longText: LongTextConfig,
): WindowedText {
  let pairIds: number[] | undefined;
  let truncated = false;
  let specials = tokenizer.singleSpecials;
  if (textPair !== undefined) {
    const cap = Math.floor(maxLength / 2);
    pairIds = tokenizer.encodeText(textPair, cap).slice(0, cap);
    specials = tokenizer.pairSpecials ?? specials;
  }
  const width = Math.max(1, maxLength - specials - (pairIds?.length ?? 0));
  const step = Math.max(1, width - longText.stride);
  const maxWindows = longText.mode === 'chunk' ? longText.maxChunks : 1;
  const ids = tokenizer.encodeText(text, width + (maxWindows - 1) * step);
  const windows: EncodedWindow[] = [];
  for (let start = 0; ; start += step) {
    windows.push(tokenizer.wrap(ids.slice(start, start + width), pairIds));
    if (start + width >= ids.length) break;
    if (windows.length === maxWindows) {
      truncated = true;
      break;
    }
  }
  return { windows, truncated };
}
