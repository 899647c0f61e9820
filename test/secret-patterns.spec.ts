import { strict as assert } from "node:assert";
import { isSecretLookingName, secretLookingValue } from "../lib/secret-patterns";

describe("secret patterns (config validation and the policy pack share them)", () => {
  const secretNames = [
    "WALLET_PRIVATE_KEY",
    "walletPrivateKey",
    "PRIVATEKEY",
    "TELEGRAM_BOT_TOKEN",
    "telegramBotToken",
    "DB_PASSWORD",
    "PGPASSWORD",
    "CONTRACT_MNEMONIC",
    "ETHERSCAN_API_KEY",
    "apiKey",
    "AWS_SECRET_ACCESS_KEY",
    "CLIENT_SECRET",
    "SECRET",
    "GITHUB_TOKEN",
    "SEED_PHRASE",
    "AWS_CREDENTIALS",
  ];
  const plainNames = [
    "LOG_LEVEL",
    "LMR_TOKEN_ADDRESS",
    "USDC_TOKEN_ADDRESS",
    "MAX_TOKENS",
    "CONFIG_SECRET_ARN",
    "SECRETS_ARN",
    "TOKEN_SYMBOL",
    "KEYBOARD",
    "PUBLIC_KEY",
    "POOL_ADDRESS",
    "FUTURES_SUBGRAPH_ID",
  ];
  for (const name of secretNames)
    it(`${name} is named like a secret`, () => assert.equal(isSecretLookingName(name), true));
  for (const name of plainNames) it(`${name} is not`, () => assert.equal(isSecretLookingName(name), false));

  const values: [string, string | undefined][] = [
    ["0x" + "ab".repeat(32), "a 32-byte hex private key"],
    ["123456789:AAEhBP0av28YJ9fVcM3x_LjPq6W5vzUxYzQ", "a Telegram bot token"],
    ["AKIAIOSFODNN7EXAMPLE", "an AWS access key id"],
    ["postgresql://admin:hunter2@db:5432/x", "a URL with credentials"],
    [`https://gateway.thegraph.com/api/${"0f".repeat(16)}/subgraphs/id/abc`, "a URL carrying an API key"],
    ["https://arb-sepolia.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWx", "a URL carrying an API key"],
    ["https://api.etherscan.io/api?module=x&apikey=ABCDEFGH12345678", "a URL carrying an API key"],
    ["0xcA11bde05977b3631167028862bE2a173976CA11", undefined],
    ["//f2poollmn.ecs-dev2:@btc.f2pool.com:1314", undefined],
    ["https://gateway.thegraph.com/api/subgraphs/id/abc", undefined],
    ["info", undefined],
  ];
  for (const [value, why] of values)
    it(`${value.slice(0, 40)} → ${why ?? "not a secret"}`, () => assert.equal(secretLookingValue(value), why));
});
