import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Page } from 'playwright-core';

// Checks the browser tests run inside a page (page.evaluate): the focus ring's contrast, sideways
// scrolling, English text in the Swedish interface, axe-core. Functions passed to page.evaluate are compiled by tsx, which names
// them with a `__name` helper: a context defines it first (`addInitScript('globalThis.__name = (f) => f')`).

/** In the page: the focused element's outline and its contrast against the background it is drawn on. */
export function focusRing() {
  const el = document.activeElement as HTMLElement | null;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const luminance = ([r, g, b]: number[]) => {
    const ch = (v: number) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  // The ring sits outside the element (outline-offset), so the colour behind it is the parent's.
  let node: HTMLElement | null = el.parentElement;
  let background = 'rgb(255, 255, 255)';
  while (node) {
    const bg = getComputedStyle(node).backgroundColor;
    const parts = rgb(bg);
    if (parts.length >= 3 && (parts.length < 4 || parts[3] > 0)) { background = bg; break; }
    node = node.parentElement;
  }
  const [a, b] = [luminance(rgb(style.outlineColor)), luminance(rgb(background))].sort((x, y) => y - x);
  return {
    what: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.textContent ?? '').trim().slice(0, 30)}"`,
    outline: style.outlineColor, width: parseFloat(style.outlineWidth) || 0, background, ratio: (a + 0.05) / (b + 0.05),
  };
}

/** In the page: how far the page is wider than the window (> 0: it scrolls sideways). */
export function sidewaysOverflow(): number {
  return document.documentElement.scrollWidth - document.documentElement.clientWidth;
}

/** In the page: every string of the English catalogue that differs from its Swedish counterpart. */
export async function englishOnlyStrings(): Promise<string[]> {
  const { TEXT } = await import('/app.js' as string);
  const { CODE_TEXT } = await import('/text.js' as string);
  const out: string[] = [];
  const walk = (en: unknown, sv: unknown) => {
    if (typeof en === 'string') { if (en !== sv) out.push(en); return; }
    if (en && typeof en === 'object') for (const [k, v] of Object.entries(en)) walk(v, (sv as Record<string, unknown> | undefined)?.[k]);
  };
  walk(TEXT.en, TEXT.sv);
  walk(CODE_TEXT.en, CODE_TEXT.sv);
  return out;
}

/** In the page: catalogue strings that show as visible text (a whole text, or a phrase inside one). */
export function englishShown(english: string[]): string[] {
  const texts: string[] = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = n.parentElement;
    if (!parent || parent.closest('[lang="en"], script, style, noscript') || !parent.checkVisibility()) continue;
    const text = (n.textContent ?? '').trim();
    if (text) texts.push(text);
  }
  for (const el of document.querySelectorAll<HTMLElement>('[aria-label], [placeholder], [title]')) {
    if (el.closest('[lang="en"]')) continue;
    for (const a of ['aria-label', 'placeholder', 'title']) { const v = el.getAttribute(a); if (v) texts.push(v.trim()); }
  }
  texts.push(document.title);
  return english.filter((e) => texts.some((x) => x === e || (e.includes(' ') && e.length >= 8 && x.includes(e))));
}


const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One axe-core rule broken on a page: its id, what it says, and where. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core's violations on the page as it is now (every rule axe runs by default: WCAG 2.x A and AA
 * and its best practices). Its source is evaluated in the page rather than added as a script tag, which
 * the app's Content-Security-Policy (script-src 'self') would refuse.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/** A page's languages and widths: every new or changed page state is checked in each (sv/en × 1280/390 px). */
export const LANGS_AND_WIDTHS = [['sv', 1280], ['en', 1280], ['sv', 390], ['en', 390]] as const;
export type Lang = (typeof LANGS_AND_WIDTHS)[number][0];

/**
 * Asserts what every page state must be at its viewport's width: no axe-core violation, and no sideways
 * scrolling of the page itself (a wide table scrolls inside its own box).
 */
export async function expectCleanState(page: Page, where: string): Promise<void> {
  const width = page.viewportSize()?.width ?? 0;
  expect(await axeViolations(page), `${where}: axe-core`).to.deep.equal([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), `${where}: within ${width} px`).to.be.at.most(width);
}
