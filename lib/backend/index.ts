export { useBackend, currentBackend } from './use_backend';
export type { BackendInfo, BackendName } from './use_backend';
