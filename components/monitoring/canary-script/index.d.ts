/**
 * Types of the canary script (index.js), for the repository's TypeScript (the
 * component and the tests). Not packaged: the canary's zip holds index.js only.
 */

/** The part of a Puppeteer Page the check uses. */
export interface CheckedPage {
  goto(url: string, options: { waitUntil: "load"; timeout: number }): Promise<{ status(): number } | null>;
  waitForFunction(fn: (selectors: readonly string[]) => boolean, options: { timeout: number; polling: number }, selectors: readonly string[]): Promise<unknown>;
  title(): Promise<string>;
  evaluate(fn: (selectors: readonly string[]) => RootState | null, selectors: readonly string[]): Promise<RootState | null>;
}

export interface RootState {
  readonly selector: string;
  readonly children: number;
}

export interface CheckLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface CheckResult extends RootState {
  readonly status: number;
  readonly title: string;
}

/** The runtime modules a run uses: `@aws/synthetics-puppeteer` and `@aws/synthetics-logger`. */
export interface CanaryRuntime {
  readonly synthetics: {
    getConfiguration(): { setConfig(config: Record<string, boolean>): unknown };
    getPage(): Promise<CheckedPage>;
    executeStep<T>(name: string, step: () => Promise<T>): Promise<T>;
  };
  readonly log: CheckLog;
}

export const ROOT_SELECTORS: readonly string[];
export const URL_VARIABLE: string;
export const STEP_NAME: string;
export function rootHasChildren(selectors: readonly string[]): boolean;
export function rootState(selectors: readonly string[]): RootState | null;
export function checkPage(page: CheckedPage, url: string, options?: { log?: CheckLog; renderTimeoutMs?: number }): Promise<CheckResult>;
export function targetUrl(env: Readonly<Record<string, string | undefined>>): string;
export function runCanary(runtime: CanaryRuntime, env: Readonly<Record<string, string | undefined>>): Promise<CheckResult>;
export function handler(): Promise<string>;
