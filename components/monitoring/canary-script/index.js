// The futures UI canary: a CloudWatch Synthetics script for syn-nodejs-puppeteer-15.0
// (Node.js 22, CommonJS). lumerin-infra packages this file as
// `nodejs/node_modules/futuresUiCanary.js` in the canary's zip, the folder the Node.js
// Puppeteer runtimes load scripts from, with handler `futuresUiCanary.handler`
// (components/monitoring/canary.ts). It requires no file of its own beside it.
//
// Each run opens the site in Chrome, waits for the page to load and for the app to
// mount, and fails unless the response is 2xx, the page has a title, and the app's
// mount point (#root, else #app, else body) has child elements. Synthetics keeps a
// screenshot of the step whether it passes or fails.
//
// The page check is a plain function of a Puppeteer-like page, so the repository's
// tests run it with a fake page; the Synthetics modules exist only in the runtime
// and are required inside the handler.
"use strict";

/** Where the app mounts, in order: the first of these on the page must have children. */
const ROOT_SELECTORS = ["#root", "#app", "body"];
/** The environment variable with the site's URL (the canary's `runConfig.environmentVariables`). */
const URL_VARIABLE = "TARGET_URL";
/** The step's name in the run report, the screenshots' names and the step metrics. */
const STEP_NAME = "loadFuturesUi";
const NAVIGATION_TIMEOUT_MS = 30000;
/** How long the app may take to mount after `load` (the live Python canary slept a fixed 5 s). */
const RENDER_TIMEOUT_MS = 15000;

// Runs in the browser (page.waitForFunction): serialised on its own, so it uses nothing from this module.
function rootHasChildren(selectors) {
  for (const selector of selectors) {
    const element = document.querySelector(selector);
    if (element) return element.childElementCount > 0;
  }
  return false;
}

// Runs in the browser (page.evaluate): the first mount point on the page and how many children it has.
function rootState(selectors) {
  for (const selector of selectors) {
    const element = document.querySelector(selector);
    if (element) return { selector, children: element.childElementCount };
  }
  return null;
}

/**
 * The check itself. `page` needs `goto`, `waitForFunction`, `title` and `evaluate`
 * (a Puppeteer Page has them). Resolves with what it saw; throws, failing the run,
 * when the page does not answer 2xx, has no title, or its mount point is missing or empty.
 */
async function checkPage(page, url, options) {
  const opts = options || {};
  const log = opts.log || console;
  const renderTimeoutMs = opts.renderTimeoutMs === undefined ? RENDER_TIMEOUT_MS : opts.renderTimeoutMs;

  const response = await page.goto(url, { waitUntil: "load", timeout: NAVIGATION_TIMEOUT_MS });
  if (!response) throw new Error(`${url}: no response`);
  const status = response.status();
  if (status < 200 || status > 299) throw new Error(`${url}: HTTP ${status}`);

  // A single-page app renders after `load`: wait, bounded, for its mount point to fill. A
  // timeout here is not the verdict; the checks below are, with a message that says why.
  try {
    await page.waitForFunction(rootHasChildren, { timeout: renderTimeoutMs, polling: 250 }, ROOT_SELECTORS);
  } catch (error) {
    log.warn(`${url}: the app did not mount within ${renderTimeoutMs} ms (${error && error.message ? error.message : error})`);
  }

  const title = String((await page.title()) || "").trim();
  if (title === "") throw new Error(`${url}: the page has no title`);
  const root = await page.evaluate(rootState, ROOT_SELECTORS);
  if (!root) throw new Error(`${url}: none of ${ROOT_SELECTORS.join(", ")} is on the page`);
  if (!(root.children > 0)) throw new Error(`${url}: ${root.selector} has no child elements (the app did not render)`);

  log.info(`${url}: HTTP ${status}, title "${title}", ${root.selector} has ${root.children} child element(s)`);
  return { status, title, selector: root.selector, children: root.children };
}

/** The site's URL from the environment: https only (the site redirects plain HTTP anyway). */
function targetUrl(env) {
  const value = env[URL_VARIABLE];
  if (!value) throw new Error(`${URL_VARIABLE} is not set`);
  let parsed;
  try {
    parsed = new URL(value);
  } catch (error) {
    throw new Error(`${URL_VARIABLE} "${value}" is not a URL`);
  }
  if (parsed.protocol !== "https:") throw new Error(`${URL_VARIABLE} "${value}" is not https`);
  return value;
}

/**
 * One run, given the runtime's modules (`synthetics`: @aws/synthetics-puppeteer,
 * `log`: @aws/synthetics-logger) and the environment. The check runs as one
 * Synthetics step, which screenshots the page when the step passes and when it fails.
 */
async function runCanary(runtime, env) {
  const url = targetUrl(env);
  runtime.synthetics.getConfiguration().setConfig({
    screenshotOnStepStart: false,
    screenshotOnStepSuccess: true,
    screenshotOnStepFailure: true,
  });
  const page = await runtime.synthetics.getPage();
  return runtime.synthetics.executeStep(STEP_NAME, async () => checkPage(page, url, { log: runtime.log }));
}

exports.handler = async () => {
  // The namespaces of syn-nodejs-puppeteer-13.1 and later (the legacy `Synthetics` and
  // `SyntheticsLogger` are to be removed). Required here: they exist only in the runtime.
  const synthetics = require("@aws/synthetics-puppeteer");
  const log = require("@aws/synthetics-logger");
  await runCanary({ synthetics, log }, process.env);
  return "futures UI rendered";
};

exports.ROOT_SELECTORS = ROOT_SELECTORS;
exports.URL_VARIABLE = URL_VARIABLE;
exports.STEP_NAME = STEP_NAME;
exports.rootHasChildren = rootHasChildren;
exports.rootState = rootState;
exports.checkPage = checkPage;
exports.targetUrl = targetUrl;
exports.runCanary = runCanary;
