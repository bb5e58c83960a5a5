/** prvng-extensions: the library (usable without Temporal) and the Temporal plugin. */
export * from './errors.js';
export * from './types.js';
export { ExtensionManager, type ExtensionManagerOptions } from './manager.js';
export { NushellRunner, type NushellRunnerOptions, type RunOptions } from './nushell/runner.js';
export type { DiscoveredExtension } from './discovery.js';
export type { ExtensionMetricsSnapshot } from './metrics.js';
export { resolveVersion, sortVersions } from './versions.js';
export { parseDependency, type DependencySpec } from './manifest.js';
export { checkDependencies, type DependencyCheck, type DependencyStatus } from './dependencies.js';
export { loadConfig, managerOptions, type Config, type LoadConfigOptions } from './config.js';
export { Targets, parseTargetRef, type Target, type TargetRef, type Receipt } from './targets.js';
export { TaskservSteps, type StepName, type VerificationCheck } from './taskserv-steps.js';
export { TaskservInstaller, type DirectInstallRequest, type Provenance } from './installer.js';
export { ExtensionsPlugin, WORKFLOWS_PATH, type ExtensionsPluginOptions } from './temporal/plugin.js';
export { runWorker, type RunWorkerOptions } from './temporal/worker.js';
export { startTaskservInstall, followInstall, webUiLink } from './temporal/client.js';
export { createActivities, type Activities, type ActivityDeps } from '../activities/index.js';
export * from '../workflows/definitions.js';
