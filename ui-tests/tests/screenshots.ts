import type { IJupyterLabPageFixture } from '@jupyterlab/galata';

/**
 * The README's and docs' screenshots, taken from the real UI by the browser
 * tests that reach each view (`make screenshots`, which sets
 * UPDATE_README_SCREENSHOT): `docs/images/<name>-light.png` and
 * `<name>-dark.png`, in JupyterLab's light and dark themes. A normal test run
 * takes none.
 */
export async function docScreenshots(
  page: IJupyterLabPageFixture,
  name: string
): Promise<void> {
  if (!process.env.UPDATE_README_SCREENSHOT) {
    return;
  }
  const before = await page.theme.getTheme();
  for (const theme of ['light', 'dark'] as const) {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    } else {
      await page.theme.setLightTheme();
    }
    // Let charts and badges repaint in the theme's colours.
    await page.waitForTimeout(300);
    await page.screenshot({ path: `../docs/images/${name}-${theme}.png` });
  }
  await page.theme.setTheme(before);
}
