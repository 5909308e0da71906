import { Tokenizer } from '@huggingface/tokenizers';
import { AppError } from '../../shared/errors.ts';

/**
 * The only file that imports @huggingface/tokenizers. Wraps a `tokenizer.json` (the same file
 * the Python trainer used, so token ids agree) with the one thing the library lacks:
 * truncation that keeps the special tokens, as Python's `truncation=True` does.
 */
export interface TextTokenizer {
  /** Token ids including special tokens ([CLS] … [SEP] for BERT), untruncated. */
  encode(text: string): number[];
  /** Cuts `ids` (from `encode`) to `maxLength`, keeping the leading and trailing special tokens. */
  truncate(ids: number[], maxLength: number): number[];
  /**
   * The ids `truncate(encode(text), maxLength)` gives, and whether anything was cut, without
   * tokenizing more of a long text than the model can see: see `encodeBounded`.
   */
  encodeTruncated(text: string, maxLength: number): { ids: number[]; truncated: boolean };
  /** The id used to pad a batch (masked out by the attention mask). */
  readonly padId: number;
  /**
   * Token ids of `text` without special tokens: all of them, or at least the first `atLeast`
   * + 1 (so a caller can tell the text holds more than it will use) when `atLeast` is given.
   */
  encodeText(text: string, atLeast?: number): number[];
  /** Special tokens the template adds around one text (2 for BERT: [CLS] a [SEP]). */
  readonly singleSpecials: number;
  /** Special tokens the pair template adds (3 for BERT: [CLS] a [SEP] b [SEP]); null without one. */
  readonly pairSpecials: number | null;
  /**
   * Ids and token type ids of `a` (and `b`), both without special tokens, laid out by the
   * tokenizer.json template: [CLS] a [SEP] (b [SEP]), type ids 0 for a's part and 1 for b's.
   */
  wrap(a: readonly number[], b?: readonly number[]): EncodedWindow;
}

/** One sequence the model runs: token ids with specials and their token type ids. */
export interface EncodedWindow {
  ids: number[];
  typeIds: number[];
}

/** Where a template puts its special tokens: ids and type ids before, between and after the texts. */
interface Segment {
  ids: number[];
  typeIds: number[];
}
interface Layout {
  prefix: Segment;
  aType: number;
  middle: Segment;
  bType: number;
  suffix: Segment;
}

/** Builds the tokenizer from the parsed `tokenizer.json`; `failed_precondition` when the file is unusable. */
export function loadTokenizer(tokenizerJson: unknown): TextTokenizer {
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tokenizerJson as object, {});
  } catch (err) {
    throw new AppError(
      'failed_precondition',
      `tokenizer.json could not be loaded: ${(err as Error).message}`,
      { cause: err },
    );
  }
  // Learn where the post-processor puts special tokens from one probe, so truncation can keep them.
  const probe = 'hello world';
  const full: number[] = tok.encode(probe).ids;
  const body: number[] = tok.encode(probe, { add_special_tokens: false }).ids;
  let prefixLen = -1;
  for (let i = 0; i + body.length <= full.length; i++) {
    if (body.every((id: number, j: number) => full[i + j] === id)) {
      prefixLen = i;
      break;
    }
  }
  if (prefixLen < 0 || body.length === 0) {
    throw new AppError(
      'failed_precondition',
      'tokenizer.json: cannot tell the special tokens apart from the text (post-processor not supported)',
    );
  }
  const suffixLen = full.length - prefixLen - body.length;
  const single = learnLayout(tok, undefined);
  const pair = learnLayout(tok, PAIR_PROBE);
  if (!single)
    throw new AppError('failed_precondition', 'tokenizer.json: the single-text template is not supported');
  const json = tokenizerJson as { padding?: { pad_id?: number } | null };
  const padId = json.padding?.pad_id ?? tok.token_to_id('[PAD]') ?? tok.token_to_id('<pad>') ?? 0;

  const encode = (text: string): number[] => tok.encode(text).ids;
  const truncate = (ids: number[], maxLength: number): number[] => {
    if (ids.length <= maxLength) return ids;
    const keep = Math.max(0, maxLength - prefixLen - suffixLen);
    return [...ids.slice(0, prefixLen + keep), ...ids.slice(ids.length - suffixLen)];
  };
  return {
    padId,
    encode,
    truncate,
    singleSpecials: prefixLen + suffixLen,
    pairSpecials: pair ? specialsOf(pair) : null,
    encodeText(text, atLeast) {
      const raw = (t: string): number[] => tok.encode(t, { add_special_tokens: false }).ids;
      return atLeast === undefined ? raw(text) : encodeBounded(raw, text, atLeast);
    },
    wrap(a, b) {
      const layout = b === undefined ? single : pair;
      if (!layout)
        throw new AppError('failed_precondition', 'tokenizer.json has no pair template for sentence pairs');
      return place(layout, a, b);
    },
    encodeTruncated(text, maxLength) {
      const ids = encodeBounded(encode, text, maxLength);
      return { ids: truncate(ids, maxLength), truncated: ids.length > maxLength };
    },
  };
}

