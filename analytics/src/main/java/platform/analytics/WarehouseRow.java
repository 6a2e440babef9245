package platform.analytics;

import java.math.BigDecimal;
import java.util.Arrays;

/**
 * One row for the warehouse upsert sink: the table and its column values in column order, as
 * text (epoch ms for TIMESTAMP, plain decimal for NUMERIC, null for NULL). Text keeps the row a
 * Flink POJO of basic types (no Kryo) whatever the table; the sink binds by column type.
 */
public class WarehouseRow {
  public String table;
  public String[] values;

  public WarehouseRow() {}

  public WarehouseRow(WarehouseTable table, String... values) {
    if (values.length != table.columns.size()) {
      throw new IllegalArgumentException(table.tableName + ": expected " + table.columns.size() + " values, got " + values.length);
    }
    for (int i = 0; i < table.keyColumns; i++) {
      if (values[i] == null) throw new IllegalArgumentException(table.tableName + "." + table.columns.get(i).name + ": key column is null");
    }
    this.table = table.tableName;
    this.values = values;
  }

  /** Table and primary key: the sink is partitioned by it so one writer owns each row. */
  public String routingKey() {
    WarehouseTable t = WarehouseTable.byName(table);
    StringBuilder sb = new StringBuilder(table);
    for (int i = 0; i < t.keyColumns; i++) sb.append('\u0001').append(values[i]);
    return sb.toString();
  }

  static String text(long value) {
    return Long.toString(value);
  }

  static String text(Long value) {
    return value == null ? null : value.toString();
  }

  static String text(BigDecimal value) {
    return value == null ? null : value.toPlainString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WarehouseRow && ((WarehouseRow) o).table.equals(table) && Arrays.equals(((WarehouseRow) o).values, values);
  }

  @Override
  public int hashCode() {
    return table.hashCode() * 31 + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return table + Arrays.toString(values);
  }
}
