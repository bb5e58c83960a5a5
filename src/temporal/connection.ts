import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

/**
 * Where Temporal is, from `@temporalio/envconfig` (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TLS, TEMPORAL_PROFILE and the config file); the local dev server
 * started by temporal-dev.sh when nothing is set.
 */
export function connectionSettings() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return {
    connectionOptions: { ...connectionOptions, address: connectionOptions.address ?? '127.0.0.1:7233' },
    namespace: namespace ?? 'default',
  };
}

export async function connectWorker(): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = connectionSettings();
  return { connection: await NativeConnection.connect(connectionOptions), namespace };
}

export async function connectClient(): Promise<Client> {
  const { connectionOptions, namespace } = connectionSettings();
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace });
}
