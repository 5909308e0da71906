import { describe, expect, it } from 'vitest';
import { exprWorkflow, runSnippet } from './test-support/run-snippet.ts';

// Expression semantics as documented in the Workflows syntax reference (data types, operators,
// standard library). Each row: expression, expected result, or the error tag it must raise.
const results: [string, unknown][] = [
  ['1 + 2 * 3', 7],
  ['(1 + 2) * 3', 9],
  ['7 / 2', 3.5],
  ['type(4 / 2)', 'double'],
  ['7 // 2', 3],
  ['-7 // 2', -4],
  ['7 % 3', 1],
  ['type(7 // 2)', 'integer'],
  ['type(1 + 2.5)', 'double'],
  ['"ab" + "cd"', 'abcd'],
  ['3 > 2 and 2 >= 2', true],
  ['1 == 1.0', true],
  ['"a" < "b"', true],
  ['1 != 2 or false', true],
  ['not true', false],
  ['not (1 > 2)', true],
  ['2 in [1, 2, 3]', true],
  ['"k" in {"k": 1}', true],
  ['"z" in {"k": 1}', false],
  ['[1, 2] == [1, 2]', true],
  ['{"a": [1]}["a"][0]', 1],
  ['default(null, "x")', 'x'],
  ['default(0, "x")', 0],
  ['keys({"a": 1, "b": 2})', ['a', 'b']],
  ['len("héllo")', 5],
  ['len([1, 2, 3])', 3],
  ['len({"a": 1})', 1],
  ['int("42") + 1', 43],
  ['int(2.9)', 2],
  ['double("1.5") * 2', 3],
  ['string(12) + "!"', '12!'],
  ['string(2.5)', '2.5'],
  ['string(true)', 'true'],
  ['type(null)', 'null'],
  ['type([])', 'list'],
  ['type({})', 'map'],
  ['type("s")', 'string'],
  ['type(true)', 'boolean'],
  ['map.get({"a": {"b": 2}}, ["a", "b"])', 2],
  ['map.get({"a": 1}, "missing")', null],
  ['default(map.get({"a": 1}, "b"), 5)', 5],
  ['list.concat([1], 2)', [1, 2]],
  ['json.encode_to_string({"a": [1, 2.5, "x", null, true]})', '{"a":[1,2.5,"x",null,true]}'],
  ['json.decode("{\\"n\\": 3}").n', 3],
  ['json.decode(json.encode({"k": "v"})).k', 'v'],
  ['text.split("a,b,c", ",")', ['a', 'b', 'c']],
  ['text.replace_all("a-b-c", "-", "+")', 'a+b+c'],
  ['text.substring("workflows", 0, 4)', 'work'],
  ['text.to_upper("abc")', 'ABC'],
  ['text.match_regex("ZONE_RESOURCE_POOL_EXHAUSTED in zone", "RESOURCE_POOL_EXHAUSTED")', true],
  ['len(text.find_all("a.b.c", "."))', 2],
  ['math.floor(2.7)', 2],
  ['sys.get_env("GOOGLE_CLOUD_PROJECT_ID")', 'local'],
  ['sys.get_env("NOT_SET", "fallback")', 'fallback'],
  ['map.delete({"a": 1, "b": 2}, "a")', { b: 2 }],
  ['map.merge({"a": 1}, {"a": 2, "b": 3})', { a: 2, b: 3 }],
  ['list.prepend([2], 1)', [1, 2]],
  [
    'text.find_all_regex("a1b22", "[0-9]+")',
    [
      { index: 1, match: '1' },
      { index: 3, match: '22' },
    ],
  ],
  ['text.replace_all_regex("zone-a zone-b", "zone-([a-z])", "z\\\\1")', 'za zb'],
  ['base64.decode(base64.encode(text.encode("hé"))) == text.encode("hé")', true],
  ['time.format(0)', '1970-01-01T00:00:00.000Z'],
  ['time.parse("1970-01-01T00:01:00Z")', 60],
  ['http.default_retry_predicate({"tags": ["HttpError"], "code": 503})', true],
  ['http.default_retry_predicate_non_idempotent({"tags": ["ConnectionError"]})', false],
  ['http.default_retry.max_retries', 5],
  ['-(3 - 5) * 2', 4],
  ['[1, [2, 3]][1][0] + len({"k": [1, 2]}.k)', 4],
];

const errors: [string, string][] = [
  ['1 / 0', 'ZeroDivisionError'],
  ['5 // 0', 'ZeroDivisionError'],
  ['5 % 0', 'ZeroDivisionError'],
  ['"a" + 1', 'TypeError'],
  ['1 < "a"', 'TypeError'],
  ['not 1', 'TypeError'],
  ['1 and true', 'TypeError'],
  ['{"a": 1}.b', 'KeyError'],
  ['{"a": 1}["b"]', 'KeyError'],
  ['[1, 2][2]', 'IndexError'],
  ['[1, 2]["x"]', 'TypeError'],
  ['undefined_variable', 'KeyError'],
  ['int("x1")', 'ValueError'],
  ['keys([1])', 'TypeError'],
  ['len(3)', 'TypeError'],
  ['json.decode("{not json")', 'ValueError'],
  ['9223372036854775807 + 1', 'ValueError'],
  ['string([1])', 'TypeError'],
];

describe('expressions', () => {
  it.each(results)('${%s}', async (src, expected) => {
    expect(await runSnippet(exprWorkflow(src))).toEqual({ result: expected });
  });
  it.each(errors)('${%s} raises %s', async (src, tag) => {
    const out = (await runSnippet(exprWorkflow(src))) as { error: { tags: string[]; message: string } };
    expect(out.error.tags).toEqual([tag]);
    expect(out.error.message.length).toBeGreaterThan(5);
  });
  it('short-circuits and/or so the right side is not evaluated', async () => {
    expect(await runSnippet(exprWorkflow('false and {"a": 1}.b'))).toEqual({ result: false });
    expect(await runSnippet(exprWorkflow('true or 1 / 0 == 1'))).toEqual({ result: true });
  });
  it('keeps integers exact beyond 2^53', async () => {
    expect(await runSnippet(exprWorkflow('string(9007199254740993 + 0)'))).toEqual({
      result: '9007199254740993',
    });
  });
});
