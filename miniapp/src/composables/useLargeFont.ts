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

watch(largeFont, (on) => {
  apply(on);
  try {
    localStorage.setItem(KEY, on ? '1' : '0');
  } catch {
    // The choice then lasts for this visit only.
  }
});

export function initLargeFont(): void {
  largeFont.value = read();
  apply(largeFont.value);
}

export function useLargeFont() {
  return {
    largeFont,
    toggle: (): void => {
      largeFont.value = !largeFont.value;
    },
  };
}
