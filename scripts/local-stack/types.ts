// The harness's public contract: services' integration tests and `npm run dev` import these.

/** A throwaway certificate authority for one test run (ECDSA P-256). */
export interface TestCa {
  /** Folder holding the CA and every issued certificate and key. */
  dir: string;
  /** PEM file of the CA certificate (the `TLS_CA_FILE` / `*_CA_FILE` of services). */
  caFile: string;
  caPem: string;
  /** Issues a certificate usable as TLS server and client certificate. */
  issue(opts: IssueOptions): Promise<IssuedCertificate>;
  /** Deletes `dir` when the CA created it (also done at process exit); a given dir is kept. */
  dispose(): Promise<void>;
}

export interface IssueOptions {
  /** Subject CN: a workload's identity (services/README.md), e.g. `auth-service`. */
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Validity from now (default 30 days); ignored when notAfter is given. */
  validDays?: number;
  /** Defaults to one minute ago (clock skew between processes). */
  notBefore?: Date;
  notAfter?: Date;
}

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  certPem: string;
  /** PKCS#8 PEM (`BEGIN PRIVATE KEY`), unencrypted. */
  keyPem: string;
}

export interface CreateTestCaOptions {
  /** Where to write files (kept by dispose()); default a new temp dir under os.tmpdir(). */
  dir?: string;
  commonName?: string;
}

/** Options every server accepts. */
export interface ServerOptions {
  /** CA that signs the server certificate; default a new one (see `caFile`). */
  ca?: TestCa;
  /**
   * Where clients reach the server: default 127.0.0.1 on a free port. The local cluster puts the
   * data tier at an address of the spec's restricted zone on the spec's port, where
   * its pods reach it; the certificate then names that address.
   */
  listen?: ListenAddress;
  /**
   * The client user the server authenticates (Redis ACL user, Kafka SCRAM user); default
   * `platform`. The local cluster names the ones the charts log in as (ElastiCache's `default`,
   * the spec's SCRAM user).
   */
  username?: string;
}

/** An address and port to serve on, and the client ranges besides the address itself to admit. */
export interface ListenAddress {
  host: string;
  port: number;
  /** CIDRs whose clients the server's own access rules admit (PostgreSQL's pg_hba). */
  clients?: readonly string[];
}

/** startPostgres(): the major version to run (default: RDS's, lib/spec dataTier.postgres). */
export interface PostgresOptions extends ServerOptions {
  major?: number;
}

/** An RDS-like master user: LOGIN CREATEROLE CREATEDB, not a superuser. */
export interface MasterAccess {
  user: string;
  password: string;
  /** postgresql:// URL of database `postgres`, sslmode=verify-full. */
  url: string;
}

export interface DatabaseAccess {
  database: string;
  /** Non-superuser role owning the database. */
  user: string;
  password: string;
  /** File holding the password alone (the services' `DATABASE_PASSWORD_FILE`). */
  passwordFile: string;
  /** postgresql:// URL with sslmode=verify-full&sslrootcert=<caFile>. */
  url: string;
}

export interface PostgresServer {
  /** 127.0.0.1 unless `listen` gave another address. */
  host: string;
  port: number;
  caFile: string;
  /** Superuser URL over TLS: for test set-up only, services never get it. */
  superuserUrl: string;
  /** `SHOW server_version`, e.g. `17.9`. */
  version: string;
  /** Creates (or resets the password of) an RDS-like master user: for what RDS's master runs. */
  createMaster(name?: string): Promise<MasterAccess>;
  /** Temp dir holding data, socket, certificates and `postgres.log`. */
  dir: string;
  /** Server process id while it runs (for crash tests: kill it yourself), else undefined. */
  readonly pid: number | undefined;
  createDatabase(name: string, owner?: { user: string; password: string }): Promise<DatabaseAccess>;
  /** Fast shutdown; port and data are kept for start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and deletes its temp dir. */
  dispose(): Promise<void>;
}

/** A server whose clients authenticate over TLS as the one user the harness created. */
export interface PasswordServer {
  caFile: string;
  username: string;
  password: string;
  /** File holding the password alone (the services' `*_PASSWORD_FILE`). */
  passwordFile: string;
  /** Temp dir holding data, certificates and the server's log. */
  dir: string;
  /** Server process id while it runs (for crash tests: kill it yourself), else undefined. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Redis: `username` is the ACL user (not `default`) the services use; the log is `dir`/redis.log. */
export interface RedisServer extends PasswordServer {
  /** 127.0.0.1 unless `listen` gave another address. */
  host: string;
  /** TLS port; the plaintext port is disabled. */
  port: number;
  /** Saves a snapshot and stops; port and data are kept for start(). */
  stop(): Promise<void>;
}

export interface KafkaTopic {
  name: string;
  partitions: number;
}

export interface KafkaServerOptions extends ServerOptions {
  topics?: KafkaTopic[];
}

/** Kafka: `username` is a SCRAM-SHA-512 user; `dir` also holds `server.properties`, the log is `dir`/kafka.log. */
export interface KafkaServer extends PasswordServer {
  /** host:port of the SASL_SSL (SCRAM-SHA-512) listener. */
  bootstrap: string;
  /** Creates topics (replication factor 1); existing ones are left as they are. */
  createTopics(topics: KafkaTopic[]): Promise<void>;
}
