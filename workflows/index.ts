export { TaskservInstall } from './taskserv-install.js';
export { ClusterInstall } from './cluster-install.js';
export { CacheBroadcast } from './cache-broadcast.js';
