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
    encodeTruncated(text, maxLength) {
      const ids = encodeBounded(encode, text, maxLength);
      return { ids: truncate(ids, maxLength), truncated: ids.length > maxLength };
    },
  };
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
