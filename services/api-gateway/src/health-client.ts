/**
 * A client for grpc.health.v1.Health/Check (the gateway's readiness probe of auth-service).
 * The two messages are encoded by hand with the protobuf wire helpers ts-proto already uses, so
 * the bundle does not load health.proto from disk at run time as grpc-health-check does.
 */
import * as grpc from '@grpc/grpc-js';
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

// grpc.health.v1.HealthCheckResponse.ServingStatus
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatus = (typeof SERVING_STATUS)[number];

const definition: grpc.ServiceDefinition = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    // message HealthCheckRequest { string service = 1; }
    requestSerialize: (req: { service: string }) => Buffer.from(new BinaryWriter().uint32(10).string(req.service).finish()),
    requestDeserialize: (buf: Buffer) => {
      const reader = new BinaryReader(buf);
      let service = '';
      while (reader.pos < reader.len) {
        const tag = reader.uint32();
        if (tag === 10) service = reader.string();
        else reader.skip(tag & 7);
      }
      return { service };
    },
    responseSerialize: (res: { status: number }) => Buffer.from(new BinaryWriter().uint32(8).int32(res.status).finish()),
    // message HealthCheckResponse { ServingStatus status = 1; }
    responseDeserialize: (buf: Buffer) => {
      const reader = new BinaryReader(buf);
      let status = 0;
      while (reader.pos < reader.len) {
        const tag = reader.uint32();
        if (tag === 8) status = reader.int32();
        else reader.skip(tag & 7);
      }
      return { status };
    },
    originalName: 'check',
  },
};

const HealthClient = grpc.makeGenericClientConstructor(definition, 'grpc.health.v1.Health');

export interface HealthChecker {
  /** Resolves with the callee's overall status (service ""); rejects if it cannot be asked. */
  check(deadline: Date): Promise<ServingStatus>;
  close(): void;
}

export function createHealthChecker(target: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): HealthChecker {
  const client = new HealthClient(target, credentials, options);
  return {
    check(deadline) {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          definition.check!.path,
          definition.check!.requestSerialize,
          definition.check!.responseDeserialize as (buf: Buffer) => { status: number },
          { service: '' },
          new grpc.Metadata(),
          { deadline },
          (err, res) => {
            if (err) reject(err);
            else resolve(SERVING_STATUS[res?.status ?? 0] ?? 'UNKNOWN');
          },
        );
      });
    },
    close: () => client.close(),
  };
}
