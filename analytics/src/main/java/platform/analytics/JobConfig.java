package platform.analytics;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The job's configuration: Managed Flink's runtime property groups (or, locally, the same shape from
 * a JSON file). Groups and keys are a contract with the CDK stack (analytics/README.md); every
 * problem fails the start with one message naming the group and key.
 */
public final class JobConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String KAFKA = "kafka";
  public static final String WAREHOUSE = "warehouse";
  public static final String JOB = "job";

  private static final Set<String> KAFKA_OWN_KEYS = Set.of("topics", "group.id", "bounded");
  private static final Set<String> WAREHOUSE_KEYS =
      Set.of("jdbc.url", "user", "password", "password.secret.arn", "schema", "batch.max.rows");
  private static final Set<String> JOB_KEYS = Set.of(
      "dedup.retention.hours", "watermark.max.out.of.orderness.seconds", "watermark.idle.timeout.seconds",
      "window.allowed.lateness.minutes", "local.checkpoint.interval.ms");
  private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
  private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
  private static final Pattern SECRET_ARN = Pattern.compile("arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:.+");
  static final int DEFAULT_BATCH_MAX_ROWS = 5000;

  public final List<String> topics;
  public final String groupId;
  /** True when the source stops at the end offsets it finds at start (`kafka.bounded=latest`). */
  public final boolean bounded;
  /** Every other `kafka` key, verbatim: bootstrap servers, security, SASL. */
  public final Map<String, String> consumerProperties;
  public final WarehouseSettings warehouse;
  public final Duration dedupRetention;
  public final Duration maxOutOfOrderness;
  public final Duration idleTimeout;
  public final Duration allowedLateness;
  /** Only honoured off Managed Flink, which owns checkpointing there. */
  public final OptionalLong localCheckpointIntervalMs;

  private JobConfig(Map<String, Properties> groups) {
    Properties kafka = group(groups, KAFKA);
    List<String> parsedTopics = new ArrayList<>();
    for (String topic : required(kafka, KAFKA, "topics").split(",")) {
      String t = topic.trim();
      if (!TOPIC.matcher(t).matches()) throw new ConfigException(KAFKA, "topics", "has an invalid topic name '" + t + "'");
      if (!parsedTopics.contains(t)) parsedTopics.add(t);
    }
    topics = Collections.unmodifiableList(parsedTopics);
    groupId = required(kafka, KAFKA, "group.id");
    String boundedValue = kafka.getProperty("bounded");
    if (boundedValue != null && !boundedValue.equals("latest")) {
      throw new ConfigException(KAFKA, "bounded", "must be 'latest' when set, got '" + boundedValue + "'");
    }
    bounded = boundedValue != null;
    Map<String, String> consumer = new LinkedHashMap<>();
    for (String key : kafka.stringPropertyNames()) {
      if (!KAFKA_OWN_KEYS.contains(key)) consumer.put(key, kafka.getProperty(key));
    }
    required(kafka, KAFKA, "bootstrap.servers");
    // The source owns these; a value here would silently fight it.
    for (String owned : List.of("group.id", "enable.auto.commit", "key.deserializer", "value.deserializer")) {
      if (consumer.containsKey(owned)) throw new ConfigException(KAFKA, owned, "is set by the job itself; remove it");
    }
    consumerProperties = Collections.unmodifiableMap(consumer);

    Properties wh = group(groups, WAREHOUSE);
    rejectUnknown(wh, WAREHOUSE, WAREHOUSE_KEYS);
    String url = required(wh, WAREHOUSE, "jdbc.url");
    if (!url.startsWith("jdbc:")) throw new ConfigException(WAREHOUSE, "jdbc.url", "must start with jdbc:");
    String user = required(wh, WAREHOUSE, "user");
    String password = optional(wh, WAREHOUSE, "password");
    String secretArn = optional(wh, WAREHOUSE, "password.secret.arn");
    if ((password == null) == (secretArn == null)) {
      throw new ConfigException(WAREHOUSE, "password", "or 'password.secret.arn': exactly one must be set");
    }
    if (secretArn != null && !SECRET_ARN.matcher(secretArn).matches()) {
      throw new ConfigException(WAREHOUSE, "password.secret.arn", "must be a Secrets Manager secret ARN");
    }
    String schema = required(wh, WAREHOUSE, "schema");
    if (!IDENTIFIER.matcher(schema).matches()) {
      throw new ConfigException(WAREHOUSE, "schema", "must be a lower-case SQL identifier, got '" + schema + "'");
    }
    int batchMaxRows = (int) integer(wh, WAREHOUSE, "batch.max.rows", DEFAULT_BATCH_MAX_ROWS, 1, 1_000_000);
    warehouse = new WarehouseSettings(url, user, password, secretArn, schema, batchMaxRows);

    Properties job = group(groups, JOB);
    rejectUnknown(job, JOB, JOB_KEYS);
    dedupRetention = Duration.ofHours(integer(job, JOB, "dedup.retention.hours", null, 1, 24L * 365));
    maxOutOfOrderness = Duration.ofSeconds(integer(job, JOB, "watermark.max.out.of.orderness.seconds", null, 0, 86_400));
    idleTimeout = Duration.ofSeconds(integer(job, JOB, "watermark.idle.timeout.seconds", null, 1, 86_400));
    allowedLateness = Duration.ofMinutes(integer(job, JOB, "window.allowed.lateness.minutes", null, 0, 7L * 24 * 60));
    localCheckpointIntervalMs = job.getProperty("local.checkpoint.interval.ms") == null
        ? OptionalLong.empty()
        : OptionalLong.of(integer(job, JOB, "local.checkpoint.interval.ms", null, 100, 86_400_000L));
  }

  /** Validates the property groups; throws {@link ConfigException} naming the first bad key. */
  public static JobConfig from(Map<String, Properties> groups) {
    return new JobConfig(groups);
  }

  private static Properties group(Map<String, Properties> groups, String name) {
    Properties p = groups.get(name);
    if (p == null) throw new ConfigException(name, "*", "is missing: the property group is required");
    return p;
  }

  private static void rejectUnknown(Properties p, String group, Set<String> known) {
    for (String key : p.stringPropertyNames()) {
      if (!known.contains(key)) throw new ConfigException(group, key, "is not a known key (one of " + new java.util.TreeSet<>(known) + ")");
    }
  }

  private static String optional(Properties p, String group, String key) {
    String v = p.getProperty(key);
    if (v == null) return null;
    if (v.isBlank()) throw new ConfigException(group, key, "is empty");
    return v.trim();
  }

  private static String required(Properties p, String group, String key) {
    String v = optional(p, group, key);
    if (v == null) throw new ConfigException(group, key, "is required");
    return v;
  }

  private static long integer(Properties p, String group, String key, Integer fallback, long min, long max) {
    String v = optional(p, group, key);
    if (v == null) {
      if (fallback == null) throw new ConfigException(group, key, "is required");
      return fallback;
    }
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ConfigException(group, key, "must be an integer, got '" + v + "'");
    }
    if (n < min || n > max) throw new ConfigException(group, key, "must be between " + min + " and " + max + ", got " + n);
    return n;
  }

  /** The `warehouse` group: where and as whom the sink writes. */
  public static final class WarehouseSettings implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String jdbcUrl;
    public final String user;
    /** Set in tests and local runs; null when {@link #passwordSecretArn} is. */
    public final String password;
    /** Production: a Secrets Manager secret whose JSON has "password"; read whenever the sink connects. */
    public final String passwordSecretArn;
    public final String schema;
    public final int batchMaxRows;

    public WarehouseSettings(String jdbcUrl, String user, String password, String passwordSecretArn, String schema, int batchMaxRows) {
      this.jdbcUrl = jdbcUrl;
      this.user = user;
      this.password = password;
      this.passwordSecretArn = passwordSecretArn;
      this.schema = schema;
      this.batchMaxRows = batchMaxRows;
    }
  }
}
