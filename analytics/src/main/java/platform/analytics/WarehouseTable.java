package platform.analytics;

import java.sql.Types;
import java.util.List;

/**
 * The warehouse tables the job writes, their columns in order and their primary keys (the first
 * {@code keyColumns} columns). analytics/warehouse/migrations/ creates them; the two must agree.
 */
public enum WarehouseTable {
  RAW_EVENTS("raw_events", 1,
      col("event_id", Types.VARCHAR), col("topic", Types.VARCHAR), col("type", Types.VARCHAR),
      col("order_id", Types.VARCHAR), col("occurred_at", Types.TIMESTAMP), col("schema_version", Types.INTEGER),
      col("payload", Types.VARCHAR), col("kafka_partition", Types.INTEGER), col("kafka_offset", Types.BIGINT)),
  REJECTED_EVENTS("rejected_events", 3,
      col("topic", Types.VARCHAR), col("kafka_partition", Types.INTEGER), col("kafka_offset", Types.BIGINT),
      col("kafka_timestamp", Types.TIMESTAMP), col("reason", Types.VARCHAR), col("raw_value", Types.VARCHAR)),
  REVENUE_PER_MINUTE("revenue_per_minute", 2, revenueColumns()),
  REVENUE_PER_HOUR("revenue_per_hour", 2, revenueColumns()),
  PAYMENT_OUTCOMES_PER_MINUTE("payment_outcomes_per_minute", 1, outcomeColumns()),
  PAYMENT_OUTCOMES_PER_HOUR("payment_outcomes_per_hour", 1, outcomeColumns()),
  ORDER_FUNNEL("order_funnel", 1,
      col("order_id", Types.VARCHAR), col("created_at", Types.TIMESTAMP), col("paid_at", Types.TIMESTAMP),
      col("fulfilled_at", Types.TIMESTAMP), col("created_to_paid_ms", Types.BIGINT),
      col("paid_to_fulfilled_ms", Types.BIGINT), col("created_to_fulfilled_ms", Types.BIGINT));

  /** A column and its JDBC type; values travel as text (see {@link WarehouseRow}). */
  public static final class Column {
    public final String name;
    public final int sqlType;

    Column(String name, int sqlType) {
      this.name = name;
      this.sqlType = sqlType;
    }
  }

  public final String tableName;
  public final int keyColumns;
  public final List<Column> columns;

  WarehouseTable(String tableName, int keyColumns, Column... columns) {
    this.tableName = tableName;
    this.keyColumns = keyColumns;
    this.columns = List.of(columns);
  }

  private static Column col(String name, int sqlType) {
    return new Column(name, sqlType);
  }

  private static Column[] revenueColumns() {
    return new Column[] {
      col("bucket_start", Types.TIMESTAMP), col("currency", Types.VARCHAR), col("orders", Types.BIGINT),
      col("order_value", Types.NUMERIC), col("captured", Types.NUMERIC), col("refunded", Types.NUMERIC),
    };
  }

  private static Column[] outcomeColumns() {
    return new Column[] {
      col("bucket_start", Types.TIMESTAMP), col("succeeded", Types.BIGINT), col("failed", Types.BIGINT),
      col("success_rate", Types.NUMERIC),
    };
  }

  public static WarehouseTable byName(String tableName) {
    for (WarehouseTable t : values()) if (t.tableName.equals(tableName)) return t;
    throw new IllegalArgumentException("unknown warehouse table " + tableName);
  }
}
