/**
 * What a secret looks like, by name and by value. One list, used by config
 * validation (a secret must not arrive as plain config or plain environment)
 * and by the policy pack (a secret must not reach a task definition's
 * `environment`, a Lambda's variables, an output or a tag).
 */

/** Words that name a secret wherever they stand in a variable name. */
const SECRET_WORDS = new Set([
  "PASSWORD",
  "PASSWD",
  "MNEMONIC",
  "CREDENTIAL",
  "CREDENTIALS",
  "PRIVATEKEY",
  "APIKEY",
  "SECRETKEY",
]);
/** Run-together words that end in a secret word: PGPASSWORD, WALLETPRIVATEKEY. */
const SECRET_ENDINGS = ["PASSWORD", "PASSWD", "PRIVATEKEY", "APIKEY", "SECRETKEY", "MNEMONIC"];
/** Word pairs that name a secret: PRIVATE_KEY, API_KEY, SEED_PHRASE, ACCESS_KEY... */
const SECRET_PAIRS: readonly (readonly [string, string])[] = [
  ["PRIVATE", "KEY"],
  ["API", "KEY"],
  ["SEED", "PHRASE"],
  ["SIGNING", "KEY"],
];
/** `SECRET` and `TOKEN` name a secret unless the next word says it is a reference to one (`CONFIG_SECRET_ARN`, `LMR_TOKEN_ADDRESS`). */
const REFERENCE_WORDS = new Set([
  "ARN",
  "NAME",
  "ID",
  "IDS",
  "REF",
  "PATH",
  "ADDRESS",
  "CONTRACT",
  "SYMBOL",
  "DECIMALS",
  "TYPE",
]);

/** Names that announce a secret: `WALLET_PRIVATE_KEY`, `telegramBotToken`, `DB_PASSWORD`; not `MAX_TOKENS` or `LMR_TOKEN_ADDRESS`. */
export function isSecretLookingName(name: string): boolean {
  // camelCase → SNAKE, so `walletPrivateKey` and `WALLET_PRIVATE_KEY` read alike.
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  return words.some((word, i) => {
    const next = words[i + 1];
    if (SECRET_WORDS.has(word) || SECRET_ENDINGS.some((end) => word.endsWith(end))) return true;
    if (SECRET_PAIRS.some(([a, b]) => word === a && next === b)) return true;
    if (word === "SECRET" || word === "TOKEN") return !next || !REFERENCE_WORDS.has(next);
    return false;
  });
}

interface ValuePattern {
  readonly what: string;
  readonly test: (value: string) => boolean;
}

const VALUE_PATTERNS: readonly ValuePattern[] = [
  { what: "a 32-byte hex private key", test: (v) => /(^|[^0-9a-fA-F])(0x)?[0-9a-fA-F]{64}($|[^0-9a-fA-F])/.test(v) },
  { what: "a Telegram bot token", test: (v) => /\b\d{8,10}:[A-Za-z0-9_-]{35}\b/.test(v) },
  { what: "an AWS access key id", test: (v) => /\b(AKIA|ASIA)[0-9A-Z]{16}\b/.test(v) },
  { what: "a URL with credentials", test: (v) => /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(v) },
  {
    what: "a URL carrying an API key",
    // The Graph gateway (`/api/<key>/subgraphs/...`), Alchemy/Infura (`/v2/<key>`, `/v3/<key>`), `?apikey=`.
    test: (v) =>
      /^https?:\/\/\S*\/api\/[0-9a-f]{32}\//i.test(v) ||
      /^https?:\/\/\S*\/v[23]\/[A-Za-z0-9_-]{20,}/.test(v) ||
      /[?&](api[_-]?key|apikey|key|token|access_token)=[^&\s]{8,}/i.test(v),
  },
  { what: "a PEM private key", test: (v) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v) },
];

/** Why `value` looks like a secret, or `undefined` when it does not. */
export function secretLookingValue(value: string): string | undefined {
  return VALUE_PATTERNS.find((pattern) => pattern.test(value))?.what;
}
