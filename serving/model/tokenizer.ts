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

  return {
    padId,
    encode: (text) => tok.encode(text).ids,
    truncate(ids, maxLength) {
      if (ids.length <= maxLength) return ids;
      const keep = Math.max(0, maxLength - prefixLen - suffixLen);
      return [...ids.slice(0, prefixLen + keep), ...ids.slice(ids.length - suffixLen)];
    },
  };
}