const PROBE_A = 'hello world';
const PAIR_PROBE = 'good day';

/**
 * Learns the template from one encoding of known texts: the special tokens (and type ids)
 * before `a`, between `a` and `b`, and after. Null when the texts cannot be found in it
 * (a single-text template asked for a pair).
 */
function learnLayout(tok: Tokenizer, pairProbe: string | undefined): Layout | null {
  const a: number[] = tok.encode(PROBE_A, { add_special_tokens: false }).ids;
  const b: number[] = pairProbe === undefined ? [] : tok.encode(pairProbe, { add_special_tokens: false }).ids;
  let full: { ids: number[]; token_type_ids: number[] };
  try {
    full = tok.encode(PROBE_A, { text_pair: pairProbe ?? null, return_token_type_ids: true });
  } catch {
    return null;
  }
  const aAt = indexOfRun(full.ids, a, 0);
  const bAt = pairProbe === undefined ? aAt + a.length : indexOfRun(full.ids, b, aAt + a.length);
  if (aAt < 0 || bAt < 0 || (pairProbe !== undefined && b.length === 0)) return null;
  const types = full.token_type_ids ?? full.ids.map(() => 0);
  const seg = (from: number, to: number): Segment => ({
    ids: full.ids.slice(from, to),
    typeIds: types.slice(from, to),
  });
  return {
    prefix: seg(0, aAt),
    aType: types[aAt] ?? 0,
    middle: seg(aAt + a.length, bAt),
    bType: types[bAt] ?? 1,
    suffix: seg(bAt + b.length, full.ids.length),
  };
}

function specialsOf(layout: Layout): number {
  return layout.prefix.ids.length + layout.middle.ids.length + layout.suffix.ids.length;
}

function place(layout: Layout, a: readonly number[], b: readonly number[] | undefined): EncodedWindow {
  const { prefix, middle, suffix } = layout;
  const ids = [...prefix.ids, ...a, ...middle.ids, ...(b ?? []), ...suffix.ids];
  const typeIds = [
    ...prefix.typeIds,
    ...a.map(() => layout.aType),
    ...middle.typeIds,
    ...(b ?? []).map(() => layout.bType),
    ...suffix.typeIds,
  ];
  return { ids, typeIds };
}

function indexOfRun(ids: readonly number[], run: readonly number[], from: number): number {
  for (let i = from; i + run.length <= ids.length; i++) {
    if (run.every((id, j) => ids[i + j] === id)) return i;
  }
  return -1;
}

/**
 * Characters looked at per token of max length before a long text is tokenized whole. English
 * averages ~4.5 characters per WordPiece token (space included); 8 leaves room for long words
 * while bounding the work for a 10,000-character text to a few hundred tokens.
 */
export const CHARS_PER_TOKEN = 8;

/**
 * Token ids of `text`, or of a prefix of it that already holds more than `maxLength` tokens,
 * so truncating either gives the same ids. Tokenizing costs time in proportion to characters
 * and runs on the event loop, so a 10,000-character text costs milliseconds that /readyz and
 * every other request wait for; the model only ever sees its first `maxLength` tokens.
 *
 * The prefix ends just before a whitespace character: normalizers map characters one by one
 * and every supported pre-tokenizer (BERT, ByteLevel, Metaspace, Whitespace) splits at
 * whitespace, so the prefix's tokens are exactly the first tokens of the whole text. When the
 * prefix holds too few tokens (long runs of spaces, text without spaces) the whole text is
 * tokenized, so the result never depends on the cut.
 */
export function encodeBounded(encode: (text: string) => number[], text: string, maxLength: number): number[] {
  const budget = maxLength * CHARS_PER_TOKEN;
  if (text.length > budget) {
    const cut = lastWhitespaceAtOrBefore(text, budget);
    if (cut > 0) {
      const ids = encode(text.slice(0, cut));
      if (ids.length > maxLength) return ids;
    }
  }
  return encode(text);
}

function lastWhitespaceAtOrBefore(text: string, index: number): number {
  for (let i = index; i > 0; i--) if (WHITESPACE.test(text[i]!)) return i;
  return -1;
}

const WHITESPACE = /\s/;
