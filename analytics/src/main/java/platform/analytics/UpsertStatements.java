package platform.analytics;

import java.util.List;
import java.util.StringJoiner;

/**
 * The SQL of an upsert flush, the same on PostgreSQL and Redshift (which has neither ON CONFLICT nor
 * MERGE from a VALUES list): delete the keys, then insert the rows, in one transaction. Statements
 * cover {@code rows} rows each (multi-row, one round trip and, on Redshift, one query per chunk).
 */
public final class UpsertStatements {
  /** Rows per statement: Redshift caps bind parameters (32767) and statement size (16 MB). */
  static final int MAX_CHUNK_ROWS = 100;
  static final int MAX_PARAMETERS = 30000;

  private UpsertStatements() {}

  public static int chunkRows(WarehouseTable table) {
    return Math.max(1, Math.min(MAX_CHUNK_ROWS, MAX_PARAMETERS / table.columns.size()));
  }

  public static String qualified(String schema, WarehouseTable table) {
    return schema + "." + table.tableName;
  }

  /** DELETE of {@code rows} keys: {@code k IN (?, ...)}, or an OR of key equalities for composite keys. */
  public static String delete(String schema, WarehouseTable table, int rows) {
    List<WarehouseTable.Column> key = table.columns.subList(0, table.keyColumns);
    StringBuilder sql = new StringBuilder("DELETE FROM ").append(qualified(schema, table)).append(" WHERE ");
    if (key.size() == 1) {
      StringJoiner in = new StringJoiner(", ", key.get(0).name + " IN (", ")");
      for (int i = 0; i < rows; i++) in.add("?");
      return sql.append(in).toString();
    }
    StringJoiner or = new StringJoiner(" OR ");
    for (int i = 0; i < rows; i++) {
      StringJoiner and = new StringJoiner(" AND ", "(", ")");
      for (WarehouseTable.Column c : key) and.add(c.name + " = ?");
      or.add(and.toString());
    }
    return sql.append(or).toString();
  }

  public static String insert(String schema, WarehouseTable table, int rows) {
    StringJoiner columns = new StringJoiner(", ", "(", ")");
    StringJoiner placeholders = new StringJoiner(", ", "(", ")");
    for (WarehouseTable.Column c : table.columns) {
      columns.add(c.name);
      placeholders.add("?");
    }
    StringJoiner values = new StringJoiner(", ");
    for (int i = 0; i < rows; i++) values.add(placeholders.toString());
    return "INSERT INTO " + qualified(schema, table) + " " + columns + " VALUES " + values;
  }
}
