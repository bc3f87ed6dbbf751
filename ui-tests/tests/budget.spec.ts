import { expect, test } from '@jupyterlab/galata';
import { ComputePanelHelper } from './helpers';

test.use({ autoGoto: true });

test('a move on an exhausted grant is refused with its sentence and stays put', async ({
  page,
  tmpPath
}) => {
  const compute = new ComputePanelHelper(page);
  const path = `${tmpPath}/refused.ipynb`;
  await page.contents.uploadContent(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: {
          name: 'compute-panel-local-cpu-python3',
          display_name: 'Local CPU'
        }
      },
      cells: []
    }),
    'text',
    path
  );
  await page.notebook.openByPath(path);
  await compute.waitForKernel('compute-panel-local-cpu-python3');
  await compute.open();

  // 0.10 USD cannot pay 15 minutes on H200 (0.875 USD).
  const dialog = await compute.moveTo('h200', { grant: 'tiny-grant' });
  await compute.confirm(dialog);
  await expect(
    page
      .getByText(
        /Grant SEED 0001 has 0\.10 USD left, less than 15 minutes on H200 training \(0\.875 USD\)/
      )
      .first()
  ).toBeVisible({ timeout: 20000 });

  // The notebook keeps its Local CPU kernel and no H200 run was recorded.
  await compute.waitForKernel('compute-panel-local-cpu-python3');
  const response = await page.request.get(
    `/compute-panel/runs?notebook=${encodeURIComponent(path)}`
  );
  const tiers = (await response.json()).runs.map((r: any) => r.tier_id);
  expect(tiers).not.toContain('h200');
});
