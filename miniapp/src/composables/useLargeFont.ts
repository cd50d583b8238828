// 适老化 large-font mode: a preference (not a secret) kept in localStorage and
// applied as a class on <html> so Vant's popups grow too.

import { ref, watch } from 'vue';

const KEY = 'elic.largeFont';
const CLASS = 'elic-large';

function read(): boolean {
  try {
    return localStorage.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

const largeFont = ref(read());

function apply(on: boolean): void {
  document.documentElement.classList.toggle(CLASS, on);
}

function save(on: boolean): void {
  try {
    localStorage.setItem(KEY, on ? '1' : '0');
  } catch {
    // The choice then lasts for this visit only.
  }
}

watch(largeFont, (on) => {
  apply(on);
  save(on);
});

export function initLargeFont(): void {
  largeFont.value = read();
  apply(largeFont.value);
}

/** largeFontChosen: the user has made a choice (either way), so the first-visit prompt stays away. */
export function largeFontChosen(): boolean {
  try {
    return localStorage.getItem(KEY) !== null;
  } catch {
    return true;
  }
}

export function useLargeFont() {
  return {
    largeFont,
    toggle: (): void => {
      largeFont.value = !largeFont.value;
    },
    choose: (on: boolean): void => {
      if (largeFont.value === on) save(on);
      largeFont.value = on;
    },
  };
}
