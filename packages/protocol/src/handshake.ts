import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { PROTOCOL_VERSION, type HelloMessage } from './messages.js';

/**
 * The coordinator's check of a worker's `hello`: the frame version says the
 * bytes can be parsed, `protocolVersion` says the two builds agree on what
 * the messages mean. Throws ProtocolError VERSION on a mismatch; the
 * coordinator answers with `toErrorMessage(err)` and closes the connection.
 */
export function assertCompatibleHello(hello: HelloMessage): void {
  if (hello.protocolVersion !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      ProtocolErrorCode.VERSION,
      `hello.protocolVersion: worker speaks protocol version ${hello.protocolVersion}, this coordinator speaks ${PROTOCOL_VERSION}; run the same dtrain version on both`,
    );
  }
}

/**
 * The same check for the shard process's handshakes: `shardHello` (shard →
 * coordinator) and `dataHello` (worker → shard). Throws ProtocolError VERSION
 * naming the field and both versions.
 */
export function assertSameProtocol(field: 'shardHello.protocolVersion' | 'dataHello.protocolVersion', peer: string, protocolVersion: number): void {
  if (protocolVersion !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      ProtocolErrorCode.VERSION,
      `${field}: ${peer} speaks protocol version ${protocolVersion}, this process speaks ${PROTOCOL_VERSION}; run the same dtrain version on both`,
    );
  }
}
