export { TaskservInstall } from './taskserv-install.js';
export { CacheBroadcast } from './cache-broadcast.js';
