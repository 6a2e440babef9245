package platform.analytics;

import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rows waiting for the next flush, per table keyed by primary key: the last write of a key wins,
 * so a window's late firing or a funnel update replaces the earlier row before it is written.
 */
public final class UpsertBuffer {
  private final Map<WarehouseTable, LinkedHashMap<List<String>, String[]>> rows = new EnumMap<>(WarehouseTable.class);
  private int size;

  public void put(WarehouseRow row) {
    WarehouseTable table = WarehouseTable.byName(row.table);
    List<String> key = Arrays.asList(Arrays.copyOf(row.values, table.keyColumns));
    String[] previous = rows.computeIfAbsent(table, t -> new LinkedHashMap<>()).put(key, row.values.clone());
    if (previous == null) size++;
  }

  /** Distinct keys buffered, over all tables. */
  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** The tables with rows, in {@link WarehouseTable} order (a fixed order keeps lock order fixed). */
  public Collection<WarehouseTable> tables() {
    return rows.keySet();
  }

  /** The rows of {@code table}, one per key, each the last one put. */
  public List<String[]> rows(WarehouseTable table) {
    LinkedHashMap<List<String>, String[]> byKey = rows.get(table);
    return byKey == null ? List.of() : List.copyOf(byKey.values());
  }

  public void clear() {
    rows.clear();
    size = 0;
  }
}
