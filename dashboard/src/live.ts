/**
 * Live pages: the current page's refresh runs every few seconds while the tab is visible, never
 * while it is hidden, and at once when the tab shows again. Every refresh is API requests counted
 * against the key's hourly limit (1000 by default), so each page says how often it needs one.
 */

let current: (() => Promise<void>) | undefined;
let everyMs = 5_000;
let timer: ReturnType<typeof setTimeout> | undefined;
let running = false;

const tick = async () => {
  timer = undefined;
  if (!current || document.visibilityState !== 'visible' || running) return;
  running = true;
  try {
    await current();
  } finally {
    running = false;
    schedule();
  }
};

const schedule = () => {
  if (timer === undefined && current && document.visibilityState === 'visible')
    timer = setTimeout(tick, everyMs);
};

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void tick();
  else if (timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
});

/** Makes `refresh` the page's live refresh, every `ms` (undefined: the page does not refresh). */
export const setLiveRefresh = (refresh: (() => Promise<void>) | undefined, ms = 5_000): void => {
  current = refresh;
  everyMs = ms;
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  schedule();
};
