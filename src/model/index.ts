/**
 * The compute-panel model: the one owner of the front end's state.
 */
export { ComputePanelModel, IEventEmission } from './model';
export { baseKernelName, pickKernelspec, tierForKernel } from './kernelspecs';
