/**
 * What a secret looks like, by name and by value. One list, used by config
 * validation (a secret must not arrive as plain config or plain environment)
 * and by the policy pack (a secret must not reach a task definition's
 * `environment`, a Lambda's variables, an output or a tag).
 */

/** Names that announce a secret: `WALLET_PRIVATE_KEY`, `telegramBotToken`, `DB_PASSWORD`... */
const SECRET_NAME = /(PRIVATE_?KEY|SECRET|TOKEN|PASSWORD|PASSWD|MNEMONIC|API_?KEY|CREDENTIAL|SEED_?PHRASE)/i;

export function isSecretLookingName(name: string): boolean {
  // Normalise camelCase to SNAKE so `walletPrivateKey` and `WALLET_PRIVATE_KEY` read alike.
  const snake = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2");
  return SECRET_NAME.test(snake);
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
