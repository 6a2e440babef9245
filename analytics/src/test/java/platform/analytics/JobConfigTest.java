package platform.analytics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {
  static Map<String, Properties> groups() {
    Properties kafka = new Properties();
    kafka.setProperty("topics", "order-events, payment-events");
    kafka.setProperty("group.id", "analytics");
    kafka.setProperty("bootstrap.servers", "b-1:9098");
    kafka.setProperty("security.protocol", "SASL_SSL");
    kafka.setProperty("sasl.mechanism", "AWS_MSK_IAM");
    Properties warehouse = new Properties();
    warehouse.setProperty("jdbc.url", "jdbc:redshift://wg.123456789012.us-east-1.redshift-serverless.amazonaws.com:5439/analytics");
    warehouse.setProperty("user", "analytics_writer");
    warehouse.setProperty("password.secret.arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:analytics-writer-AbCdEf");
    warehouse.setProperty("schema", "analytics");
    Properties job = new Properties();
    job.setProperty("dedup.retention.hours", "192");
    job.setProperty("watermark.max.out.of.orderness.seconds", "30");
    job.setProperty("watermark.idle.timeout.seconds", "60");
    job.setProperty("window.allowed.lateness.minutes", "60");
    Map<String, Properties> groups = new HashMap<>();
    groups.put("kafka", kafka);
    groups.put("warehouse", warehouse);
    groups.put("job", job);
    return groups;
  }

  private static String failure(Map<String, Properties> groups) {
    return assertThrows(ConfigException.class, () -> JobConfig.from(groups)).getMessage();
  }

  @Test
  void readsTheProductionGroups() {
    JobConfig c = JobConfig.from(groups());
    assertEquals(List.of("order-events", "payment-events"), c.topics);
    assertEquals("analytics", c.groupId);
    assertFalse(c.bounded);
    assertEquals(Map.of("bootstrap.servers", "b-1:9098", "security.protocol", "SASL_SSL", "sasl.mechanism", "AWS_MSK_IAM"), c.consumerProperties);
    assertEquals(null, c.warehouse.password);
    assertEquals(JobConfig.DEFAULT_BATCH_MAX_ROWS, c.warehouse.batchMaxRows);
    assertEquals(Duration.ofHours(192), c.dedupRetention);
    assertEquals(Duration.ofSeconds(30), c.maxOutOfOrderness);
    assertEquals(Duration.ofSeconds(60), c.idleTimeout);
    assertEquals(Duration.ofMinutes(60), c.allowedLateness);
    assertTrue(c.localCheckpointIntervalMs.isEmpty());
  }

  @Test
  void failuresNameTheGroupAndKey() {
    Map<String, Properties> g = groups();
    g.get("job").remove("dedup.retention.hours");
    assertEquals("analytics config: property group 'job' key 'dedup.retention.hours' is required", failure(g));

    g = groups();
    g.get("job").setProperty("watermark.idle.timeout.seconds", "soon");
    assertTrue(failure(g).contains("'job' key 'watermark.idle.timeout.seconds' must be an integer"));

    g = groups();
    g.get("kafka").setProperty("bounded", "yes");
    assertTrue(failure(g).contains("'kafka' key 'bounded' must be 'latest'"));

    g = groups();
    g.get("kafka").remove("bootstrap.servers");
    assertTrue(failure(g).contains("'kafka' key 'bootstrap.servers' is required"));

    g = groups();
    g.get("warehouse").setProperty("password", "secret");
    assertTrue(failure(g).contains("'warehouse' key 'password' or 'password.secret.arn': exactly one must be set"));

    g = groups();
    g.get("warehouse").setProperty("schema", "Analytics; DROP");
    assertTrue(failure(g).contains("'warehouse' key 'schema' must be a lower-case SQL identifier"));

    g = groups();
    g.get("warehouse").setProperty("batch.size", "10");
    assertTrue(failure(g).contains("'warehouse' key 'batch.size' is not a known key"));

    g = groups();
    g.remove("job");
    assertTrue(failure(g).contains("property group 'job' key '*' is missing"));

    g = groups();
    g.get("kafka").setProperty("enable.auto.commit", "true");
    assertTrue(failure(g).contains("'kafka' key 'enable.auto.commit' is set by the job itself"));
  }

  @Test
  void readsTheLocalJsonFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("config.json");
    Files.writeString(file, "{\"kafka\":{\"topics\":\"a\",\"group.id\":\"g\",\"bounded\":\"latest\",\"bootstrap.servers\":\"127.0.0.1:1\"},"
        + "\"warehouse\":{\"jdbc.url\":\"jdbc:postgresql://127.0.0.1:5/db\",\"user\":\"u\",\"password\":\"p\",\"schema\":\"analytics\",\"batch.max.rows\":\"10\"},"
        + "\"job\":{\"dedup.retention.hours\":\"1\",\"watermark.max.out.of.orderness.seconds\":\"0\",\"watermark.idle.timeout.seconds\":\"1\","
        + "\"window.allowed.lateness.minutes\":\"0\",\"local.checkpoint.interval.ms\":\"1000\"}}");
    JobConfig c = JobConfig.from(ConfigFile.read(file));
    assertTrue(c.bounded);
    assertEquals(10, c.warehouse.batchMaxRows);
    assertEquals(1000, c.localCheckpointIntervalMs.getAsLong());

    Files.writeString(file, "{\"job\":{\"dedup.retention.hours\":192}}");
    assertTrue(assertThrows(ConfigException.class, () -> ConfigFile.read(file)).getMessage().contains("'job' key 'dedup.retention.hours' must be a string"));
  }
}
