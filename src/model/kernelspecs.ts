/**
 * Which kernelspec a notebook runs on each tier.
 */
import { ComputePanelAPI } from '../api';

/**
 * The base kernel of `kernelName`: the key of the tier map that names it,
 * else the kernel name itself.
 */
export function baseKernelName(
  tiers: ReadonlyArray<ComputePanelAPI.ITier>,
  kernelName: string | null | undefined
): string | null {
  if (!kernelName) {
    return null;
  }
  for (const tier of tiers) {
    for (const [base, spec] of Object.entries(tier.kernelspecs)) {
      if (spec === kernelName) {
        return base;
      }
    }
  }
  return kernelName;
}

/**
 * The kernelspec of `tier` for a notebook whose kernel is `kernelName`:
 * the same base kernel, else python3, else the tier's first kernelspec.
 */
export function pickKernelspec(
  tiers: ReadonlyArray<ComputePanelAPI.ITier>,
  tier: ComputePanelAPI.ITier,
  kernelName: string | null | undefined
): string | null {
  const base = baseKernelName(tiers, kernelName);
  const specs = tier.kernelspecs ?? {};
  if (base && specs[base]) {
    return specs[base];
  }
  if (specs['python3']) {
    return specs['python3'];
  }
  const first = Object.values(specs)[0];
  return first ?? null;
}

/**
 * The tier whose kernelspecs include `kernelName`; null for a kernel that is
 * not a tier kernel ("not metered").
 */
export function tierForKernel(
  tiers: ReadonlyArray<ComputePanelAPI.ITier>,
  kernelName: string | null | undefined
): ComputePanelAPI.ITier | null {
  if (!kernelName) {
    return null;
  }
  return (
    tiers.find(tier =>
      Object.values(tier.kernelspecs ?? {}).includes(kernelName)
    ) ?? null
  );
}
