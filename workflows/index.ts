export { TaskservInstall } from './taskserv-install.js';
